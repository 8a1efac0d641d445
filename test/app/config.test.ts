/** Configuration: parsed once from the environment, failing fast with every bad variable named. */
import { ConfigError, loadConfig, loadWorkerConfig } from "../../app/src/config";

const valid = {
  DATABASE_URL: "postgres://shop:s3cret@db.internal:5432/shop?sslmode=verify-full&sslrootcert=/etc/shop/rds-ca.pem",
  ADMIN_TOKEN: "a".repeat(16),
  SESSION_SECRET: "s".repeat(32),
};

function problemsOf(env: NodeJS.ProcessEnv, load: (env: NodeJS.ProcessEnv) => unknown = loadConfig): string[] {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

test("defaults fill everything but the three required variables", () => {
  expect(loadConfig(valid)).toEqual({
    ...valid,
    PORT: 3000,
    HOST: "0.0.0.0",
    LOG_LEVEL: "info",
    DATABASE_REPLICA_URLS: [],
    DB_POOL_MAX: 10,
    DB_CONNECT_TIMEOUT_MS: 2000,
    DB_QUERY_TIMEOUT_MS: 5000,
    SHUTDOWN_TIMEOUT_MS: 10000,
    REPLICA_COOLDOWN_MS: 30000,
    COOKIE_SECURE: false,
    TRUST_PROXY: false,
    SEED_PRODUCTS: 10000,
    CACHE_TTL_SECONDS: 60,
    SESSION_STORE: "memory",
    STATIC_BASE_URL: "/static/",
    OUTBOX_RELAY_INTERVAL_MS: 1000,
    SHARD_QUERY_TIMEOUT_MS: 2000,
    AWS_EMF_AGENT_ENDPOINT: "tcp://127.0.0.1:25888",
    AWS_EMF_NAMESPACE: "ScaleLadder/Shop",
  });
});

test("DATABASE_URL is kept exactly as given, TLS parameters included", () => {
  expect(loadConfig(valid).DATABASE_URL).toBe(valid.DATABASE_URL);
});

test("an empty environment names each required variable", () => {
  expect(problemsOf({})).toEqual([
    "DATABASE_URL: is required",
    "ADMIN_TOKEN: is required",
    "SESSION_SECRET: is required",
  ]);
});

test("an empty value counts as unset", () => {
  expect(loadConfig({ ...valid, PORT: "", LOG_LEVEL: "" })).toMatchObject({ PORT: 3000, LOG_LEVEL: "info" });
  expect(problemsOf({ ...valid, ADMIN_TOKEN: "" })).toEqual(["ADMIN_TOKEN: is required"]);
});

test.each([
  ["PORT", "http", "PORT: must be a whole number"],
  ["PORT", "70000", "PORT: must be at most 65535"],
  ["PORT", "-1", "PORT: must be a whole number"],
  ["DATABASE_URL", "mysql://db/shop", "DATABASE_URL: must be a postgres:// or postgresql:// URL"],
  ["DATABASE_URL", "not a url", "DATABASE_URL: must be a postgres:// or postgresql:// URL"],
  [
    "DATABASE_REPLICA_URLS",
    "postgres://r1/shop,redis://r2",
    "DATABASE_REPLICA_URLS[1]: must be a postgres:// or postgresql:// URL",
  ],
  ["ADMIN_TOKEN", "short", "ADMIN_TOKEN: must be at least 16 characters"],
  ["SESSION_SECRET", "x".repeat(31), "SESSION_SECRET: must be at least 32 characters"],
  ["COOKIE_SECURE", "maybe", "COOKIE_SECURE: must be true or false"],
  ["LOG_LEVEL", "loud", "LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent"],
  ["SEED_PRODUCTS", "1e4", "SEED_PRODUCTS: must be a whole number"],
  ["DB_POOL_MAX", "0", "DB_POOL_MAX: must be at least 1"],
  ["REPLICA_COOLDOWN_MS", "soon", "REPLICA_COOLDOWN_MS: must be a whole number"],
])("%s=%s fails naming the variable", (name, value, problem) => {
  expect(problemsOf({ ...valid, [name]: value })).toEqual([problem]);
});

test("every bad variable is reported at once, and no value is echoed", () => {
  const problems = problemsOf({
    DATABASE_URL: "mysql://root:hunter2@db/shop",
    ADMIN_TOKEN: "hunter2",
    SESSION_SECRET: "hunter2",
    PORT: "x",
  });
  expect(problems.map((problem) => problem.split(":")[0]).sort()).toEqual([
    "ADMIN_TOKEN",
    "DATABASE_URL",
    "PORT",
    "SESSION_SECRET",
  ]);
  expect(problems.join("\n")).not.toContain("hunter2");
});

test("replica URLs are split on commas, blanks ignored", () => {
  expect(
    loadConfig({ ...valid, DATABASE_REPLICA_URLS: " postgres://r1/shop , postgresql://r2/shop ,," })
      .DATABASE_REPLICA_URLS,
  ).toEqual(["postgres://r1/shop", "postgresql://r2/shop"]);
});

test.each([
  ["true", true],
  ["TRUE", true],
  ["1", true],
  ["yes", true],
  ["false", false],
  ["0", false],
  ["off", false],
])("COOKIE_SECURE=%s is %s", (value, expected) => {
  expect(loadConfig({ ...valid, COOKIE_SECURE: value }).COOKIE_SECURE).toBe(expected);
});

test("variables the app does not know (NODE_ENV, AWS_REGION) are ignored", () => {
  expect(loadConfig({ ...valid, NODE_ENV: "production", AWS_REGION: "us-east-1" })).not.toHaveProperty("NODE_ENV");
});

test("the worker needs only DATABASE_URL, not the server's secrets", () => {
  const worker = loadWorkerConfig({ DATABASE_URL: valid.DATABASE_URL });
  expect(worker.DATABASE_URL).toBe(valid.DATABASE_URL);
  expect(worker.WORKER_HEALTH_PORT).toBeUndefined();
  expect(loadWorkerConfig({ DATABASE_URL: valid.DATABASE_URL, WORKER_HEALTH_PORT: "9100" }).WORKER_HEALTH_PORT).toBe(
    9100,
  );
  expect(problemsOf({}, loadWorkerConfig)).toEqual(["DATABASE_URL: is required"]);
});
