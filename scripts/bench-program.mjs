#!/usr/bin/env node
// Benchmark: what evaluating the step-2 program under mocks costs, against the floor of loading @pulumi/aws alone.
// Both are measured as whole fresh `node` processes, alternated, in the same run; the figure is the ratio of medians.
// Usage: npm run bench:program [-- --runs 9 --step 2]
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { build } from "esbuild";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const runs = arg("runs", 9);
const step = arg("step", 2);

// Bundle the program with the test harness (dependencies stay in node_modules) so no TypeScript compiler is timed.
// Inside node_modules so that the bundle resolves the project's packages.
const out = join("node_modules", ".cache", "scale-ladder", "evaluate-step.cjs");
await build({
  entryPoints: ["scripts/evaluate-step.ts"],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  packages: "external",
  outfile: out,
  logLevel: "error",
});

function time(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} failed: ${r.stderr}`);
  return { ms, stdout: r.stdout.trim() };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const baseline = [];
const program = [];
let summary = "";
time(["-e", "require('@pulumi/aws')"]); // warm the OS file cache for both sides
for (let i = 0; i < runs; i++) {
  baseline.push(time(["-e", "require('@pulumi/aws')"]).ms);
  const r = time([out, String(step)]);
  program.push(r.ms);
  summary = r.stdout;
}
const b = median(baseline);
const p = median(program);
console.log(
  `command: npm run bench:program -- --runs ${runs} --step ${step}   (node ${process.version}, ${runs} alternated runs each)`,
);
console.log(
  `baseline  node -e "require('@pulumi/aws')"          median ${b.toFixed(0)} ms  (min ${Math.min(...baseline).toFixed(0)}, max ${Math.max(...baseline).toFixed(0)})`,
);
console.log(
  `program   step ${step} under mocks ${summary.padEnd(30)} median ${p.toFixed(0)} ms  (min ${Math.min(...program).toFixed(0)}, max ${Math.max(...program).toFixed(0)})`,
);
console.log(`ratio     program / baseline = ${(p / b).toFixed(2)}x  (goal <= 1.5x)`);
