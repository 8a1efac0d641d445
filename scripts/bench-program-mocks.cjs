// The graph library's mocks (realistic outputs, the known invokes), its stack configurations and the CLI's run
// derivation, as one plain-JavaScript bundle that a process running the program the CLI's way can load before ts-node
// exists (scripts/bench-program-cli.cjs). Built with esbuild into node_modules, where it resolves packages; shared
// by `npm run bench:program` (which requires it) and test/infra/cli-run.test.ts (which runs it: it prints the path).
"use strict";
const path = require("node:path");
const { buildSync } = require("esbuild");

const ROOT = path.resolve(__dirname, "..");

/** Builds the bundle (a few tens of milliseconds) and returns its path. */
function buildProgramMocks() {
  const outfile = path.join(ROOT, "node_modules", ".cache", "scale-ladder", "bench-program-mocks.cjs");
  buildSync({
    stdin: {
      contents: `export { resourceState, invokeResult } from "./lib/graph/mock-outputs";
export { stackConfig } from "./lib/graph/harness";
export { cliRun, cliTranspileOnly } from "./lib/pulumi-cli";`,
      resolveDir: ROOT,
      loader: "ts",
    },
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    packages: "external",
    outfile,
    logLevel: "error",
  });
  return outfile;
}

module.exports = { buildProgramMocks };
if (require.main === module) process.stdout.write(buildProgramMocks());
