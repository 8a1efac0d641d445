/**
 * What runs at each step, where: a pure function of the options, so that the launcher, the table it prints, the
 * fault CLI and the tests all agree. Every port is an offset from the entry port, so two topologies with entry
 * ports 300 apart never collide, and a port that is taken can be named before anything starts.
 *
 *   P        entry: the single server (steps 1–2), the load balancer (3–10), the geo router (11)
 *   P+1      the launcher's control endpoint (status, faults, stop, climb)
 *   P+2      HAProxy's statistics page            P+7  HAProxy's runtime API (admin)
 *   P+3      CDN edge (HAProxy cache)             P+4  static origin
 *   P+5      SQS emulator (fauxqs)                P+6  stable PostgreSQL primary endpoint (TCP proxy)
 *   P+8      step 1's own PostgreSQL (`server`, on the web server's host)
 *   P+10     PostgreSQL primary (step 2 on)       P+11… replicas          P+20… order shards
 *   P+40+r   Redis of region r                    P+50+r load balancer of region r (step 11)
 *   P+45+r   sessions' Redis of region r (step 7)
 *   P+100+100r+i  web process i of region r       P+125+100r+i  its spare slot (a climb's replacement)
 *   P+150+100r+i  worker i's health port          P+170+100r+i  its spare slot
 *
 * A climb replaces every app process one at a time: the replacement starts on the process's other slot (the spare
 * port while the current one runs on the first, and back), so both run side by side until the old one has drained.
 * Hence at most {@link MAX_WEB} web processes and {@link MAX_WORKERS} workers per region.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type EnvVar, resolveEnv } from "../../components/app-env";
import { assignBuckets } from "../../components/shard-map";
import { reusePortProblem } from "../../app/src/config";
import { LOCAL_ONLY, LOCAL_RATE_LIMITS, appEnvironment } from "../../stacks/app-environment";
import { type StepFeatures, featuresAt } from "../../stacks/steps";
import { type LocalOptions } from "./options";

/** One PostgreSQL server. */
export interface PgSpec {
  /** `primary`, `replica-1`, `replica-eu-west-1-1`, `shard-0`. */
  name: string;
  port: number;
  dataDir: string;
  logFile: string;
  /** Database the app uses on it. */
  database: string;
}

/** One redis-server. */
export interface RedisSpec {
  /** `redis`, `redis-sessions`, `redis-eu-west-1`, `redis-sessions-eu-west-1`. */
  name: string;
  port: number;
  dir: string;
}

/**
 * Memory of the sessions' Redis, as on AWS (components/cache.ts with `purpose: "sessions"`): `noeviction`, so a full
 * server refuses new sessions (the app answers 503) instead of dropping carts.
 */
export const SESSION_REDIS_MEMORY = { maxmemory: "64mb", policy: "noeviction" } as const;

/** One app process (web or worker). */
export interface ProcessSpec {
  name: string;
  region: string;
  /** Web: HTTP port. Worker: health port. */
  port: number;
  /**
   * The other slot's port, where a climb starts this process's replacement (every web process from step 3, every
   * worker). At steps 1–2 the web server has one port, the entry, which its replacement shares (SO_REUSEPORT).
   */
  spare?: number;
}

/** Web processes per region at most: slots P+100… and their spares P+125… (module comment). */
export const MAX_WEB = 25;
/** Workers per region at most: health ports P+150… and their spares P+170…. */
export const MAX_WORKERS = 20;

/** A region: a copy of the web tier, workers and cache, reading a replica of the catalog. */
export interface RegionPlan {
  /** An AWS region name, for AWS_REGION and the table. */
  name: string;
  /** The first region holds the primary database. */
  primary: boolean;
  /** Load balancer of this region alone (step 11; at 3–10 the entry is the region's load balancer). */
  lbPort?: number;
  /** Read replicas of the catalog this region reads. */
  replicas: PgSpec[];
  /** The product cache (step 5), under the `--cache-*` options. */
  redis?: RedisSpec;
  /** Step 7: the sessions' own Redis, under {@link SESSION_REDIS_MEMORY}: the cache's traffic cannot evict carts. */
  sessionRedis?: RedisSpec;
  web: ProcessSpec[];
  workers: ProcessSpec[];
  /** SQS queue names (step 8). */
  queue?: { name: string; deadLetter: string };
}

