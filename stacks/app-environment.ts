/**
 * The app's environment at a step, for a role: one typed function ({@link appEnvironment}) decides which variables
 * a process gets, with each value's source and the reason it is there. The boot script renders it on AWS
 * (components/user-data.ts via components/app-env.ts), local mode resolves it with local values
 * (scripts/local/plan.ts), the docs list it (scripts/docs), and test/infra/app-environment.test.ts checks it against
 * the app's config schema (app/src/config.ts) and compares what AWS and local mode give.
 *
 * What decides the names is the step's features and the role; what decides the values is the sources, which each
 * mode builds ({@link awsAppEnvironment} here, `localAppEnvironment` in local mode). Where the modes' values differ,
 * {@link LOCAL_DIFFERENCES} says why.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Credentials, EnvValue, EnvVar, PgEndpoint, PgTls } from "../components/app-env";
import { BUSINESS_NAMESPACE, EMF_AGENT_ENDPOINT } from "../components/telemetry-names";
import type { LadderConfig } from "./config";
import { StepFeatures, featuresAt } from "./steps";

/** Which entry point of the release a process runs: `server.js` (the single server, the web fleet) or `worker.js`. */
export type AppRole = "web" | "worker";

/** Port of the app behind the load balancer (steps 3–11); the single server listens on 80. */
export const APP_PORT = 3000;

/** Where the values come from. `T` is `pulumi.Input<string>` on AWS and `string` in local mode. */
export interface EnvSources<T> {
  /** Interface and port of the web server (`HOST`/`PORT`) or of the worker's health listener. */
  listen: { host: string; port: number };
  logLevel: string;
  /** `AWS_REGION`: the instance's region on AWS, the region a local process stands for. */
  region: EnvValue<T>;
  /**
   * `PROCESS_NAME`: which process this is, in its answers' `x-shop-process` header and its figures: the instance id
   * on AWS (stable, and no private address), the process's own name in local mode (`web-1`, `worker-1`).
   */
  processName: EnvValue<T>;
  /** The catalog: the primary (writes), the replicas this process reads, the credentials and TLS of both. */
  database: {
    primary: PgEndpoint<T>;
    replicas: PgEndpoint<T>[];
    name: string;
    credentials: Credentials<T>;
    tls?: PgTls;
  };
  /** How long a failed replica stays out of rotation, ms. */
  replicaCooldownMs: number;
  /** The web tier's secrets. */
  appSecrets: { adminToken: EnvValue<T>; sessionSecret: EnvValue<T> };
  /** Whether browsers reach the site over HTTPS. */
  cookieSecure: boolean;
  seedProducts: number;
  /** Step 5: the cache. */
  cache?: { url: EnvValue<T>; ttlSeconds: number };
  /** Step 7: the sessions' own Redis (`noeviction`), apart from the cache. */
  sessions?: { url: EnvValue<T> };
  /** Step 8: the orders queue. */
  queueUrl?: T;
  /** Step 6: where the storefront links its static files. */
  staticBaseUrl?: T | string;
  /**
   * Step 6: the site's public origin (`https://<domain>`), which the app sees as neither Host nor X-Forwarded-Host
   * behind CloudFront; empty when there is no domain (the distribution's own name is not known before it exists).
   */
  siteOrigins?: string;
  /** Step 9: the order shards. */
  orderShards?: EnvValue<T>;
  /** Step 10: business metrics in the embedded metric format. */
  metrics?: { environment: "Agent" | "Local"; logGroupName: T };
}

/**
 * The app's environment at a step, for a role. Names follow `features` and `role` (and whether there are replicas
 * to read); a source a feature needs and the caller did not give is an error that names it.
 */
