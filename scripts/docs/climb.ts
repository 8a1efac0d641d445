/**
 * The `climb` section of each step's page: "when to climb" (lib/capacity/when-to-climb.ts), with the thresholds and
 * the capacity model's rates of the docs' configuration at that step.
 */
import { CLOSE_HEADROOM, climbSignals } from "../../lib/capacity/when-to-climb";
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
      s.expectedRequestsPerSecond === undefined ? "—" : `~${s.expectedRequestsPerSecond.toLocaleString("en-US")} req/s`,
      s.why,
      s.next,
      s.alarm ? `\`<region>-monitoring-${s.alarm}\`` : "—",
    ]
      .map(cell)
      .join(" | "),
  );
  return [
    "| signal (step-10 dashboard) | metric | past | the model expects it at | why | then | alarm (step 10 on) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r} |`),
    "",
    "The signals are the capacity model's tier that saturates first and any within " +
      `${CLOSE_HEADROOM}× of it (the Capacity section above), at the rate of the mix where the model expects ` +
      "each threshold. Thresholds and rates are this configuration's (the docs' stack at this step); another class, " +
      "type or fleet size moves them (stacks/climb-signals.ts derives the thresholds, and the alarms use the same).",
  ].join("\n");
}
