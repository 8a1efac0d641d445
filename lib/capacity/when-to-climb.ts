/**
 * "When to climb", for each step: the capacity model's tier that saturates first (and any within
 * {@link CLOSE_HEADROOM} of it) with its signal on the step-10 dashboard (stacks/climb-signals.ts), the threshold,
 * the request rate of the mix at which the model expects the threshold, and what relieves the tier. Where the
 * ladder's next step answers something the model does not count (sticky sessions, distance), a row says so. The step
 * pages print it (scripts/docs/climb.ts); the step-10 alarms use the same thresholds (climbAlarms).
 */
import { type TierSignal, P99_SECONDS, tierSignal } from "../../stacks/climb-signals";
import type { LadderConfig } from "../../stacks/config";
import { type CapacityModel, type TierCapacity, type TierKey, capacityModel } from "./model";
import { type Measurements, readMeasurements } from "./measurements";

/** Tiers whose ceiling is within this factor of the saturating one's get a row too: they are next. */
export const CLOSE_HEADROOM = 1.2;

/** One row of a step's table. */
export interface ClimbSignal {
  step: number;
  /** The model's tier it watches; absent for a row about what the model does not count. */
  tier?: string;
  /** The tier's ceiling ÷ the step's sustained rate (1 for the tier that saturates first). */
  headroom?: number;
  /** Where to look: the dashboard widget, or "none…" when no metric says it. */
  signal: string;
  /** The CloudWatch metric (`namespace metric, statistic, what`), when there is one. */
  metric?: string;
  /** The threshold as people read it (`10 % for an hour`), when there is one. */
  threshold?: string;
  /**
   * Requests per second of the mix at which the capacity model expects the threshold: the tier's ceiling scaled by
   * the threshold over the metric's value at the ceiling (the ceiling itself where the metric has no such value).
   */
  expectedRequestsPerSecond?: number;
  /** How the threshold follows from the facts, the configuration and the model. */
  why: string;
  /** What relieves it. */
  next: string;
  /** The step-10 alarm (components/monitoring.ts) that watches it, by its name's last part. */
  alarm?: string;
}

/** What the ladder's next step brings, by the step it is climbed from. */
const NEXT_STEP: Record<number, string> = {
  1: "step 2 moves the database to RDS",
  2: "step 3 puts a fleet of servers behind a load balancer",
  3: "step 4 adds read replicas, which take the reads (most of the shop's queries)",
  4: "step 5 caches product reads in front of the replicas",
  5: "step 6 serves the static files and product reads from CloudFront's edge",
  6: "step 7 keeps sessions in Valkey: any server takes any shopper",
  7: "step 8 confirms orders from a queue: a checkout holds one short transaction",
  8: "step 9 shards the orders by shopper across Aurora clusters: their writes leave the primary",
  9: "step 10 is the dashboard and the alarms that show these signals: climb to it before the load needs it",
  10: "step 11 adds a region, for distance and outages",
};

/** The step that relieves tier `key` when climbed to from `step`, if the ladder has one above it. */
function relievedBy(key: TierKey, step: number): number | undefined {
  const by: Partial<Record<TierKey, number[]>> = {
    server: [2, 3],
    "catalog-cpu": [4, 9],
    "replicas-cpu": [5, 6],
    cache: [6],
    web: [6],
    "catalog-connections": [8],
  };
  return (by[key] ?? []).find((s) => s > step);
}

/** What the configuration can do about tier `key` within the step. */
const WITHIN_STEP: Partial<Record<TierKey, string>> = {
  server: "a larger serverInstanceType",
  web: "raise webMaxSize or webInstanceType",
  "catalog-cpu": "raise dbInstanceClass",
  "replicas-cpu": "add dbReplicas (up to 5) or raise dbInstanceClass",
  cache: "a larger cacheNodeType (a non-burstable node gives its command thread a whole vCPU)",
  sessions: "a larger sessionNodeType",
  workers: "raise workerMaxSize or workerInstanceType",
  "shards-cpu": "raise shardInstanceClass",
  "catalog-connections": "raise dbInstanceClass, lower the fleets' sizes, or put RDS Proxy in front",
  "shard-connections": "raise shardInstanceClass or put RDS Proxy in front",
};

