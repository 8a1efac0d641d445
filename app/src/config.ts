/**
 * The shop's configuration: every setting comes from the environment, is parsed once at start-up by the schemas
 * below, and is then passed down as a plain object. Nothing else in the app reads `process.env`.
 *
 * To add a variable: add one field to the group it belongs to (shared, server or worker) and one row to
 * app/README.md. Empty values (`FOO=` in an env file) count as unset, so a default applies.
 */
import { z } from "zod";
import { shardMapField } from "./shards/shard-map";
import { isPostgresUrl } from "./db/postgres-url";
import { type CredentialLocation, parseCredentialLocation } from "./db/credentials";
import { adminTokenProblem } from "../../components/admin-token";
import { DB_POOL_MAX_DEFAULT } from "../../components/app-limits";

/** The log levels pino knows, plus `silent`. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const required = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : `must be ${what}`),
});

/** A whole number within [min, max], written in decimal digits. */
function wholeNumber(min: number, max: number) {
  return z
    .string(required("a whole number"))
    .regex(/^\d+$/, { error: "must be a whole number" })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );
}

/** A port number; 0 lets the OS pick a free one (tests use it). */
const port = () => wholeNumber(0, 65535);

/** `true`/`false` (also 1/0, yes/no, on/off, any case). */
const flag = () =>
  z.stringbool({
    truthy: ["true", "1", "yes", "on"],
    falsy: ["false", "0", "no", "off"],
    error: "must be true or false",
  });

/**
 * How many proxies in front of the server to believe in X-Forwarded-For (and -Proto, -Host): `false` (0, clients
 * connect directly), `true` (1: the load balancer) or a number (2: CloudFront, then the ALB). Each proxy appends the
 * address it saw, so the client's is the one the outermost trusted proxy appended; anything to its left came from the
 * client and is ignored. Trusting every hop (Fastify's `true`) would take the leftmost, which the client writes: one
 * made-up address per request would escape the per-address rate limits.
 */
const proxyHops = () =>
  z.string().transform((value, context) => {
    const lower = value.toLowerCase();
    if (/^\d$/.test(value)) return Number(value);
    if (["true", "yes", "on"].includes(lower)) return 1;
    if (["false", "no", "off"].includes(lower)) return 0;
    context.addIssue({ code: "custom", message: "must be true, false or a number of proxies from 0 to 9" });
    return z.NEVER;
  });

/**
 * A PostgreSQL URL, kept exactly as given: pg parses it, including `sslmode=verify-full&sslrootcert=/path` on AWS.
 * Error messages never repeat the value, since it may hold a password.
 */
const postgresUrl = () =>
  z
    .string(required("a postgres:// URL"))
    .refine(isPostgresUrl, { error: "must be a postgres:// or postgresql:// URL" });

/** A comma-separated list; blanks around commas and empty items are ignored. */
const commaList = () =>
  z.string().transform((value) =>
    value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== ""),
  );

/** Comma-separated PostgreSQL URLs. */
const postgresUrlList = () =>
  commaList().pipe(z.array(z.string().refine(isPostgresUrl, { error: "must be a postgres:// or postgresql:// URL" })));

/**
 * Where database credentials live (db/credentials.ts): a Secrets Manager secret's ARN (AWS), or a `file:///` URL
 * of a JSON `{username, password}` (local mode).
 */
const credentialLocation = () =>
  z.string().transform((value, context): CredentialLocation => {
    const parsed = parseCredentialLocation(value);
    if (typeof parsed !== "string") return parsed;
    context.addIssue({ code: "custom", message: parsed });
    return z.NEVER;
  });

/** An http:// or https:// URL (the SQS queue, an emulator's endpoint). */
const httpUrl = () =>
  z.string().refine(
    (value) => {
      try {
        return ["http:", "https:"].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { error: "must be an http:// or https:// URL" },
  );

/** A Redis URL: `redis://` or, with TLS, `rediss://`; the AUTH token goes in the password
 * (`rediss://:<token>@host:6379`). */
const redisUrl = () =>
  z.string().refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === "redis:" || url.protocol === "rediss:") && url.hostname !== "";
      } catch {
        return false;
      }
    },
    { error: "must be a redis:// or rediss:// URL" },
  );

