/**
 * Boot scripts are run, not only rendered (issue 12, build item 2). For every step and role, the user data the
 * real program renders under the mocks is shellchecked with every script it writes, then run under bash in a
 * sandbox (systemd-nspawn over an overlay of a cached Debian root: see boot/sandbox.ts) with stub commands that
 * answer from fixtures and record their calls. The systemd half (units booted for real) is boot-systemd.test.ts.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BOOT_CASES, BootCase, pick, renderSteps } from "./boot/cases";
import { RenderedBoot, heredocs } from "./boot/render";
import { ensureRootfs, requireBootTools } from "./boot/rootfs";
import { SandboxRun, runSandbox } from "./boot/sandbox";
import { Call, STUB_INSTANCE_ID, StubWorld, releaseFixture } from "./boot/world";

let rendered: RenderedBoot[] = [];
beforeAll(async () => {
  requireBootTools();
  ensureRootfs();
  rendered = await renderSteps();
}, 900_000);

const world = (r: RenderedBoot, extra: Partial<StubWorld> = {}): StubWorld => ({ parameters: r.parameters, ...extra });
const label = ([step, role, region]: BootCase) => `s${step}-${role}-${region}`;
const has = (calls: Call[], tool: string, args: string | RegExp) =>
  calls.some((c) => c.tool === tool && (typeof args === "string" ? c.args === args : args.test(c.args)));
/** Fails with what a person needs to see (the exit status, the log's end, the calls) unless the script exited 0. */
function expectSuccess(r: SandboxRun): void {
  if (r.rc === 0) return;
  const calls = r.calls.map((c) => `  ${c.tool} ${c.args}`).join("\n");
  const log = r.output.split("\n").slice(-25).join("\n");
  throw new Error(`the boot script exited ${r.rc}\n--- log (end)\n${log}\n--- calls\n${calls}`);
}

/**
 * Everything the boot script may write on the machine: its own files, and what the dnf stub installs for it. The
 * overlay keeps the host out of reach by construction; this keeps the script to its own corner of the machine.
 */
const WRITABLE = [
  /^\/opt\/shop\//,
  /^\/etc\/shop\//,
  /^\/etc\/systemd\/system\/(shop[\w.-]*|multi-user\.target\.wants\/[\w.-]+|timers\.target\.wants\/[\w.-]+)$/,
  /^\/etc\/logrotate\.d\/shop$/,
  /^\/var\/log\/(shop-boot\.log|shop\/)/,
  /^\/usr\/local\/bin\/node$/,
  // The dnf stub's packages (nodejs22, postgresql16, postgresql16-server, amazon-cloudwatch-agent) and initdb's.
  /^\/usr\/bin\/(node-22|psql|postgresql-setup)$/,
  /^\/usr\/lib\/systemd\/system\/postgresql\.service$/,
  /^\/opt\/aws\/amazon-cloudwatch-agent\//,
  /^\/var\/lib\/pgsql\//,
];

