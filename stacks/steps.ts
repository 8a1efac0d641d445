/**
 * The eleven steps of the ladder, in one table: what each adds, which features it turns on, and whether this
 * version of the program builds it. Everything that speaks of steps by number (config defaults, the program, local
 * mode, the docs) reads from here: a bare `step >= 7` elsewhere is a smell, `featuresAt(step).redisSessions` is not.
 */

/** What a step can turn on. Each is off below the step that turns it on and on from there up. */
export const FEATURES = [
  /** One EC2 server runs the app (and, at step 1, its database); off once the fleet replaces it. */
  "singleServer",
  /** The catalog database leaves the server for RDS. */
  "separateDatabase",
  /** A load balancer in front of an auto-scaled web fleet in private subnets. */
  "fleet",
  /** Read replicas of the catalog (and Multi-AZ in dev); the app splits reads from writes. */
  "replicas",
  /** The cache tier (ElastiCache for Valkey; Redis locally). */
  "cache",
  /** A CDN in front of the site and its static files. */
  "cdn",
  /** Sessions in Redis: no stickiness, the fleet scales on requests per target. */
  "redisSessions",
  /** The orders queue and the worker fleet that consumes it. */
  "queue",
  /** Orders sharded by shopper across Aurora clusters. */
  "shards",
  /** Log groups, the CloudWatch agent, business metrics, dashboard and alarms. */
  "telemetry",
  /** Secondary regions beside the primary, behind geolocation DNS. */
  "multiRegion",
] as const;
export type Feature = (typeof FEATURES)[number];
/** Feature → whether it is on at a step. */
export type StepFeatures = Readonly<Record<Feature, boolean>>;
export interface StepInfo {
  /** 1..11 */
  step: number;
  /** Short name, used in doc file names and log lines. */
  name: string;
  /** What the step adds to the one before it. */
  adds: string;
  /** True once the program composes this step's components. */
  built: boolean;
  /** The features this step turns on (they stay on at every step above it). */
  turnsOn: readonly Feature[];
}

export const STEPS: readonly StepInfo[] = [
  {
    step: 1,
    name: "single-server",
    adds: "one EC2 server running the app and its database, DNS to its Elastic IP",
    built: true,
    turnsOn: ["singleServer"],
  },
  {
    step: 2,
    name: "separate-database",
    adds: "RDS PostgreSQL in isolated subnets; the server keeps only the app",
    built: true,
    turnsOn: ["separateDatabase"],
  },
  {
    step: 3,
    name: "load-balancer",
    adds: "an ALB in front of an auto-scaled web fleet in private subnets",
    built: true,
    turnsOn: ["fleet"],
  },
  {
    step: 4,
    name: "read-replicas",
    adds: "Multi-AZ primary and read replicas; the app splits reads and writes",
    built: true,
    turnsOn: ["replicas"],
  },
  {
    step: 5,
    name: "cache",
    adds: "an ElastiCache (Valkey) tier; cache-aside for product reads",
    built: true,
    turnsOn: ["cache"],
  },
  {
    step: 6,
    name: "cdn",
    adds: "CloudFront with a private S3 origin for static assets",
    built: true,
    turnsOn: ["cdn"],
  },
  {
    step: 7,
    name: "stateless-web",
    adds: "sessions in Redis; no stickiness; scale on request count",
    built: true,
    turnsOn: ["redisSessions"],
  },
  {
    step: 8,
    name: "message-queue",
    adds: "SQS orders queue with a DLQ and a worker fleet",
    built: true,
    turnsOn: ["queue"],
  },
  {
    step: 9,
    name: "sharding",
    adds: "orders sharded by shopper across Aurora clusters",
    built: true,
    turnsOn: ["shards"],
  },
  {
    step: 10,
    name: "observability",
    adds: "log groups, agent, dashboard, alarms, CI automation",
    built: true,
    turnsOn: ["telemetry"],
  },
  {
    step: 11,
    name: "multi-region",
    adds: "a second region and geolocation DNS with health checks",
    built: true,
    turnsOn: ["multiRegion"],
  },
];

export const MIN_STEP = 1;
export const MAX_STEP = STEPS.length;

/** The highest step this version builds that is not above `step`. */
export function highestBuiltStep(step: number): number {
  let built = MIN_STEP;
  for (const s of STEPS) if (s.built && s.step <= step) built = s.step;
  return built;
}

/**
 * What is on at `step`: every feature turned on at this step or below, except `singleServer`, which the fleet
 * (step 3) replaces.
 * @throws for a step outside 1..11, naming it.
 */
export function featuresAt(step: number): StepFeatures {
  if (!Number.isInteger(step) || step < MIN_STEP || step > MAX_STEP) {
    throw new Error(`featuresAt: step must be an integer from ${MIN_STEP} to ${MAX_STEP}, got ${step}`);
  }
  const on = Object.fromEntries(FEATURES.map((f) => [f, false])) as Record<Feature, boolean>;
  for (const s of STEPS) if (s.step <= step) for (const f of s.turnsOn) on[f] = true;
  if (on.fleet) on.singleServer = false;
  return on;
}

/** The step that turns `feature` on. */
export function firstStepOf(feature: Feature): number {
  const s = STEPS.find((x) => x.turnsOn.includes(feature));
  if (!s) throw new Error(`no step turns on ${feature}`);
  return s.step;
}
