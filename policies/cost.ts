/**
 * Cost at `pulumi preview`: an advisory stack policy that prices the stack being previewed from the same price
 * table and the same pricer as `npm run plan` (`lib/pricing/`), and prints the monthly estimate and what it can
 * say of the change from the current state. It never blocks: its report is the output.
 *
 * What a stack policy sees (pulumi/pulumi `stepGenerator.AnalyzeResources`, `@pulumi/policy` `analyzeStack`): every
 * resource of the stack *after* the update, as the engine plans it (`Properties: v.Outputs` of the deployment's new
 * states): a resource the update leaves alone carries its current outputs; one it creates, replaces or updates
 * carries the provider's preview of its outputs, where what the cloud assigns on creation (`id`, ARNs) is unknown.
 * It is not shown the current state itself: a resource the update deletes is absent, and a resource updated in
 * place shows only its new settings. So the policy can price the stack as it will be, and split that total into
 * what runs already (its id is known) and what this update creates or replaces (its id is unknown); the exact
 * change needs the current total, which the `currentMonthly` config carries when a caller gives it.
 */
import { PolicyResource, StackValidationPolicy, UnknownValueError } from "@pulumi/policy";
import { CostEstimate, PRICED_TYPES, PricedResource, UNKNOWN, estimate, round, usd } from "../lib/pricing/estimate";
import { PRICES_AS_OF, PRICE_SOURCES, PriceSource } from "../lib/pricing/prices";
import { isUnknown, known } from "./relations";

/** Types the pricer reads: the priced ones and those it follows a reference to (a group's launch template). */
const READ_TYPES: ReadonlySet<string> = new Set(Object.values(PRICED_TYPES));

/** A property value as plain data, with every value the preview does not know replaced by {@link UNKNOWN}. */
function plain(read: () => unknown): unknown {
  let v: unknown;
  try {
    v = read();
  } catch (e) {
    if (e instanceof UnknownValueError) return UNKNOWN;
    throw e;
  }
  if (Array.isArray(v)) return Array.from({ length: v.length }, (_, i) => plain(() => (v as unknown[])[i]));
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(Object.keys(v).map((k) => [k, plain(() => (v as Record<string, unknown>)[k])]));
  return v;
}

/** Component resources (this project's and awsx's) have a type token without a `module/resource` part. */
const isComponent = (r: PolicyResource) => !r.type.startsWith("pulumi:") && !/^[^:]+:[^:]*\/[^:]*:/.test(r.type);

/** The component directly under the stack that holds `r` (or `r` itself), as `npm run plan` groups its estimate. */
function topComponentOf(r: PolicyResource): PolicyResource | undefined {
  let top: PolicyResource | undefined;
  for (let cur: PolicyResource | undefined = r; cur; cur = cur.parent) if (isComponent(cur)) top = cur;
  return top;
}

/** The stack as the pricer sees it, and which priced resources this update creates (their id is unknown). */
export function pricedStack(resources: readonly PolicyResource[]): {
  cost: CostEstimate;
  /** The estimate of the resources whose id the preview does not know: created or replaced by this update. */
  created: CostEstimate;
  /** Every priced resource is created by this update: the stack does not exist yet. */
  allCreated: boolean;
} {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const views = new Map<string, PricedResource>();
  const view = (r: PolicyResource): PricedResource => {
    let v = views.get(r.urn);
    if (!v) {
      const props = (READ_TYPES.has(r.type) ? plain(() => r.props) : {}) as Record<string, unknown>;
      v = {
        type: r.type,
        name: r.name,
        props,
        target: (prop, types) => {
          const t = targetOf(r, props[prop], prop, types);
          return t && view(t);
        },
      };
      views.set(r.urn, v);
    }
    return v;
  };
  /** Where `prop` points: by the engine's property dependencies (known at every preview), else by a known id. */
  const targetOf = (r: PolicyResource, value: unknown, prop: string, types: readonly string[]) => {
    const deps = (r.propertyDependencies[prop] ?? []).filter((d) => types.includes(d.type));
    if (deps.length > 0) return byUrn.get(deps[0].urn) ?? deps[0];
    const wanted = typeof value === "object" && value !== null ? (value as { id?: unknown }).id : value;
    if (typeof wanted !== "string" || wanted === "") return undefined;
    return resources.find(
      (c) =>
        types.includes(c.type) &&
        ["id", "arn", "identifier", "name"].some((k) => known(() => c.props[k] as unknown, undefined) === wanted),
    );
  };
  const isNew = (r: PolicyResource) => isUnknown(() => r.props.id);
  const customs = resources.filter((r) => !isComponent(r) && !r.type.startsWith("pulumi:"));
  // A component carries no id: under the mocks (the only place one is priced: awsx's VPC, see lib/pricing) it is
  // new exactly when the stack is, i.e. when no resource of the stack exists yet.
  const stackIsNew = customs.length > 0 && customs.every(isNew);
  const items = resources
    .filter((r) => READ_TYPES.has(r.type))
    .map((r) => {
      const top = topComponentOf(r);
      return {
        resource: view(r),
        component: top && { key: top.urn, name: top.name, type: top.type.split(":").pop()! },
        region: () => known(() => r.provider?.props.region as string | undefined, undefined),
        created: isComponent(r) ? stackIsNew : isNew(r),
      };
    });
  const cost = estimate(items);
  const created = estimate(items.filter((i) => i.created));
  return {
    cost,
    created,
    allCreated: cost.monthly > 0 && created.monthly === cost.monthly && items.every((i) => i.created),
  };
}