export function appEnvironment<T>(features: StepFeatures, role: AppRole, s: EnvSources<T>): EnvVar<T>[] {
  const vars: EnvVar<T>[] = [];
  const add = (name: string, value: EnvValue<T>, why: string) => vars.push({ name, value, why });
  const need = <X>(x: X | undefined, what: string, feature: keyof StepFeatures): X => {
    if (x === undefined)
      throw new Error(`appEnvironment: sources.${what} is required when ${feature} is on (role ${role})`);
    return x;
  };
  const web = role === "web";
  const literal = (value: T | string | number | boolean): EnvValue<T> => ({ kind: "literal", value });

  add("NODE_ENV", literal("production"), "libraries (Fastify, the session stores) run in production mode");
  add(
    "HOST",
    literal(s.listen.host),
    web
      ? "the interface the HTTP server listens on"
      : "the interface of the worker's health listener (no security group admits it on AWS)",
  );
  if (web)
    add(
      "PORT",
      literal(s.listen.port),
      features.fleet ? "the load balancer's target port" : "clients reach the single server on HTTP's port",
    );
  else
    add(
      "WORKER_HEALTH_PORT",
      literal(s.listen.port),
      "the worker's /healthz and /readyz, for whoever checks it on the box",
    );
  add("LOG_LEVEL", literal(s.logLevel), "pino level");
  add(
    "DATABASE_URL",
    {
      kind: "postgres",
      endpoint: s.database.primary,
      database: s.database.name,
      credentials: s.database.credentials,
      tls: s.database.tls,
    },
    features.separateDatabase
      ? "the catalog's primary: every write and every read that must see one"
      : "the catalog on the same box (step 1)",
  );
  if (s.database.credentials.kind === "secret")
    add(
      "DATABASE_SECRET",
      literal(s.database.credentials.secret.arn),
      "the app reads the catalog's password from this secret (its region's replica at step 11) when it opens a " +
        "connection, and again when the password is refused: a rotation needs no restart",
    );
  if (web && s.database.replicas.length > 0) {
    add(
      "DATABASE_REPLICA_URLS",
      {
        kind: "postgresList",
        endpoints: s.database.replicas,
        database: s.database.name,
        credentials: s.database.credentials,
        tls: s.database.tls,
      },
      features.multiRegion ? "reads go to this region's replicas" : "reads that may lag go to the replicas (step 4)",
    );
    add("REPLICA_COOLDOWN_MS", literal(s.replicaCooldownMs), "how long a replica that failed stays out of rotation");
  }
  if (web && features.cache) {
    const cache = need(s.cache, "cache", "cache");
    add("REDIS_URL", cache.url, "cache-aside product reads (step 5)");
    add("CACHE_TTL_SECONDS", literal(cache.ttlSeconds), "lifetime of a cached product read");
  }
  if (web) {
    // Workers serve no HTTP API and sign no cookies: they never get (or read) the app's secrets.
    add("ADMIN_TOKEN", s.appSecrets.adminToken, "bearer token of the catalog's write routes");
    add("SESSION_SECRET", s.appSecrets.sessionSecret, "signs the session cookie; one for every server and region");
    add("COOKIE_SECURE", literal(s.cookieSecure), "session cookies get Secure when browsers reach the site over HTTPS");
    add(
      "TRUST_PROXY",
      literal(features.cdn ? 2 : features.fleet),
      features.cdn
        ? "behind CloudFront and the ALB: the client's address is the one CloudFront appended to X-Forwarded-For"
        : features.fleet
          ? "behind a load balancer: X-Forwarded-* are its own"
          : "clients reach the server directly: their X-Forwarded-* are forgeable",
    );
    add("SEED_PRODUCTS", literal(s.seedProducts), "demo products seeded into an empty catalog");
  }
  add("AWS_REGION", s.region, "region of the SDK clients (the queue), and of the answers' x-shop-region header");
  add("PROCESS_NAME", s.processName, "names the process that answered (x-shop-process) and in its figures");
  if (web && features.fleet) {
    add(
      "SESSION_STORE",
      literal(features.redisSessions ? "redis" : "memory"),
      features.redisSessions
        ? "any server can serve any shopper (step 7)"
        : "sessions stay on one server: the load balancer is sticky",
    );
  }
  if (web && features.redisSessions)
    add(
      "SESSION_REDIS_URL",
      need(s.sessions, "sessions", "redisSessions").url,
      "the sessions' own Redis (noeviction): filling the product cache cannot evict carts (step 7)",
    );
  if (features.queue)
    add(
      "ORDER_QUEUE_URL",
      literal(need(s.queueUrl, "queueUrl", "queue")),
      web ? "checkout hands orders to the queue (step 8)" : "the queue the worker consumes",
    );
  if (web && features.cdn)
    add(
      "STATIC_BASE_URL",
      literal(need(s.staticBaseUrl, "staticBaseUrl", "cdn")),
      "the storefront links its static files through the CDN (step 6)",
    );
  if (web && features.cdn)
    add(
      "SITE_ORIGINS",
      literal(need(s.siteOrigins, "siteOrigins", "cdn")),
      "behind CloudFront the app sees the origin's name as Host: the cross-site check of browsers that send Origin " +
        "but no Sec-Fetch-Site needs the public one (none without a domain: those browsers are refused there)",
    );
  if (features.shards) {
    const shards = need(s.orderShards, "orderShards", "shards");
    add("ORDER_SHARDS", shards, "where each shopper's orders live (step 9)");
    if (shards.kind === "shardMap" && shards.credentials.kind === "secret")
      add(
        "ORDER_SHARDS_SECRET",
        literal(shards.credentials.secret.arn),
        "as DATABASE_SECRET, for the shards' password",
      );
  }
  if (features.telemetry) {
    const m = need(s.metrics, "metrics", "telemetry");
    add(
      "AWS_EMF_ENVIRONMENT",
      literal(m.environment),
      m.environment === "Agent" ? "business metrics go to the CloudWatch agent" : "business metrics go to stdout",
    );
    add("AWS_EMF_AGENT_ENDPOINT", literal(EMF_AGENT_ENDPOINT), "the agent's EMF listener");
    add("AWS_EMF_LOG_GROUP_NAME", literal(m.logGroupName), "the log group the metrics are written to");
    add("AWS_EMF_NAMESPACE", literal(BUSINESS_NAMESPACE), "the namespace the dashboard and alarms read");
  }
  return vars;
}

