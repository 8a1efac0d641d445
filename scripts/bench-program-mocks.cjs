// The graph library's mocks (realistic outputs, the known invokes) as plain JavaScript that a process running the
// program the CLI's way can load before cmd/run starts (scripts/bench-program-cli.cjs), and the stack configurations
// and the CLI's run derivation for the process that starts it. Built with esbuild into node_modules, where they
// resolve packages; shared by `npm run bench:program` (which requires this file) and test/infra/cli-run.test.ts
// (which runs it: it prints both paths as JSON).
"use strict";
const path = require("node:path");
const { buildSync } = require("esbuild");

const ROOT = path.resolve(__dirname, "..");

/**
 * Builds the two bundles (a few tens of milliseconds) and returns their paths: `mocks`, which the measured process
 * loads, holds only the mocks, so that nothing of the benchmark's own (the YAML parser, the harness) is counted in
 * the program's time; `host` holds what the parent needs (the stack configurations, the CLI's run derivation).
 */
function buildProgramMocks() {
  const dir = path.join(ROOT, "node_modules", ".cache", "scale-ladder");
  const bundle = (name, contents) => {
    const outfile = path.join(dir, name);
    buildSync({
      stdin: { contents, resolveDir: ROOT, loader: "ts" },
      bundle: true,
      platform: "node",
      target: "node22",
      format: "cjs",
      packages: "external",
      outfile,
      logLevel: "error",
    });
    return outfile;
  };
  return {
    mocks: bundle("bench-program-mocks.cjs", `export { resourceState, invokeResult } from "./lib/graph/mock-outputs";`),
    host: bundle(
      "bench-program-host.cjs",
      `export { stackConfig } from "./lib/graph/harness";
export { cliRun } from "./lib/pulumi-cli";`,
    ),
  };
}

module.exports = { buildProgramMocks };
if (require.main === module) process.stdout.write(JSON.stringify(buildProgramMocks()));