/** Where the storefront's static files are: an absolute path (`/static/`) or an http(s) URL, always ending in `/`. */
const staticBaseUrl = () =>
  z
    .string()
    .refine((value) => /^\/(?!\/)/.test(value) || /^https?:\/\/[^/\s]+(\/\S*)?$/.test(value), {
      error: "must be a path starting with / or an http(s):// URL",
    })
    .transform((value) => (value.endsWith("/") ? value : `${value}/`));

/** Comma-separated web origins (`https://shop.example.com`: scheme, host and port only), kept as `URL.origin` writes
 * them. */
const originList = () =>
  commaList().pipe(
    z.array(
      z.string().transform((value, context) => {
        try {
          const url = new URL(value);
          if ((url.protocol === "http:" || url.protocol === "https:") && url.origin === value.replace(/\/$/, ""))
            return url.origin;
        } catch {
          // reported below
        }
        context.addIssue({ code: "custom", message: "must be an origin such as https://shop.example.com" });
        return z.NEVER;
      }),
    ),
  );

/** Settings both entry points (server.js and worker.js) read. */
const sharedFields = {
  /** Interface to listen on. */
  HOST: z.string().min(1).default("0.0.0.0"),
  /** pino level. */
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  /** The primary database: every write and every read that must see a write. */
  DATABASE_URL: postgresUrl(),
  /** Where the catalog's password is read each time a connection opens, and again when the server refuses it
   * (db/credentials.ts); it replaces the password of DATABASE_URL and DATABASE_REPLICA_URLS. Unset, the URLs'. */
  DATABASE_SECRET: credentialLocation().optional(),
  /** Most connections one pool (primary, one replica, one shard) opens. The stack's connection check counts on the
   * default (components/app-limits.ts); the stack does not set it. */
  DB_POOL_MAX: wholeNumber(1, 1000).default(DB_POOL_MAX_DEFAULT),
  /** How long to wait for a new database connection before calling the target unreachable. */
  DB_CONNECT_TIMEOUT_MS: wholeNumber(100, 600_000).default(2000),
  /** How long to wait for a query's answer before calling the target unreachable. */
  DB_QUERY_TIMEOUT_MS: wholeNumber(100, 600_000).default(5000),
  /** After SIGTERM, how long in-flight work may take before the process exits anyway (with code 1). */
  SHUTDOWN_TIMEOUT_MS: wholeNumber(0, 600_000).default(10_000),
  /** Step 8: the orders queue. Set, checkout answers 202 `pending` and the worker confirms; unset, checkout is
   * synchronous. */
  ORDER_QUEUE_URL: httpUrl().optional(),
  /** Region of the queue; unset, it is read from the queue URL's host (`sqs.<region>.amazonaws.com`). */
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: "must be an AWS region such as us-east-1" })
    .optional(),
  /**
   * Which process this is, in its answers' `x-shop-process` header: the instance id on AWS, the launcher's name in
   * local mode (`web-1`). Unset, the header is left out (a host name on EC2 is the private address).
   */
  PROCESS_NAME: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { error: "must be a short name such as web-1 or i-0123456789abcdef0" })
    .optional(),
  /** Endpoint of an SQS emulator (local runs and tests); unset on AWS. */
  SQS_ENDPOINT: httpUrl().optional(),
  /** An endpoint speaking the Secrets Manager API on this machine (tests), for DATABASE_SECRET and
   * ORDER_SHARDS_SECRET ARNs; unset on AWS. */
  SECRETS_MANAGER_ENDPOINT: httpUrl().optional(),
  /** Step 9: the order shard map, JSON `{ buckets: [256 shard indexes], shards: [{ name, url, readerUrl }] }`. */
  ORDER_SHARDS: shardMapField().optional(),
  /** As DATABASE_SECRET, for every shard of ORDER_SHARDS. */
  ORDER_SHARDS_SECRET: credentialLocation().optional(),
  /** Step 10: where business metrics go (embedded metric format): `Agent` (CloudWatch agent) or `Local` (stdout);
   * unset, none are emitted. */
  AWS_EMF_ENVIRONMENT: z.enum(["Agent", "Local"], { error: "must be Agent or Local" }).optional(),
  /** The CloudWatch agent's EMF listener. */
  AWS_EMF_AGENT_ENDPOINT: z
    .string()
    .regex(/^(tcp|udp):\/\/[^\s/:]+:\d{1,5}$/, { error: "must look like tcp://127.0.0.1:25888" })
    .default("tcp://127.0.0.1:25888"),
  /** Log group the agent writes EMF records to. */
  AWS_EMF_LOG_GROUP_NAME: z.string().min(1).optional(),
  /** CloudWatch namespace of the business metrics. */
  AWS_EMF_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9./#:_-]{1,255}$/, { error: "must be a CloudWatch namespace" })
    .default("ScaleLadder/Shop"),
};

