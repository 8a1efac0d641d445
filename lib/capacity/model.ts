/**
 * The capacity model of a step: for a stack's configuration, the sustained request rate the step holds for the
 * traffic mix (TRAFFIC_MIX, scripts/load/profile.ts), the tier that saturates first, and each tier's headroom.
 * `npm run plan` prints it (text and `--format json`'s `capacity`) and each step page carries it (scripts/docs).
 *
 * How: every tier has a CPU budget — its vCPUs (components/facts/instance-vcpus.ts) × its burstable baseline
 * (components/facts/burstable-baseline.ts; a t4g's sustained CPU is its baseline, not 100 %) × how many there are
 * at the fleets' most — and every request of the mix costs it the CPU seconds measured on this machine by
 * `npm run bench:capacity` (lib/capacity/measurements.json: each route class alone, per tier). The tier holds
 * budget ÷ cost requests per second; the step holds the least of them. The databases' connections are a tier too:
 * the connections the pools may open (stacks/capacity-checks.ts) ÷ the time a request holds one. The same model
 * evaluated for local mode's processes ({@link localCapacity}) is what the e2e test checks against a load run.
 *
 * Assumptions:
 * - one vCPU of an instance does the work of one core of the benchmark's machine (its model and cores are in the
 *   measurements file; a Graviton vCPU is one physical core, as an EPYC core here, but not as fast);
 * - a tier saturates when its CPU reaches its baseline for good (unlimited mode would burst on, and bill for it);
 * - the load spreads evenly over a tier's instances, over the regions at step 11, and over the replicas;
 * - a Valkey node runs commands on one thread: a cache node's budget is at most one vCPU, and no more than its CPU
 *   credits give (its vCPUs × its type's baseline: 0.2 vCPU for a cache.t4g.micro, whose second vCPU earns
 *   credits the busy thread spends);
 * - the cache hit ratio is the benchmark's (its shoppers read the products its list pages show), which holds while
 *   the working set fits the node (cacheWorkingSetMb, checked by stacks/capacity-checks.ts when set);
 * - a request holds a database connection as long as it did in the benchmark (busy connections sampled from
 *   `pg_stat_activity`, Little's law), over loopback: on AWS the network's round trips lengthen it, so the
 *   connections' figure is an upper bound;
 * - ElastiCache's burstable nodes have their EC2 type's baseline (AWS publishes none of their own);
 * - the workers' and their databases' work on an order counts against the checkout that queued it.
 *
 * What it leaves out: network bandwidth and the instances' packet rates; disk I/O (the benchmark's data fits in
 * memory, as the seed's does); CloudFront answering product reads from its cache (step 6 on: every request is
 * counted at the origin, so the figure is low there); the growth of data (more rows, slower queries); the Multi-AZ
 * standby, which serves nothing; the shards' readers (every shard's work is counted on its writer); CPU credits
 * saved up for bursts; cold caches after a deploy; the rate limits per client address (WAF, the app's), which cap
 * one shopper and not the shop.
 */
import { ALB, SQS_STANDARD } from "../../components/facts/service-limits";
import { baselineCpuPercent, oneThreadVcpus } from "../../components/facts/burstable-baseline";
import { vcpusOf } from "../../components/facts/instance-vcpus";
import { connectionBudgets } from "../../stacks/capacity-checks";
import type { LadderConfig } from "../../stacks/config";
import { featuresAt } from "../../stacks/steps";
import { ROUTE_CLASSES, type RouteClass, TRAFFIC_MIX, VISIT } from "../../scripts/load/profile";
import {
  MEASURED_TIERS,
  type MeasuredTier,
  type Measurements,
  type StepMeasurement,
  measurementFor,
  readMeasurements,
} from "./measurements";

/**
 * What a tier is, for code: the "when to climb" table (stacks/climb-signals.ts) finds a tier's CloudWatch signal by
 * it. `server` is the single server (steps 1–2), `machine` local mode's shared cores.
 */
export type TierKey =
  | "server"
  | "web"
  | "catalog-cpu"
  | "replicas-cpu"
  | "cache"
  | "sessions"
  | "workers"
  | "shards-cpu"
  | "catalog-connections"
  | "shard-connections"
  | "alb"
  | "sqs"
  | "machine";

/** One tier's ceiling. */
export interface TierCapacity {
  key: TierKey;
  /** What it is, for people: `web fleet`, `catalog primary CPU`, `catalog primary connections`. */
  tier: string;
  /** Requests per second of the mix it holds; null where no limit binds (a managed service that scales). */
  requestsPerSecond: number | null;
  /** Its ceiling ÷ the step's sustained rate (1 for the tier that saturates first); null where none binds. */
  headroom: number | null;
  /** How the ceiling follows from the configuration, the facts and the measurements. */
  basis: string;
}

