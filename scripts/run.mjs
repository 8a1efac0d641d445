#!/usr/bin/env node
// The one way this repository runs a TypeScript script (every `npm run …` that runs a .ts file, and the processes
// those scripts start): esbuild bundles the entry (packages stay external) into node_modules/.cache, where the
// bundle resolves the project's packages, and this process loads it and calls its exported `main(argv)`; a number
// it resolves to is the exit code. An entry without `main` (the app's server.ts and worker.ts, which also run as
// bundles on the servers) runs as it loads, as under node. No type checking here: `npm test` runs tsc --noEmit.
// The bundle is rebuilt only when one of the files it was built from has changed (mtime), and is replaced
// atomically, so processes started at the same time never read half a bundle.
// `__dirname` and `__filename` keep their meaning in every source file (the .ts file's directory and path, as
// under ts-node), not the bundle's. Stack traces point at the .ts files when asked:
// NODE_OPTIONS=--enable-source-maps (off by default: the Pulumi SDK takes a stack trace per resource, and source
// maps make each one cost more).
// Where bundles live and when they are fresh: scripts/run-bundle.cjs, which also loads one for CommonJS code.
// Usage: node scripts/run.mjs [--build] <entry.ts> [args...]
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { bundleOptions, bundlePaths, isFresh, mtime } = require("./run-bundle.cjs");
const { lineMappings } = require("./source-map-lines.cjs");
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// `--build`: make the bundle fresh and stop (scripts/run-bundle.cjs's requireBundled, for CommonJS callers).
const buildOnly = process.argv[2] === "--build";
const [entryArg, ...args] = process.argv.slice(buildOnly ? 3 : 2);
if (!entryArg) {
  process.stderr.write("usage: node scripts/run.mjs [--build] <entry.ts> [args...]\n");
  process.exit(2);
}
const entry = resolve(entryArg);
const { out, stamp } = bundlePaths(entry);

/** Gives each TypeScript source its own `__dirname` and `__filename`, on its first line (line numbers stay). */
const sourcePaths = {
  name: "source-paths",
  setup(b) {
    b.onLoad({ filter: /\.[cm]?ts$/ }, (a) => {
      const source = readFileSync(a.path, "utf8");
      if (!/\b__(dirname|filename)\b/.test(source)) return undefined;
      const head = `var __dirname = ${JSON.stringify(dirname(a.path))}, __filename = ${JSON.stringify(a.path)}; `;
      return { contents: head + source, loader: "ts" };
    });
  },
};

if (!isFresh(entry)) {
  const { build, stop } = await import("esbuild");
  const result = await build({ ...bundleOptions(entry), plugins: [sourcePaths] });
  mkdirSync(dirname(out), { recursive: true });
  const inputs = Object.fromEntries(Object.keys(result.metafile.inputs).map((f) => [resolve(ROOT, f), 0]));
  // This file, run-bundle.cjs and source-map-lines.cjs: a change to how bundles are made rebuilds them all.
  inputs[fileURLToPath(import.meta.url)] = 0;
  inputs[require.resolve("./run-bundle.cjs")] = 0;
  inputs[require.resolve("./source-map-lines.cjs")] = 0;
  for (const f of Object.keys(inputs)) inputs[f] = mtime(f);
  const output = (path) => result.outputFiles.find((f) => f.path === path).text;
  const map = JSON.parse(output(`${out}.map`));
  map.mappings = lineMappings(map.mappings);
  const inlineMap = Buffer.from(JSON.stringify(map)).toString("base64");
  const temp = `${out}.${process.pid}`;
  writeFileSync(temp, `${output(out)}//# sourceMappingURL=data:application/json;charset=utf-8;base64,${inlineMap}\n`);
  renameSync(temp, out);
  writeFileSync(`${stamp}.${process.pid}`, JSON.stringify({ entry, inputs }));
  renameSync(`${stamp}.${process.pid}`, stamp);
  stop(); // esbuild's service process would otherwise live as long as this one (npm start: until Ctrl-C)
}
if (buildOnly) process.exit(0);
// As `node <entry> [args...]` would have it, for code that reads process.argv.
process.argv.splice(1, 2, entry);
const { main } = require(out);
if (typeof main === "function") {
  const code = await main(args);
  if (typeof code === "number") process.exitCode = code;
}