/** What a region's resources give the environment on AWS (the program passes outputs, the docs placeholders). */
export interface AwsEnvFacts<T = pulumi.Input<string>> {
  /** The catalog database: on the box (step 1) or RDS. */
  database: { kind: "local" } | { kind: "rds"; host: T; port: T | number; dbName: string; secretArn: T };
  /** Replica hostnames this region reads (they share the primary's port, database and credentials). */
  replicaHosts: T[];
  /** The secret with `adminToken` and `sessionSecret`. */
  appSecretsArn: T;
  cache?: { host: T; port: number; secretArn: T };
  /** Step 7: the sessions' Valkey group. */
  sessions?: { host: T; port: number; secretArn: T };
  queueUrl?: T;
  /** The shard map parameter (in `mapRegion`), the credentials, each shard's writer and reader by name. */
  shards?: {
    mapParameterName: T;
    mapRegion: string;
    secretArn: T;
    endpoints: { name: string; writer: T; reader: T }[];
  };
  /** Step 10: the log group of the embedded metrics. */
  metricsLogGroupName?: T;
}

/** The CA bundle the boot script downloads for verified TLS to RDS and Aurora. */
export const RDS_CA_FILE = "/etc/shop/rds-ca.pem";
/** Step 1: where the boot script keeps the on-box database's password. */
export const LOCAL_DB_PASSWORD_FILE = "/etc/shop/local-db-password";
/** Aurora and RDS PostgreSQL listen on 5432. */
const PG_PORT = 5432;