/** The capacity of one step for one configuration. */
export interface CapacityModel {
  step: number;
  /** The measured step whose costs were used (the highest measured one not above `step`). */
  measuredStep: number;
  mix: Readonly<Record<RouteClass, number>>;
  /** Requests per second of the mix the step sustains: its lowest tier's. */
  sustainedRequestsPerSecond: number;
  /** The tier that saturates first. */
  saturating: string;
  /** Orders per second at the sustained rate (one checkout per visit of {@link VISIT}'s length). */
  ordersPerSecond: number;
  tiers: TierCapacity[];
  /** Database reads per request of the mix, by target (`primary`, `replica`, `shard-0`…), from the app's counters. */
  dbReadsPerRequest: Record<string, number>;
  /** Share of the database reads that the catalog's replicas answer (step 4 on). */
  replicaReadShare?: number;
  /** Share of the catalog reads the cache answers (step 5 on), measured. */
  cacheHitRatio?: number;
  /**
   * Requests per second one web vCPU answers of each route class sent alone (the benchmark's one web process,
   * its CPU seconds per request inverted).
   */
  perVcpu: Record<RouteClass, number>;
  /** Orders per second the workers confirm at their most (step 8 on). */
  workerOrdersPerSecond?: number;
  assumptions: string[];
  leftOut: string[];
  /** Where the measured inputs come from. */
  measurements: { file: string; command: string; date: string; machine: string; node: string };
}

/** The model's assumptions and omissions, as the step pages print them (the module comment says the same). */
export const ASSUMPTIONS = [
  "one vCPU does the work of one core of the benchmark's machine",
  "a tier saturates when its CPU stays at its burstable baseline (t4g.micro 10 %, small and medium 20 %)",
  "the load spreads evenly over a tier's instances, the replicas and (step 11) the regions",
  "a cache node runs commands on one thread: at most one vCPU, and no more than its credits give (its vCPUs × " +
    "its baseline)",
  "the cache hit ratio is the benchmark's, which holds while the working set fits the node",
  "a request holds a database connection as long as it did in the benchmark, over loopback (on AWS the " +
    "network's round trips lengthen it: the connections' figure is an upper bound)",
  "ElastiCache's burstable nodes have their EC2 type's baseline (AWS publishes none of their own)",
  "the workers' and their databases' work on an order counts against its checkout",
] as const;
export const LEFT_OUT = [
  "network bandwidth and packet rates",
  "disk I/O (the data fits in memory)",
  "CloudFront answering product reads from its cache (step 6 on: the figure is low there)",
  "the growth of data, cold caches after a deploy, CPU credits saved for bursts",
  "the Multi-AZ standby and the shards' readers (each shard's work is counted on its writer)",
  "the rate limits per client address (WAF, the app's), which cap one shopper, not the shop",
] as const;

/**
 * What one request of the mix costs each measured tier: CPU seconds (`cpuSeconds`), or the seconds it holds a
 * connection to the tier's databases (`connectionSeconds`). The benchmark measures the mix itself (the load test's
 * visit, whose requests are TRAFFIC_MIX exactly) and uses that: the sum of its classes measured alone, weighted by
 * the mix, came to 0.63-1.24 of it by tier (the web tier 0.76-0.99, the replicas 0.63-1.03; a class alone reads
 * fewer distinct rows and cache keys, and its process batches more of the same work), so the classes' own figures
 * are reported (requests per vCPU), not added up.
 */
export function mixCost(
  classes: StepMeasurement,
  of: "cpuSeconds" | "connectionSeconds" = "cpuSeconds",
): Record<MeasuredTier, number> {
  return Object.fromEntries(MEASURED_TIERS.map((t) => [t, classes.mix[of]?.[t] ?? 0])) as Record<MeasuredTier, number>;
}

/** A CPU budget and the measured tiers whose cost it pays. */
interface Budget {
  key: TierKey;
  tier: string;
  /** vCPU seconds per second. */
  vcpus: number;
  pays: readonly MeasuredTier[];
  /** How the budget is made, e.g. `6 × t4g.small (2 vCPUs at 20 %)`. */
  of: string;
}

const ms = (s: number) => `${(s * 1000).toFixed(3)} ms`;
const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * `n × type (v vCPUs at b %)`, and the budget in vCPUs: each instance's vCPUs × its baseline. `oneThread` (a Valkey
 * node): the commands run on one thread, which uses at most one vCPU, and no more than the node's credits give.
 */
