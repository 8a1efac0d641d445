/**
 * The three faces of a plan: text for a terminal, JSON for machines, Mermaid for docs.
 */
import { ComponentCost, CostEstimate } from "./cost";
import { PlanDiff, ResourceRef } from "./diff";
import { shortType } from "./graph";
import type { Plan } from "./plan";
import { TreeNode } from "./tree";
import { T } from "../../lib/graph/resource-types";
import type { CapacityModel } from "../../lib/capacity/model";
import { ROUTE_CLASSES } from "../load/profile";

export const usd = (n: number): string => `$${n.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ",")}`;

/** The plan as JSON: everything but the evaluated graphs. */
export function planJson(plan: Plan): object {
  const { index: _index, previous: _previous, ...rest } = plan;
  return rest;
}

/** Tree lines: `├─ Network use1-network  ·  14 resources`. */
export function treeLines(nodes: TreeNode[], cost?: CostEstimate, prefix = ""): string[] {
  const costOf = new Map((cost?.byComponent ?? []).map((c) => [c.name, c.monthly] as const));
  const lines: string[] = [];
  nodes.forEach((n, i) => {
    const last = i === nodes.length - 1;
    const own = Object.entries(n.own)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([t, c]) => (c > 1 ? `${c} ${t}` : t))
      .join(", ");
    const money = prefix === "" && costOf.has(n.name) ? `  ${usd(costOf.get(n.name)!)}/mo` : "";
    const region = prefix === "" && n.region ? `  [${n.region}]` : "";
    const label = n.type === T.stack ? "directly under the stack" : `${shortType(n.type)} ${n.name}`;
    lines.push(
      `${prefix}${last ? "└─" : "├─"} ${label}  ·  ${n.resources} ` +
        `resource${n.resources === 1 ? "" : "s"}${region}${money}`,
    );
    const inner = prefix + (last ? "   " : "│  ");
    if (own && n.children.length > 0) lines.push(`${inner}   (${own})`);
    else if (own) lines.push(`${inner}   ${own}`);
    lines.push(...treeLines(n.children, undefined, inner));
  });
  return lines;
}

const refLine = (sign: string, r: ResourceRef, verbose: boolean) =>
  `  ${sign} ${verbose ? r.urn : `${r.type}  ${r.name}`}`;

/** The diff as text. */
export function diffLines(diff: PlanDiff, verbose = false, limit = Infinity): string[] {
  const lines: string[] = [];
  const head =
    diff.from === null
      ? `a new stack: ${diff.added.length} to create`
      : `${diff.added.length} to create, ${diff.removed.length} to delete, ${diff.replaced.length} to replace, ` +
        `${diff.updated.length} to update in place, ${diff.unchanged} unchanged`;
  lines.push(head);
  const section = (title: string, items: string[]) => {
    if (items.length === 0) return;
    lines.push(`${title}:`);
    lines.push(...items.slice(0, limit));
    if (items.length > limit) lines.push(`  … and ${items.length - limit} more (--format json lists all)`);
  };
  if (diff.from === null) {
    const byType = new Map<string, number>();
    for (const a of diff.added) byType.set(a.type, (byType.get(a.type) ?? 0) + 1);
    section(
      "create",
      [...byType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([t, n]) => `  + ${n} × ${t}`),
    );
    return lines;
  }
  section(
    "replace (same URN; a replacement-forcing input changes)",
    diff.replaced.map(
      (r) => `${refLine("±", r, verbose)}  ← ${r.reasons.map((x) => `${x.input}: ${x.why}`).join("; ")}`,
    ),
  );
  section(
    "delete",
    diff.removed.map((r) => refLine("-", r, verbose)),
  );
  section(
    "create",
    diff.added.map((r) => refLine("+", r, verbose)),
  );
  section(
    "update in place",
    diff.updated.map((r) => `${refLine("~", r, verbose)}  (${r.inputs.join(", ")})`),
  );
  if (diff.unknownTypes.length > 0)
    lines.push(
      `note: no ForceNew entry for ${diff.unknownTypes.join(", ")}: their changes are shown as updates ` +
        `(scripts/plan/force-new.ts)`,
    );
  return lines;
}

