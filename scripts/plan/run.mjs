#!/usr/bin/env node
// Runs a TypeScript entry point of scripts/ without a TypeScript compiler in the loop: esbuild bundles it (packages
// stay external) into node_modules/.cache, where the bundle resolves the project's packages, and this process
// loads it and calls its exported `main(argv)`, which resolves to the exit code.
// Usage: node scripts/plan/run.mjs <entry.ts> [args...]    (npm run plan and npm run docs use it)
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { build } from "esbuild";

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write("usage: node scripts/plan/run.mjs <entry.ts> [args...]\n");
  process.exit(2);
}
const out = resolve("node_modules", ".cache", "scale-ladder", `${basename(dirname(entry))}-${basename(entry, ".ts")}.cjs`);
await build({ entryPoints: [entry], bundle: true, platform: "node", target: "node20", format: "cjs", packages: "external", outfile: out, logLevel: "error", sourcemap: "inline" });
if (process.env.PLAN_SOURCEMAPS) process.setSourceMapsEnabled(true);
const { main } = createRequire(import.meta.url)(out);
if (typeof main !== "function") {
  process.stderr.write(`${entry} exports no main(argv)\n`);
  process.exit(2);
}
process.exitCode = await main(args);