/** The report: the estimate, the change as far as a preview shows it, what is not priced, and the prices' sources. */
export function costReport(resources: readonly PolicyResource[], currentMonthly?: number): string {
  const { cost, created, allCreated } = pricedStack(resources);
  const lines = [
    `Estimated monthly cost of the stack after this update: ${usd(cost.monthly)}` +
      (cost.atMaxSize > 0 ? ` (${usd(cost.monthly + cost.atMaxSize)} with every fleet at its maximum size).` : "."),
  ];
  if (currentMonthly !== undefined) {
    const change = round(cost.monthly - currentMonthly);
    lines.push(
      `Change from the current state: ${change < 0 ? "-" : "+"}${usd(Math.abs(change))} a month (from ` +
        `${usd(currentMonthly)}, the currentMonthly this policy was given).`,
    );
  }
  if (allCreated) {
    lines.push(
      `${currentMonthly === undefined ? `Change from the current state: +${usd(cost.monthly)} a month: ` : ""}` +
        "no priced resource of the stack exists yet (every id is unknown), so this update creates all of it.",
    );
  } else {
    lines.push(
      `${currentMonthly === undefined ? "Change from the current state: " : ""}resources this update creates or ` +
        `replaces (their ids are unknown until up) cost ${usd(created.monthly)} of it; ` +
        `${usd(round(cost.monthly - created.monthly))} is in resources that exist already, at their settings after ` +
        "the update.",
    );
    if (currentMonthly === undefined)
      lines.push(
        "A stack policy is not shown the current state: what the update deletes, and the settings an in-place " +
          "update replaces, are missing from its view. For the exact change, give it the current estimate as " +
          "currentMonthly (policy pack config).",
      );
  }
  const top = [...cost.byComponent].sort((a, b) => b.monthly - a.monthly || a.name.localeCompare(b.name));
  lines.push(`By component: ${top.map((c) => `${c.name} ${usd(c.monthly)}`).join(", ")}.`);
  if (cost.unpriced.length > 0) lines.push(`Not priced: ${cost.unpriced.join("; ")}.`);
  const used = [...new Set<PriceSource>(cost.byComponent.flatMap((c) => c.lines.map((l) => l.source)))].sort();
  lines.push(
    `Prices: on-demand ${cost.priceTable.region} list prices of ${PRICES_AS_OF}, ` +
      `${cost.priceTable.hoursPerMonth} hours a month ` +
      "(lib/pricing/prices.ts, the table of npm run plan and docs/pricing.md)" +
      (cost.pricedAsTableRegion.length > 0
        ? `; ${cost.pricedAsTableRegion.join(", ")} priced at ${cost.priceTable.region} rates.`
        : ".") +
      ` Sources: ${used.map((s) => PRICE_SOURCES[s]).join(", ")}.`,
    "Not included: data transfer, requests (ALB LCUs, WAF, SQS), storage that grows with use, logs, FIS runs, " +
      "free tier and discounts (docs/pricing.md lists them).",
  );
  return lines.join("\n");
}

export const costEstimate: StackValidationPolicy = {
  name: "cost-estimate",
  description: "What the stack costs a month after this update, from the price table of npm run plan (advisory).",
  // Advisory whatever the pack's level: an estimate informs, it never stops a deployment.
  enforcementLevel: "advisory",
  severity: "low",
  remediationSteps:
    "Nothing to fix: read the estimate before `pulumi up`. To see the exact change, pass the current estimate as " +
    'config: { "cost-estimate": { "currentMonthly": 176.97 } }.',
  configSchema: {
    properties: {
      currentMonthly: {
        type: "number",
        minimum: 0,
        description:
          "The stack's current monthly estimate (this policy's figure at the last pulumi up, or npm run plan for " +
          "the deployed configuration); the report then gives the exact change.",
      },
    },
  },
  validateStack: (args, report) => {
    const { currentMonthly } = args.getConfig<{ currentMonthly?: number }>();
    report(costReport(args.resources, currentMonthly));
  },
};

export const COST_POLICIES = [costEstimate];
