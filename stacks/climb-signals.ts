/**
 * The "when to climb" signals of the capacity model's tiers: for each tier (lib/capacity/model.ts, TierKey), the
 * CloudWatch metric on the step-10 dashboard that shows it filling, the threshold derived from the facts and the
 * stack's configuration, and the metric's value at the tier's ceiling in the model (`full`), from which the "when to
 * climb" table (lib/capacity/when-to-climb.ts) says at what request rate the model expects the threshold. The
 * step-10 alarms (components/monitoring.ts, through {@link climbAlarms}) use the same thresholds. No Pulumi SDK and
 * no measurements here: the program reads this file.
 */
import { baselineCpuPercent, oneThreadVcpus } from "../components/facts/burstable-baseline";
import { vcpusOf } from "../components/facts/instance-vcpus";
import { ORDERS_WAITING_ALARM_SECONDS } from "../components/app-limits";
import type { ClimbThresholds } from "../components/monitoring";
import type { TierKey } from "../lib/capacity/model";
import { type ConnectionBudget, connectionBudgets } from "./capacity-checks";
import type { LadderConfig } from "./config";
import { featuresAt } from "./steps";

/** Share of the connections a database gives the app past which the signal fires, percent. */
export const CONNECTIONS_SIGNAL_PERCENT = 80;
/** Share of a CPU ceiling that has no burstable baseline (its CPU is its own) past which the signal fires, percent. */
export const NON_BURSTABLE_CPU_PERCENT = 80;
/** The p99 the ladder holds a step to: the step-10 latency alarm's, and the load test's gate (`npm run load`). */
export const P99_SECONDS = 1;

/** A tier's signal: where it shows, the threshold, and the metric's value when the tier is at the model's ceiling. */
export interface TierSignal {
  /** The dashboard widget. */
  signal: string;
  /** The CloudWatch metric (`namespace metric, statistic, what`). */
  metric: string;
  threshold: number;
  unit: "%" | "connections" | "s";
  /** How long the threshold must hold: `for an hour`. */
  hold: string;
  /**
   * The metric's value at the tier's ceiling in the capacity model (its CPU at the budget the model gives it, its
   * busy connections when all the pools' connections are busy); undefined where the metric has no such value (the
   * oldest order's age grows without bound once the workers are full).
   */
  full?: number;
  /** How the threshold follows from the facts and the configuration. */
  why: string;
  /** The step-10 alarm (components/monitoring.ts) that watches it, by its name's last part; `-N` for one per member. */
  alarm?: string;
}

/** {@link CONNECTIONS_SIGNAL_PERCENT} of what a database gives the app. */
export function connectionsSignal(b: ConnectionBudget): number {
  return Math.floor((b.available * CONNECTIONS_SIGNAL_PERCENT) / 100);
}

/** An EC2 type or RDS class's CPU ceiling in the model (its baseline, or 100) and its signal. */
export function cpuSignal(instanceType: string): { threshold: number; full: number; why: string } {
  const baseline = baselineCpuPercent(instanceType);
  if (baseline === undefined)
    return {
      threshold: NON_BURSTABLE_CPU_PERCENT,
      full: 100,
      why: `${instanceType} is not burstable: ${NON_BURSTABLE_CPU_PERCENT} % of its CPU`,
    };
  return {
    threshold: baseline,
    full: baseline,
    why:
      `${instanceType}'s burstable baseline (components/facts/burstable-baseline.ts): above it the instance spends ` +
      `CPU credits, and in standard mode is held at ${baseline} % once they are gone`,
  };
}

/**
 * A Valkey node's CPU signal. Its commands run on one thread, which the model gives at most one vCPU and no more
 * than the node's credits (lib/capacity/model.ts). AWS: on nodes of 2 vCPUs or fewer watch the host's
 * `CPUUtilization` (the thread's share of the host: 90 % ÷ 2 = 45 % on two cores), on larger ones the engine
 * thread's `EngineCPUUtilization` (ElastiCache User Guide, "Which metrics should I monitor?",
 * https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.WhichShouldIMonitor.html, read 2026-12-02).
 */
export function cacheCpuSignal(nodeType: string): {
  metricName: "CPUUtilization" | "EngineCPUUtilization";
  threshold: number;
  full: number;
  why: string;
} {
  const vcpus = vcpusOf(nodeType);
  const baseline = baselineCpuPercent(nodeType.replace(/^cache\./, ""));
  const thread = oneThreadVcpus(nodeType);
  const small = vcpus <= 2;
  const metricName = small ? "CPUUtilization" : "EngineCPUUtilization";
  // The metric's value when the thread uses its budget: the host's share of it, or the engine thread's own.
  const full = Math.round((small ? (thread / vcpus) * 100 : thread * 100) * 10) / 10;
  const threshold = baseline === undefined ? Math.round((full * NON_BURSTABLE_CPU_PERCENT) / 10) / 10 : full;
  const why =
    baseline === undefined
      ? `${NON_BURSTABLE_CPU_PERCENT} % of what ${nodeType}'s command thread can use (${full} % of ${metricName})`
      : `${nodeType}'s thread at the node's credits (${vcpus} vCPUs at ${baseline} %, the EC2 type's baseline: ` +
        `AWS publishes none for ElastiCache)`;
  return {
    metricName,
    threshold,
    full,
    why: `${why}; ${small ? "2 vCPUs or fewer: the host's CPU, as AWS advises" : "the engine thread's CPU"}`,
  };
}