/** The whole local topology of one step. */
export interface Plan {
  step: number;
  /** What the step turns on (stacks/steps.ts). */
  features: StepFeatures;
  entryPort: number;
  controlPort: number;
  dataDir: string;
  logDir: string;
  runDir: string;
  /** Step 1: the web server's own PostgreSQL, which the 1 → 2 climb moves into {@link Plan.primary}. */
  server?: PgSpec;
  /** The catalog primary from step 2 (planned at step 1 too, for its port and directory, but not run). */
  primary: PgSpec;
  /** Where the catalog lives at this step: `server` at step 1, `primary` from step 2. */
  catalog: PgSpec;
  /** Stable address of the primary that survives a failover (from step 4, when there is a replica to promote). */
  pgProxyPort?: number;
  shards: PgSpec[];
  regions: RegionPlan[];
  /** HAProxy from step 3: the load balancer (sticky by cookie at 3–6), the CDN edge, the primary proxy. */
  haproxy?: { statsPort: number; adminPort: number; configFile: string; sticky: boolean };
  cdn?: { edgePort: number; originPort: number };
  queue?: { port: number; visibilitySeconds: number };
  /** Step 10: business metrics in EMF on stdout. */
  emf: boolean;
  /** Step 11: continent (X-Geo-Continent) → region; anything else goes to the first region. */
  geo?: Record<string, string>;
  cache?: { maxmemory: string; policy: string; ttlSeconds: number };
  seedProducts: number;
  logLevel: string;
}

/** Region names: the stack's default primary and secondary (stacks/config.ts). */
export const REGIONS = ["us-east-1", "eu-west-1"] as const;

/** The header standing in for geolocation DNS at step 11, and the continents sent to the second region. */
export const GEO_HEADER = "x-geo-continent";
export const SECONDARY_CONTINENTS = ["EU", "AF", "AS"];

/** What answers on the entry port. */
export function entryKind(f: StepFeatures): "geo router" | "load balancer" | "web server" {
  return f.multiRegion ? "geo router" : f.fleet ? "load balancer" : "web server";
}

/** Every port the plan uses, with what uses it, for the "port taken" check. */
export function plannedPorts(plan: Plan): Array<{ port: number; what: string }> {
  const ports: Array<{ port: number; what: string }> = [
    { port: plan.entryPort, what: entryKind(plan.features) },
    { port: plan.controlPort, what: "launcher control" },
    { port: plan.catalog.port, what: `postgres ${plan.catalog.name}` },
  ];
  if (plan.pgProxyPort) ports.push({ port: plan.pgProxyPort, what: "postgres primary proxy" });
  if (plan.haproxy)
    ports.push(
      { port: plan.haproxy.statsPort, what: "haproxy stats" },
      { port: plan.haproxy.adminPort, what: "haproxy admin" },
    );
  if (plan.cdn)
    ports.push({ port: plan.cdn.edgePort, what: "CDN edge" }, { port: plan.cdn.originPort, what: "static origin" });
  if (plan.queue) ports.push({ port: plan.queue.port, what: "fauxqs (SQS)" });
  for (const s of plan.shards) ports.push({ port: s.port, what: `postgres ${s.name}` });
  for (const r of plan.regions) {
    if (r.lbPort && r.lbPort !== plan.entryPort) ports.push({ port: r.lbPort, what: `load balancer ${r.name}` });
    for (const s of r.replicas) ports.push({ port: s.port, what: `postgres ${s.name}` });
    if (r.redis) ports.push({ port: r.redis.port, what: r.redis.name });
    if (r.sessionRedis) ports.push({ port: r.sessionRedis.port, what: r.sessionRedis.name });
    for (const p of [...r.web, ...r.workers]) {
      if (p.port !== plan.entryPort) ports.push({ port: p.port, what: p.name });
      if (p.spare) ports.push({ port: p.spare, what: `${p.name} (spare slot)` });
    }
  }
  return ports;
}

