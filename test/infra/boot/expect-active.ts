/**
 * What boot-systemd.test.ts asks of a booted machine's shop.service: active, its last start a success, and started
 * once and never restarted, but for the sandbox's own failures (see {@link sandboxFailures}).
 */
import { BootResult } from "./boot";

/**
 * Starts that exited 219/CGROUP, counted in the service's journal. That status is systemd failing to move the
 * process into its cgroup: the sandbox's cgroup tree (the boots run inside the jest worker's, beside the rest of the
 * suite), never anything a unit or the user data can cause. Seen under a full `npm test`: once on the reboot of
 * step 1, and on the reboot of step 8's worker twice in a row (the machine booted again from scratch did it too). A
 * restart that followed one is the sandbox's, not the unit's.
 */
export function sandboxFailures(b: Pick<BootResult, "journal">): number {
  return b.journal.match(/status=219\/CGROUP/g)?.length ?? 0;
}

/**
 * Fails with what a person would look at (the service's state and status, its journal, the boot log) unless the
 * probe ran and saw shop.service active and successful, restarted `restarts` times ("any": any number) beyond the
 * restarts that followed a {@link sandboxFailures} start.
 */
export function expectActive(b: BootResult, at: string, restarts: number | "any" = 0): void {
  const ours = Number(b.show.NRestarts) - sandboxFailures(b);
  const restartsOk = restarts === "any" || ours === restarts;
  const ok = b.probed && b.isActive === "active" && b.show.Result === "success" && restartsOk;
  if (ok) return;
  const tail = (s: string) => s.split("\n").slice(-20).join("\n");
  throw new Error(
    `${at}: shop.service is ${b.isActive || "(not probed)"} (${JSON.stringify(b.show)}), ` +
      `user data exited ${b.userDataRc}\n` +
      `--- status\n${b.status}\n--- journal (end)\n${tail(b.journal)}\n--- boot log (end)\n${tail(b.bootLog)}` +
      (b.probed ? "" : `\n--- console (end)\n${tail(b.console)}`),
  );
}