/** The app's environment on AWS at `cfg`'s step, for `role`, from the region's `facts`. */
export function awsAppEnvironment<T>(cfg: LadderConfig, role: AppRole, facts: AwsEnvFacts<T>): EnvVar<T>[] {
  const f = featuresAt(cfg.builtStep);
  const db = facts.database;
  const tls: PgTls = { rootCert: RDS_CA_FILE };
  const credentials: Credentials<T> =
    db.kind === "rds"
      ? { kind: "secret", secret: { arn: db.secretArn, label: "DB" } }
      : { kind: "file", user: "shop", passwordFile: LOCAL_DB_PASSWORD_FILE };
  const appSecret = { arn: facts.appSecretsArn, label: "APP" };
  const shards = facts.shards;
  return appEnvironment<T>(f, role, {
    // A worker listens for health checks on the box only; the web tier for the load balancer (or the world, 1–2).
    listen:
      role === "worker" ? { host: "127.0.0.1", port: APP_PORT } : { host: "0.0.0.0", port: f.fleet ? APP_PORT : 80 },
    logLevel: "info",
    region: { kind: "instanceRegion" },
    processName: { kind: "instanceId" },
    database:
      db.kind === "rds"
        ? {
            primary: { host: db.host, port: db.port },
            replicas: facts.replicaHosts.map((host) => ({ host, port: db.port })),
            name: db.dbName,
            credentials,
            tls,
          }
        : { primary: { host: "127.0.0.1", port: PG_PORT }, replicas: [], name: "shop", credentials },
    replicaCooldownMs: 30_000,
    appSecrets: {
      adminToken: { kind: "secretField", secret: appSecret, field: "adminToken" },
      sessionSecret: { kind: "secretField", secret: appSecret, field: "sessionSecret" },
    },
    // Secure cookies need the app to see HTTPS: behind an ALB that means an HTTPS listener, i.e. a domain. (Without
    // one, CloudFront still serves viewers over HTTPS from step 6, but reaches the ALB over HTTP.)
    cookieSecure: f.fleet && cfg.dns !== undefined,
    seedProducts: cfg.app.seedProducts,
    cache: facts.cache && {
      // rediss: TLS in transit, with the AUTH token ElastiCache requires.
      url: {
        kind: "redis",
        endpoint: { host: facts.cache.host, port: facts.cache.port },
        auth: { kind: "secret", secret: { arn: facts.cache.secretArn, label: "CACHE" }, field: "authToken" },
        tls: true,
      },
      ttlSeconds: cfg.cache.ttlSeconds,
    },
    sessions: facts.sessions && {
      url: {
        kind: "redis",
        endpoint: { host: facts.sessions.host, port: facts.sessions.port },
        auth: { kind: "secret", secret: { arn: facts.sessions.secretArn, label: "SESSIONS" }, field: "authToken" },
        tls: true,
      },
    },
    queueUrl: facts.queueUrl,
    // The CDN serves the site and its /static/ path from one distribution: with a domain the links name it,
    // without one they stay relative (the app's default), which resolves to the distribution's own name.
    staticBaseUrl: f.cdn ? (cfg.dns ? `https://${cfg.dns.domain}/static/` : "/static/") : undefined,
    siteOrigins: f.cdn ? (cfg.dns ? `https://${cfg.dns.domain}` : "") : undefined,
    orderShards: shards && {
      kind: "shardMap",
      buckets: { kind: "ssm", parameterName: shards.mapParameterName, region: shards.mapRegion },
      shards: shards.endpoints.map((e) => ({
        name: e.name,
        writer: { host: e.writer, port: PG_PORT },
        reader: { host: e.reader, port: PG_PORT },
      })),
      database: "orders",
      credentials: { kind: "secret", secret: { arn: shards.secretArn, label: "SHARD" } },
      tls,
    },
    metrics:
      f.telemetry && facts.metricsLogGroupName !== undefined
        ? { environment: "Agent", logGroupName: facts.metricsLogGroupName }
        : undefined,
  });
}

/**
 * The facts a region's resources would give at `cfg`'s step, as placeholders (`<catalog primary endpoint>`): what
 * the docs show and the tests compare, built by the same rules as stacks/region.ts (which resources a step has).
 */