/** The cost as a table, one block per component. */
export function costLines(cost: CostEstimate): string[] {
  const lines: string[] = [];
  const width = 64;
  const row = (label: string, amount: string) =>
    `  ${label.length > width ? `${label.slice(0, width - 1)}…` : label.padEnd(width)} ${amount.padStart(11)}`;
  const sorted = [...cost.byComponent].sort(
    (a: ComponentCost, b: ComponentCost) => b.monthly - a.monthly || a.name.localeCompare(b.name),
  );
  for (const c of sorted) {
    lines.push(row(`${c.type} ${c.name}${c.region ? ` [${c.region}]` : ""}`, usd(c.monthly)));
    for (const l of c.lines)
      lines.push(
        row(
          `    ${l.item}${l.atMaxSize ? ` (max size: +${usd(l.atMaxSize)})` : ""}`,
          l.monthly === null ? "no price" : usd(l.monthly),
        ),
      );
  }
  lines.push(row("total per month (730 h)", usd(cost.monthly)));
  if (cost.atMaxSize > 0) lines.push(row("  with every fleet at its maximum size", usd(cost.monthly + cost.atMaxSize)));
  lines.push(
    `  prices: on-demand ${cost.priceTable.region}, compiled ${cost.priceTable.asOf} (lib/pricing/prices.ts, ` +
      `docs/pricing.md)`,
  );
  if (cost.pricedAsTableRegion.length > 0)
    lines.push(
      `  ${cost.pricedAsTableRegion.join(", ")} priced at ${cost.priceTable.region} rates (most regions cost ` +
        `5–15% more)`,
    );
  if (cost.unpriced.length > 0) lines.push(`  not priced (not in the table): ${cost.unpriced.join(", ")}`);
  lines.push("  not included:");
  for (const n of cost.priceTable.notIncluded) lines.push(`    - ${n}`);
  return lines;
}

/** The capacity model as text: the sustained rate, the tier that saturates first, each tier's headroom. */
export function capacityLines(c: CapacityModel): string[] {
  const mix = ROUTE_CLASSES.map((r) => `${r} ${(c.mix[r] * 100).toFixed(1)} %`).join(", ");
  const rate = (x: number | null) => (x === null ? "no ceiling" : `${x.toLocaleString("en-US")} req/s`);
  const lines = [
    `Capacity at the fleets' most: ${rate(c.sustainedRequestsPerSecond)} of the mix (${mix}), ` +
      `${c.ordersPerSecond} orders/s; ${c.saturating} saturates first`,
  ];
  const width = Math.max(...c.tiers.map((t) => t.tier.length));
  for (const t of c.tiers)
    lines.push(
      `  ${t.tier.padEnd(width)}  ${rate(t.requestsPerSecond).padStart(14)}  ` +
        `${t.headroom === null ? "" : `${t.headroom.toFixed(2)}×`.padStart(7)}  ${t.basis}`,
    );
  const facts = [
    c.cacheHitRatio !== undefined ? `cache hit ratio ${(c.cacheHitRatio * 100).toFixed(1)} %` : undefined,
    `database reads per request ${Object.entries(c.dbReadsPerRequest)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}`,
    c.replicaReadShare !== undefined ? `replicas answer ${(c.replicaReadShare * 100).toFixed(1)} % of them` : undefined,
    c.workerOrdersPerSecond !== undefined ? `workers confirm up to ${c.workerOrdersPerSecond} orders/s` : undefined,
  ].filter((x) => x !== undefined);
  lines.push(`  measured: ${facts.join("; ")}`);
  lines.push(
    `  inputs: ${c.measurements.file} (step ${c.measuredStep}'s costs; ${c.measurements.command}, ` +
      `${c.measurements.date}, ${c.measurements.machine}, Node.js ${c.measurements.node})`,
  );
  lines.push(`  assumes: ${c.assumptions.join("; ")}`);
  lines.push(`  leaves out: ${c.leftOut.join("; ")}`);
  return lines;
}

/** The whole plan for a terminal. */
export function planText(plan: Plan, opts: { verbose?: boolean } = {}): string {
  const r = plan.resources;
  const lines = [
    `scale-ladder plan: step ${plan.step} (${plan.name}), ${plan.environment}, ${plan.regions.join(" + ")}, ` +
      `stack "${plan.stack}"`,
    `  ${plan.adds}`,
    `  evaluated offline under the test mocks (no AWS, no Pulumi CLI) with the ${plan.build.note}`,
    ...plan.warnings.map((w) => `  warning: ${w}`),
    "",
    `Resources: ${r.total} (${r.custom} cloud resources, ${r.components} components, ${r.providers} providers, ` +
      `${r.stack} stack); awsx:ec2:Vpc counts as one, its subnets, gateways and routes are made by awsx at deploy ` +
      `time`,
    ...treeLines(plan.tree, plan.cost),
    "",
    plan.diff.from === null
      ? "Changes (`pulumi up` on an empty stack):"
      : `Changes from step ${plan.diff.from} (\`pulumi config set scale-ladder:step ${plan.step} && pulumi up\`), ` +
        `matched by URN:`,
    ...diffLines(plan.diff, opts.verbose, opts.verbose ? Infinity : 40).map((l) => `  ${l}`),
    ...(plan.diff.from === null
      ? []
      : ["  (the provider's `step` default tag changes too: every taggable resource's tags update in place)"]),
    "",
    `Estimated monthly cost: ${usd(plan.cost.monthly)}`,
    ...costLines(plan.cost),
    "",
    ...capacityLines(plan.capacity),
  ];
  return `${lines.join("\n")}\n`;
}
