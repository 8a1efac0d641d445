// The floor of `npm run bench:program`: a program that only loads @pulumi/aws, run the way the CLI runs the ladder
// (cmd/run with Pulumi.yaml's nodeargs, from a JavaScript entry as stacks/main.cjs is). What the CLI's path costs
// before the ladder does anything: its debugger, its tracing setup, source-map-support and the stack.
"use strict";
require("@pulumi/aws");

module.exports = {};
