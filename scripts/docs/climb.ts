/**
 * The `climb` section of each step's page: "when to climb", from the one table (stacks/climb-signals.ts), with the
 * thresholds of the docs' configuration at that step.
 */
import { climbSignals } from "../../stacks/climb-signals";
import { parseLadderConfig } from "../../stacks/config";
import { cell } from "./markers";
import { DOCS_TARGET } from "./ladder";

/** The `climb` section of step `step`'s page. */
export function climbSection(step: number): string {
  const cfg = parseLadderConfig(
    { ...DOCS_TARGET.config, step: String(step), environment: DOCS_TARGET.environment ?? "dev" },
    DOCS_TARGET.region ?? "us-east-1",
  );
  const rows = climbSignals(cfg).map((s) =>
    [
      s.signal === "none" || s.signal.startsWith("none") ? s.signal : `**${s.signal}**`,
      s.metric ? `\`${s.metric}\`` : "—",
      s.threshold ?? "—",
      s.why,
      s.next,
      s.alarm ? `\`<region>-monitoring-${s.alarm}\`` : "—",
    ]
      .map(cell)
      .join(" | "),
  );
  return [
    "| signal (step-10 dashboard) | metric | past | why this threshold | then | alarm (step 10 on) |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r} |`),
    "",
    "Thresholds are this configuration's (the docs' stack at this step); another class, type or fleet size moves " +
      "them (stacks/climb-signals.ts derives them, and the alarms use the same).",
  ].join("\n");
}