/** The topology of `options.step`; see the module comment. */
export function buildPlan(options: LocalOptions): Plan {
  const { step, port: P, dataDir } = options;
  const f = featuresAt(step);
  const logDir = path.join(dataDir, "logs");
  const pg = (name: string, port: number, database: string): PgSpec => ({
    name,
    port,
    dataDir: path.join(dataDir, "pg", name),
    logFile: path.join(logDir, `postgres-${name}.log`),
    database,
  });
  const regionCount = f.multiRegion ? 2 : 1;
  const regions: RegionPlan[] = [];
  let replicaPort = P + 11;
  for (let r = 0; r < regionCount; r++) {
    const name = REGIONS[r];
    // The first region keeps its names at step 11 (its Redis, queue and processes run on through the 10 → 11
    // climb, as the stack keeps the primary region's URNs); the regions beside it are named after themselves.
    const suffix = r > 0 ? `-${name}` : "";
    const webCount = f.fleet ? options.web : 1;
    const replicaCount = f.replicas ? (r === 0 ? options.replicas : 1) : 0;
    regions.push({
      name,
      primary: r === 0,
      lbPort: f.multiRegion ? P + 50 + r : f.fleet ? P : undefined,
      replicas: Array.from({ length: replicaCount }, (_, i) =>
        pg(r === 0 ? `replica-${i + 1}` : `replica${suffix}-${i + 1}`, replicaPort++, "shop"),
      ),
      redis: f.cache
        ? { name: `redis${suffix}`, port: P + 40 + r, dir: path.join(dataDir, `redis${suffix}`) }
        : undefined,
      sessionRedis: f.redisSessions
        ? {
            name: `redis-sessions${suffix}`,
            port: P + 45 + r,
            dir: path.join(dataDir, `redis-sessions${suffix}`),
          }
        : undefined,
      web: Array.from({ length: webCount }, (_, i) => ({
        name: `web${suffix}-${i + 1}`,
        region: name,
        port: f.fleet ? P + 100 + 100 * r + i : P,
        spare: f.fleet ? P + 125 + 100 * r + i : undefined,
      })),
      workers: f.queue
        ? Array.from({ length: options.workers }, (_, i) => ({
            name: `worker${suffix}-${i + 1}`,
            region: name,
            port: P + 150 + 100 * r + i,
            spare: P + 170 + 100 * r + i,
          }))
        : [],
      queue: f.queue ? { name: `orders${suffix}`, deadLetter: `orders${suffix}-dlq` } : undefined,
    });
  }
  const primary = pg("primary", P + 10, "shop");
  const server = f.separateDatabase ? undefined : pg("server", P + 8, "shop");
  return {
    step,
    features: f,
    entryPort: P,
    controlPort: P + 1,
    dataDir,
    logDir,
    runDir: path.join(dataDir, "run"),
    server,
    primary,
    catalog: server ?? primary,
    pgProxyPort: f.replicas ? P + 6 : undefined,
    shards: f.shards ? Array.from({ length: options.shards }, (_, i) => pg(`shard-${i}`, P + 20 + i, "orders")) : [],
    regions,
    haproxy: f.fleet
      ? {
          statsPort: P + 2,
          adminPort: P + 7,
          configFile: path.join(dataDir, "run", "haproxy.cfg"),
          sticky: !f.redisSessions,
        }
      : undefined,
    cdn: f.cdn ? { edgePort: P + 3, originPort: P + 4 } : undefined,
    queue: f.queue ? { port: P + 5, visibilitySeconds: options.queueVisibilitySeconds } : undefined,
    emf: f.telemetry,
    geo: f.multiRegion ? Object.fromEntries(SECONDARY_CONTINENTS.map((c) => [c, REGIONS[1]])) : undefined,
    cache: f.cache
      ? { maxmemory: options.cacheMaxmemory, policy: options.cachePolicy, ttlSeconds: options.cacheTtlSeconds }
      : undefined,
    seedProducts: options.seedProducts,
    logLevel: options.logLevel,
  };
}

/** Secrets generated once per data directory. */
export interface LocalSecrets {
  /** Superuser `postgres` (the launcher's own connections: replication setup, pg_promote). */
  superuserPassword: string;
  replicationPassword: string;
  /** Role `shop`, which the app connects as. */
  shopPassword: string;
  redisPassword: string;
  adminToken: string;
  sessionSecret: string;
}

/** What is only known once things run: queue URLs. */
export interface Runtime {
  queueUrls: Record<string, string>;
}

const SHOP_USER = "shop";

/**
 * The credentials file of role `shop` (`{"username", "password"}`, the shape of an RDS secret): written by the
 * launcher when the data directory has none, read by the app when it opens a connection; it stands in for Secrets
 * Manager, and a password rotation changes it while the app runs.
 */
export function localCredentialsFile(plan: Pick<Plan, "dataDir">): string {
  return path.join(plan.dataDir, "db-credentials.json");
}

/** The credentials file's first content: the role's password as generated with the data directory. */
export function localCredentials(secrets: Pick<LocalSecrets, "shopPassword">): string {
  return JSON.stringify({ username: SHOP_USER, password: secrets.shopPassword });
}

/**
 * The app's environment of one local process: the contract of stacks/app-environment.ts — the variables a server
 * on AWS gets at this step, for this role — with local values (127.0.0.1, local passwords, the emulator's queue).
 */
