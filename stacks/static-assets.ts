import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { StaticFile } from "../components/cdn";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** `app.3f9a1c0d.js`: a content hash in the name means the file at that URL never changes. */
const HASHED = /\.[0-9a-f]{8,}\.[a-z0-9]+$/;

/**
 * The files of the build's static directory, with their content types and cache headers: a year and `immutable`
 * for content-hashed names, a minute for the rest (the page that links to them).
 */
export function listStaticFiles(dir: string): StaticFile[] {
  if (!fs.existsSync(dir)) {
    throw new pulumi.RunError(
      `static directory ${JSON.stringify(dir)} does not exist. Run \`npm run build\` first (it writes the app's ` +
        `static files there).`,
    );
  }
  const files: StaticFile[] = [];
  const walk = (sub: string) => {
    for (const entry of fs
      .readdirSync(path.join(dir, sub), { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else
        files.push({
          key: rel,
          path: path.join(dir, rel),
          contentType: CONTENT_TYPES[path.extname(entry.name).toLowerCase()] ?? "application/octet-stream",
          cacheControl: HASHED.test(entry.name) ? "public, max-age=31536000, immutable" : "public, max-age=60",
        });
    }
  };
  walk("");
  return files;
}
