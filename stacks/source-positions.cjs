// Preloaded into every `pulumi preview` and `pulumi up` (Pulumi.yaml: runtime.options.nodeargs), before the CLI's
// cmd/run loads anything. It decides which files' source maps the CLI's stack traces are mapped through: the program's
// bundles, and files outside node_modules; not the packages'.
//
// Why: for every resource, the SDK captures a whole stack trace (Resource.callsites, Error.stackTraceLimit lifted to
// Infinity) and sends its frames to the engine as the resource's source position and stack trace. cmd/run installs
// source-map-support, which maps each frame through the map its file names. The maps that @pulumi/pulumi, @pulumi/aws
// and the other Pulumi packages ship name TypeScript sources one folder too high, which the packages do not ship
// either: @pulumi/pulumi/resource.js maps to node_modules/@pulumi/resource.ts. So the engine was sent positions in
// files that do not exist, for the price of reading each of those .js files whole (to find its map's name) and then
// reading and parsing about 30 maps in every run. With this file, a package's frame keeps its real position in the .js
// file the package ships, and the program's frames still map, through the bundle's inline map, to stacks/*.ts and
// components/*.ts. Measured, the nodeargs with and without this file, alternated (cmd/run under mocks, medians):
// step 2 958 → 912 ms (1,117 → 1,055 ms of CPU, 15 rounds), step 11 1,519 → 1,487 ms (1,951 → 1,897 ms, 9 rounds)
// (2026-12-03). test/infra/cli-run.test.ts checks every position the engine receives.
//
// source-map-support keeps its handlers in the module, so this must be the very module instance cmd/run loads: it is
// resolved from cmd/run's folder. If that fails (a future SDK without source-map-support), this file does nothing.
"use strict";
const path = require("node:path");
const { fileURLToPath } = require("node:url");
const { BUNDLE_DIR } = require("../scripts/run-bundle.cjs");

const NODE_MODULES = `${path.sep}node_modules${path.sep}`;
const BUNDLES = `${path.sep}${BUNDLE_DIR}${path.sep}`;
/** A map without mappings: source-map-support then keeps the frame's own position. */
const NO_MAP = { version: 3, sources: [], names: [], mappings: "" };

/** Whether the frames of `file` (a path, or a file: URL for ES modules) are mapped through its source map. */
function mapsFramesOf(file) {
  const p = file.startsWith("file:") ? fileURLToPath(file) : file;
  return !p.includes(NODE_MODULES) || p.includes(BUNDLES);
}

let sourceMapSupport;
try {
  const cmdRun = path.dirname(require.resolve("@pulumi/pulumi/cmd/run"));
  sourceMapSupport = require(require.resolve("source-map-support", { paths: [cmdRun] }));
} catch {
  // No SDK or no source-map-support where cmd/run would load it: nothing to configure.
}
if (sourceMapSupport) {
  sourceMapSupport.install({
    // Answered before the default handler, which reads the file and its map; null falls through to that handler.
    retrieveSourceMap: (source) => (mapsFramesOf(source) ? null : { url: source, map: NO_MAP }),
    // cmd/run's own install (source-map-support/register) adds the uncaught-exception handler, as it always did.
    handleUncaughtExceptions: false,
  });
}

module.exports = { mapsFramesOf };
