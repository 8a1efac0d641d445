/**
 * Cross-site request forgery: a state-changing request (POST, PUT, PATCH, DELETE) that a browser sent on behalf of
 * another site is refused with 403 `cross_site_request`, before anything else about it is looked at. The session
 * cookie's `SameSite=Lax` already keeps it off cross-site POSTs in today's browsers; this does not rely on it.
 *
 * Who is who, from the headers browsers send and page scripts cannot forge:
 *
 * - the storefront's own page (its `fetch`), over HTTPS: `Sec-Fetch-Site: same-origin`, accepted;
 * - a page on a sibling subdomain (`blog.example.com` for `shop.example.com`): `same-site`, accepted;
 * - the address bar, a bookmark: `none`, accepted;
 * - another site's form or script: `cross-site`, 403;
 * - a browser that sends no Sec-Fetch-* (older than 2023, or a plain-HTTP site: browsers send them over HTTPS only):
 *   its `Origin` decides, accepted when it is the site's own, 403 otherwise; `Origin: null` (a sandboxed frame, a
 *   `data:` page) is never the site's;
 * - curl, admin scripts, server-to-server callers: neither header, accepted. No browser, so no ambient cookie for
 *   another site to ride on.
 *
 * The site's own origin, for the `Origin` check, is the request's host (`Host`, or with `TRUST_PROXY` the load
 * balancer's `X-Forwarded-Host`): the address the browser used when it reaches the app through the ALB, which keeps
 * `Host` (steps 1-5). Behind CloudFront (step 6 on) the app sees the origin's name instead, `origin.<domain>` or the
 * ALB's; there the site is HTTPS, so browsers send Sec-Fetch-Site and the `Origin` fallback serves only old ones,
 * through `SITE_ORIGINS` (`https://shop.example.com`), which the stack sets from its domain (stacks/app-environment.ts).
 *
 * The check is a hook on the state-changing routes only (added as they are registered), so reads pay nothing.
 */
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from "fastify";
import { HttpError } from "./errors";

/** Methods that change state: a cross-site request with one of them is refused. */
export const STATE_CHANGING_METHODS: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Options of {@link registerCsrfProtection}. */
export interface CsrfOptions {
  /**
   * Public origins of the site besides the request's own host (`https://shop.example.com`), for browsers that send
   * `Origin` without `Sec-Fetch-Site`: `SITE_ORIGINS`.
   * @default []
   */
  siteOrigins?: readonly string[];
}

/** Why `request` is refused as a cross-site request, or undefined when it may go on. */
export function crossSiteRefusal(request: FastifyRequest, siteOrigins: ReadonlySet<string>): string | undefined {
  const fetchSite = request.headers["sec-fetch-site"];
  if (fetchSite === "cross-site") return "the browser says it comes from another site (Sec-Fetch-Site: cross-site)";
  if (fetchSite === "same-origin" || fetchSite === "same-site" || fetchSite === "none") return undefined;
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  if (siteOrigins.has(origin)) return undefined;
  if (origin !== "null") {
    try {
      if (new URL(origin).host === request.host) return undefined;
    } catch {
      // Not a URL: not this site.
    }
  }
  return `its Origin (${origin.slice(0, 100)}) is not this site's`;
}

/**
 * Adds the cross-site check first on every state-changing route registered after it (see the module comment).
 * Call it before the routes, and after any other hook that puts itself first (the rate limits), so that this cheap
 * check runs before them.
 */
export function registerCsrfProtection(app: FastifyInstance, options: CsrfOptions = {}): void {
  const siteOrigins = new Set(options.siteOrigins ?? []);
  const check: onRequestHookHandler = (request, _reply, done) => {
    const refusal = crossSiteRefusal(request, siteOrigins);
    if (refusal === undefined) return done();
    done(
      new HttpError(403, "cross_site_request", `A request from another site may not change anything here: ${refusal}`),
    );
  };
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((method) => STATE_CHANGING_METHODS.has(method))) return;
    const own =
      route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [check, ...own];
  });
}