/** Settings of the HTTP server. */
const serverFields = {
  /** TCP port of the HTTP server. */
  PORT: port().default(3000),
  /** Listen with SO_REUSEPORT, so that a replacement can bind the port before this server stops listening (local
   * mode's 1 -> 2 climb, http/write-fence.ts). Needs Node.js 22.12 or later ({@link reusePortProblem}). */
  LISTEN_REUSE_PORT: flag().default(false),
  /** Read replicas; empty means every read goes to the primary. */
  DATABASE_REPLICA_URLS: postgresUrlList().default([]),
  /** How long a replica that failed stays out of the rotation. */
  REPLICA_COOLDOWN_MS: wholeNumber(0, 3_600_000).default(30_000),
  /** Bearer token of the admin routes: long and random (components/admin-token.ts). */
  ADMIN_TOKEN: z.string(required("a string")).superRefine((token, context) => {
    const problem = adminTokenProblem(token);
    if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
  }),
  /** Key that signs the session cookie. */
  SESSION_SECRET: z.string(required("a string")).min(32, { error: "must be at least 32 characters" }),
  /** Mark the session cookie `Secure`: set it when browsers reach the shop over HTTPS. */
  COOKIE_SECURE: flag().default(false),
  /** Proxies in front whose X-Forwarded-* headers are believed: 0 (clients connect directly), 1 (the ALB), 2
   * (CloudFront and the ALB). */
  TRUST_PROXY: proxyHops().default(0),
  /** Products the seed writes into an empty catalog; 0 for none. */
  SEED_PRODUCTS: wholeNumber(0, 1_000_000).default(10_000),
  /** Step 5: Redis (ElastiCache). Set, public product reads are cached there (and sessions may live there). */
  REDIS_URL: redisUrl().optional(),
  /** Lifetime of a cached product read, give or take 10 %; 0 turns the cache off. */
  CACHE_TTL_SECONDS: wholeNumber(0, 86_400).default(60),
  /** Where sessions live: `memory` (this process) or `redis` (step 7: any server can serve any shopper). */
  SESSION_STORE: z.enum(["memory", "redis"], { error: "must be memory or redis" }).default("memory"),
  /** Step 7: the sessions' own Redis (`noeviction`), which product-cache traffic cannot push carts out of; unset,
   * SESSION_STORE=redis uses REDIS_URL (and the cache's eviction policy then reaches the sessions). */
  SESSION_REDIS_URL: redisUrl().optional(),
  /** Base of the storefront's script, stylesheet and image links: the app's `/static/`, or the CDN's (step 6). */
  STATIC_BASE_URL: staticBaseUrl().default("/static/"),
  /** How often the outbox relay looks for orders not yet sent to the queue (besides right after each checkout). */
  OUTBOX_RELAY_INTERVAL_MS: wholeNumber(10, 600_000).default(1000),
  /** How long the admin's cross-shard views wait for one shard before reporting it unavailable. */
  SHARD_QUERY_TIMEOUT_MS: wholeNumber(50, 600_000).default(2000),
  /** How long a client may take to send a whole request, headers and body, before it gets a 408 (http/timeouts.ts). */
  REQUEST_TIMEOUT_MS: wholeNumber(1000, 600_000).default(10_000),
  /** Admin requests (any route, any token) per client address per minute; 0 turns it off (http/rate-limit.ts). */
  RATE_LIMIT_ADMIN_PER_MINUTE: wholeNumber(0, 1_000_000).default(60),
  /** Cart writes (add, remove) per client address per minute; 0 turns the limit off. */
  RATE_LIMIT_CART_PER_MINUTE: wholeNumber(0, 1_000_000).default(120),
  /** Checkouts per client address per minute; 0 turns the limit off. */
  RATE_LIMIT_CHECKOUT_PER_MINUTE: wholeNumber(0, 1_000_000).default(20),
  /** Public origins of the site besides the request's own host, for the CSRF check of old browsers (http/csrf.ts). */
  SITE_ORIGINS: originList().default([]),
};

