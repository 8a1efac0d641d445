// The static origin of step 6 (the S3 bucket's stand-in): serves one directory on 127.0.0.1 with the cache
// headers the stack gives the uploaded objects (stacks/static-assets.ts): a year and `immutable` for
// content-hashed names, a minute for the rest; ETag and Last-Modified for revalidation. The CDN edge (HAProxy's
// cache) sits in front of it. Usage: node static-origin.mjs <dir> <port>
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";

const [dir, port] = process.argv.slice(2);
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};
const HASHED = /\.[0-9a-f]{8,}\.[a-z0-9]+$/;

// Read once: only files present at start are served, so no path can reach outside the directory.
const files = new Map();
for (const name of readdirSync(dir)) {
  const full = path.join(dir, name);
  if (!statSync(full).isFile()) continue;
  const body = readFileSync(full);
  files.set(`/static/${name}`, {
    body,
    type: TYPES[path.extname(name).toLowerCase()] ?? "application/octet-stream",
    etag: `"${createHash("sha256").update(body).digest("hex").slice(0, 16)}"`,
    modified: statSync(full).mtime.toUTCString(),
    cacheControl: HASHED.test(name) ? "public, max-age=31536000, immutable" : "public, max-age=60",
  });
}

const server = createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}\n');
    return;
  }
  const file = files.get((req.url ?? "").split("?")[0]);
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  if (!file) {
    res
      .writeHead(404, { "content-type": "text/plain; charset=utf-8", "cache-control": "public, max-age=10" })
      .end("not found\n");
    return;
  }
  const headers = {
    "content-type": file.type,
    "cache-control": file.cacheControl,
    etag: file.etag,
    "last-modified": file.modified,
    // The storefront on another port loads these files: a CDN in front of a bucket answers CORS the same way.
    "access-control-allow-origin": "*",
    "x-content-type-options": "nosniff",
  };
  if (req.headers["if-none-match"] === file.etag) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, "content-length": file.body.length });
  res.end(req.method === "HEAD" ? undefined : file.body);
});
server.listen(Number(port), "127.0.0.1", () =>
  process.stdout.write(`${JSON.stringify({ msg: "static origin ready", port: Number(port), files: files.size })}\n`),
);
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
