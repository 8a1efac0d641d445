#!/usr/bin/env node
// Runs a TypeScript entry point of scripts/ without a TypeScript compiler in the loop: esbuild bundles it (packages
// stay external) into node_modules/.cache, where the bundle resolves the project's packages, and this process
// loads it and calls its exported `main(argv)`, which resolves to the exit code. The bundle is rebuilt only when
// one of the files it was built from has changed.
// Usage: node scripts/plan/run.mjs <entry.ts> [args...]    (npm run plan and npm run docs use it)
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, resolve } from "node:path";
import { build } from "esbuild";

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write("usage: node scripts/plan/run.mjs <entry.ts> [args...]\n");
  process.exit(2);
}
const out = resolve(
  "node_modules",
  ".cache",
  "scale-ladder",
  `${basename(dirname(entry))}-${basename(entry, ".ts")}.cjs`,
);
const stamp = `${out}.inputs.json`;
const mtime = (f) => (existsSync(f) ? statSync(f).mtimeMs : -1);
const fresh = () => {
  if (!existsSync(out) || !existsSync(stamp)) return false;
  const { root, inputs } = JSON.parse(readFileSync(stamp, "utf8"));
  return root === process.cwd() && Object.entries(inputs).every(([f, t]) => mtime(f) === t);
};
if (!fresh()) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    packages: "external",
    outfile: out,
    logLevel: "error",
    sourcemap: "inline",
    metafile: true,
  });
  const inputs = Object.fromEntries(Object.keys(result.metafile.inputs).map((f) => [resolve(f), mtime(resolve(f))]));
  writeFileSync(stamp, JSON.stringify({ root: process.cwd(), inputs }));
}
// Source maps make every stack trace cost more, and the Pulumi SDK takes one per resource: on only when asked.
if (process.env.PLAN_SOURCEMAPS) process.setSourceMapsEnabled(true);
const { main } = createRequire(import.meta.url)(out);
if (typeof main !== "function") {
  process.stderr.write(`${entry} exports no main(argv)\n`);
  process.exit(2);
}
process.exitCode = await main(args);