export function placeholderFacts(cfg: LadderConfig, secondary = false): AwsEnvFacts<string> {
  const f = featuresAt(cfg.builtStep);
  const here = secondary ? "this region's" : "the";
  return {
    database: f.separateDatabase
      ? {
          kind: "rds",
          host: "<catalog primary endpoint>",
          port: PG_PORT,
          dbName: "shop",
          secretArn: secondary
            ? "<this region's replica of the catalog credentials secret>"
            : "<catalog credentials secret>",
        }
      : { kind: "local" },
    replicaHosts: secondary
      ? ["<this region's catalog replica>"]
      : f.separateDatabase
        ? Array.from({ length: cfg.database.replicas }, (_, i) => `<catalog replica ${i + 1}>`)
        : [],
    appSecretsArn: secondary ? "<this region's replica of the app secrets>" : "<app secrets>",
    cache: f.cache
      ? { host: `<${here} cache primary endpoint>`, port: 6379, secretArn: `<${here} cache auth secret>` }
      : undefined,
    sessions: f.redisSessions
      ? { host: `<${here} sessions primary endpoint>`, port: 6379, secretArn: `<${here} sessions auth secret>` }
      : undefined,
    queueUrl: f.queue ? `<${here} orders queue URL>` : undefined,
    shards: f.shards
      ? {
          mapParameterName: secondary ? "<this region's copy of the shard map parameter>" : "<shard map parameter>",
          mapRegion: secondary ? cfg.regions.secondaries[0] : cfg.region,
          secretArn: secondary
            ? "<this region's replica of the shard credentials secret>"
            : "<shard credentials secret>",
          endpoints: Array.from({ length: cfg.shards.count }, (_, i) => ({
            name: `shard-${i}`,
            writer: `<shard ${i} writer>`,
            reader: `<${here} shard ${i} reader>`,
          })),
        }
      : undefined,
    metricsLogGroupName: f.telemetry ? `<${here} metrics log group>` : undefined,
  };
}

/**
 * Every local client is 127.0.0.1 (local mode's load balancer and CDN stand-ins are on the machine): the app's
 * per-address rate limits (app/src/http/rate-limit.ts) would count the whole machine, a test's hundred shoppers
 * included, as one client. Local web processes get limits no local run reaches; on AWS each client address gets the
 * app's defaults.
 */
export const LOCAL_RATE_LIMITS: Readonly<Record<string, string>> = {
  RATE_LIMIT_ADMIN_PER_MINUTE: "1000000",
  RATE_LIMIT_CART_PER_MINUTE: "1000000",
  RATE_LIMIT_CHECKOUT_PER_MINUTE: "1000000",
};
const LOCAL_RATE_LIMITS_WHY = Object.fromEntries(
  Object.keys(LOCAL_RATE_LIMITS).map((name) => [
    name,
    "every local client is 127.0.0.1: the per-address limit would count the whole machine as one shopper",
  ]),
);

/**
 * Variables only local mode sets, with why: the web processes' rate limits ({@link LOCAL_RATE_LIMITS}), and the SQS
 * emulator's plumbing. On AWS the SDK finds the endpoint from the
 * queue URL and its credentials through the instance profile, which needs the metadata service.
 */
export const LOCAL_ONLY: Readonly<Record<string, string>> = {
  SQS_ENDPOINT: "the SQS emulator (fauxqs) on 127.0.0.1; on AWS the SDK derives the endpoint from the queue URL",
  AWS_ACCESS_KEY_ID: "the SDK signs every request and the emulator accepts any key; on AWS the instance profile signs",
  AWS_SECRET_ACCESS_KEY: "as AWS_ACCESS_KEY_ID",
  AWS_EC2_METADATA_DISABLED:
    "nothing local may go looking for the instance metadata address; on AWS it gives the credentials",
  DATABASE_SECRET:
    "the launcher's credentials file (a file:/// URL), read at each new connection, stands in for the secret: a " +
    "password rotated there and on the servers needs no restart. On AWS the contract gives the secret's ARN " +
    "(appEnvironment, from credentials kept in a secret); locally the launcher sets it beside the contract",
  ORDER_SHARDS_SECRET: "as DATABASE_SECRET, for the shards",
  LISTEN_REUSE_PORT:
    "the 1 -> 2 climb starts the step-2 server on the port the step-1 server still listens on (both with " +
    "SO_REUSEPORT); on AWS step 2 is a new instance, with the whole port space to itself",
  ...LOCAL_RATE_LIMITS_WHY,
};

/** Variables the runtime reads, not the app's config schema. */
export const RUNTIME_VARIABLES: Readonly<Record<string, string>> = {
  NODE_ENV: "Node libraries (Fastify, the session stores)",
  ...Object.fromEntries(
    Object.keys(LOCAL_ONLY)
      .filter((k) => k.startsWith("AWS_"))
      .map((k) => [k, "the AWS SDK"]),
  ),
};

/** What part of a value may differ between AWS and local mode. */
export type Aspect = "value" | "source" | "host" | "port" | "credentials" | "tls" | "names";