const rate = (x: number) => `${Math.round(x).toLocaleString("en-US")} req/s`;

/** The row of one tier of the model. */
function tierRow(cfg: LadderConfig, model: CapacityModel, t: TierCapacity, s: TierSignal): ClimbSignal {
  const step = cfg.builtStep;
  const ceiling = t.requestsPerSecond!;
  const expected = s.full === undefined ? ceiling : (ceiling * s.threshold) / s.full;
  const first = t.tier === model.saturating;
  const place = first ? "the tier that saturates first" : `next, at ${t.headroom}× the first's rate`;
  const pastCeiling =
    s.full !== undefined && s.threshold > s.full
      ? ` (above the model's ceiling, ${rate(ceiling)}, where ${s.full} ${s.unit} is the most it sustains)`
      : "";
  const by = relievedBy(t.key, step);
  const within = WITHIN_STEP[t.key] ?? "";
  // NEXT_STEP is keyed by the step climbed from: the step that relieves the tier is climbed to from the one below.
  const next = by === undefined ? within : `${NEXT_STEP[by - 1]}; or ${within}`;
  return {
    step,
    tier: t.tier,
    headroom: t.headroom ?? undefined,
    signal: s.signal,
    metric: s.metric,
    threshold: `${s.threshold} ${s.unit} ${s.hold}`,
    expectedRequestsPerSecond: Math.round(expected),
    why: `${t.tier}, ${place} in the capacity model (${rate(ceiling)}); the threshold: ${s.why}${pastCeiling}`,
    next,
    alarm: s.alarm,
  };
}

/** Rows about what the next step answers and the model does not count. */
function stepRows(cfg: LadderConfig): ClimbSignal[] {
  const step = cfg.builtStep;
  if (step === 6)
    return [
      {
        step,
        signal: "ALB p99 latency (s)",
        metric: "AWS/ApplicationELB TargetResponseTime, p99",
        threshold: `${P99_SECONDS} s for 5 minutes`,
        why:
          `the p99 the ladder holds every step to: the load test's gate (npm run load, --max-p99-ms 1000) and ` +
          `the step-10 latency alarm; with sticky sessions a new server takes no old shoppers, so a busy one ` +
          `stays busy (the model spreads the load evenly)`,
        next: NEXT_STEP[6],
        alarm: "p99-latency",
      },
    ];
  if (step === 10)
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
  return [];
}

/**
 * The "when to climb" rows of the step `cfg` is on, with `cfg`'s thresholds and the model's rates.
 * @param m the capacity measurements; the committed file by default.
 */
export function climbSignals(cfg: LadderConfig, m: Measurements = readMeasurements()): ClimbSignal[] {
  const model = capacityModel(cfg, m);
  const close = model.tiers
    .filter((t) => t.requestsPerSecond !== null && t.headroom !== null && t.headroom <= CLOSE_HEADROOM)
    .sort((a, b) => a.requestsPerSecond! - b.requestsPerSecond!);
  const rows = close.flatMap((t) => {
    const s = tierSignal(cfg, t.key);
    return s ? [tierRow(cfg, model, t, s)] : [];
  });
  const step = cfg.builtStep;
  const extra = stepRows(cfg);
  // The ladder's next step, where no row names it.
  if (rows.length > 0 && extra.length === 0 && NEXT_STEP[step] && !rows.some((r) => r.next.startsWith(NEXT_STEP[step])))
    rows[0] = { ...rows[0], next: `${rows[0].next}. The ladder's next: ${NEXT_STEP[step]}` };
  return [...rows, ...extra];
}
