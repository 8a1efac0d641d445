/**
 * scripts/run.mjs, the one TypeScript runner: its bundle cache lives in node_modules/.cache, and node_modules may be
 * shared by two checkouts (a `git worktree` with node_modules symlinked, as we do for before/after comparisons).
 * Each checkout must still run its own sources.
 */
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const CACHE = path.join(ROOT, "node_modules", ".cache", "scale-ladder", "run");
const ENTRY = `scripts/run-mjs-fixture-${process.pid}.ts`;

function checkout(dir: string, says: string): string {
  mkdirSync(path.join(dir, "scripts"), { recursive: true });
  copyFileSync(path.join(ROOT, "scripts", "run.mjs"), path.join(dir, "scripts", "run.mjs"));
  for (const f of ["run-bundle.cjs", "source-map-lines.cjs"])
    copyFileSync(path.join(ROOT, "scripts", f), path.join(dir, "scripts", f));
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  writeFileSync(
    path.join(dir, ENTRY),
    `export function main(): void { process.stdout.write(${JSON.stringify(says)}); }\n`,
  );
  return dir;
}

function run(dir: string): string {
  const r = spawnSync(process.execPath, [path.join(dir, "scripts", "run.mjs"), ENTRY], { cwd: dir, encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout;
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "run-mjs-"));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  const fixture = path.basename(ENTRY, ".ts");
  for (const f of readdirSync(CACHE)) if (f.includes(fixture)) rmSync(path.join(CACHE, f), { force: true });
});

test("two checkouts sharing node_modules each run their own sources, and keep their bundles cached", () => {
  const a = checkout(path.join(tmp, "a"), "from a");
  const b = checkout(path.join(tmp, "b"), "from b");
  expect(run(a)).toBe("from a");
  expect(run(b)).toBe("from b");
  // Alternating does not rebuild: each checkout has its own bundle.
  const bundles = () => readdirSync(CACHE).filter((f) => f.includes(path.basename(ENTRY, ".ts")) && f.endsWith(".cjs"));
  expect(bundles()).toHaveLength(2);
  expect(run(a)).toBe("from a");
  expect(run(b)).toBe("from b");
});

test("CommonJS code loads another package's entry from a bundle in that package, rebuilt on a change", () => {
  // As policies/main.cjs loads the policy pack: its bundle must resolve packages as the pack's own imports would.
  const dir = checkout(path.join(tmp, "c"), "unused");
  const pkg = path.join(dir, "pack");
  mkdirSync(pkg);
  writeFileSync(path.join(pkg, "package.json"), '{ "name": "pack", "private": true }\n');
  const entry = path.join(pkg, "index.ts");
  const load = () => {
    const r = spawnSync(
      process.execPath,
      ["-e", `process.stdout.write(require("./scripts/run-bundle.cjs").requireBundled(${JSON.stringify(entry)}).says)`],
      { cwd: dir, encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    return r.stdout;
  };
  writeFileSync(entry, 'export const says: string = "first";\n');
  expect(load()).toBe("first");
  const built = readdirSync(path.join(pkg, "node_modules", ".cache", "scale-ladder", "run"));
  expect(built.filter((f) => f.endsWith(".cjs"))).toEqual([expect.stringMatching(/^pack-index-[0-9a-f]{8}\.cjs$/)]);
  // A later mtime, as an editor's save gives.
  writeFileSync(entry, 'export const says: string = "second";\n');
  utimesSync(entry, new Date(), new Date(Date.now() + 5000));
  expect(load()).toBe("second");
});

test("stack traces name the TypeScript file and line, through the bundle's line-grained source map", () => {
  // In this checkout (a checkout that borrows node_modules resolves its sources from the real node_modules' place).
  // The throw is on line 7 of the source; type-only lines above it vanish from the bundle.
  const source = [
    "interface Order {",
    "  id: string;",
    "}",
    "type Id = Order['id'];",
    "export function main(): void {",
    "  const id: Id = 'o-1';",
    "  if (id) throw new Error(`order ${id} failed`);",
    "}",
  ];
  const file = path.join(ROOT, ENTRY);
  writeFileSync(file, `${source.join("\n")}\n`);
  try {
    const r = spawnSync(process.execPath, ["--enable-source-maps", path.join(ROOT, "scripts", "run.mjs"), ENTRY], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("Error: order o-1 failed");
    // The column is that of the line's first token: the map keeps lines, not tokens (source-map-lines.cjs).
    expect(r.stderr).toContain(`at main (${file}:7:3)`);
  } finally {
    rmSync(file, { force: true });
  }
});
