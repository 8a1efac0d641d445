/**
 * The Debian root the boot tests run the rendered user data in: built once with debootstrap, cached outside the
 * clone (keyed by what it is built from), and only ever used read-only, as the lower layer of an overlay.
 */
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * What the root is built from. systemd 252 is the version Amazon Linux 2023 ships; jq is real in the root because
 * the boot script's environment rendering is jq programs worth running for real.
 */
export const ROOTFS = {
  suite: "bookworm",
  variant: "minbase",
  packages: ["systemd", "systemd-sysv", "dbus", "jq"],
  /** @default http://deb.debian.org/debian (override: SCALE_LADDER_DEBIAN_MIRROR) */
  mirror: process.env.SCALE_LADDER_DEBIAN_MIRROR ?? "http://deb.debian.org/debian",
} as const;

/** Where built roots are kept. @default /var/cache/scale-ladder (override: SCALE_LADDER_CACHE) */
export const CACHE_DIR = process.env.SCALE_LADDER_CACHE ?? "/var/cache/scale-ladder";

/** Every host tool the boot tests need, with the Debian package that provides it. */
const TOOLS: Record<string, string> = {
  shellcheck: "shellcheck",
  debootstrap: "debootstrap",
  "systemd-nspawn": "systemd-container",
  unshare: "util-linux",
  flock: "util-linux",
  mount: "mount",
  timeout: "coreutils",
};

/**
 * Throws, naming what is missing and how to install it, unless every tool is on PATH and the process is root
 * (debootstrap, overlay mounts and systemd-nspawn need it). The boot tests fail on this; they never skip.
 */
export function requireBootTools(tools: string[] = Object.keys(TOOLS)): void {
  const missing = tools.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((t) => TOOLS[t] ?? t))].join(" ");
    throw new Error(`boot tests need ${missing.join(", ")}: install with 'sudo apt-get install -y ${pkgs}'`);
  }
  if (process.getuid?.() !== 0 && tools.some((t) => t !== "shellcheck")) {
    throw new Error("boot tests need root (debootstrap, overlay mounts, systemd-nspawn): run them as root, as .ci/run");
  }
}

/** The cached root's directory for the current {@link ROOTFS} (it may not exist yet). */
export function rootfsPath(): string {
  const key = crypto.createHash("sha256").update(JSON.stringify(ROOTFS)).digest("hex").slice(0, 12);
  return path.join(CACHE_DIR, `rootfs-${key}`);
}

/**
 * Returns the cached root, building it first if needed (about a minute and 240 MB). The build goes into a temp
 * directory beside the cache and is renamed into place, under a lock: concurrent jest workers wait for one build,
 * and a killed build leaves only a temp directory that nobody reads.
 */
export function ensureRootfs(): string {
  requireBootTools(["debootstrap", "flock"]);
  const root = rootfsPath();
  if (fs.existsSync(path.join(root, "usr/lib/systemd/systemd"))) return root;
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const script = `
    set -eu
    [ -x "$ROOT/usr/lib/systemd/systemd" ] && exit 0
    rm -rf "$ROOT.build."*
    TMP="$ROOT.build.$$"
    debootstrap --variant="$VARIANT" --include="$PACKAGES" "$SUITE" "$TMP" "$MIRROR" >"$TMP.log" 2>&1 ||
      { tail -20 "$TMP.log" >&2; exit 1; }
    rm -f "$TMP.log"
    mv -T "$TMP" "$ROOT"`;
  const started = Date.now();
  const r = spawnSync("flock", [path.join(CACHE_DIR, ".rootfs.lock"), "sh", "-c", script], {
    encoding: "utf8",
    env: {
      ...process.env,
      ROOT: root,
      VARIANT: ROOTFS.variant,
      PACKAGES: ROOTFS.packages.join(","),
      SUITE: ROOTFS.suite,
      MIRROR: ROOTFS.mirror,
    },
    timeout: 15 * 60_000,
  });
  if (r.status !== 0) {
    throw new Error(`debootstrap of ${ROOTFS.suite} into ${root} failed (exit ${r.status}): ${r.stderr || r.error}`);
  }
  process.stderr.write(`boot tests: built ${root} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  return root;
}
