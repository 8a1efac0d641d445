/**
 * `Cache-Control` of every response, matching what the CDN in front of the app does (step 6):
 *
 *   public product reads (200)        public, max-age=30                     the CDN's product policy: 30 s default
 *   content-hashed static files       public, max-age=31536000, immutable    a new file means a new name
 *   the storefront page, other files  no-cache                               revalidate: it names the hashed files
 *   /healthz, /readyz                 no-store
 *   everything else                   private, no-store                      carts, orders, checkout, admin, errors
 *
 * Routes set their own header; {@link registerCacheControl} gives every response that has none the default, so a
 * new route is personal (never cached by anyone) until it says otherwise.
 */
import type { FastifyInstance } from "fastify";

/** Public catalog reads: any cache may keep them 30 s (the CDN's product cache policy allows 30 s to 60 s). */
export const PUBLIC_PRODUCT_READ = "public, max-age=30";
/** A file whose name carries its content hash never changes: a year, and no revalidation. */
export const IMMUTABLE = "public, max-age=31536000, immutable";
/** May be stored, but asked for again each time (cheap with ETag-less small files; always fresh links). */
export const REVALIDATE = "no-cache";
/** Health answers: never stored anywhere. */
export const NO_STORE = "no-store";
/** Anything about one shopper or admin: never stored by a shared cache, nor by the browser. */
export const PERSONAL = "private, no-store";

/** Paths whose default is {@link NO_STORE} rather than {@link PERSONAL}. */
const HEALTH_PATHS = new Set(["/healthz", "/readyz"]);

/** Installs the default described in the module comment. */
export function registerCacheControl(app: FastifyInstance): void {
  app.addHook("onSend", async (request, reply) => {
    if (reply.hasHeader("cache-control")) return;
    reply.header("cache-control", HEALTH_PATHS.has(request.url.split("?", 1)[0]) ? NO_STORE : PERSONAL);
  });
}
