/**
 * The floor of `npm run bench:program`: a program that only loads @pulumi/aws, run the way the CLI runs the ladder
 * (cmd/run with Pulumi.yaml's nodeargs and tsconfig, so ts-node and swc too). What the CLI's path costs before the
 * ladder does anything: its debugger, TypeScript, ts-node and the stack.
 */
import "@pulumi/aws";

export = {};
