/**
 * `npm run screenshots` (scripts/screenshots.ts): which steps it is asked for, and the README's picture it writes,
 * which must be the PNG of a whole console page the README links to.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../../scripts/local/options";
import { README_SCREENSHOT, parseSteps } from "../../scripts/screenshots";

test("--steps takes lists and ranges, each step once, in order; anything else names the flag and the range", () => {
  expect(parseSteps("11,1,4")).toEqual([1, 4, 11]);
  expect(parseSteps("3-5,4,1-2")).toEqual([1, 2, 3, 4, 5]);
  for (const bad of ["0", "12", "5-3", "a", "1,,2", "1-12"]) {
    expect(() => parseSteps(bad)).toThrow(UsageError);
    expect(() => parseSteps(bad)).toThrow(/--steps takes steps from 1 to 11/);
  }
});

test("the README shows the step-11 console that the script writes, a full-width PNG", () => {
  const readme = readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
  const relative = path.relative(path.join(__dirname, "..", ".."), README_SCREENSHOT);
  expect(readme).toContain(`](${relative})`);
  const png = readFileSync(README_SCREENSHOT);
  expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
  // IHDR: width and height, big-endian, at bytes 16 and 20; the script's viewport is 1280 wide, the page taller.
  expect(png.readUInt32BE(16)).toBe(1280);
  expect(png.readUInt32BE(20)).toBeGreaterThan(800);
});
