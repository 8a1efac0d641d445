/**
 * "When to climb", in one table: for each step, the signal on the step-10 dashboard (or, below step 10, the same
 * CloudWatch metric) that says the next step is due, with a threshold derived from the facts and the stack's
 * configuration, and how. The step pages print it (scripts/docs, section `climb`) and the step-10 alarms
 * (components/monitoring.ts, through {@link climbAlarms}) use the same thresholds.
 */
import { baselineCpuPercent } from "../components/facts/burstable-baseline";
import type { ClimbThresholds } from "../components/monitoring";
import { type ConnectionBudget, connectionBudgets } from "./capacity-checks";
import type { LadderConfig } from "./config";
import { featuresAt } from "./steps";

/** Share of the connections a database gives the app past which the signal fires, percent. */
export const CONNECTIONS_SIGNAL_PERCENT = 80;
/** CPU threshold of a class with no burstable baseline (its CPU is its own): the web fleet's alarm's 80 %. */
export const NON_BURSTABLE_CPU_PERCENT = 80;
/** The p99 the ladder holds a step to: the step-10 latency alarm's, and the load test's gate (`npm run load`). */
export const P99_SECONDS = 1;

/** One signal of a step. */
export interface ClimbSignal {
  /** The step whose load it watches. */
  step: number;
  /** Where to look: the dashboard widget, or "none" when no metric says it. */
  signal: string;
  /** The CloudWatch metric (`namespace metric, statistic, what`), when there is one. */
  metric?: string;
  /** The threshold as people read it (`10 % for an hour`), when there is one. */
  threshold?: string;
  /** How the threshold follows from the facts and the configuration. */
  why: string;
  /** What the next step does about it. */
  next: string;
  /** The step-10 alarm (components/monitoring.ts) that watches it, by its name's last part. */
  alarm?: string;
}

/** {@link CONNECTIONS_SIGNAL_PERCENT} of what a database gives the app. */
export function connectionsSignal(b: ConnectionBudget): number {
  return Math.floor((b.available * CONNECTIONS_SIGNAL_PERCENT) / 100);
}

/** An instance type or class's CPU signal: its burstable baseline, or {@link NON_BURSTABLE_CPU_PERCENT}. */
export function cpuSignal(instanceType: string): number {
  return baselineCpuPercent(instanceType) ?? NON_BURSTABLE_CPU_PERCENT;
}

function cpuWhy(instanceType: string, what: string): string {
  const baseline = baselineCpuPercent(instanceType);
  return baseline === undefined
    ? `${instanceType} is not burstable: ${NON_BURSTABLE_CPU_PERCENT} %, as the web fleet's alarm`
    : `${instanceType}'s burstable baseline (components/facts/burstable-baseline.ts): above it ${what} spends CPU ` +
        `credits, and in standard mode is held at ${baseline} % once they are gone`;
}

function connectionsWhy(b: ConnectionBudget): string {
  return (
    `${CONNECTIONS_SIGNAL_PERCENT} % of the ${b.available} connections ${b.instanceClass} gives the app ` +
    `(max_connections ${b.maxConnections} less ${b.reserved} reserved and ${b.headroom} headroom; ` +
    `components/facts/rds-max-connections.ts, stacks/capacity-checks.ts)`
  );
}

/** The budget of `database` (`the catalog's primary`, `each shard's writer`) at `cfg`, if the step has one. */
function budgetOf(cfg: LadderConfig, database: string): ConnectionBudget | undefined {
  return connectionBudgets(cfg).budgets.find((b) => b.database === database);
}

