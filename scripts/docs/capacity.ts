/**
 * The `capacity` section of each step's page: what the step holds for the traffic mix at the fleets' most, the tier
 * that saturates first and each tier's headroom, from the capacity model (lib/capacity/model.ts) with the docs'
 * configuration at that step, and what the model assumes and leaves out.
 */
import { capacityModel } from "../../lib/capacity/model";
import { parseLadderConfig } from "../../stacks/config";
import { ROUTE_CLASSES } from "../load/profile";
import { DOCS_TARGET } from "./ladder";
import { cell } from "./markers";

const rate = (x: number | null) => (x === null ? "no ceiling" : `${x.toLocaleString("en-US")} req/s`);

/** The `capacity` section of step `step`'s page. */
export function capacitySection(step: number): string {
  const cfg = parseLadderConfig(
    { ...DOCS_TARGET.config, step: String(step), environment: DOCS_TARGET.environment ?? "dev" },
    DOCS_TARGET.region ?? "us-east-1",
  );
  const c = capacityModel(cfg);
  const mix = ROUTE_CLASSES.map((r) => `${r} ${c.mix[r] * 100} %`).join(", ");
  const measured = [
    c.cacheHitRatio !== undefined ? `cache hit ratio ${(c.cacheHitRatio * 100).toFixed(1)} %` : undefined,
    `database reads per request: ${Object.entries(c.dbReadsPerRequest)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}`,
    c.replicaReadShare !== undefined ? `replicas answer ${(c.replicaReadShare * 100).toFixed(1)} % of them` : undefined,
    c.workerOrdersPerSecond !== undefined ? `the workers confirm up to ${c.workerOrdersPerSecond} orders/s` : undefined,
  ].filter((x) => x !== undefined);
  return [
    `**${rate(c.sustainedRequestsPerSecond)}** of the mix (${mix}), about ${c.ordersPerSecond} orders a second, ` +
      `with every fleet at its maximum size; **${c.saturating}** saturates first.`,
    "",
    "| tier | holds | headroom | how |",
    "| --- | --- | --- | --- |",
    ...c.tiers.map(
      (t) =>
        `| ${cell(t.tier)} | ${rate(t.requestsPerSecond)} | ` +
        `${t.headroom === null ? "—" : `${t.headroom.toFixed(2)}×`} | ${cell(t.basis)} |`,
    ),
    "",
    `Measured (step ${c.measuredStep}'s costs): ${measured.join("; ")}. Inputs: ` +
      `[${c.measurements.file}](../../${c.measurements.file}), written by \`${c.measurements.command}\` on ` +
      `${c.measurements.date} (${c.measurements.machine}, Node.js ${c.measurements.node}).`,
    "",
    `Assumes: ${c.assumptions.join("; ")}.`,
    "",
    `Leaves out: ${c.leftOut.join("; ")}.`,
  ].join("\n");
}
