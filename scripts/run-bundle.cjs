// Where scripts/run.mjs keeps the bundle of a TypeScript entry and when that bundle is fresh (the rules run.mjs
// builds by, in one place), and `requireBundled` for CommonJS code that must load an entry synchronously: the policy
// pack's entry, policies/main.cjs, which the Pulumi CLI requires.
"use strict";
const { spawnSync } = require("node:child_process");
const { createHash } = require("node:crypto");
const { existsSync, readFileSync, statSync } = require("node:fs");
const { dirname, join, relative, resolve } = require("node:path");

const ROOT = resolve(__dirname, "..");
/** Where a package keeps the bundles of its entries, below its own folder (stacks/source-positions.cjs reads it). */
const BUNDLE_DIR = join("node_modules", ".cache", "scale-ladder", "run");

/** The folder of the package that holds `file`: the nearest package.json at or below the project root. */
function packageDir(file) {
  for (let dir = dirname(file); !relative(ROOT, dir).startsWith(".."); dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
  }
  return ROOT;
}

/**
 * The bundle of `entry` and its stamp (the files it was built from, with their mtimes). The bundle lives in the
 * node_modules/.cache of the package that holds the entry, so its packages resolve as the entry's own imports would
 * (the policy pack, a package of its own, may have its own node_modules). The checkout's path is part of the name:
 * two checkouts may share one node_modules (a git worktree with node_modules symlinked), and each must run its own
 * sources.
 */
function bundlePaths(entry) {
  const name = relative(ROOT, entry)
    .replace(/\.[cm]?ts$/, "")
    .replace(/\.\.(?=[\\/])/g, "up")
    .replace(/[\\/]/g, "-");
  const checkoutId = createHash("sha1").update(ROOT).digest("hex").slice(0, 8);
  const out = join(packageDir(entry), BUNDLE_DIR, `${name}-${checkoutId}.cjs`);
  return { out, stamp: `${out}.inputs.json` };
}

/**
 * esbuild's options for the bundle of `entry` (absolute), as scripts/run.mjs builds it: packages stay external (the
 * bundle resolves them from node_modules), and the source map comes out as a separate output, which run.mjs makes
 * line-grained and writes inline (source-map-lines.cjs). run.mjs adds its plugin; nothing is written by esbuild.
 */
function bundleOptions(entry) {
  return {
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    packages: "external",
    outfile: bundlePaths(entry).out,
    write: false,
    logLevel: "error",
    // The sources are on disk, so their text is not repeated in every bundle.
    sourcemap: "external",
    sourcesContent: false,
    metafile: true,
  };
}

const mtime = (f) => (existsSync(f) ? statSync(f).mtimeMs : -1);

/** Whether the bundle of `entry` was built from the files as they are now. */
function isFresh(entry) {
  const { out, stamp } = bundlePaths(entry);
  if (!existsSync(out) || !existsSync(stamp)) return false;
  try {
    const { entry: built, inputs } = JSON.parse(readFileSync(stamp, "utf8"));
    return built === entry && Object.entries(inputs).every(([f, t]) => mtime(f) === t);
  } catch {
    return false; // a stamp from another version of run.mjs
  }
}

/**
 * Loads `entry` (absolute) from its bundle, which run.mjs builds first if a source changed (`--build`, in a child
 * process: esbuild's plugins are asynchronous).
 */
function requireBundled(entry) {
  if (!isFresh(entry)) {
    const r = spawnSync(process.execPath, [join(__dirname, "run.mjs"), "--build", entry], { stdio: "inherit" });
    if (r.status !== 0) throw new Error(`scripts/run.mjs --build ${relative(ROOT, entry)} failed (${r.status})`);
  }
  return require(bundlePaths(entry).out);
}

module.exports = { BUNDLE_DIR, bundleOptions, bundlePaths, isFresh, mtime, requireBundled };
