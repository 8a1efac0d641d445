/**
 * The rendered units under a real systemd (252, as Amazon Linux 2023): defects 9 and 10 live in systemd's
 * semantics (when environment files are read, what /run holds at boot), which stubs cannot show. Each machine is
 * booted twice from its rendered user data (boot/boot.ts): a cold boot that runs the user data as cloud-init would,
 * then a reboot of the same disk with an empty /run. The AWS side (aws, dnf, curl) is stubbed; systemctl, useradd,
 * runuser and jq are real.
 */
import { BootCase, pick, pool, renderSteps } from "./boot/cases";
import { BootResult, bootMachine } from "./boot/boot";
import { expectActive, sandboxFailures } from "./boot/expect-active";
import { RenderedBoot } from "./boot/render";
import { ensureRootfs, requireBootTools } from "./boot/rootfs";
import { Call } from "./boot/world";

/** The machines the issue names: steps 1, 2, 3, 8 and 10, web and worker roles. */
const MACHINES: readonly BootCase[] = [
  [1, "server", "use1"],
  [2, "server", "use1"],
  [3, "web", "use1"],
  [8, "web", "use1"],
  [8, "worker", "use1"],
  [10, "web", "use1"],
  [10, "worker", "use1"],
];
/** Boots at once: each is mostly waiting on systemd; the machine has two cores shared with the rest of the suite. */
const PARALLEL = 3;

const booted = new Map<string, { boots: BootResult[]; calls: Call[] }>();
let rendered: RenderedBoot[] = [];
const key = (c: readonly unknown[]) => c.join("/");

/** A stand-in for "IAM has not propagated yet": the instance's first AWS calls are refused. */
const IAM_LAG = { tool: "aws", times: 7, match: "ssm get-parameter" };
/** Restarts fast enough to meet systemd's default start limit (5 starts in 10 s) within the test's time. */
const FAST_RESTART = {
  "/etc/systemd/system/shop.service.d/zz-boot-test.conf": "[Service]\nRestartSec=200ms\n",
  "/etc/boot-test/probe.conf": "MAX_RESTARTS=30\n",
};

beforeAll(async () => {
  requireBootTools();
  ensureRootfs();
  rendered = await renderSteps([...new Set(MACHINES.map((m) => m[0]))]);
  const jobs: { name: string; run: () => Promise<{ boots: BootResult[]; calls: Call[] }> }[] = [
    ...MACHINES.map((m) => {
      const r = pick(rendered, m);
      return { name: key(m), run: () => bootMachine(key(m), r.script, { parameters: r.parameters }) };
    }),
    {
      name: "iam-lag",
      run: () => {
        const r = pick(rendered, [3, "web", "use1"]);
        const world = { parameters: r.parameters, fail: [IAM_LAG] };
        return bootMachine("iam-lag", r.script, world, { boots: 1, files: FAST_RESTART });
      },
    },
    {
      name: "old-environment-file",
      run: () => {
        const r = pick(rendered, [2, "server", "use1"]);
        const old = r.script.replace("EnvironmentFile=-/run/shop/env", "EnvironmentFile=/run/shop/env");
        return bootMachine("old-envfile", old, { parameters: r.parameters }, { boots: 1 });
      },
    },
  ];
  const started = Date.now();
  // A 219/CGROUP start is the sandbox's, not the unit's: expectActive does not count the restart that follows it.
  const results = await pool(jobs, PARALLEL, async (j) => ({ name: j.name, result: await j.run() }));
  for (const { name, result } of results) booted.set(name, result);
  // Timings for the record (the report of issue 12 asks for them); nothing asserts them.
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines = results.map(({ name, result }) => {
    const cgroup = result.boots.reduce((n, b) => n + sandboxFailures(b), 0);
    const times = result.boots.map((b) => secs(b.ms)).join(" + ");
    return `${name}: ${times}${cgroup ? ` (219/CGROUP starts: ${cgroup})` : ""}`;
  });
  const total = secs(Date.now() - started);
  process.stderr.write(`boot timings (${PARALLEL} at a time, ${total} in all):\n  ${lines.join("\n  ")}\n`);
}, 900_000);

describe("under systemd 252, shop.service is active after a cold boot and after a reboot", () => {
  it.each(MACHINES)("step %i, %s (%s)", (...m) => {
    const { boots } = booted.get(key(m))!;
    expect(boots).toHaveLength(2);
    for (const [i, b] of boots.entries()) {
      const at = i === 0 ? "cold boot" : "reboot";
      expectActive(b, at);
      expect(b.isEnabled).toBe("enabled");
      // The user data ran to its end on the first boot, and only then (cloud-init runs it once per instance).
      expect(b.userDataRc).toBe(i === 0 ? 0 : undefined);
      // The service never gives up restarting (a fleet's health check, or nobody at all on the single server,
      // would otherwise be left with a machine that has stopped trying).
      expect(b.show.StartLimitIntervalUSec).toBe("0");
      // Our units only: the container's own (journal flush, ...) fail now and then under load, as noise.
      const ours = b.failed.split("\n").filter((l) => /^(shop|postgresql|user-data)/.test(l));
      expect(ours).toEqual([]);
    }
  });
});

describe("systemd-analyze verify is clean on every unit the script writes", () => {
  it.each(MACHINES)("step %i, %s (%s)", (...m) => {
    const { boots } = booted.get(key(m))!;
    const units = boots[0].verify.map((v) => v.unit).sort();
    expect(units).toEqual(["shop.service"]);
    expect(boots[0].verify.filter((v) => v.rc !== 0 || v.output !== "")).toEqual([]);
  });
});

it("defect 9 is what this test sees: EnvironmentFile=/run/shop/env without '-' fails (Result: resources)", () => {
  expect(pick(rendered, [2, "server", "use1"]).script).toContain("EnvironmentFile=-/run/shop/env");
  const [b] = booted.get("old-environment-file")!.boots;
  expect(b.isActive).not.toBe("active");
  expect(b.show.Result).toBe("resources");
  expect(b.journal).toContain("Failed to load environment files");
});

it("while IAM has not propagated (AWS refuses the first calls), the service keeps restarting until it starts", () => {
  const { boots, calls } = booted.get("iam-lag")!;
  const reads = calls.filter((c) => c.tool === "aws" && c.args.includes("ssm get-parameter"));
  expect(reads.length).toBeGreaterThan(IAM_LAG.times);
  expectActive(boots[0], "cold boot", "any");
  expect(Number(boots[0].show.NRestarts)).toBeGreaterThanOrEqual(IAM_LAG.times);
});
