/**
 * Estimated monthly cost of a graph, by component, from the price table (`prices.ts`): every custom resource that
 * has a fixed monthly price is priced from its own inputs (instance class, node count, storage, Multi-AZ, NAT
 * strategy), so the estimate follows the configuration.
 */
import type { Registration } from "../../lib/graph/harness";
import { GraphIndex, isResourceLike, shortType } from "./graph";
import {
  AURORA_POSTGRES_HOURLY,
  EC2_HOURLY,
  HOURS_PER_MONTH,
  NOT_INCLUDED,
  PRICES_AS_OF,
  PRICE_REGION,
  PRICE_SOURCES,
  RATES,
  RDS_POSTGRES_HOURLY,
  VALKEY_HOURLY,
} from "./prices";
import { T } from "../../lib/graph/resource-types";

export interface CostLine {
  /** What is paid for, e.g. `2 × t4g.small`. */
  item: string;
  /** Resource it comes from. */
  resource: string;
  /** $ per month; null when the table has no price for it (see `unpriced`). */
  monthly: number | null;
  /** Extra $ per month if an auto-scaling group ran at its maximum size. */
  atMaxSize?: number;
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
  /** Items the table has no price for. */
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

const round = (n: number) => Math.round(n * 100) / 100;
const hourly = (rate: number) => rate * HOURS_PER_MONTH;

/** The price lines of one custom resource. */
function priceOf(index: GraphIndex, r: Registration, unpriced: Set<string>): CostLine[] {
  const i = index.inputs(r);
  const lines: CostLine[] = [];
  const line = (item: string, monthly: number | null, atMaxSize?: number) =>
    lines.push({
      item,
      resource: r.name,
      monthly: monthly === null ? null : round(monthly),
      ...(atMaxSize ? { atMaxSize: round(atMaxSize) } : {}),
    });
  const lookup = (table: Readonly<Record<string, number>>, key: string, what: string): number | null => {
    const v = table[key];
    if (v === undefined) unpriced.add(`${what} ${key}`);
    return v ?? null;
  };
  const ipv4 = hourly(RATES.publicIpv4PerHour);

  switch (r.type) {
    case T.instance: {
      const h = lookup(EC2_HOURLY, i.instanceType, "EC2 instance type");
      line(`1 × ${i.instanceType}`, h === null ? null : hourly(h));
      const gb = i.rootBlockDevice?.volumeSize ?? 8;
      line(`${gb} GiB gp3 root volume`, gb * RATES.ebsGp3PerGbMonth);
      if (i.monitoring)
        line("detailed monitoring", RATES.detailedMonitoringMetricsPerInstance * RATES.cloudwatchMetricPerMonth);
      break;
    }
    case T.eip:
      line("Elastic IP (public IPv4)", ipv4);
      break;
    case T.vpc: {
      const strategy = i.natGateways?.strategy ?? "OnePerAz";
      const n = strategy === "None" ? 0 : strategy === "Single" ? 1 : (i.numberOfAvailabilityZones ?? 3);
      if (n > 0)
        line(`${n} × NAT gateway (${strategy}), with its public IPv4`, n * (hourly(RATES.natGatewayPerHour) + ipv4));
      break;
    }
    case T.lb: {
      line("Application Load Balancer (hours; LCUs not included)", hourly(RATES.albPerHour));
      const nodes = Array.isArray(i.subnets) ? i.subnets.length : 2;
      if (!i.internal) line(`${nodes} × public IPv4 (one per ALB node)`, nodes * ipv4);
      break;
    }
    case T.asg: {
      const lt = index.resolve(i.launchTemplate?.id, [T.lt]);
      const li = lt ? index.inputs(lt) : {};
      const type: string = li.instanceType ?? "unknown";
      const desired: number = i.desiredCapacity ?? i.minSize ?? 1;
      const extra = Math.max(0, (i.maxSize ?? desired) - desired);
      const h = lookup(EC2_HOURLY, type, "EC2 instance type");
      const gb = Number(li.blockDeviceMappings?.[0]?.ebs?.volumeSize ?? 8);
      const perInstance =
        (h === null ? 0 : hourly(h)) +
        gb * RATES.ebsGp3PerGbMonth +
        (li.monitoring?.enabled ? RATES.detailedMonitoringMetricsPerInstance * RATES.cloudwatchMetricPerMonth : 0);
      line(
        `${desired} × ${type} (min ${i.minSize}, max ${i.maxSize})`,
        h === null ? null : desired * hourly(h),
        extra * perInstance,
      );
      line(`${desired} × ${gb} GiB gp3 root volume`, desired * gb * RATES.ebsGp3PerGbMonth);
      if (li.monitoring?.enabled)
        line(
          `${desired} × detailed monitoring`,
          desired * RATES.detailedMonitoringMetricsPerInstance * RATES.cloudwatchMetricPerMonth,
        );
      const userData = typeof li.userData === "string" ? Buffer.from(li.userData, "base64").toString("utf8") : "";
      if (userData.includes("amazon-cloudwatch-agent")) {
        // mem_used_percent and disk used_percent per instance, and the same two aggregated per group.
        const metrics = desired * 2 + 2;
        line(
          `${metrics} CloudWatch agent metrics`,
          metrics * RATES.cloudwatchMetricPerMonth,
          extra * 2 * RATES.cloudwatchMetricPerMonth,
        );
      }
      break;
    }
    case T.rds: {
      const source = i.replicateSourceDb ? index.resolve(i.replicateSourceDb, [T.rds]) : undefined;
      const role = i.replicateSourceDb
        ? typeof i.replicateSourceDb === "string" && i.replicateSourceDb.startsWith("arn:")
          ? "cross-region replica"
          : "read replica"
        : "primary";
      const az = i.multiAz ? 2 : 1;
      const h = lookup(RDS_POSTGRES_HOURLY, i.instanceClass, "RDS for PostgreSQL class");
      line(`${i.instanceClass} ${role}${az === 2 ? ", Multi-AZ (×2)" : ""}`, h === null ? null : az * hourly(h));
      const gb: number = i.allocatedStorage ?? (source ? index.inputs(source).allocatedStorage : undefined) ?? 20;
      line(`${gb} GiB gp3 storage${az === 2 ? " (×2)" : ""}`, az * gb * RATES.rdsGp3PerGbMonth);
      break;
    }
    case T.clusterInstance: {
      const h = lookup(AURORA_POSTGRES_HOURLY, i.instanceClass, "Aurora PostgreSQL class");
      line(`${i.instanceClass} Aurora instance (${r.name.split("-").pop()})`, h === null ? null : hourly(h));
      break;
    }
    case T.cache: {
      const nodes: number = i.numCacheClusters ?? 1;
      const h = lookup(VALKEY_HOURLY, i.nodeType, "ElastiCache Valkey node type");
      line(`${nodes} × ${i.nodeType} (Valkey)`, h === null ? null : nodes * hourly(h));
      break;
    }
    case T.secret: {
      // A replica in another region is billed as a secret of its own (the pricing page's "replica secrets").
      const replicas: number = Array.isArray(i.replicas) ? i.replicas.length : 0;
      const what = replicas > 0 ? `Secrets Manager secret and ${replicas} replica${replicas > 1 ? "s" : ""}` : "";
      line(what || "Secrets Manager secret", (1 + replicas) * RATES.secretPerMonth);
      break;
    }
    case T.dashboard:
      line("CloudWatch dashboard", RATES.cloudwatchDashboardPerMonth);
      break;
    case T.alarm: {
      const metrics = Array.isArray(i.metricQueries)
        ? i.metricQueries.filter((q: { metric?: unknown }) => q.metric).length
        : 1;
      line(`alarm (${metrics} metric${metrics > 1 ? "s" : ""})`, metrics * RATES.cloudwatchAlarmPerMetricMonth);
      break;
    }
    case T.compositeAlarm:
      line("CloudWatch composite alarm", RATES.cloudwatchCompositeAlarmPerMonth);
      break;
    case T.healthCheck:
      line("Route 53 health check", RATES.route53HealthCheckPerMonth);
      break;
    case T.webAcl: {
      const rules = Array.isArray(i.rules) ? i.rules.length : 0;
      const scope = i.scope === "CLOUDFRONT" ? "CloudFront" : "regional";
      line(`AWS WAF web ACL (${scope}; requests not included)`, RATES.wafWebAclPerMonth);
      line(`${rules} × WAF rule or managed rule group`, rules * RATES.wafRulePerMonth);
      break;
    }
  }
  return lines;
}

/** Collapses lines with the same item text (e.g. ten alarms) into one, keeping the sum. */
function collapse(lines: CostLine[]): CostLine[] {
  const out = new Map<string, CostLine & { count: number }>();
  for (const l of lines) {
    const key = l.item;
    const cur = out.get(key);
    if (!cur) out.set(key, { ...l, count: 1 });
    else {
      cur.count++;
      cur.monthly = cur.monthly === null || l.monthly === null ? null : round(cur.monthly + l.monthly);
      if (l.atMaxSize) cur.atMaxSize = round((cur.atMaxSize ?? 0) + l.atMaxSize);
      cur.resource = `${cur.count} resources`;
    }
  }
  return [...out.values()].map(({ count, ...l }) => (count > 1 ? { ...l, item: `${count} × ${l.item}` } : l));
}

/** The estimate for a whole graph. */
export function estimateCost(index: GraphIndex): CostEstimate {
  const unpriced = new Set<string>();
  const groups = new Map<string, ComponentCost>();
  const regions = new Set<string>();
  for (const r of index.resources.filter(isResourceLike)) {
    const lines = priceOf(index, r, unpriced);
    if (lines.length === 0) continue;
    const top = index.topComponentOf(r);
    const key = top?.urn ?? "(stack)";
    const region = top ? index.regionOf(top) : index.regionOf(r);
    if (region) regions.add(region);
    const g = groups.get(key) ?? {
      name: top?.name ?? "(stack)",
      type: top ? shortType(top.type) : "Stack",
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
