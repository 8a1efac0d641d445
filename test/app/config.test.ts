/** Configuration: parsed once from the environment, failing fast with every bad variable named. */
import { randomBytes } from "node:crypto";
import { ConfigError, loadConfig, loadWorkerConfig } from "../../app/src/config";

const valid = {
  DATABASE_URL: "postgres://shop:s3cret@db.internal:5432/shop?sslmode=verify-full&sslrootcert=/etc/shop/rds-ca.pem",
  ADMIN_TOKEN: "Zq3vN8wLr5Xe2TbK9mYc4HsJ7dGf1Ua6",
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
    LISTEN_REUSE_PORT: false,
    HOST: "0.0.0.0",
    LOG_LEVEL: "info",
    DATABASE_REPLICA_URLS: [],
    DB_POOL_MAX: 10,
    DB_CONNECT_TIMEOUT_MS: 2000,
    DB_QUERY_TIMEOUT_MS: 5000,
    SHUTDOWN_TIMEOUT_MS: 10000,
    REPLICA_COOLDOWN_MS: 30000,
    COOKIE_SECURE: false,
    TRUST_PROXY: 0,
    SEED_PRODUCTS: 10000,
    CACHE_TTL_SECONDS: 60,
    SESSION_STORE: "memory",
    STATIC_BASE_URL: "/static/",
    OUTBOX_RELAY_INTERVAL_MS: 1000,
    SHARD_QUERY_TIMEOUT_MS: 2000,
    REQUEST_TIMEOUT_MS: 10000,
    RATE_LIMIT_ADMIN_PER_MINUTE: 60,
    RATE_LIMIT_CART_PER_MINUTE: 120,
    RATE_LIMIT_CHECKOUT_PER_MINUTE: 20,
    SITE_ORIGINS: [],
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
  [
    "ADMIN_TOKEN",
    "short",
    "ADMIN_TOKEN: must be at least 32 characters (got 5); generate one with `openssl rand -base64 32`",
  ],
  ["REQUEST_TIMEOUT_MS", "500", "REQUEST_TIMEOUT_MS: must be at least 1000"],
  ["RATE_LIMIT_CHECKOUT_PER_MINUTE", "-1", "RATE_LIMIT_CHECKOUT_PER_MINUTE: must be a whole number"],
  [
    "SITE_ORIGINS",
    "https://shop.example.com/shop",
    "SITE_ORIGINS[0]: must be an origin such as https://shop.example.com",
  ],
  ["SITE_ORIGINS", "ftp://shop.example.com", "SITE_ORIGINS[0]: must be an origin such as https://shop.example.com"],
  ["SESSION_SECRET", "x".repeat(31), "SESSION_SECRET: must be at least 32 characters"],
  ["COOKIE_SECURE", "maybe", "COOKIE_SECURE: must be true or false"],
  ["TRUST_PROXY", "all", "TRUST_PROXY: must be true, false or a number of proxies from 0 to 9"],
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

test("SITE_ORIGINS: comma-separated origins, a final / dropped", () => {
  expect(
    loadConfig({ ...valid, SITE_ORIGINS: "https://shop.example.com/, https://d111111abcdef8.cloudfront.net" })
      .SITE_ORIGINS,
  ).toEqual(["https://shop.example.com", "https://d111111abcdef8.cloudfront.net"]);
});

test.each([
  ["false", 0],
  ["0", 0],
  ["true", 1],
  ["1", 1],
  ["2", 2],
])("TRUST_PROXY=%s believes %s proxies", (value, hops) => {
  expect(loadConfig({ ...valid, TRUST_PROXY: value }).TRUST_PROXY).toBe(hops);
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

test("PROCESS_NAME is a short name (the x-shop-process header), never an address with a port or spaces", () => {
  expect(loadConfig({ ...valid, PROCESS_NAME: "web-eu-west-1-1" }).PROCESS_NAME).toBe("web-eu-west-1-1");
  expect(loadWorkerConfig({ DATABASE_URL: valid.DATABASE_URL, PROCESS_NAME: "i-0123456789abcdef0" }).PROCESS_NAME).toBe(
    "i-0123456789abcdef0",
  );
  for (const bad of ["web 1", "10.0.1.7:3000", "-web", "x".repeat(64)])
    expect(problemsOf({ ...valid, PROCESS_NAME: bad })).toEqual([
      "PROCESS_NAME: must be a short name such as web-1 or i-0123456789abcdef0",
    ]);
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

test.each([
  ["one character repeated", "a".repeat(40), 0],
  ["a word repeated", "password".repeat(4), 88],
  ["a phrase repeated", "changeme-".repeat(4), 106],
  ["a hex word repeated", "deadbeef".repeat(4), 68],
])("ADMIN_TOKEN made of %s is refused for its entropy, naming the rule, never the token", (_what, token, bits) => {
  const problems = problemsOf({ ...valid, ADMIN_TOKEN: token });
  expect(problems).toEqual([
    `ADMIN_TOKEN: must be random: at least 128 bits of entropy (got about ${bits}: too few distinct or too many ` +
      "repeated characters); generate one with `openssl rand -base64 32`",
  ]);
  expect(problems[0]).not.toContain(token);
});

test("ADMIN_TOKEN: every token made as the docs, the stack and local mode make them passes the rule", () => {
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const makers = {
    "openssl rand -base64 32": () => randomBytes(32).toString("base64"),
    "openssl rand -hex 32 (local mode)": () => randomBytes(32).toString("hex"),
    "40 letters and digits (components/app-secrets.ts)": () =>
      Array.from(randomBytes(40), (byte) => letters[byte % letters.length]).join(""),
  };
  for (const [how, make] of Object.entries(makers)) {
    for (let i = 0; i < 2000; i++) {
      const token = make();
      expect({ how, problems: problemsIn({ ...valid, ADMIN_TOKEN: token }) }).toEqual({ how, problems: [] });
    }
  }
});

/** The problems of `env`, none when it loads. */
function problemsIn(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    return (error as ConfigError).problems;
  }
}
