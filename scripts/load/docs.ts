/**
 * The step pages' generated sections about load: how to run the load profile against the step (every page) and the
 * measured shard-key table (the page of the step that shards the orders). scripts/docs/generate.ts places them.
 */
import { parseLadderConfig } from "../../stacks/config";
import { firstStepOf } from "../../stacks/steps";
import { LOAD_DEFAULTS } from "./cli";
import { ROUTE_CLASSES, TRAFFIC_MIX, VISIT, addressCeiling, defaultLimits, scenarioAt } from "./profile";
import { shardKeyTable } from "./shard-keys";

const limitName = { waf: "the WAF's `wafRateLimit`", cart: "the app's cart limit", checkout: "the checkout limit" };

/** The `load` section of step `step`'s page. */
export function loadSection(step: number): string {
  const s = scenarioAt(step);
  const limits = defaultLimits(step, parseLadderConfig({ step: String(step) }).waf.rateLimit);
  const ceiling = addressCeiling(limits);
  const mix = ROUTE_CLASSES.map((c) => `${c} ${TRAFFIC_MIX[c] * 100} %`).join(", ");
  const byLimit = [
    ...(limits.waf > 0 ? [`WAF ${limits.waf} requests per 5 minutes`] : []),
    `${limits.cart} cart writes and ${limits.checkout} checkouts a minute`,
  ].join("; ");
  return [
    "```sh",
    `npm run load -- --url <siteUrl> --step ${step}            # ${Math.floor(ceiling.rate)} req/s for ` +
      `${LOAD_DEFAULTS.duration} s`,
    `npm run load -- --url <siteUrl> --step ${step} --rate R --duration S`,
    "```",
    "",
    "| | at this step |",
    "| --- | --- |",
    `| a visit | ${VISIT.length} requests, one virtual shopper with its own cookies: ${mix} ` +
      "(`TRAFFIC_MIX`, [scripts/load/profile.ts](../../scripts/load/profile.ts)) |",
    `| checkout | answers ${s.checkoutStatus}; the visit ${s.orderRead} |`,
    `| one client address | at most ${ceiling.rate} req/s with the default limits (${byLimit}), set by ` +
      `${limitName[ceiling.by as keyof typeof limitName]}: a higher \`--rate\` is refused with the number of ` +
      "machines it needs |",
    `| the gate | at least ${LOAD_DEFAULTS.minSuccess * 100} % of requests answered 2xx and a p99 of at most ` +
      `${LOAD_DEFAULTS.maxP99Ms} ms (\`--min-success\`, \`--max-p99-ms\`): exit 0 when the step holds the rate, ` +
      "1 when it does not |",
    ...s.notes.map((note) => `| note | ${note} |`),
  ].join("\n");
}

/** The `shard-keys` section: the measured table for the stack's default shard count. */
export function shardKeysSection(): string {
  return shardKeyTable(parseLadderConfig({ step: String(firstStepOf("shards")) }).shards.count);
}
