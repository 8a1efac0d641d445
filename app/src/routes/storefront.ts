/**
 * The storefront: a single page (`GET /`) and its static files (`GET /static/:file`), read into memory once at
 * start-up. Only files that exist in the static directory at start-up are served, so a path can never reach
 * outside it.
 *
 * The build (scripts/static-assets.mjs) gives every file but index.html a content-hashed name
 * (`app.3f9a1c0d2b4e.js`), which is served with a year's `immutable` cache; the page itself, and unhashed files
 * (the source tree, when run without building), are `no-cache`. From step 6 the CDN serves `/static/*` from S3
 * and `STATIC_BASE_URL` (e.g. `https://shop.example.com/static/`) is where the page's links point; the content
 * security policy admits that origin too.
 */
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import type { FastifyPluginAsync } from "fastify";
import { IMMUTABLE, REVALIDATE } from "../http/cache-control";
import { notFound } from "../http/errors";

/** Options of {@link storefrontRoutes}. */
export interface StorefrontRoutesOptions {
  /** Directory holding index.html and the files it loads. */
  staticDir: string;
  /**
   * Where the page's links to its files point: a path or an http(s) URL, ending in `/`.
   * @default "/static/"
   */
  staticBaseUrl?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
};

/** A content-hashed name (the same pattern as the build's and the CDN's). */
export const HASHED_NAME = /\.[0-9a-f]{8,}\.[a-z0-9]+$/;

/**
 * The page may load its own files (from the app or the CDN) and call its own API, nothing else; a form on it may
 * submit only to the shop (an injected form cannot post a shopper's input elsewhere). It replaces the CSP every other
 * response carries (http/security-headers.ts).
 */
export function contentSecurityPolicy(staticBaseUrl: string): string {
  const origin = /^https?:\/\//.test(staticBaseUrl) ? ` ${new URL(staticBaseUrl).origin}` : "";
  return (
    `default-src 'self'${origin}; img-src 'self'${origin} data:; form-action 'self'; frame-ancestors 'none'; ` +
    "base-uri 'none'"
  );
}

/** The page with its `/static/...` links pointing at `staticBaseUrl`. */
function withStaticBase(html: string, staticBaseUrl: string): string {
  if (staticBaseUrl === "/static/") return html;
  return html.replace(/(\s(?:src|href)=")\/static\//g, (_match, attribute: string) => `${attribute}${staticBaseUrl}`);
}

/** The storefront plugin; see the module comment. */
export const storefrontRoutes: FastifyPluginAsync<StorefrontRoutesOptions> = async (app, options) => {
  const staticBaseUrl = options.staticBaseUrl ?? "/static/";
  const files = new Map<string, { body: Buffer; type: string; cacheControl: string }>();
  for (const name of await readdir(options.staticDir)) {
    const type = CONTENT_TYPES[path.extname(name)];
    if (!type) continue;
    const body = await readFile(path.join(options.staticDir, name));
    files.set(name, { body, type, cacheControl: HASHED_NAME.test(name) ? IMMUTABLE : REVALIDATE });
  }
  const index = files.get("index.html");
  if (!index) throw new Error(`storefront: ${path.join(options.staticDir, "index.html")} is missing`);
  const page = Buffer.from(withStaticBase(index.body.toString("utf8"), staticBaseUrl), "utf8");
  const csp = contentSecurityPolicy(staticBaseUrl);

  // Neither route looks at a session (app.ts registers them outside the sessions' scope): no store round trip,
  // and no cookie on a cacheable response.
  app.get("/", async (_request, reply) =>
    reply.type(index.type).header("content-security-policy", csp).header("cache-control", REVALIDATE).send(page),
  );

  app.get<{ Params: { file: string } }>("/static/:file", async (request, reply) => {
    const file = files.get(request.params.file);
    if (!file) throw notFound("not_found", "No such static file");
    return reply.type(file.type).header("cache-control", file.cacheControl).send(file.body);
  });
};
