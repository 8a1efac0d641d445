// Builds the shop into a self-contained release: `npm run build`.
//
//   dist/app/server.js, worker.js   every dependency bundled (platform node, target node22: the servers run Amazon
//                                   Linux's nodejs22; npm test runs the release on it, test/app/build.test.ts)
//   dist/app/migrations/*.sql       found beside the bundle through __dirname (see app/src/paths.ts)
//   dist/app/static/                the storefront's files under content-hashed names (app.<hash>.js, ...) and the
//                                   index.html that names them (scripts/static-assets.mjs): the CDN uploads these
//   dist/app/package.json           marks the bundle CommonJS, whatever package.json sits above it
//   dist/shop.tgz                   dist/app's contents at the archive's top level: unpack, `node server.js`
//
// The archive is byte-for-byte reproducible with GNU tar (sorted names, fixed times and owners, gzip without a
// timestamp), so an unchanged app yields an unchanged release hash and no needless redeploy.
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import sourceMapLines from "./source-map-lines.cjs";
import { hashStaticFiles } from "./static-assets.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");
const finalOut = path.join(dist, "app");
const finalArchive = path.join(dist, "shop.tgz");
// Everything is built in a directory of this process's own and swapped in at the end with renames, so that a
// build running at the same time (a test's, `npm start`'s) or a reader of dist/ never sees a half-written release.
// Beside dist/app, at the same depth, so that the source maps' relative paths hold after the rename.
const out = path.join(dist, `.app-${process.pid}`);
const archive = path.join(dist, `.shop-${process.pid}.tgz`);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  absWorkingDir: root,
  // data-migrations.js: the data migrations' command, which the runbooks run on a server (app/src/data-migrations/).
  entryPoints: {
    server: "app/src/server.ts",
    worker: "app/src/worker.ts",
    "data-migrations": "app/src/data-migrations.ts",
  },
  outdir: out,
  bundle: true,
  platform: "node",
  target: "node22",
  format: "cjs",
  // pg loads pg-native only when asked for `pg.native`, which the app never does.
  external: ["pg-native"],
  // Tells app/src/paths.ts that migrations/ and static/ sit beside the bundle.
  define: { __SHOP_BUNDLED__: "true" },
  // The maps are for stack traces (`node --enable-source-maps`, as local mode runs the release), so they hold what a
  // trace needs: file and line, not the sources' text and not every token (scripts/source-map-lines.cjs; a frame's
  // column is then its line's first token). Node parses a process's maps when it starts with that flag: server.js's
  // map went from 7.4 MB to 1 MB, a start of server.js from 0.76 s of CPU to 0.59 s (0.37 s without the flag; medians
  // of 8, alternated, 2026-12-03), and shop.tgz, which every instance fetches, from 5.5 MB to 2.4 MB.
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "external",
  logLevel: "warning",
});
for (const file of readdirSync(out).filter((f) => f.endsWith(".js.map"))) {
  const map = JSON.parse(readFileSync(path.join(out, file), "utf8"));
  map.mappings = sourceMapLines.lineMappings(map.mappings);
  writeFileSync(path.join(out, file), JSON.stringify(map));
}

cpSync(path.join(root, "app", "migrations"), path.join(out, "migrations"), {
  recursive: true,
  filter: (src) => statSync(src).isDirectory() || src.endsWith(".sql"),
});
hashStaticFiles(path.join(root, "app", "static"), path.join(out, "static"));
const manifest = {
  name: "scale-ladder-shop",
  private: true,
  type: "commonjs",
  main: "server.js",
  engines: { node: ">=22" },
  scripts: { start: "node server.js", worker: "node worker.js", "data-migrations": "node data-migrations.js" },
};
writeFileSync(path.join(out, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);

const gnuTar = execFileSync("tar", ["--version"], { encoding: "utf8" }).includes("GNU tar");
const reproducible = gnuTar ? ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner"] : [];
if (!gnuTar) console.warn("tar is not GNU tar: the archive is valid but not byte-for-byte reproducible");
const tarball = execFileSync("tar", [...reproducible, "-cf", "-", "-C", out, "."], { maxBuffer: 512 * 1024 * 1024 });
// gzip's default level: -9 took 3.1 s of CPU for a 1.7 % smaller archive (5.39 against 5.48 MB, 2026-12-02), and
// every build pays it (`npm run build`, local mode when the app changed, the tests that build).
const gzipped = execFileSync("gzip", ["-n", "-6"], { input: tarball, maxBuffer: 512 * 1024 * 1024 });
writeFileSync(archive, gzipped);

// The swap: the old dist/app is renamed away, the new one renamed in (retried if another build's lands in between),
// then the archive replaces the old one in a single rename.
for (let attempt = 0; ; attempt += 1) {
  const old = path.join(dist, `.old-app-${process.pid}-${attempt}`);
  try {
    if (existsSync(finalOut)) renameSync(finalOut, old);
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  try {
    renameSync(out, finalOut);
    break;
  } catch (error) {
    if (!["ENOTEMPTY", "EEXIST"].includes(error.code) || attempt >= 10) throw error;
  }
}
renameSync(archive, finalArchive);
for (let attempt = 0; attempt <= 10; attempt += 1)
  rmSync(path.join(dist, `.old-app-${process.pid}-${attempt}`), { recursive: true, force: true });

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
for (const file of readdirSync(finalOut).filter((name) => name.endsWith(".js"))) {
  console.log(`${path.relative(root, path.join(finalOut, file))}  ${kib(statSync(path.join(finalOut, file)).size)}`);
}
console.log(`${path.relative(root, finalArchive)}  ${kib(statSync(finalArchive).size)}`);