/**
 * Where a variable's value on AWS and in local mode may differ, and why. Anything not listed must be the same at
 * every step and role (test/infra/app-environment.test.ts).
 */
export const LOCAL_DIFFERENCES: Readonly<Record<string, { aspects: Aspect[]; why: string }>> = {
  HOST: {
    aspects: ["value"],
    why:
      "local processes listen on 127.0.0.1 only; " +
      "on AWS the load balancer (or, at steps 1–2, the world) reaches the instance's address",
  },
  PORT: {
    aspects: ["value"],
    why: "every local process has a port of its own on one machine; on AWS each instance has the whole port space",
  },
  WORKER_HEALTH_PORT: {
    aspects: ["value"],
    why: "each local worker has a health port of its own; every worker instance on AWS uses the same one",
  },
  COOKIE_SECURE: {
    aspects: ["value"],
    why: "local mode serves plain HTTP; on AWS with a domain the site is HTTPS from the load balancer on",
  },
  SEED_PRODUCTS: {
    aspects: ["value"],
    why: "local mode seeds 2000 products (--seed-products) to start in seconds; the stack seeds seedProducts",
  },
  REPLICA_COOLDOWN_MS: {
    aspects: ["value"],
    why: "locally a replica is a process a fault stops and starts: it comes back into rotation sooner",
  },
  DATABASE_URL: {
    aspects: ["host", "port", "credentials", "tls"],
    why:
      "local PostgreSQL on 127.0.0.1 with a local password and no TLS; " +
      "on AWS the RDS endpoint, its secret and verified TLS",
  },
  DATABASE_REPLICA_URLS: { aspects: ["host", "port", "credentials", "tls"], why: "as DATABASE_URL" },
  REDIS_URL: {
    aspects: ["host", "port", "credentials", "tls"],
    why: "local redis-server without TLS; on AWS ElastiCache over TLS with the AUTH token from its secret",
  },
  SESSION_REDIS_URL: { aspects: ["host", "port", "credentials", "tls"], why: "as REDIS_URL" },
  ORDER_SHARDS: {
    aspects: ["source", "names", "host", "port", "credentials", "tls"],
    why:
      "locally the launcher assigns the buckets (assignBuckets, as the stack publishes them), names the shards " +
      "shard-<i> and runs one server per shard (reader = writer); on AWS the map comes from SSM and each shard is " +
      "an Aurora cluster",
  },
  ORDER_QUEUE_URL: { aspects: ["value"], why: "the emulator's queue URL; on AWS the SQS queue's" },
  SITE_ORIGINS: {
    aspects: ["value"],
    why: "locally the CDN edge is 127.0.0.1 and a port of its own; on AWS the site's domain",
  },
  STATIC_BASE_URL: {
    aspects: ["value"],
    why: "locally the CDN edge is a port of its own; on AWS the CDN serves the site and /static/ under one name",
  },
  ADMIN_TOKEN: {
    aspects: ["source"],
    why: "locally generated once per data directory; on AWS read from Secrets Manager at every start",
  },
  SESSION_SECRET: { aspects: ["source"], why: "as ADMIN_TOKEN" },
  AWS_REGION: {
    aspects: ["source"],
    why: "the region a local process stands for; on AWS the instance's, from its metadata",
  },
  PROCESS_NAME: {
    aspects: ["source"],
    why: "locally the launcher's name for it (web-1; web-1.b while a climb replaces it); on AWS the instance id",
  },
  AWS_EMF_ENVIRONMENT: {
    aspects: ["value"],
    why: "locally metrics go to stdout (no agent); on AWS to the CloudWatch agent",
  },
  AWS_EMF_LOG_GROUP_NAME: {
    aspects: ["value"],
    why: "locally a name per process kind; on AWS the region's metrics log group",
  },
};

/** The environment a role gets on AWS at `cfg`'s step, from placeholder facts: for the docs and the tests. */
export function awsEnvironmentAt(cfg: LadderConfig, role: AppRole, secondary = false): EnvVar<string>[] {
  return awsAppEnvironment<string>(cfg, role, placeholderFacts(cfg, secondary));
}