function instances(n: number, type: string, oneThread = false): { vcpus: number; of: string } {
  const vcpus = vcpusOf(type);
  // AWS publishes no baseline for ElastiCache's burstable nodes: they are taken to have their EC2 type's.
  const baseline = baselineCpuPercent(type.replace(/^cache\./, "")) ?? 100;
  const each = oneThread ? oneThreadVcpus(type) : (vcpus * baseline) / 100;
  const thread = oneThread ? `; commands on one thread: ${Math.round(each * 100) / 100} vCPU` : "";
  return { vcpus: n * each, of: `${n} × ${type} (${vcpus} vCPU${vcpus === 1 ? "" : "s"} at ${baseline} %${thread})` };
}

/** The CPU budgets of `cfg`'s step on AWS, at the fleets' most. */
function awsBudgets(cfg: LadderConfig): Budget[] {
  const f = featuresAt(cfg.builtStep);
  const regions = f.multiRegion ? 1 + cfg.regions.secondaries.length : 1;
  const out: Budget[] = [];
  if (!f.separateDatabase) {
    out.push({
      key: "server",
      tier: "the server (app and database)",
      pays: ["web", "primary"],
      ...instances(1, cfg.server.instanceType),
    });
    return out;
  }
  out.push(
    f.fleet
      ? { key: "web", tier: "web fleet", pays: ["web"], ...instances(cfg.web.maxSize * regions, cfg.web.instanceType) }
      : { key: "server", tier: "the server", pays: ["web"], ...instances(1, cfg.server.instanceType) },
  );
  // Without replicas every catalog read is the primary's.
  const replicas = f.replicas ? cfg.database.replicas + (regions - 1) : 0;
  out.push({
    key: "catalog-cpu",
    tier: "catalog primary CPU",
    pays: replicas > 0 ? ["primary"] : ["primary", "replicas"],
    ...instances(1, cfg.database.instanceClass),
  });
  if (replicas > 0)
    out.push({
      key: "replicas-cpu",
      tier: "catalog replicas CPU",
      pays: ["replicas"],
      ...instances(replicas, cfg.database.instanceClass),
    });
  if (f.cache)
    out.push({ key: "cache", tier: "product cache", pays: ["cache"], ...instances(regions, cfg.cache.nodeType, true) });
  if (f.redisSessions)
    out.push({
      key: "sessions",
      tier: "sessions' Valkey",
      pays: ["sessions"],
      ...instances(regions, cfg.sessions.nodeType, true),
    });
  if (f.queue)
    out.push({
      key: "workers",
      tier: "worker fleet",
      pays: ["worker"],
      ...instances(cfg.worker.maxSize * regions, cfg.worker.instanceType),
    });
  if (f.shards)
    out.push({
      key: "shards-cpu",
      tier: "order shards' writers CPU",
      pays: ["shards"],
      ...instances(cfg.shards.count, cfg.shards.instanceClass),
    });
  return out;
}

/** The local topology evaluated: processes on this machine's cores. */
export interface LocalTopology {
  step: number;
  /** Web processes (`--web`, 1 at steps 1–2). */
  web: number;
  /** Workers (`--workers`, step 8 on). */
  workers: number;
  /**
   * CPU seconds per second the topology's services get: the machine's cores less what the load generator takes
   * when nothing else runs; on a shared machine, what a run actually got (the e2e test measures it from /proc).
   */
  cpus: number;
}

/** The CPU budgets of local mode: each Node.js process uses at most one core, and all share the machine. */
function localBudgets(t: LocalTopology): Budget[] {
  const f = featuresAt(t.step);
  const web = f.fleet ? t.web : 1;
  const out: Budget[] = [
    {
      key: "web",
      tier: "web processes",
      pays: ["web"],
      vcpus: web,
      of: `${web} Node.js process${web > 1 ? "es" : ""} (one core each)`,
    },
  ];
  if (f.queue)
    out.push({
      key: "workers",
      tier: "workers",
      pays: ["worker"],
      vcpus: t.workers,
      of: `${t.workers} worker process(es)`,
    });
  out.push({
    key: "machine",
    tier: "this machine",
    pays: MEASURED_TIERS.filter((m) => m !== "loadgen"),
    vcpus: t.cpus,
    of: `${t.cpus.toFixed(2)} cores shared by every service`,
  });
  return out;
}

/** Ceiling of each budget, for the mix's costs. */
function cpuTiers(budgets: Budget[], cost: Record<MeasuredTier, number>): TierCapacity[] {
  return budgets.map((b) => {
    const perRequest = b.pays.reduce((s, t) => s + cost[t], 0);
    return {
      key: b.key,
      tier: b.tier,
      requestsPerSecond: perRequest > 0 ? round1(b.vcpus / perRequest) : null,
      headroom: null,
      basis:
        `${b.of} = ${Math.round(b.vcpus * 100) / 100} vCPU ÷ ${ms(perRequest)} CPU per request of the mix ` +
        `(${b.pays.join(" + ")})`,
    };
  });
}

