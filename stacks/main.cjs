// The program's entry point as the Pulumi CLI runs it (package.json `main`; Pulumi.yaml sets the nodejs runtime's
// `typescript: false`). The CLI's cmd/run requires this JavaScript file as it is, without registering ts-node, and
// this file loads stacks/index.ts the way every TypeScript script here runs: from an esbuild bundle that is rebuilt
// only when one of its sources changed (scripts/run.mjs, scripts/run-bundle.cjs). test/infra/cli-run.test.ts runs it
// through the CLI's own cmd/run and checks that it registers the resources and outputs of the graph the tests evaluate.
//
// Why not ts-node, the CLI's default: registering it costs every `pulumi preview` and `pulumi up` TypeScript's config
// parser and ts-node itself, and then a transpile of each of the program's ~50 files, each compiled with the CLI's
// debugger on; step 2 evaluated in 1.71x the time of a bare `require('@pulumi/aws')` that way (swc, transpile-only),
// and in 1.47x from the bundle, alternated in one run (2026-12-03; npm run bench:program measures this path). Nothing
// is type-checked on this path either way: types are checked by `npm run typecheck`, the first of `npm test`'s checks.
"use strict";
const path = require("node:path");

module.exports = require("../scripts/run-bundle.cjs").requireBundled(path.join(__dirname, "index.ts"));
