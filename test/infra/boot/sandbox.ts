/**
 * Runs a boot script under bash in a sandbox, with stub commands first on PATH.
 *
 * The sandbox is `systemd-nspawn` without `-b` over an overlay of the cached Debian root, in a private mount
 * namespace: the script sees a whole machine at the absolute paths it writes (/opt, /etc, /run, /var, /usr/local),
 * a fresh /proc, /dev and an empty /run, and no network (`--private-network`). Every write lands in the overlay's
 * upper directory, which the test then lists: the host is untouchable by construction, and the listing proves what
 * the script wrote. (A chroot would share the host's /proc, /dev and network; tmp dirs bound over /opt /etc /run
 * /var would hide the root's own /etc that bash and jq need.) systemctl, useradd, runuser and sleep are stubs here
 * too; the real ones run in the systemd boot test (boot.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureRootfs } from "./rootfs";
import {
  Call,
  StubWorld,
  cleanup,
  inMountNamespace,
  listTree,
  machineName,
  readCalls,
  workDir,
  writeWorld,
} from "./world";

export interface SandboxRun {
  /** The boot script's exit status. */
  rc: number;
  /** What the script printed (its log, through tee) and what the container said. */
  output: string;
  calls: Call[];
  /** Every path the run wrote in the root (the overlay's upper directory), sorted. */
  written: string[];
  /** Content of a file the run wrote, or undefined. */
  file(p: string): string | undefined;
  /** Exit status of each `after` command, in order. */
  after: number[];
}

/** Options of {@link runSandbox}. */
export interface SandboxOptions {
  /** Shell commands run after the script, in the same machine (e.g. a unit's ExecStartPre again). @default none */
  after?: string[];
  /** @default 60000 */
  timeoutMs?: number;
}

const PATH = "/stub/sandbox-bin:/stub/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin";

/** Runs `script` as user data in a fresh sandbox. */
export async function runSandbox(
  label: string,
  script: string,
  world: StubWorld,
  opts: SandboxOptions = {},
): Promise<SandboxRun> {
  const root = ensureRootfs();
  const dir = workDir(label);
  try {
    const stub = path.join(dir, "stub");
    writeWorld(stub, world);
    fs.writeFileSync(path.join(stub, "user-data.sh"), script, { mode: 0o755 });
    if (opts.after) fs.writeFileSync(path.join(stub, "after"), opts.after.join("\n") + "\n");
    for (const d of ["upper", "work", "merged"]) fs.mkdirSync(path.join(dir, d));
    // exec: the namespace (and the overlay) ends with nspawn. The stubs are on PATH only for this run.
    const sh = `set -e
      mount -t overlay overlay -o "lowerdir=$ROOT,upperdir=$DIR/upper,workdir=$DIR/work" "$DIR/merged"
      exec timeout -k 5 "$SECS" systemd-nspawn -q --register=no --keep-unit --private-network -M "$MACHINE" \\
        -D "$DIR/merged" --bind="$DIR/stub:/stub" --setenv=PATH="$SANDBOX_PATH" /bin/bash /stub/sandbox-run.sh`;
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const output = await inMountNamespace(
      sh,
      {
        ROOT: root,
        DIR: dir,
        SECS: String(Math.ceil(timeoutMs / 1000)),
        MACHINE: machineName(dir),
        SANDBOX_PATH: PATH,
      },
      timeoutMs + 10_000,
    );
    const rcFile = path.join(stub, "user-data.rc");
    if (!fs.existsSync(rcFile)) throw new Error(`the sandbox did not run the script to its end:\n${output}`);
    const afterFile = path.join(stub, "after.rc");
    const upper = path.join(dir, "upper");
    const files = new Map<string, string | undefined>();
    const written = listTree(upper).sort();
    for (const p of written) {
      const full = path.join(upper, p);
      const st = fs.lstatSync(full);
      files.set(p, st.isFile() ? fs.readFileSync(full, "utf8") : undefined);
    }
    return {
      rc: Number(fs.readFileSync(rcFile, "utf8").trim()),
      output,
      calls: readCalls(stub),
      written,
      file: (p) => files.get(p),
      after: fs.existsSync(afterFile)
        ? fs
            .readFileSync(afterFile, "utf8")
            .trim()
            .split("\n")
            .map((l) => Number(l.split("\t")[0]))
        : [],
    };
  } finally {
    cleanup(dir);
  }
}
