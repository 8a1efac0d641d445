/**
 * The repository's layout rule: code that tests and scripts share lives in a library folder (lib/), so nothing
 * under scripts/, lib/ or policies/ imports from test/. A static scan of every import, export-from, require and
 * dynamic import specifier (TypeScript's own pre-processor, so comments and strings are not imports); no program
 * is loaded.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");
const TEST_DIR = path.join(ROOT, "test");
const SCANNED = ["scripts", "lib", "policies"];
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** Source files under `dir`, skipping node_modules and generated output. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return ["node_modules", "bin", "dist"].includes(entry.name) ? [] : sources(full);
    return SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** The module specifiers `file` imports, requires or exports from. */
function specifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** `specifier` of a file in `fromDir` points into test/ (relative or absolute paths; packages never do). */
function intoTest(fromDir: string, specifier: string): boolean {
  if (!specifier.startsWith(".") && !path.isAbsolute(specifier)) return false;
  const target = path.resolve(fromDir, specifier);
  return target === TEST_DIR || target.startsWith(`${TEST_DIR}${path.sep}`);
}

const files = SCANNED.flatMap((dir) => sources(path.join(ROOT, dir)));

test("the scan sees every kind of import", () => {
  expect(files.length).toBeGreaterThan(50);
  const sample = [
    'import { a } from "../test/a";',
    'export * from "../test/b";',
    'const c = require("../test/c");',
    'const d = () => import("../test/d");',
    '// import { e } from "../test/e";',
    'const f = "../test/f";',
  ].join("\n");
  expect(specifiers(sample).filter((s) => intoTest(path.join(ROOT, "scripts"), s))).toEqual([
    "../test/a",
    "../test/b",
    "../test/c",
    "../test/d",
  ]);
  expect(intoTest(path.join(ROOT, "scripts", "plan"), "../../lib/graph/harness")).toBe(false);
  expect(intoTest(path.join(ROOT, "scripts"), "test-host")).toBe(false);
});

test("no file under scripts/, lib/ or policies/ imports from test/", () => {
  const offending = files.flatMap((file) =>
    specifiers(readFileSync(file, "utf8"))
      .filter((specifier) => intoTest(path.dirname(file), specifier))
      .map((specifier) => `${path.relative(ROOT, file)} imports ${specifier}`),
  );
  expect(offending).toEqual([]);
});
