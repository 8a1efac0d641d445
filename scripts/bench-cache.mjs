#!/usr/bin/env node
// Benchmark of the product cache: cached vs uncached throughput of a category page and of a product, and the share
// of warm product reads that reach the database, measured in one run on this machine (see scripts/bench-cache.ts).
// Usage: npm run bench:cache [-- --duration 10 --connections 32]
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { build } from "esbuild";

// Bundled (dependencies stay in node_modules) so that no TypeScript compiler runs while measuring; inside
// node_modules so that the bundle resolves the project's packages.
const out = join("node_modules", ".cache", "scale-ladder", "bench-cache.cjs");
await build({
  entryPoints: ["scripts/bench-cache.ts"],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  packages: "external",
  outfile: out,
  logLevel: "error",
});
const args = process.argv.slice(2);
console.log(`$ node ${out} ${args.join(" ")}`.trim());
const run = spawnSync(process.execPath, [out, ...args], { stdio: "inherit" });
process.exit(run.status ?? 1);