/** Settings of the background worker. */
const workerFields = {
  /** Port of the worker's /healthz and /readyz; unset means no HTTP listener at all. */
  WORKER_HEALTH_PORT: port().optional(),
  /** Messages one receive asks for (SQS allows 1-10); they are processed concurrently. */
  WORKER_BATCH_SIZE: wholeNumber(1, 10).default(10),
  /** Long-poll wait of one receive, in seconds (0-20). */
  WORKER_WAIT_SECONDS: wholeNumber(0, 20).default(20),
  /** Sharded checkout: a stock reservation still unresolved after this long is settled by the worker. */
  RESERVATION_TIMEOUT_MS: wholeNumber(1000, 86_400_000).default(120_000),
};

/**
 * A secret is read in the server's own region: at step 11 a secondary region's servers get their region's replica of
 * each secret, so that they read nothing from a primary region that may be down. An ARN of another region is a
 * deployment mistake that would only show when that region fails; refused at start instead.
 */
function secretsInOwnRegion(
  config: { AWS_REGION?: string; DATABASE_SECRET?: CredentialLocation; ORDER_SHARDS_SECRET?: CredentialLocation },
  context: z.RefinementCtx,
): void {
  for (const name of ["DATABASE_SECRET", "ORDER_SHARDS_SECRET"] as const) {
    const location = config[name];
    if (location?.kind !== "secretsManager" || config.AWS_REGION === undefined) continue;
    if (location.region !== config.AWS_REGION) {
      const message =
        `names a secret in ${location.region}, but AWS_REGION is ${config.AWS_REGION}: ` +
        "give the ARN of this region's replica of the secret";
      context.addIssue({ code: "custom", path: [name], message });
    }
  }
}

/** The server's environment schema (server.js and {@link buildApp}). */
export const configSchema = z.object({ ...sharedFields, ...serverFields }).superRefine((config, context) => {
  secretsInOwnRegion(config, context);
  if (config.SESSION_STORE === "redis" && config.SESSION_REDIS_URL === undefined && config.REDIS_URL === undefined) {
    const message = "redis needs SESSION_REDIS_URL or REDIS_URL";
    context.addIssue({ code: "custom", path: ["SESSION_STORE"], message });
  }
});
/** The worker's environment schema: the shared settings and its own, no secrets it does not use. */
export const workerConfigSchema = z.object({ ...sharedFields, ...workerFields }).superRefine(secretsInOwnRegion);

/** The server's parsed configuration. */
export type AppConfig = z.infer<typeof configSchema>;
/** The worker's parsed configuration. */
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

/** Thrown when the environment does not satisfy the schema; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(
    /** One entry per bad variable, e.g. `ADMIN_TOKEN: must be at least 16 characters`. */
    public readonly problems: string[],
  ) {
    super(`Invalid configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

function parseWith<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && value !== "") present[name] = value;
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const [name, ...rest] = issue.path.map(String);
      return `${name}${rest.length ? `[${rest.join(".")}]` : ""}: ${issue.message}`;
    }),
  );
}

/**
 * Why `nodeVersion` (`process.versions.node`, e.g. `22.12.0`) cannot listen with SO_REUSEPORT, or undefined when
 * it can. Node.js hands `reusePort` to the socket from 22.12 (and 23.1); older versions ignore the option without a
 * word, so a replacement's bind would fail with EADDRINUSE in the middle of a climb instead of at start.
 */
export function reusePortProblem(nodeVersion: string): string | undefined {
  const [major, minor] = nodeVersion.split(".").map(Number);
  const supported = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
  return supported ? undefined : `needs Node.js 22.12 or later (23.1 or later on 23); this is ${nodeVersion}`;
}

/**
 * Parses the server's configuration from `env` (default `process.env`), for the Node.js of version `nodeVersion`
 * (default: the one running; tests name others).
 * @throws {ConfigError} naming each missing or invalid variable; values are never echoed.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, nodeVersion = process.versions.node): AppConfig {
  const config = parseWith(configSchema, env);
  const reusePort = config.LISTEN_REUSE_PORT ? reusePortProblem(nodeVersion) : undefined;
  if (reusePort !== undefined) throw new ConfigError([`LISTEN_REUSE_PORT: ${reusePort}`]);
  return config;
}

/**
 * Parses the worker's configuration from `env` (default `process.env`).
 * @throws {ConfigError} naming each missing or invalid variable.
 */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return parseWith(workerConfigSchema, env);
}