export function localAppEnvironment(
  plan: Plan,
  region: RegionPlan,
  proc: ProcessSpec,
  kind: "web" | "worker",
  secrets: LocalSecrets,
  runtime: Runtime,
): EnvVar<string>[] {
  const credentials = { kind: "literal" as const, user: SHOP_USER, password: secrets.shopPassword };
  const at = (port: number) => ({ host: "127.0.0.1", port });
  return appEnvironment<string>(plan.features, kind, {
    listen: { host: "127.0.0.1", port: proc.port },
    logLevel: plan.logLevel,
    region: { kind: "literal", value: region.name },
    processName: { kind: "literal", value: proc.name },
    // From step 4 the primary is reached through the proxy that survives a failover.
    database: {
      primary: at(plan.pgProxyPort ?? plan.catalog.port),
      replicas: region.replicas.map((r) => at(r.port)),
      name: plan.primary.database,
      credentials,
    },
    // Locally a replica is a process that may be stopped by a fault: come back to it soon after it returns.
    replicaCooldownMs: 5000,
    appSecrets: {
      adminToken: { kind: "literal", value: secrets.adminToken },
      sessionSecret: { kind: "literal", value: secrets.sessionSecret },
    },
    cookieSecure: false,
    seedProducts: plan.seedProducts,
    cache:
      region.redis && plan.cache
        ? {
            url: {
              kind: "redis",
              endpoint: at(region.redis.port),
              auth: { kind: "literal", password: secrets.redisPassword },
              tls: false,
            },
            ttlSeconds: plan.cache.ttlSeconds,
          }
        : undefined,
    sessions: region.sessionRedis
      ? {
          url: {
            kind: "redis",
            endpoint: at(region.sessionRedis.port),
            auth: { kind: "literal", password: secrets.redisPassword },
            tls: false,
          },
        }
      : undefined,
    queueUrl: region.queue ? (runtime.queueUrls[region.queue.name] ?? "") : undefined,
    staticBaseUrl: plan.cdn ? `http://127.0.0.1:${plan.cdn.edgePort}/static/` : undefined,
    siteOrigins: plan.cdn ? `http://127.0.0.1:${plan.cdn.edgePort}` : undefined,
    orderShards:
      plan.shards.length > 0
        ? {
            kind: "shardMap",
            // Nothing publishes a map locally: the launcher assigns the buckets as the stack's ShardedDatabase does.
            buckets: { kind: "literal", buckets: assignBuckets(plan.shards.length) },
            // One server per shard locally: the reader is the writer.
            shards: plan.shards.map((s) => ({ name: s.name, writer: at(s.port), reader: at(s.port) })),
            database: plan.shards[0].database,
            credentials,
          }
        : undefined,
    metrics: plan.emf ? { environment: "Local", logGroupName: `/scale-ladder/local/${kind}` } : undefined,
  });
}

/** The whole environment of one local process: the app's ({@link localAppEnvironment}) and the emulator's plumbing. */
export function processEnv(
  plan: Plan,
  region: RegionPlan,
  proc: ProcessSpec,
  kind: "web" | "worker",
  secrets: LocalSecrets,
  runtime: Runtime,
): Record<string, string> {
  const env = resolveEnv(localAppEnvironment(plan, region, proc, kind, secrets, runtime));
  // The role's password is read from the credentials file when a connection opens (app/src/db/credentials.ts), as
  // it would be from its secret: a password changed there and then on the servers needs no restart.
  const credentials = pathToFileURL(localCredentialsFile(plan)).href;
  env.DATABASE_SECRET = credentials;
  if (plan.shards.length > 0) env.ORDER_SHARDS_SECRET = credentials;
  if (kind === "web") Object.assign(env, LOCAL_RATE_LIMITS);
  // On the entry port (steps 1–2) a climb's replacement binds the same port before this server stops listening (the
  // 1 → 2 cutover; HAProxy at 2 → 3): both listen with SO_REUSEPORT, where this Node.js (the app's) has it.
  if (kind === "web" && proc.port === plan.entryPort && reusePortProblem(process.versions.node) === undefined)
    env.LISTEN_REUSE_PORT = "true";
  if (plan.queue && region.queue) {
    const plumbing: Record<keyof typeof LOCAL_ONLY, string> = {
      SQS_ENDPOINT: `http://127.0.0.1:${plan.queue.port}`,
      // The SDK signs every request; the emulator accepts any key.
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_EC2_METADATA_DISABLED: "true",
    };
    Object.assign(env, plumbing);
  }
  return env;
}
