/**
 * The storefront: a single page (`GET /`) and its few static files (`GET /static/:file`), read into memory once
 * at start-up. Only files that exist in the static directory at start-up are served, so a path can never reach
 * outside it. A later step moves these files behind a CDN.
 */
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import type { FastifyPluginAsync } from "fastify";
import { notFound } from "../http/errors";

/** Options of {@link storefrontRoutes}. */
export interface StorefrontRoutesOptions {
  /** Directory holding index.html and the files it loads. */
  staticDir: string;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** The page may load its own files and call its own API, nothing else. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

/** The storefront plugin; see the module comment. */
export const storefrontRoutes: FastifyPluginAsync<StorefrontRoutesOptions> = async (app, { staticDir }) => {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of await readdir(staticDir)) {
    const type = CONTENT_TYPES[path.extname(name)];
    if (type) files.set(name, { body: await readFile(path.join(staticDir, name)), type });
  }
  const index = files.get("index.html");
  if (!index) throw new Error(`storefront: ${path.join(staticDir, "index.html")} is missing`);

  app.get("/", async (_request, reply) =>
    reply.type(index.type).header("content-security-policy", CONTENT_SECURITY_POLICY).send(index.body),
  );

  app.get<{ Params: { file: string } }>("/static/:file", async (request, reply) => {
    const file = files.get(request.params.file);
    if (!file) throw notFound("not_found", "No such static file");
    return reply.type(file.type).header("cache-control", "public, max-age=300").send(file.body);
  });
};