describe("boot scripts", () => {
  it("are rendered for every step and role: server at 1–2, web from 3, workers from 8, both regions at 11", () => {
    const got = rendered.map((r) => `${r.step}/${r.role}/${r.region}`).sort();
    expect(got).toEqual(BOOT_CASES.map(([s, role, region]) => `${s}/${role}/${region}`).sort());
  });

  describe("shellcheck -S warning is clean on the script and on every script it writes", () => {
    it.each(BOOT_CASES)("step %i, %s (%s)", (...c) => {
      const r = pick(rendered, c);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "boot-shellcheck-"));
      try {
        const scripts = heredocs(r.script).filter((h) => h.path.startsWith("/opt/shop/bin/"));
        const files = [{ path: "user-data", body: r.script }, ...scripts];
        expect(files.length).toBeGreaterThanOrEqual(4); // user data, imds, fetch-release, render-env
        const names = files.map((f) => {
          const name = path.join(dir, path.basename(f.path));
          fs.writeFileSync(name, f.body);
          return name;
        });
        const args = ["-S", "warning", "-s", "bash", "-f", "gcc", ...names];
        const check = spawnSync("shellcheck", args, { encoding: "utf8" });
        expect(check.stdout + check.stderr).toBe("");
        expect(check.status).toBe(0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("run in a sandbox, they enable and start the app at every step, and write only their own files", () => {
    it.each(BOOT_CASES)("step %i, %s (%s)", async (...c) => {
      const r = pick(rendered, c);
      const run = await runSandbox(label(c), r.script, world(r));
      expectSuccess(run);
      expect(has(run.calls, "systemctl", "enable --now shop.service")).toBe(true);
      expect(has(run.calls, "systemctl-result", "shop.service started")).toBe(true);
      expect(run.written.filter((p) => !WRITABLE.some((w) => w.test(p)))).toEqual([]);
      // The release is unpacked and current; the service's entry point is the role's.
      expect(run.written).toContain(`/opt/shop/current`);
      const unit = run.file("/etc/systemd/system/shop.service") ?? "";
      expect(unit).toContain(`/opt/shop/current/${r.role === "worker" ? "worker" : "server"}.js`);
      // No timer restarts it when the database password rotates: the app reads the secret itself (issue 15).
      expect(has(run.calls, "systemctl", /timer/)).toBe(false);
    });
  });

  describe("defect 1: an optional part that fails never stops the app from starting; the failure is logged", () => {
    const agentCases = BOOT_CASES.filter(([step]) => step >= 10);
    const faults = [
      { name: "the agent's control script exits 1", fail: { tool: "amazon-cloudwatch-agent-ctl" } },
      { name: "dnf cannot install the agent", fail: { tool: "dnf", match: "amazon-cloudwatch-agent" } },
    ];
    const cases = agentCases.flatMap((c) => faults.map((f) => [...c, f.name] as const));
    it.each(cases)("step %i, %s (%s): %s", async (step, role, region, fault) => {
      const c: BootCase = [step, role, region];
      const r = pick(rendered, c);
      const fail = [faults.find((f) => f.name === fault)!.fail];
      const run = await runSandbox(label(c), r.script, world(r, { fail }));
      expectSuccess(run);
      expect(has(run.calls, "systemctl-result", "shop.service started")).toBe(true);
      expect(run.output).toMatch(/boot: optional step "CloudWatch agent" failed \(exit \d+\); the app runs without it/);
      // The service writes its output where the agent would ship it from, agent or not.
      const log = `/var/log/shop/${role === "worker" ? "worker" : "server"}.log`;
      expect(run.file("/etc/systemd/system/shop.service")).toContain(`StandardOutput=append:${log}`);
    });

    it("with every optional part working, the agent is installed and configured from SSM", async () => {
      const r = pick(rendered, [10, "web", "use1"]);
      const run = await runSandbox("agent-ok", r.script, world(r));
      expectSuccess(run);
      expect(has(run.calls, "dnf", "install -y amazon-cloudwatch-agent")).toBe(true);
      expect(has(run.calls, "amazon-cloudwatch-agent-ctl", /^-a fetch-config -m ec2 -s -c ssm:\S+$/)).toBe(true);
      expect(run.output).not.toMatch(/optional step .* failed/);
    });
  });

  it("defect 10: render-env runs on an empty /run (it creates /run/shop before it writes into it)", async () => {
    const r = pick(rendered, [2, "server", "use1"]);
    const after = ["rm -rf /run/shop", "/opt/shop/bin/render-env", "test -s /run/shop/env"];
    const run = await runSandbox("render-env", r.script, world(r), { after });
    expectSuccess(run);
    expect(run.after).toEqual([0, 0, 0]);
  });

  it("the environment names the process by its instance id and its region, from the metadata (IMDSv2)", async () => {
    const r = pick(rendered, [11, "web", "euw1"]);
    const after = [
      "/opt/shop/bin/render-env",
      `grep -qx PROCESS_NAME=${STUB_INSTANCE_ID} /run/shop/env`,
      "grep -qx AWS_REGION=eu-west-1 /run/shop/env",
    ];
    const run = await runSandbox("process-name", r.script, world(r, { region: "eu-west-1" }), { after });
    expectSuccess(run);
    expect(run.after).toEqual([0, 0, 0]);
    expect(has(run.calls, "curl", /meta-data\/instance-id$/)).toBe(true);
  });

  it("defect 11: a release that does not unpack fails fetch-release, is not cached, and is fetched again", async () => {
    const r = pick(rendered, [3, "web", "use1"]);
    const good = releaseFixture();
    const corrupt = good.subarray(0, Math.floor(good.length / 2));
    const run = await runSandbox("bad-release", r.script, world(r, { release: corrupt }), {
      after: [
        "/opt/shop/bin/fetch-release",
        "cp /stub/fixtures/release.good.tgz /stub/fixtures/release.tgz",
        "/opt/shop/bin/fetch-release",
      ],
    });
    // The boot script itself goes on (systemd keeps retrying the service); the start failed in fetch-release.
    expect(has(run.calls, "systemctl-result", "shop.service failed: /opt/shop/bin/fetch-release")).toBe(true);
    expect(run.after[0]).not.toBe(0);
    expect(run.after.slice(1)).toEqual([0, 0]);
    const release = path.posix.basename(String(Object.values(r.parameters)[0]), ".tgz");
    expect(run.written).toContain(`/opt/shop/releases/${release}/server.js`);
    expect(run.written.filter((p) => p.includes("/.incoming."))).toEqual([]);
  });

  describe("before the network is up (steps 1–2: no public IP until the Elastic IP attaches)", () => {
    it.each([
      [1, "dnf", { tool: "dnf", times: 3, match: "nodejs22" }],
      [2, "dnf", { tool: "dnf", times: 3, match: "nodejs22" }],
      [2, "curl of the RDS CA bundle", { tool: "curl", times: 3, match: "truststore.pki.rds.amazonaws.com" }],
    ] as const)("step %i: %s is retried until it connects", async (step, _what, fail) => {
      const r = pick(rendered, [step, "server", "use1"]);
      const run = await runSandbox(`net-${step}-${fail.tool}`, r.script, world(r, { fail: [fail] }));
      expectSuccess(run);
      expect(run.calls.filter((c) => c.tool === fail.tool && c.args.includes(fail.match))).toHaveLength(4);
      expect(run.calls.filter((c) => c.tool === "sleep")).toHaveLength(3);
      expect(has(run.calls, "systemctl-result", "shop.service started")).toBe(true);
    });

    it("gives up after a bounded wait, and says so", async () => {
      const r = pick(rendered, [2, "server", "use1"]);
      const run = await runSandbox("net-never", r.script, world(r, { fail: [{ tool: "dnf" }] }));
      expect(run.rc).not.toBe(0);
      const waited = run.calls.filter((c) => c.tool === "sleep").reduce((s, c) => s + Number(c.args), 0);
      expect(waited).toBeGreaterThanOrEqual(300); // the Elastic IP attaches within minutes of the instance running
      expect(waited).toBeLessThanOrEqual(1200);
      expect(run.output).toMatch(/boot: gave up on dnf install -y nodejs22/);
    });
  });
});
