/**
 * What boot-systemd.test.ts accepts of a booted machine (boot/expect-active.ts), on results recorded from real
 * boots: this file needs no sandbox.
 */
import { BootResult } from "./boot/boot";
import { expectActive, sandboxFailures } from "./boot/expect-active";

/** Step 8's worker on its reboot in a full `npm test` (2026-12-02): the first start exited 219/CGROUP. */
const CGROUP_JOURNAL = [
  "Starting shop.service - scale-ladder shop worker...",
  "shop.service: Control process exited, code=exited, status=219/CGROUP",
  "shop.service: Failed with result 'exit-code'.",
  "Failed to start shop.service - scale-ladder shop worker.",
  "shop.service: Scheduled restart job, restart counter is at 1.",
  "Stopped shop.service - scale-ladder shop worker.",
  "Starting shop.service - scale-ladder shop worker...",
  "Started shop.service - scale-ladder shop worker.",
  "node stub: /opt/shop/current/worker.js started",
].join("\n");

function boot(journal: string, nRestarts: string, result = "success"): BootResult {
  return {
    isActive: "active",
    isEnabled: "enabled",
    show: { Result: result, NRestarts: nRestarts, ActiveState: "active", StartLimitIntervalUSec: "0" },
    status: "",
    journal,
    failed: "",
    verify: [],
    bootLog: "",
    ms: 5000,
    probed: true,
    console: "",
  };
}

test("a restart after a 219/CGROUP start is the sandbox's: the machine passes", () => {
  expect(sandboxFailures(boot(CGROUP_JOURNAL, "1"))).toBe(1);
  expect(() => expectActive(boot(CGROUP_JOURNAL, "1"), "reboot")).not.toThrow();
});

test("a restart after any other failed start is the unit's: the machine fails, with the journal in the message", () => {
  const journal = CGROUP_JOURNAL.replace("status=219/CGROUP", "status=1/FAILURE");
  expect(sandboxFailures(boot(journal, "1"))).toBe(0);
  expect(() => expectActive(boot(journal, "1"), "reboot")).toThrow(/reboot: shop.service is active[\s\S]*1\/FAILURE/);
});

test("a 219/CGROUP start does not excuse a second restart, nor a service that is not active", () => {
  expect(() => expectActive(boot(CGROUP_JOURNAL, "2"), "reboot")).toThrow(/reboot/);
  expect(() => expectActive({ ...boot(CGROUP_JOURNAL, "1"), isActive: "failed" }, "cold boot")).toThrow(/cold boot/);
  expect(() => expectActive(boot(CGROUP_JOURNAL, "1", "exit-code"), "cold boot")).toThrow(/cold boot/);
});

test("'any' restarts: only the state counts (the IAM-lag machine restarts until AWS answers)", () => {
  const journal = CGROUP_JOURNAL.replace("status=219/CGROUP", "status=1/FAILURE");
  expect(() => expectActive(boot(journal, "7"), "cold boot", "any")).not.toThrow();
});
