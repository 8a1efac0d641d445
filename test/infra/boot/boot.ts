/**
 * Boots a rendered user data under a real systemd (252, as Amazon Linux 2023): `systemd-nspawn -b` over an overlay
 * of the cached Debian root, in a private mount namespace, with no network. The root gets the AWS-facing stubs
 * (aws, dnf, curl, openssl) in /usr/local/sbin, a `user-data.service` that runs the script once per instance as
 * cloud-init would, and a probe unit ordered after the shop that records its state into /results and powers the
 * container off. systemctl, useradd and runuser are the real ones. The same overlay is booted again for the reboot,
 * with /run empty as on a real reboot.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureRootfs } from "./rootfs";
import { Call, StubWorld, cleanup, inMountNamespace, machineName, readCalls, workDir, writeWorld } from "./world";

/** What the probe saw at the end of one boot. */
export interface BootResult {
  /** `systemctl is-active shop.service` */
  isActive: string;
  /** `systemctl is-enabled shop.service` */
  isEnabled: string;
  /** `systemctl show shop.service` (ActiveState, SubState, Result, NRestarts, StartLimitIntervalUSec, ...). */
  show: Record<string, string>;
  /** `systemctl status shop.service` and its journal, for the failure message. */
  status: string;
  journal: string;
  /** `systemctl --failed`. */
  failed: string;
  /** `systemd-analyze verify` of each shop unit: exit status and output. */
  verify: { unit: string; rc: number; output: string }[];
  /** Exit status of the user data (first boot only). */
  userDataRc?: number;
  /** /var/log/shop-boot.log at the end of the boot. */
  bootLog: string;
  /** Wall time of the boot, from nspawn's start to its exit. */
  ms: number;
  /** Whether the probe ran (false: the boot hung or the probe could not run). */
  probed: boolean;
  /** What the container printed (systemd's console). */
  console: string;
}

/** Options of {@link bootMachine}. */
export interface BootOptions {
  /** Boots of the same root: 1 is a cold boot, 2 adds a reboot. @default 2 */
  boots?: number;
  /** Files put into the root before the first boot, by absolute path. @default none */
  files?: Record<string, string>;
  /** Bound on each boot; a hang fails the test instead of hanging the suite. @default 90000 */
  timeoutMs?: number;
}

/** Boots `script` as an instance's user data, `boots` times; one result per boot, and every stub call. */
export async function bootMachine(
  label: string,
  script: string,
  world: StubWorld,
  opts: BootOptions = {},
): Promise<{ boots: BootResult[]; calls: Call[] }> {
  const root = ensureRootfs();
  const dir = workDir(label);
  const boots = opts.boots ?? 2;
  const timeoutMs = opts.timeoutMs ?? 90_000;
  try {
    const stub = path.join(dir, "stub");
    writeWorld(stub, world);
    fs.writeFileSync(path.join(stub, "user-data.sh"), script, { mode: 0o755 });
    const extra = path.join(dir, "extra");
    fs.mkdirSync(extra);
    for (const [p, content] of Object.entries(opts.files ?? {})) {
      fs.mkdirSync(path.join(extra, path.dirname(p)), { recursive: true });
      fs.writeFileSync(path.join(extra, p), content);
    }
    for (const d of ["upper", "work", "merged"]) fs.mkdirSync(path.join(dir, d));
    for (let i = 1; i <= boots; i++) fs.mkdirSync(path.join(dir, `results-${i}`));
    const sh = `set -e
      M="$DIR/merged" S="$DIR/stub"
      mount -t overlay overlay -o "lowerdir=$ROOT,upperdir=$DIR/upper,workdir=$DIR/work" "$M"
      install -m 0755 "$S"/bin/* "$M/usr/local/sbin/"
      install -d "$M/usr/local/lib/boot-test" "$M/etc/systemd/system/multi-user.target.wants"
      install -m 0755 "$S/probe" "$S/run-user-data" "$M/usr/local/lib/boot-test/"
      install -m 0644 "$S/user-data.service" "$S/probe.service" "$M/etc/systemd/system/"
      ln -s ../user-data.service ../probe.service "$M/etc/systemd/system/multi-user.target.wants/"
      install -D -m 0755 "$S/user-data.sh" "$M/var/lib/cloud/user-data.sh"
      cp -a "$DIR/extra/." "$M/"
      for i in $(seq "$BOOTS"); do
        R="$DIR/results-$i"
        start=$(date +%s%N)
        rc=0
        timeout -k 5 "$SECS" systemd-nspawn -q --register=no --keep-unit --private-network -M "$MACHINE" -D "$M" \\
          --bind="$S:/stub" --bind="$R:/results" -b >"$R/console.log" 2>&1 || rc=$?
        echo "$(( ($(date +%s%N) - start) / 1000000 ))" >"$R/ms"
        echo "$rc" >"$R/nspawn.rc"
      done`;
    await inMountNamespace(
      sh,
      {
        ROOT: root,
        DIR: dir,
        BOOTS: String(boots),
        SECS: String(Math.ceil(timeoutMs / 1000)),
        MACHINE: machineName(dir),
      },
      boots * (timeoutMs + 10_000) + 30_000,
    );
    const results: BootResult[] = [];
    for (let i = 1; i <= boots; i++) results.push(readResult(path.join(dir, `results-${i}`)));
    return { boots: results, calls: readCalls(stub) };
  } finally {
    cleanup(dir);
  }
}

function readResult(r: string): BootResult {
  const read = (f: string) => (fs.existsSync(path.join(r, f)) ? fs.readFileSync(path.join(r, f), "utf8") : "");
  const show = Object.fromEntries(
    read("show")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  const verify = read("verify")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [unit, rc, ...out] = l.split("\t");
      return { unit, rc: Number(rc), output: out.join("\t") };
    });
  const userData = read("user-data.rc").trim();
  return {
    isActive: read("is-active").trim(),
    isEnabled: read("is-enabled").trim(),
    show,
    status: read("status.txt"),
    journal: read("journal.txt"),
    failed: read("failed").trim(),
    verify,
    userDataRc: userData === "" ? undefined : Number(userData),
    bootLog: read("shop-boot.log"),
    ms: Number(read("ms").trim()),
    probed: fs.existsSync(path.join(r, "done")),
    console: read("console.log"),
  };
}
