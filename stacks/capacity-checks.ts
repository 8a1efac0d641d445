/**
 * Configurations that cannot work, refused at config time: what `parseLadderConfig` (stacks/config.ts) runs once the
 * keys are parsed, so that these problems reach the user the way every other configuration problem does, naming
 * the keys. Each check holds the configuration against a fact with a source (components/facts/*) or a limit the app
 * runs with (components/app-limits.ts):
 *
 * - **Connections.** Every process opens one pool of up to `DB_POOL_MAX` connections to each database it uses. At
 *   the fleets' most (`webMaxSize`, `workerMaxSize`, in every region at step 11, where the regions write to one
 *   primary) the pools must fit the class's `max_connections` less the slots the engine reserves and a headroom
 *   for the people and tools that connect beside the app. The catalog's primary is checked, and from step 9 each
 *   shard's writer (every process opens a pool to every shard). Replicas and readers have the primary's or writer's
 *   class and fewer clients (a region's web fleet only), so the primary's check covers them.
 * - **Cache memory.** With `cacheWorkingSetMb` set, the cache node must hold it.
 * - **Queue visibility.** A message must stay hidden for longer than the worker waits on its job.
 * - **Facts.** A class or node type with no fact is refused, naming the file to add it to.
 *
 * What is not counted: an instance refresh launches new instances before it terminates old ones
 * (components/launch-template.ts: up to twice the desired capacity for a moment); a refresh of a fleet at its
 * maximum size, during a peak, can pass the budget by the pools of the instances it launches at once. The headroom
 * absorbs a few.
 */
import { DB_POOL_MAX_DEFAULT, MIGRATION_POOL_MAX, WORKER_JOB_TIMEOUT_MS } from "../components/app-limits";
import { RESERVED_MEMORY_PERCENT, usableCacheBytes } from "../components/facts/elasticache-node-memory";
import { type PostgresEngine, connectionFact } from "../components/facts/rds-max-connections";
import { CONFIG_NAMESPACE, type LadderConfig } from "./config";
import { featuresAt } from "./steps";

/** Share of `max_connections` kept free beside the app's pools, in percent. */
export const CONNECTION_HEADROOM_PERCENT = 10;
/**
 * The fewest connections kept free beside the app's pools: the data-migrations tool's pool (the runbooks of steps
 * 2 and 9 run it while the shop serves) and one `psql` session.
 */
export const MIN_CONNECTION_HEADROOM = MIGRATION_POOL_MAX + 1;
/**
 * Seconds the queue's visibility timeout must exceed the worker's job timeout by: the receive's answer on its way,
 * and the start of the job after it.
 */
export const VISIBILITY_MARGIN_SECONDS = 10;

const key = (name: string) => `${CONFIG_NAMESPACE}:${name}`;

/** One kind of process's pools to a database, at the fleets' most. */
export interface PoolDemand {
  /** Who opens them, e.g. `the web fleet`. */
  who: string;
  /** How the process count is reached, naming the keys: `webMaxSize 6 × 2 regions`. */
  processesFrom: string;
  processes: number;
  /** Connections one process's pool opens. */
  pool: number;
  /** The key that sizes the fleet, when it is one. */
  sizeKey?: "webMaxSize" | "workerMaxSize";
}

/** The connections one database gives the app, and what the fleets ask of it. */
export interface ConnectionBudget {
  /** Which database: `the catalog's primary` or `each shard's writer`. */
  database: string;
  engine: PostgresEngine;
  /** The key that picks its class. */
  classKey: "dbInstanceClass" | "shardInstanceClass";
  instanceClass: string;
  /** The default parameter group's `max_connections`. */
  maxConnections: number;
  /** Slots the engine keeps for superusers and AWS automation. */
  reserved: number;
  /** Slots kept free for people and tools: {@link CONNECTION_HEADROOM_PERCENT} %, at least 5. */
  headroom: number;
  /** What the app's pools may open: `maxConnections - reserved - headroom`. */
  available: number;
  demand: PoolDemand[];
  /** Connections the pools open at the fleets' most. */
  total: number;
}

/** The headroom kept free on a database of `maxConnections`. */
export function connectionHeadroom(maxConnections: number): number {
  return Math.max(Math.ceil((maxConnections * CONNECTION_HEADROOM_PERCENT) / 100), MIN_CONNECTION_HEADROOM);
}

/**
 * The connection budget of each database the configuration's step runs (none at step 1, whose database is on the
 * server), or a problem naming the class key when a class has no fact.
 */
