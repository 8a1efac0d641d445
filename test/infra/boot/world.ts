/**
 * The stub world a boot script meets instead of AWS: stub commands (test/infra/boot/guest) that answer from
 * fixtures and record every call, and rules that make some of them fail. It lives in a host temp directory that
 * the container sees at /stub.
 */
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const GUEST_DIR = path.join(__dirname, "guest");

/** Make a stub fail: `times` calls (or always) whose arguments contain `match`. */
export interface FailRule {
  /** The stub: `aws`, `dnf`, `curl`, `amazon-cloudwatch-agent-ctl`, ... */
  tool: string;
  /** @default "always" */
  times?: number | "always";
  /** A substring of the call's arguments (curl: of its URL). @default every call */
  match?: string;
}

/** The instance id the metadata stub reports unless a world says otherwise. */
export const STUB_INSTANCE_ID = "i-0123456789abcdef0";

export interface StubWorld {
  /** SSM parameter values by name (see `RenderedBoot.parameters`). */
  parameters: Record<string, string>;
  /** Region the instance metadata reports. @default "us-east-1" */
  region?: string;
  /** Instance id the instance metadata reports. @default {@link STUB_INSTANCE_ID} */
  instanceId?: string;
  /** The release archive `aws s3 cp` delivers. @default {@link releaseFixture} */
  release?: Buffer;
  /** Stubs that fail, and how often. @default none */
  fail?: FailRule[];
}

/** One recorded stub call. */
export interface Call {
  tool: string;
  args: string;
}

let release: Buffer | undefined;
/**
 * A release like `npm run build`'s (entry points at the archive's top level), whose entry points the node stub
 * only checks for: the boot tests are about the machine, not the app.
 */
export function releaseFixture(): Buffer {
  if (!release) {
    // mkdtemp makes the directory 0700, and the archive's "./" entry keeps that mode: the boot script must make the
    // release readable to the service's user whatever the archive says.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "boot-release-"));
    for (const f of ["server.js", "worker.js"]) fs.writeFileSync(path.join(dir, f), "// stand-in entry point\n");
    fs.writeFileSync(path.join(dir, "package.json"), '{"name":"shop"}\n');
    release = execFileSync("tar", ["-czf", "-", "-C", dir, "."]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return release;
}

/** Writes the world into `dir` (the container's /stub). */
export function writeWorld(dir: string, world: StubWorld): void {
  fs.cpSync(GUEST_DIR, dir, { recursive: true });
  const fixtures = path.join(dir, "fixtures");
  fs.mkdirSync(path.join(fixtures, "ssm"), { recursive: true });
  for (const [name, value] of Object.entries(world.parameters)) {
    fs.writeFileSync(path.join(fixtures, "ssm", name.replace(/\//g, "%")), value);
  }
  fs.writeFileSync(path.join(fixtures, "region"), world.region ?? "us-east-1");
  fs.writeFileSync(path.join(fixtures, "instance-id"), world.instanceId ?? STUB_INSTANCE_ID);
  fs.writeFileSync(path.join(fixtures, "release.tgz"), world.release ?? releaseFixture());
  // A good release beside it, for a test that repairs the one the stub serves.
  fs.writeFileSync(path.join(fixtures, "release.good.tgz"), releaseFixture());
  // One secret answers every ARN: it has the fields of each (RDS's, the app's, the cache token, the shards').
  const secret = {
    username: "shop_admin",
    password: "p@ss/w:rd?",
    adminToken: "admin-token",
    sessionSecret: "s".repeat(48),
    authToken: "cachetoken123",
  };
  fs.writeFileSync(path.join(fixtures, "secret.json"), JSON.stringify(secret));
  fs.writeFileSync(path.join(fixtures, "rds-ca.pem"), "-----BEGIN CERTIFICATE-----\nstub\n-----END CERTIFICATE-----");
  const rules = (world.fail ?? []).map((r) => `${r.tool} ${r.times ?? "always"} ${r.match ?? "-"}\n`).join("");
  fs.writeFileSync(path.join(dir, "fail"), rules);
  fs.writeFileSync(path.join(dir, "calls.log"), "");
  // Some stubs run as the machine's users (node as shop, psql as postgres): they read the world and record calls.
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(path.join(dir, "calls.log"), 0o666);
}

/** The calls the stubs recorded, in order. */
export function readCalls(dir: string): Call[] {
  return fs
    .readFileSync(path.join(dir, "calls.log"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [tool, ...rest] = l.split("\t");
      return { tool, args: rest.join("\t") };
    });
}

/** Every file, symlink and whiteout under `dir`, as absolute paths of the root it overlays. */
export function listTree(dir: string, base = "/"): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.posix.join(base, e.name);
    if (e.isDirectory()) out.push(...listTree(path.join(dir, e.name), p));
    else out.push(p);
  }
  return out;
}

/**
 * Runs `script` (sh) in a new mount namespace with `env`, so that the overlay it mounts goes away with it; rejects
 * with its output when it fails or outlives `timeoutMs`.
 */
export function inMountNamespace(script: string, env: Record<string, string>, timeoutMs: number): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(
      "unshare",
      ["-m", "--propagation", "private", "sh", "-c", script],
      { env: { ...process.env, ...env }, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) fail(new Error(`${err.message}\n${stdout}\n${stderr}`));
        else ok(stdout + stderr);
      },
    );
  });
}

/** A fresh working directory for one run; removed by {@link cleanup} unless KEEP_BOOT_SANDBOX is set. */
export function workDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `boot-${label.replace(/[^a-z0-9-]/gi, "-")}-`));
}

export function cleanup(dir: string): void {
  if (!process.env.KEEP_BOOT_SANDBOX) fs.rmSync(dir, { recursive: true, force: true });
}

/** A machine name for systemd-nspawn, unique among concurrent runs (it names directories under /run). */
export function machineName(dir: string): string {
  return `sl-${path.basename(dir).slice(-24)}`.replace(/[^a-zA-Z0-9-]/g, "-");
}
