/**
 * Security headers on every response, the API's, the page's, the static files', the errors' and the health checks'
 * alike (the values are components/security-headers.ts's, which CloudFront's response-headers policy sends too):
 *
 * - `X-Content-Type-Options: nosniff`: a browser never runs a JSON answer or an upload as script or style;
 * - `Referrer-Policy: strict-origin-when-cross-origin`: other sites see the shop's origin, never a path;
 * - `X-Frame-Options: DENY`, and a `Content-Security-Policy` of `default-src 'none'; frame-ancestors 'none'` on
 *   everything but the page (which sets its own, routes/storefront.ts): an API answer opened as a document can load
 *   nothing and be framed by no one;
 * - `Strict-Transport-Security` when browsers reach the shop over HTTPS (`COOKIE_SECURE`): two years, subdomains
 *   included. Over plain HTTP browsers ignore it, so it is not sent.
 *
 * They are computed once, at start-up, into one object; the hook that copies them onto each reply takes a callback,
 * so the cached product read gains no await. A 408 or 400
 * that Node writes for a request that never became one (http/timeouts.ts) carries none: it is not a page.
 */
import type { FastifyInstance } from "fastify";
import {
  FRAME_OPTIONS,
  HSTS_INCLUDE_SUBDOMAINS,
  HSTS_MAX_AGE_SECONDS,
  REFERRER_POLICY,
} from "../../../components/security-headers";

/** The CSP of every response but the page: nothing may be loaded by it, nor may anything frame it. */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** Options of {@link securityHeaders}. */
export interface SecurityHeadersOptions {
  /** Browsers reach the shop over HTTPS (`COOKIE_SECURE`): send HSTS. */
  https: boolean;
}

/** The headers every response carries, by lower-case name. */
export function securityHeaders(options: SecurityHeadersOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {
    "x-content-type-options": "nosniff",
    "referrer-policy": REFERRER_POLICY,
    "x-frame-options": FRAME_OPTIONS,
    "content-security-policy": API_CONTENT_SECURITY_POLICY,
  };
  if (options.https)
    headers["strict-transport-security"] =
      `max-age=${HSTS_MAX_AGE_SECONDS}${HSTS_INCLUDE_SUBDOMAINS ? "; includeSubDomains" : ""}`;
  return Object.freeze(headers);
}

/** Puts {@link securityHeaders} on every reply; routes may replace one (the page's CSP). */
export function registerSecurityHeaders(app: FastifyInstance, options: SecurityHeadersOptions): void {
  const headers = securityHeaders(options);
  app.addHook("onRequest", (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
}
