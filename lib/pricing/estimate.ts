/**
 * Estimated monthly cost of a stack from the price table (`./prices.ts`): every resource that has a fixed monthly
 * price is priced from its own properties (instance class, node count, storage, Multi-AZ, NAT strategy), so the
 * estimate follows the configuration.
 *
 * Two readers price stacks with it and must agree to the cent: `npm run plan` (the program's mocked graph,
 * `scripts/plan/cost.ts`) and the policy pack's `cost-estimate` policy (the planned state the Pulumi engine sends
 * at `pulumi preview`, `policies/cost.ts`). Each hands over its resources as {@link PricedResource}s; a value that
 * a preview does not know yet is {@link UNKNOWN}. This module imports only the price table, so that the policy
 * pack can load it beside its own copy of `@pulumi/policy`.
 */
import {
  AURORA_POSTGRES_HOURLY,
  EC2_HOURLY,
  HOURS_PER_MONTH,
  NOT_INCLUDED,
  PRICES_AS_OF,
  PRICE_REGION,
  PRICE_SOURCES,
  PriceSource,
  RATES,
  RATE_SOURCES,
  RDS_POSTGRES_HOURLY,
  TABLE_SOURCES,
  VALKEY_HOURLY,
} from "./prices";

/** A value `pulumi preview` does not know yet: an output of a resource that is still to be created. */
export const UNKNOWN: unique symbol = Symbol("unknown until pulumi up");

/** The type tokens this module prices (and the component whose NAT gateways it prices under the mocks). */
export const PRICED_TYPES = {
  instance: "aws:ec2/instance:Instance",
  eip: "aws:ec2/eip:Eip",
  natGateway: "aws:ec2/natGateway:NatGateway",
  awsxVpc: "awsx:ec2:Vpc",
  lb: "aws:lb/loadBalancer:LoadBalancer",
  asg: "aws:autoscaling/group:Group",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  rds: "aws:rds/instance:Instance",
  clusterInstance: "aws:rds/clusterInstance:ClusterInstance",
  cache: "aws:elasticache/replicationGroup:ReplicationGroup",
  secret: "aws:secretsmanager/secret:Secret",
  dashboard: "aws:cloudwatch/dashboard:Dashboard",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  compositeAlarm: "aws:cloudwatch/compositeAlarm:CompositeAlarm",
  healthCheck: "aws:route53/healthCheck:HealthCheck",
  webAcl: "aws:wafv2/webAcl:WebAcl",
} as const;
const P = PRICED_TYPES;

/** One resource as a pricer sees it. */
export interface PricedResource {
  type: string;
  /** Logical name. */
  name: string;
  /**
   * Its properties as plain values (secrets revealed): the registered inputs under the mocks, the planned state at
   * a preview. A value the preview does not know is {@link UNKNOWN}.
   */
  props: Record<string, unknown>;
  /** The resource of one of `types` that property `prop` points at (an auto-scaling group's launch template). */
  target(prop: string, types: readonly string[]): PricedResource | undefined;
}

/** A resource to price, and where the estimate files it. */
export interface PricingItem {
  resource: PricedResource;
  /** The top-level component that holds it (its URN is the key); undefined for a resource under the stack. */
  component?: { key: string; name: string; type: string };
  /** Its region, asked only of a resource that has a price. */
  region(): string | undefined;
}

export interface CostLine {
  /** What is paid for, e.g. `2 × t4g.small`. */
  item: string;
  /** Resource it comes from. */
  resource: string;
  /** $ per month; null when the table has no price for it (see `unpriced`). */
  monthly: number | null;
  /** Extra $ per month if an auto-scaling group ran at its maximum size. */
  atMaxSize?: number;
  /** The pricing page (a key of the table's `sources`) the price comes from. */
  source: PriceSource;
}

export interface ComponentCost {
  /** Top-level component name, or `(stack)` for resources directly under the stack. */
  name: string;
  type: string;
  region?: string;
  monthly: number;
  lines: CostLine[];
}

export interface CostEstimate {
  currency: "USD";
  monthly: number;
  /** Extra $ per month with every fleet at its maximum size. */
  atMaxSize: number;
  byComponent: ComponentCost[];
  /** Items the table has no price for, or whose priced property a preview does not know yet. */
  unpriced: string[];
  /** Regions priced at the table's (us-east-1) rates. */
  pricedAsTableRegion: string[];
  priceTable: {
    region: string;
    asOf: string;
    hoursPerMonth: number;
    sources: Record<string, string>;
    notIncluded: readonly string[];
  };
}

export const round = (n: number): number => Math.round(n * 100) / 100;
const hourly = (rate: number) => rate * HOURS_PER_MONTH;