function connections(b: ConnectionBudget, database: string, alarm: string): TierSignal {
  return {
    signal: database === "the primary" ? "Catalog database connections" : "Shard connections",
    metric: `AWS/RDS DatabaseConnections, Maximum, ${database}`,
    threshold: connectionsSignal(b),
    unit: "connections",
    hold: "for 15 minutes",
    full: Math.min(b.available, b.total),
    why:
      `${CONNECTIONS_SIGNAL_PERCENT} % of the ${b.available} connections ${b.instanceClass} gives the app ` +
      `(max_connections ${b.maxConnections} less ${b.reserved} reserved and ${b.headroom} headroom; ` +
      `components/facts/rds-max-connections.ts, stacks/capacity-checks.ts)`,
    alarm,
  };
}

/** The budget of `database` (`the catalog's primary`, `each shard's writer`) at `cfg`, if the step has one. */
function budgetOf(cfg: LadderConfig, database: string): ConnectionBudget | undefined {
  return connectionBudgets(cfg).budgets.find((b) => b.database === database);
}

/**
 * The signal of the capacity model's tier `key` at `cfg`, or undefined for a tier no metric watches (the load
 * balancer and the queue, which scale; local mode's machine).
 */
export function tierSignal(cfg: LadderConfig, key: TierKey): TierSignal | undefined {
  const hour = "for an hour";
  switch (key) {
    case "server": {
      const cpu = cpuSignal(cfg.server.instanceType);
      return {
        signal: "the server's CPU",
        metric: "AWS/EC2 CPUUtilization, Average, the server's instance",
        unit: "%",
        hold: hour,
        ...cpu,
      };
    }
    case "web": {
      const cpu = cpuSignal(cfg.web.instanceType);
      return {
        signal: "Web fleet CPU %",
        metric: "AWS/EC2 CPUUtilization, Average, the web fleet's Auto Scaling group",
        threshold: cfg.web.cpuTargetPercent,
        unit: "%",
        hold: "for 15 minutes",
        full: cpu.full,
        why:
          `the fleet's scaling target (webCpuTargetPercent): target tracking adds servers until webMaxSize ` +
          `(${cfg.web.maxSize}), so an average that stays above it means the fleet is at its most`,
        alarm: "web-cpu-over-target",
      };
    }
    case "catalog-cpu":
    case "replicas-cpu": {
      const primary = key === "catalog-cpu";
      return {
        signal: "Catalog database CPU %",
        metric: `AWS/RDS CPUUtilization, Average, ${primary ? "the primary" : "each read replica"}`,
        unit: "%",
        hold: hour,
        ...cpuSignal(cfg.database.instanceClass),
        alarm: primary ? "db-cpu" : "replica-cpu-N",
      };
    }
    case "cache":
    case "sessions": {
      const cache = key === "cache";
      const { metricName, ...cpu } = cacheCpuSignal(cache ? cfg.cache.nodeType : cfg.sessions.nodeType);
      return {
        signal: cache ? "Product cache CPU %" : "Sessions' Valkey CPU %",
        metric: `AWS/ElastiCache ${metricName}, Average, the ${cache ? "cache's" : "sessions'"} primary node`,
        unit: "%",
        hold: hour,
        ...cpu,
        alarm: cache ? "cache-cpu" : "sessions-cpu",
      };
    }
    case "workers":
      return {
        signal: "Oldest order waiting (s)",
        metric: "AWS/SQS ApproximateAgeOfOldestMessage, Maximum, the orders queue",
        threshold: ORDERS_WAITING_ALARM_SECONDS,
        unit: "s",
        hold: "for 5 minutes",
        why:
          `past the workers' ceiling the queue grows and its oldest order ages; ${ORDERS_WAITING_ALARM_SECONDS} s ` +
          `is the step-10 alarm's (components/app-limits.ts)`,
        alarm: "orders-waiting",
      };
    case "shards-cpu":
      return {
        signal: "Shard CPU %",
        metric: "AWS/RDS CPUUtilization, Average, each shard's writer",
        unit: "%",
        hold: hour,
        ...cpuSignal(cfg.shards.instanceClass),
        alarm: "shard-cpu-N",
      };
    case "catalog-connections": {
      const b = budgetOf(cfg, "the catalog's primary");
      return b && connections(b, "the primary", "db-connections");
    }
    case "shard-connections": {
      const b = budgetOf(cfg, "each shard's writer");
      return b && connections(b, "each shard's writer", "shard-connections-N");
    }
    default:
      return undefined;
  }
}

/**
 * The climb alarms' thresholds for the monitoring of `cfg`'s region, from {@link tierSignal}: one derivation for the
 * step pages and the alarms. A secondary region's (`secondary`) database is a replica and its shards are readers,
 * watched from the primary region: it gets its own fleet's and its own Valkey groups' only.
 */
export function climbAlarms(cfg: LadderConfig, secondary = false): ClimbThresholds {
  const f = featuresAt(cfg.builtStep);
  const threshold = (key: TierKey, on: boolean) => (on ? tierSignal(cfg, key)?.threshold : undefined);
  const valkey = (key: "cache" | "sessions", on: boolean) => {
    if (!on) return undefined;
    const s = cacheCpuSignal(key === "cache" ? cfg.cache.nodeType : cfg.sessions.nodeType);
    return { metricName: s.metricName, percent: s.threshold };
  };
  const primaryRegion = !secondary && f.separateDatabase;
  return {
    webCpuPercent: threshold("web", f.fleet),
    catalogConnections: threshold("catalog-connections", primaryRegion),
    catalogCpuPercent: threshold("catalog-cpu", primaryRegion),
    replicaCpuPercent: threshold("replicas-cpu", primaryRegion && f.replicas),
    cacheCpu: valkey("cache", f.cache),
    sessionsCpu: valkey("sessions", f.redisSessions),
    shardWriterConnections: threshold("shard-connections", !secondary && f.shards),
    shardWriterCpuPercent: threshold("shards-cpu", !secondary && f.shards),
  };
}
