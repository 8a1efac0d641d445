// The policy pack's entry (package.json `main`), which `pulumi preview --policy-pack policies` loads through the
// CLI's @pulumi/pulumi/cmd/run-policy-pack. That code registers ts-node with type checking forced on, whatever the
// tsconfig says, and type-checking the pack took ~9.5 s of every preview (10-13 s to serve against 1.3-1.8 s). This
// file is JavaScript, so ts-node has nothing to compile: it loads index.ts as every TypeScript script here runs, from
// an esbuild bundle that is rebuilt only when a source changed (scripts/run.mjs, scripts/run-bundle.cjs). The pack's
// types are checked by `npm run typecheck`, with the rest of the code base.
"use strict";
const path = require("node:path");

module.exports = require("../scripts/run-bundle.cjs").requireBundled(path.join(__dirname, "index.ts"));