/** True for a value a preview does not know. */
export const isUnknown = (v: unknown): v is typeof UNKNOWN => v === UNKNOWN;

/** The value at `path` below `v`, or UNKNOWN if any step of the way is unknown. */
function at(v: unknown, ...path: Array<string | number>): unknown {
  let cur = v;
  for (const k of path) {
    if (isUnknown(cur)) return UNKNOWN;
    if (cur === undefined || cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

/** The price lines of one resource; adds what it cannot price to `unpriced`. */
export function priceResource(r: PricedResource, unpriced: Set<string>): CostLine[] {
  const i = r.props;
  const lines: CostLine[] = [];
  const line = (item: string, monthly: number | null, source: PriceSource, atMaxSize?: number) =>
    lines.push({
      item,
      resource: r.name,
      monthly: monthly === null ? null : round(monthly),
      ...(atMaxSize ? { atMaxSize: round(atMaxSize) } : {}),
      source,
    });
  /** A number property, or `fallback` when it is not set; undefined (and noted) when a preview does not know it. */
  const num = (v: unknown, fallback: number, what: string): number | undefined => {
    if (isUnknown(v)) {
      unpriced.add(`${what} of ${r.name} (unknown until pulumi up)`);
      return undefined;
    }
    return v === undefined || v === null || v === "" ? fallback : Number(v);
  };
  /** An hourly rate from a table; null (and noted) when the key is not in it or not known yet. */
  const lookup = (table: Readonly<Record<string, number>>, key: unknown, what: string): number | null => {
    if (isUnknown(key)) {
      unpriced.add(`${what} of ${r.name} (unknown until pulumi up)`);
      return null;
    }
    const v = table[String(key)];
    if (v === undefined) unpriced.add(`${what} ${String(key)}`);
    return v ?? null;
  };
  const ipv4 = hourly(RATES.publicIpv4PerHour);
  const metric = RATES.cloudwatchMetricPerMonth;

  switch (r.type) {
    case P.instance: {
      const h = lookup(EC2_HOURLY, i.instanceType, "EC2 instance type");
      line(`1 × ${String(i.instanceType)}`, h === null ? null : hourly(h), TABLE_SOURCES.EC2_HOURLY);
      const gb = num(at(i, "rootBlockDevice", "volumeSize"), 8, "root volume size");
      if (gb !== undefined)
        line(`${gb} GiB gp3 root volume`, gb * RATES.ebsGp3PerGbMonth, RATE_SOURCES.ebsGp3PerGbMonth);
      if (i.monitoring === true)
        line(
          "detailed monitoring",
          RATES.detailedMonitoringMetricsPerInstance * metric,
          RATE_SOURCES.cloudwatchMetricPerMonth,
        );
      break;
    }
    case P.eip:
      line("Elastic IP (public IPv4)", ipv4, RATE_SOURCES.publicIpv4PerHour);
      break;
    case P.natGateway:
      // What awsx creates at deploy time (and a preview shows); its Elastic IP is priced as an Eip of its own.
      line("NAT gateway", hourly(RATES.natGatewayPerHour), RATE_SOURCES.natGatewayPerHour);
      break;
    case P.awsxVpc: {
      // Under the mocks awsx registers its VPC alone, so its NAT gateways are priced from its `natGateways` input.
      // In the engine's planned state the component holds its outputs instead (no strategy) and its NAT gateways
      // and their Elastic IPs are resources of their own, priced above.
      const strategy = at(i, "natGateways", "strategy");
      if (typeof strategy !== "string") break;
      const zones = Array.isArray(i.availabilityZoneNames) ? i.availabilityZoneNames.length : undefined;
      const n =
        strategy === "None" ? 0 : strategy === "Single" ? 1 : (zones ?? num(i.numberOfAvailabilityZones, 3, ""));
      if (n)
        line(
          `${n} × NAT gateway (${strategy}), with its public IPv4`,
          n * (hourly(RATES.natGatewayPerHour) + ipv4),
          RATE_SOURCES.natGatewayPerHour,
        );
      break;
    }
    case P.lb: {
      line("Application Load Balancer (hours; LCUs not included)", hourly(RATES.albPerHour), RATE_SOURCES.albPerHour);
      if (i.internal === true) break;
      if (Array.isArray(i.subnets)) {
        line(
          `${i.subnets.length} × public IPv4 (one per ALB node)`,
          i.subnets.length * ipv4,
          RATE_SOURCES.publicIpv4PerHour,
        );
      } else {
        // An ALB spans at least two subnets; a preview may not know which yet.
        const known = !isUnknown(i.subnets);
        line(
          `2 × public IPv4 (one per ALB node${known ? "" : "; at least 2, the subnets are unknown until pulumi up"})`,
          2 * ipv4,
          RATE_SOURCES.publicIpv4PerHour,
        );
      }
      break;
    }
    case P.asg: {
      const lt = r.target("launchTemplate", [P.launchTemplate]);
      const li: Record<string, unknown> = lt?.props ?? {};
      const type = li.instanceType ?? "unknown";
      const desired = num(i.desiredCapacity ?? i.minSize, 1, "desired capacity") ?? 0;
      const max = num(i.maxSize, desired, "maximum size") ?? desired;
      const extra = Math.max(0, max - desired);
      const h = lookup(EC2_HOURLY, type, "EC2 instance type");
      const gb = num(at(li, "blockDeviceMappings", 0, "ebs", "volumeSize"), 8, "root volume size") ?? 0;
      const monitoring = at(li, "monitoring", "enabled") === true;
      const perInstance =
        (h === null ? 0 : hourly(h)) +
        gb * RATES.ebsGp3PerGbMonth +
        (monitoring ? RATES.detailedMonitoringMetricsPerInstance * metric : 0);
      line(
        `${desired} × ${String(type)} (min ${String(i.minSize)}, max ${String(i.maxSize)})`,
        h === null ? null : desired * hourly(h),
        TABLE_SOURCES.EC2_HOURLY,
        extra * perInstance,
      );
      line(
        `${desired} × ${gb} GiB gp3 root volume`,
        desired * gb * RATES.ebsGp3PerGbMonth,
        RATE_SOURCES.ebsGp3PerGbMonth,
      );
      if (monitoring)
        line(
          `${desired} × detailed monitoring`,
          desired * RATES.detailedMonitoringMetricsPerInstance * metric,
          RATE_SOURCES.cloudwatchMetricPerMonth,
        );
      if (isUnknown(li.userData)) {
        unpriced.add(
          `CloudWatch agent metrics of ${r.name}, if its user data runs the agent (unknown until pulumi up)`,
        );
      } else {
        const userData = typeof li.userData === "string" ? Buffer.from(li.userData, "base64").toString("utf8") : "";
        if (userData.includes("amazon-cloudwatch-agent")) {
          // mem_used_percent and disk used_percent per instance, and the same two aggregated per group.
          const metrics = desired * 2 + 2;
          line(
            `${metrics} CloudWatch agent metrics`,
            metrics * metric,
            RATE_SOURCES.cloudwatchMetricPerMonth,
            extra * 2 * metric,
          );
        }
      }
      break;
    }
    case P.rds: {
      const from = i.replicateSourceDb;
      const source = from ? r.target("replicateSourceDb", [P.rds]) : undefined;
      // A cross-region replica names its source by ARN; a replica in the same region by identifier.
      const role = !from
        ? "primary"
        : typeof from === "string" && from.startsWith("arn:")
          ? "cross-region replica"
          : "read replica";
      const multiAz = i.multiAz === true;
      const az = multiAz ? 2 : 1;
      const h = lookup(RDS_POSTGRES_HOURLY, i.instanceClass, "RDS for PostgreSQL class");
      line(
        `${String(i.instanceClass)} ${role}${multiAz ? ", Multi-AZ (×2)" : ""}`,
        h === null ? null : az * hourly(h),
        TABLE_SOURCES.RDS_POSTGRES_HOURLY,
      );
      const gb = num(i.allocatedStorage ?? source?.props.allocatedStorage, 20, "allocated storage");
      if (gb !== undefined)
        line(
          `${gb} GiB gp3 storage${multiAz ? " (×2)" : ""}`,
          az * gb * RATES.rdsGp3PerGbMonth,
          RATE_SOURCES.rdsGp3PerGbMonth,
        );
      break;
    }
    case P.clusterInstance: {
      const h = lookup(AURORA_POSTGRES_HOURLY, i.instanceClass, "Aurora PostgreSQL class");
      line(
        `${String(i.instanceClass)} Aurora instance (${r.name.split("-").pop()})`,
        h === null ? null : hourly(h),
        TABLE_SOURCES.AURORA_POSTGRES_HOURLY,
      );
      break;
    }
    case P.cache: {
      const nodes = num(i.numCacheClusters, 1, "node count");
      const h = lookup(VALKEY_HOURLY, i.nodeType, "ElastiCache Valkey node type");
      if (nodes !== undefined)
        line(
          `${nodes} × ${String(i.nodeType)} (Valkey)`,
          h === null ? null : nodes * hourly(h),
          TABLE_SOURCES.VALKEY_HOURLY,
        );
      break;
    }
    case P.secret: {
      // A replica in another region is billed as a secret of its own (the pricing page's "replica secrets").
      const replicas = Array.isArray(i.replicas) ? i.replicas.length : 0;
      const what = replicas > 0 ? `Secrets Manager secret and ${replicas} replica${replicas > 1 ? "s" : ""}` : "";
      line(what || "Secrets Manager secret", (1 + replicas) * RATES.secretPerMonth, RATE_SOURCES.secretPerMonth);
      break;
    }
    case P.dashboard:
      line("CloudWatch dashboard", RATES.cloudwatchDashboardPerMonth, RATE_SOURCES.cloudwatchDashboardPerMonth);
      break;
    case P.alarm: {
      const metrics = Array.isArray(i.metricQueries)
        ? i.metricQueries.filter((q: unknown) => at(q, "metric") !== undefined && at(q, "metric") !== null).length
        : 1;
      line(
        `alarm (${metrics} metric${metrics > 1 ? "s" : ""})`,
        metrics * RATES.cloudwatchAlarmPerMetricMonth,
        RATE_SOURCES.cloudwatchAlarmPerMetricMonth,
      );
      break;
    }
    case P.compositeAlarm:
      line(
        "CloudWatch composite alarm",
        RATES.cloudwatchCompositeAlarmPerMonth,
        RATE_SOURCES.cloudwatchCompositeAlarmPerMonth,
      );
      break;
    case P.healthCheck:
      line("Route 53 health check", RATES.route53HealthCheckPerMonth, RATE_SOURCES.route53HealthCheckPerMonth);
      break;
    case P.webAcl: {
      const rules = Array.isArray(i.rules) ? i.rules.length : 0;
      const scope = i.scope === "CLOUDFRONT" ? "CloudFront" : "regional";
      line(
        `AWS WAF web ACL (${scope}; requests not included)`,
        RATES.wafWebAclPerMonth,
        RATE_SOURCES.wafWebAclPerMonth,
      );
      line(`${rules} × WAF rule or managed rule group`, rules * RATES.wafRulePerMonth, RATE_SOURCES.wafRulePerMonth);
      break;
    }
  }
  return lines;
}

/** Collapses lines with the same item text (e.g. ten alarms) into one, keeping the sum. */
function collapse(lines: CostLine[]): CostLine[] {
  const out = new Map<string, CostLine & { count: number }>();
  for (const l of lines) {
    const cur = out.get(l.item);
    if (!cur) out.set(l.item, { ...l, count: 1 });
    else {
      cur.count++;
      cur.monthly = cur.monthly === null || l.monthly === null ? null : round(cur.monthly + l.monthly);
      if (l.atMaxSize) cur.atMaxSize = round((cur.atMaxSize ?? 0) + l.atMaxSize);
      cur.resource = `${cur.count} resources`;
    }
  }
  return [...out.values()].map(({ count, ...l }) => (count > 1 ? { ...l, item: `${count} × ${l.item}` } : l));
}

/** The estimate for a whole stack, grouped by top-level component in the order the items come. */
export function estimate(items: readonly PricingItem[]): CostEstimate {
  const unpriced = new Set<string>();
  const groups = new Map<string, ComponentCost>();
  const regions = new Set<string>();
  for (const item of items) {
    const { resource, component } = item;
    const lines = priceResource(resource, unpriced);
    if (lines.length === 0) continue;
    const region = item.region();
    if (region) regions.add(region);
    const key = component?.key ?? "(stack)";
    const g = groups.get(key) ?? {
      name: component?.name ?? "(stack)",
      type: component?.type ?? "Stack",
      region,
      monthly: 0,
      lines: [],
    };
    g.lines.push(...lines);
    groups.set(key, g);
  }
  const byComponent = [...groups.values()].map((g) => {
    const lines = collapse(g.lines);
    return { ...g, lines, monthly: round(lines.reduce((n, l) => n + (l.monthly ?? 0), 0)) };
  });
  const all = byComponent.flatMap((c) => c.lines);
  return {
    currency: "USD",
    monthly: round(byComponent.reduce((n, c) => n + c.monthly, 0)),
    atMaxSize: round(all.reduce((n, l) => n + (l.atMaxSize ?? 0), 0)),
    byComponent,
    unpriced: [...unpriced].sort(),
    pricedAsTableRegion: [...regions].filter((r) => r !== PRICE_REGION).sort(),
    priceTable: {
      region: PRICE_REGION,
      asOf: PRICES_AS_OF,
      hoursPerMonth: HOURS_PER_MONTH,
      sources: { ...PRICE_SOURCES },
      notIncluded: NOT_INCLUDED,
    },
  };
}

/** `$1,234.56`. */
export function usd(n: number): string {
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