function finish(
  step: number,
  m: Measurements,
  measured: { step: number; classes: StepMeasurement },
  tiers: TierCapacity[],
  extra: Partial<CapacityModel>,
): CapacityModel {
  const bounded = tiers.filter((t) => t.requestsPerSecond !== null);
  if (bounded.length === 0) throw new Error(`the capacity model of step ${step} has no bounded tier`);
  const least = bounded.reduce((a, b) => (b.requestsPerSecond! < a.requestsPerSecond! ? b : a));
  const sustained = least.requestsPerSecond!;
  for (const t of tiers)
    t.headroom = t.requestsPerSecond === null ? null : Math.round((t.requestsPerSecond / sustained) * 100) / 100;
  const mix = measured.classes.mix;
  const db = mix.dbReadsPerRequest;
  const reads = Object.values(db).reduce((a, b) => a + b, 0);
  const ordersPerRequest = VISIT.filter((r) => r === "checkout").length / VISIT.length;
  return {
    step,
    measuredStep: measured.step,
    mix: TRAFFIC_MIX,
    sustainedRequestsPerSecond: sustained,
    saturating: least.tier,
    ordersPerSecond: round1(sustained * ordersPerRequest),
    tiers,
    dbReadsPerRequest: db,
    replicaReadShare:
      db.replica !== undefined && reads > 0 ? Math.round((db.replica / reads) * 1000) / 1000 : undefined,
    cacheHitRatio: mix.cacheHitRatio,
    perVcpu: Object.fromEntries(
      ROUTE_CLASSES.map((c) => {
        const web = measured.classes[c].cpuSeconds.web ?? 0;
        return [c, web > 0 ? Math.round(1 / web) : 0];
      }),
    ) as Record<RouteClass, number>,
    assumptions: [...ASSUMPTIONS],
    leftOut: [...LEFT_OUT],
    measurements: {
      file: "lib/capacity/measurements.json",
      command: m.command,
      date: m.date,
      machine: `${m.machine.cpu}, ${m.machine.cores} cores, ${m.machine.os}`,
      node: m.node,
    },
    ...extra,
  };
}

/**
 * The capacity of `cfg`'s step on AWS, at the fleets' most (`webMaxSize`, `workerMaxSize`).
 * @param m the measurements; the committed file by default.
 */
export function capacityModel(cfg: LadderConfig, m: Measurements = readMeasurements()): CapacityModel {
  const step = cfg.builtStep;
  const f = featuresAt(step);
  const measured = measurementFor(m, step);
  const cost = mixCost(measured.classes);
  const tiers = cpuTiers(awsBudgets(cfg), cost);
  // Connections: what the pools may open at the fleets' most, each held for the measured time of a request.
  const held = mixCost(measured.classes, "connectionSeconds");
  for (const b of connectionBudgets(cfg).budgets) {
    const shard = b.classKey === "shardInstanceClass";
    const open = Math.min(b.available, b.total);
    // A request of the mix holds `held.shards` on one shard or another: each shard sees its share of them.
    const hold = shard ? held.shards / cfg.shards.count : held.primary + (f.replicas ? 0 : held.replicas);
    tiers.push({
      key: shard ? "shard-connections" : "catalog-connections",
      tier: shard ? "each shard's connections" : "catalog primary connections",
      requestsPerSecond: hold > 0 ? round1(open / hold) : null,
      headroom: null,
      basis:
        `${open} connections (the pools at the fleets' most, at most the ${b.available} ${b.instanceClass} gives ` +
        `the app) ÷ ${ms(hold)} held per request of the mix`,
    });
  }
  if (f.fleet)
    tiers.push({
      key: "alb",
      tier: "load balancer (ALB)",
      requestsPerSecond: null,
      headroom: null,
      basis: `${ALB.limit}; ${ALB.source}`,
    });
  let workerOrdersPerSecond: number | undefined;
  if (f.queue) {
    tiers.push({
      key: "sqs",
      tier: "orders queue (SQS)",
      requestsPerSecond: null,
      headroom: null,
      basis: `${SQS_STANDARD.limit}; ${SQS_STANDARD.why}; ${SQS_STANDARD.source}`,
    });
    const worker = tiers.find((t) => t.tier === "worker fleet");
    const ordersPerRequest = VISIT.filter((r) => r === "checkout").length / VISIT.length;
    if (worker?.requestsPerSecond) workerOrdersPerSecond = round1(worker.requestsPerSecond * ordersPerRequest);
  }
  return finish(step, m, measured, tiers, { workerOrdersPerSecond });
}

/** The same model for local mode's processes on this machine (what the e2e test checks against a load run). */
export function localCapacity(t: LocalTopology, m: Measurements = readMeasurements()): CapacityModel {
  const measured = measurementFor(m, t.step);
  return finish(t.step, m, measured, cpuTiers(localBudgets(t), mixCost(measured.classes)), {});
}