/** The signals of the step `cfg` is on, with `cfg`'s thresholds. */
export function climbSignals(cfg: LadderConfig): ClimbSignal[] {
  const step = cfg.builtStep;
  const db = cfg.database.instanceClass;
  const server = cfg.server.instanceType;
  const catalog = budgetOf(cfg, "the catalog's primary");
  const shard = budgetOf(cfg, "each shard's writer");
  const hour = (percent: number) => `${percent} % for an hour`;
  const serverCpu = {
    signal: "the server's CPU",
    metric: "AWS/EC2 CPUUtilization, Average, the server's instance",
    threshold: hour(cpuSignal(server)),
  };
  const catalogConnections = (next: string): ClimbSignal => ({
    step,
    signal: "Catalog database connections",
    metric: "AWS/RDS DatabaseConnections, Maximum, the primary",
    threshold: `${connectionsSignal(catalog!)} connections`,
    why: connectionsWhy(catalog!),
    next,
    alarm: "db-connections",
  });
  switch (step) {
    case 1:
      return [
        {
          step,
          ...serverCpu,
          why: cpuWhy(server, "the server, where the app and PostgreSQL share it,"),
          next: "step 2 moves the database to RDS",
        },
      ];
    case 2:
      return [
        {
          step,
          ...serverCpu,
          why: cpuWhy(server, "the server, the app alone on it now,"),
          next: "step 3 puts a fleet of servers behind a load balancer",
        },
      ];
    case 3:
    case 4:
      return [
        {
          step,
          signal: "Catalog database CPU %",
          metric: `AWS/RDS CPUUtilization, Average, ${step === 3 ? "the primary" : "each read replica"}`,
          threshold: hour(cpuSignal(db)),
          why: cpuWhy(db, step === 3 ? "the primary" : "a replica"),
          next:
            step === 3
              ? "step 4 adds read replicas: most of the shop's queries are reads"
              : "step 5 caches product reads in front of the replicas",
          alarm: step === 3 ? "db-cpu" : undefined,
        },
      ];
    case 5:
      return [
        {
          step,
          signal: "Web fleet CPU %",
          metric: "AWS/EC2 CPUUtilization, Average, the web fleet's Auto Scaling group",
          threshold: `${cfg.web.cpuTargetPercent} % for 15 minutes`,
          why:
            `the fleet's scaling target (webCpuTargetPercent): target tracking adds servers until webMaxSize ` +
            `(${cfg.web.maxSize}), so an average that stays above the target means the fleet is at its most`,
          next: "step 6 serves the static files and cacheable pages from CloudFront",
          alarm: "web-cpu-over-target",
        },
      ];
    case 6:
      return [
        {
          step,
          signal: "ALB p99 latency (s)",
          metric: "AWS/ApplicationELB TargetResponseTime, p99",
          threshold: `${P99_SECONDS} s for 5 minutes`,
          why:
            `the p99 the ladder holds every step to: the load test's gate (npm run load, --max-p99-ms 1000) and ` +
            `the step-10 latency alarm; with sticky sessions a new server takes no old shoppers, so a busy one ` +
            `stays busy`,
          next: "step 7 keeps sessions in Redis: any server takes any shopper, and the fleet scales on requests",
          alarm: "p99-latency",
        },
      ];
    case 7:
      return [catalogConnections("step 8 confirms orders from a queue, so a checkout holds one short transaction")];
    case 8:
      return [
        {
          step,
          signal: "Catalog database CPU %",
          metric: "AWS/RDS CPUUtilization, Average, the primary",
          threshold: hour(cpuSignal(db)),
          why: `${cpuWhy(db, "the primary")}; the replicas and the cache take the reads, so this is the writes`,
          next: "step 9 shards the orders by shopper across Aurora clusters",
          alarm: "db-cpu",
        },
      ];
    case 9:
      return [
        {
          step,
          signal: "none",
          why: "step 10 is not a load step: it is the dashboard and the alarms that show every other signal",
          next: "climb to step 10 before the load needs it",
        },
      ];
    case 10:
      return [
        {
          step,
          signal: "none in CloudWatch",
          why:
            "the next step answers distance and outages, not load: a far shopper's round trip is not in the " +
            "ALB's metrics, which start at the ALB",
          next:
            "step 11 adds a region: climb when shoppers far from aws:region matter, or when an outage of one " +
            "region would last longer than you accept",
        },
      ];
    default:
      return [
        catalogConnections(
          "the top of the ladder: every region writes to this one primary; raise dbInstanceClass or put RDS Proxy " +
            "in front of it",
        ),
        {
          step,
          signal: "Shard connections",
          metric: "AWS/RDS DatabaseConnections, Maximum, each shard's writer",
          threshold: `${connectionsSignal(shard!)} connections`,
          why: connectionsWhy(shard!),
          next: "every process opens a pool to every shard: raise shardInstanceClass or put RDS Proxy in front",
          alarm: "shard-connections",
        },
      ];
  }
}

/**
 * The climb alarms' thresholds for the monitoring of `cfg`'s primary region, from the same derivations as
 * {@link climbSignals}. A secondary region's database is a replica and its shards are readers: it gets only the web
 * fleet's (`secondary`).
 */
export function climbAlarms(cfg: LadderConfig, secondary = false): ClimbThresholds {
  const f = featuresAt(cfg.builtStep);
  const catalog = budgetOf(cfg, "the catalog's primary");
  const shard = budgetOf(cfg, "each shard's writer");
  return {
    webCpuPercent: f.fleet ? cfg.web.cpuTargetPercent : undefined,
    catalogConnections: !secondary && catalog ? connectionsSignal(catalog) : undefined,
    catalogCpuPercent: !secondary && f.separateDatabase ? cpuSignal(cfg.database.instanceClass) : undefined,
    shardWriterConnections: !secondary && shard ? connectionsSignal(shard) : undefined,
  };
}
