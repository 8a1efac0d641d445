/**
 * How `npm test` runs jest (package.json, jest.config.js): with V8's young generation at 64 MB per semi-space, which
 * jest passes on to its workers through their exec arguments, and which the processes the tests start do not get;
 * and in the order of test/slowest-first.cjs.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const FLAG = "--max-semi-space-size=64";
const script: string = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.test;

it("npm test starts jest under node with the flag", () => {
  expect(script).toContain(`&& node ${FLAG} node_modules/jest/bin/jest.js &&`);
});

// Jest forks its workers with its own exec arguments (jest-worker): a run through `npm test` has the flag, and a
// bare `npx jest` has none.
it("runs this worker with the flag exactly when npm test started jest", () => {
  const underNpmTest = process.env.npm_lifecycle_event === "test";
  expect({ underNpmTest, flag: process.execArgv.includes(FLAG) }).toEqual({ underNpmTest, flag: underNpmTest });
});

it("gives the processes the tests start no exec arguments: they run as on the servers", () => {
  const child = spawnSync(process.execPath, ["-"], {
    input: "console.log(JSON.stringify(process.execArgv))",
    encoding: "utf8",
  });
  expect(JSON.parse(child.stdout)).toEqual([]);
});

it("orders a clean clone's files by estimates that each name a test file of this repository", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- jest's test sequencer, CommonJS without types
  const { ESTIMATES } = require("../slowest-first.cjs") as { ESTIMATES: Record<string, number> };
  const files = Object.keys(ESTIMATES);
  expect(files.length).toBeGreaterThan(10);
  expect(files.filter((f) => !/^test\/(infra|app)\/.+\.test\.ts$/.test(f) || !existsSync(path.join(ROOT, f)))).toEqual(
    [],
  );
});
