/**
 * The eleven steps of the ladder, in one table: what each adds and whether this version of the program builds it.
 * Everything that speaks of steps by number (config defaults, the program, the docs) reads from here.
 */
export interface StepInfo {
  /** 1..11 */
  step: number;
  /** Short name, used in doc file names and log lines. */
  name: string;
  /** What the step adds to the one before it. */
  adds: string;
  /** True once the program composes this step's components. */
  built: boolean;
}

export const STEPS: readonly StepInfo[] = [
  { step: 1, name: "single-server", adds: "one EC2 server running the app and its database, DNS to its Elastic IP", built: true },
  { step: 2, name: "separate-database", adds: "RDS PostgreSQL in isolated subnets; the server keeps only the app", built: true },
  { step: 3, name: "load-balancer", adds: "an ALB in front of an auto-scaled web fleet in private subnets", built: true },
  { step: 4, name: "read-replicas", adds: "Multi-AZ primary and read replicas; the app splits reads and writes", built: true },
  { step: 5, name: "cache", adds: "an ElastiCache (Valkey) tier; cache-aside for product reads", built: true },
  { step: 6, name: "cdn", adds: "CloudFront with a private S3 origin for static assets", built: true },
  { step: 7, name: "stateless-web", adds: "sessions in Redis; no stickiness; scale on request count", built: true },
  { step: 8, name: "message-queue", adds: "SQS orders queue with a DLQ and a worker fleet", built: true },
  { step: 9, name: "sharding", adds: "orders sharded by shopper across Aurora clusters", built: true },
  { step: 10, name: "observability", adds: "log groups, agent, dashboard, alarms, CI automation", built: true },
  { step: 11, name: "multi-region", adds: "a second region and geolocation DNS with health checks", built: true },
];

export const MIN_STEP = 1;
export const MAX_STEP = STEPS.length;

/** The highest step this version builds that is not above `step`. */
export function highestBuiltStep(step: number): number {
  let built = MIN_STEP;
  for (const s of STEPS) if (s.built && s.step <= step) built = s.step;
  return built;
}
