/**
 * The infra tests' stand-in build is shared, not made anew by every test file: the suite once left a folder in the
 * temp dir per file and run (hundreds after a day of work).
 */
import * as fs from "node:fs";

type Harness = typeof import("../../lib/graph/harness");

function freshFakeBuild(): ReturnType<Harness["fakeBuild"]> {
  let result: ReturnType<Harness["fakeBuild"]> | undefined;
  // A fresh module registry per call: what two jest workers (or two runs) see.
  jest.isolateModules(() => {
    result = (require("../../lib/graph/harness") as Harness).fakeBuild();
  });
  return result!;
}

test("two test files share one stand-in build, and it holds the files the program ships", () => {
  const first = freshFakeBuild();
  const second = freshFakeBuild();
  expect(second).toEqual(first);
  expect(fs.readFileSync(first["scale-ladder:artifactPath"], "utf8")).toMatch(/not a real build/);
  expect(fs.readdirSync(first["scale-ladder:staticDir"]).sort()).toEqual(["app.3f9a1c0d.js", "index.html"]);
});