export function connectionBudgets(cfg: LadderConfig): { budgets: ConnectionBudget[]; problems: string[] } {
  const f = featuresAt(cfg.builtStep);
  const budgets: ConnectionBudget[] = [];
  const problems: string[] = [];
  const regions = f.multiRegion ? 1 + cfg.regions.secondaries.length : 1;
  const inRegions = regions > 1 ? ` × ${regions} regions (aws:region and ${key("secondaryRegions")})` : "";
  const pool = DB_POOL_MAX_DEFAULT;
  const web: PoolDemand = f.fleet
    ? {
        who: "the web fleet",
        processesFrom: `${key("webMaxSize")} ${cfg.web.maxSize}${inRegions}`,
        processes: cfg.web.maxSize * regions,
        pool,
        sizeKey: "webMaxSize",
      }
    : { who: "the server", processesFrom: "one server", processes: 1, pool };
  const workers: PoolDemand[] = f.queue
    ? [
        {
          who: "the workers",
          processesFrom: `${key("workerMaxSize")} ${cfg.worker.maxSize}${inRegions}`,
          processes: cfg.worker.maxSize * regions,
          pool,
          sizeKey: "workerMaxSize",
        },
      ]
    : [];
  const budget = (
    database: string,
    engine: PostgresEngine,
    classKey: ConnectionBudget["classKey"],
    instanceClass: string,
    demand: PoolDemand[],
  ) => {
    const fact = connectionFact(engine, instanceClass);
    if (fact === undefined) {
      problems.push(
        `${key(classKey)} ${instanceClass} has no max_connections fact in components/facts/rds-max-connections.ts ` +
          `(it knows db.t3 and db.t4g from micro to 2xlarge, and the db.m5, m6g, m6i, m7g, m7i, r5, r6g, r6gd, r6i, ` +
          `r6id, r7g, r7i, r8g, r8gd and x2g families); pick a class it knows or add this one there with its source`,
      );
      return;
    }
    const headroom = connectionHeadroom(fact.maxConnections);
    const available = fact.maxConnections - fact.reserved - headroom;
    const total = demand.reduce((sum, d) => sum + d.processes * d.pool, 0);
    budgets.push({ database, engine, classKey, instanceClass, ...fact, headroom, available, demand, total });
  };
  if (f.separateDatabase)
    budget("the catalog's primary", "postgres", "dbInstanceClass", cfg.database.instanceClass, [web, ...workers]);
  if (f.shards)
    budget("each shard's writer", "aurora-postgresql", "shardInstanceClass", cfg.shards.instanceClass, [
      web,
      ...workers,
    ]);
  return { budgets, problems };
}

/** What a budget that does not fit says: the sum, the class's figures, and the ways out. */
function overBudget(b: ConnectionBudget): string {
  const whose = (who: string) => (who.endsWith("s") ? `${who}'` : `${who}'s`);
  const parts = b.demand.map(
    (d) => `${whose(d.who)} ${d.processes * d.pool} (${d.processesFrom} × DB_POOL_MAX ${d.pool})`,
  );
  const sizeKeys = b.demand.flatMap((d) => (d.sizeKey ? [key(d.sizeKey)] : []));
  return (
    `${key(b.classKey)} ${b.instanceClass} cannot take the connections of the fleets at their most: ` +
    `${parts.join(" + ")}${b.demand.length > 1 ? ` = ${b.total}` : ""} connections to ${b.database}, and it gives ` +
    `the app ${b.available} (max_connections ${b.maxConnections} less ${b.reserved} reserved for superusers and ` +
    `AWS automation and ${b.headroom} kept free for the migration tool and people; ` +
    `components/facts/rds-max-connections.ts). Raise ${key(b.classKey)}` +
    (sizeKeys.length > 0 ? `, lower ${sizeKeys.join(" or ")}` : "") +
    `, lower DB_POOL_MAX (components/app-limits.ts), or put RDS Proxy in front of the database`
  );
}

/** Every capacity problem of a parsed configuration; empty when it can work. */
export function capacityProblems(cfg: LadderConfig): string[] {
  const f = featuresAt(cfg.builtStep);
  const { budgets, problems } = connectionBudgets(cfg);
  for (const b of budgets) if (b.total > b.available) problems.push(overBudget(b));

  const mib = (bytes: number) => Math.floor(bytes / 1024 ** 2);
  const nodeTypes = [
    ...(f.cache ? [["cacheNodeType", cfg.cache.nodeType] as const] : []),
    ...(f.redisSessions ? [["sessionNodeType", cfg.sessions.nodeType] as const] : []),
  ];
  for (const [name, nodeType] of nodeTypes) {
    const usable = usableCacheBytes(nodeType);
    if (usable === undefined) {
      problems.push(
        `${key(name)} ${nodeType} has no memory fact in components/facts/elasticache-node-memory.ts (it knows the ` +
          `current Valkey node types: cache.t3, t4g, m5, m6g, m7g, m8g, r5, r6g, r7g, r8g and c7gn); pick one of ` +
          `those or add this one there with its source`,
      );
    } else if (
      name === "cacheNodeType" &&
      cfg.cache.workingSetMb !== undefined &&
      cfg.cache.workingSetMb > mib(usable)
    ) {
      problems.push(
        `${key("cacheWorkingSetMb")} ${cfg.cache.workingSetMb} does not fit ${key("cacheNodeType")} ${nodeType}: ` +
          `it holds ${mib(usable)} MiB of data (maxmemory less the ${RESERVED_MEMORY_PERCENT} % ` +
          `reserved-memory-percent; components/facts/elasticache-node-memory.ts). Pick a larger cacheNodeType or ` +
          `ask for less`,
      );
    }
  }

  const leastVisibility = Math.ceil(WORKER_JOB_TIMEOUT_MS / 1000) + VISIBILITY_MARGIN_SECONDS;
  if (f.queue && cfg.queue.visibilityTimeoutSeconds < leastVisibility) {
    problems.push(
      `${key("queueVisibilityTimeoutSeconds")} must be at least ${leastVisibility}, got ` +
        `${cfg.queue.visibilityTimeoutSeconds}: the worker waits up to ${WORKER_JOB_TIMEOUT_MS / 1000} s on a job ` +
        `(WORKER_JOB_TIMEOUT_MS, components/app-limits.ts), and its message must stay hidden that long and ` +
        `${VISIBILITY_MARGIN_SECONDS} s more, or SQS hands it to a second worker while the first still works on it`,
    );
  }
  return problems;
}
