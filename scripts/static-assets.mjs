// Content-hashed static files: `app.js` becomes `app.<first 12 hex of its sha256>.js`, and every reference to it
// in the other files (index.html's `/static/app.js`, a stylesheet's `url("logo.svg")`) is rewritten to the new
// name. A file at a hashed name never changes, so the CDN and browsers may keep it a year (`immutable`); only
// index.html keeps its name, and the app serves it with `no-cache`.
//
// Files are processed leaves first (images and other assets, then stylesheets, then scripts, then pages), so a
// stylesheet's hash covers the hashed names of the images it points to: change an image and the stylesheet's
// name changes too.
//
//   node scripts/static-assets.mjs <source dir> <output dir>     (scripts/build-app.mjs calls hashStaticFiles)
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** A content-hashed name, as the app and the CDN recognise it (stacks/static-assets.ts uses the same pattern). */
export const HASHED_NAME = /\.[0-9a-f]{8,}\.[a-z0-9]+$/;

/** Files kept under their own name: the entry page, which names the others. */
const UNHASHED = new Set(["index.html"]);

/** Processing order by extension; anything not listed is a leaf (rank 0). */
const RANK = { ".css": 1, ".js": 2, ".html": 3 };
const TEXT = new Set([".css", ".js", ".html"]);

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const sha256 = (content) => createHash("sha256").update(content).digest("hex");

/**
 * Copies the files of `sourceDir` (not its subdirectories) to `outDir` under hashed names and returns the
 * mapping `{ "app.js": "app.3f9a1c0d2b4e.js", ..., "index.html": "index.html" }`.
 */
export function hashStaticFiles(sourceDir, outDir) {
  mkdirSync(outDir, { recursive: true });
  const names = readdirSync(sourceDir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.startsWith("."))
    .map((entry) => entry.name)
    .sort((a, b) => (RANK[path.extname(a)] ?? 0) - (RANK[path.extname(b)] ?? 0) || a.localeCompare(b));
  const mapping = {};
  for (const name of names) {
    const ext = path.extname(name);
    let content = readFileSync(path.join(sourceDir, name));
    if (TEXT.has(ext)) {
      let text = content.toString("utf8");
      // A reference is the bare name right after `/`, a quote or `(`, and right before a quote, `)`, `?` or `#`.
      for (const [from, to] of Object.entries(mapping)) {
        text = text.replace(new RegExp(`(?<=[/"'(])${escape(from)}(?=["')?#])`, "g"), to);
      }
      content = Buffer.from(text, "utf8");
    }
    const hashed = UNHASHED.has(name)
      ? name
      : `${name.slice(0, name.length - ext.length)}.${sha256(content).slice(0, 12)}${ext}`;
    writeFileSync(path.join(outDir, hashed), content);
    mapping[name] = hashed;
  }
  return mapping;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [sourceDir, outDir] = process.argv.slice(2);
  if (!sourceDir || !outDir) {
    console.error("usage: node scripts/static-assets.mjs <source dir> <output dir>");
    process.exit(2);
  }
  console.log(JSON.stringify(hashStaticFiles(sourceDir, outDir), null, 2));
}
