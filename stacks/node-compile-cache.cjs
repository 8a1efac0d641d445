// Preloaded into every `pulumi preview` and `pulumi up` (Pulumi.yaml: runtime.options.nodeargs `--require`, which node
// resolves from the program directory, the project root), before the CLI's cmd/run loads @pulumi/pulumi and the
// program. It turns on Node's on-disk compile cache (V8 code cache), so that every run after the first
// skips compiling the same megabytes of JavaScript again.
//
// Why it pays so much here: before it loads the program, the CLI enables the inspector's debugger (for closure
// serialization: @pulumi/pulumi/runtime/closure/v8Hooks), and compiling with the debugger on is slow. Loading
// @pulumi/aws took 1,285-1,344 ms with the debugger on against 791-947 ms without, and 783-951 ms with the debugger
// on and this cache (Node 22, this machine). `npm run bench:program` measures the whole run both ways.
//
// The cache is keyed by each file's content, so a changed file is compiled again; deleting the folder is always safe,
// and NODE_DISABLE_COMPILE_CACHE=1 turns it off. module.enableCompileCache exists from Node 22.1: on older Node this
// file does nothing. A folder that cannot be written makes Node skip the cache, not fail.
"use strict";
const nodeModule = require("node:module");
const path = require("node:path");

/** The cache's folder: with the project's other caches, so `rm -rf node_modules` takes it too. */
const dir = path.join(__dirname, "..", "node_modules", ".cache", "scale-ladder", "node-compile-cache");
if (typeof nodeModule.enableCompileCache === "function") nodeModule.enableCompileCache(dir);
