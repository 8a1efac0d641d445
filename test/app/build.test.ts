/**
 * The release artifact: `npm run build`, then dist/shop.tgz unpacked far from node_modules and run with plain
 * `node server.js` / `node worker.js` against the test cluster, as a fresh host would run it: ready, serving,
 * and a clean exit 0 on SIGTERM after finishing the request in flight.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { Client } from "pg";
import { httpRequest } from "./support/http-client";
import { pollUntil } from "../../lib/servers/poll";
import { clientFor, freePort, readCluster } from "../../lib/servers/postgres-cluster";
import { secretArn, startSecretsManagerEndpoint } from "./support/secrets-manager-endpoint";
import { Shopper } from "./support/shopper";
import { ADMIN_TOKEN, testLogger } from "./support/test-app";
import { testPool } from "./support/test-pool";
import { prepareDatabase } from "../../app/src/db/prepare";
import { MIGRATIONS_DIR } from "../../app/src/paths";
import { type SuiteDatabase, createSuiteDatabase, lockReplica, waitForReplica } from "./support/test-database";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS helper of the build scripts, without types
const { lineMappings } = require("../../scripts/source-map-lines.cjs") as { lineMappings(mappings: string): string };

const ROOT = path.resolve(__dirname, "../..");
const ARTIFACT = path.join(ROOT, "dist", "shop.tgz");

let db: SuiteDatabase;
let unlock: () => Promise<void>;
let releaseDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  unlock = await lockReplica(await readCluster(), "shared");
  db = await createSuiteDatabase("build");
  execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "pipe" });
  releaseDir = await mkdtemp(path.join(os.tmpdir(), "shop-release-"));
  execFileSync("tar", ["-xzf", ARTIFACT, "-C", releaseDir]);
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  if (releaseDir) await rm(releaseDir, { recursive: true, force: true });
  await db?.drop();
  await unlock?.();
});

/** A process of the release, its JSON log lines collected as they come. */
interface Running {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  /** Resolves with the first log line whose msg is `msg`. */
  waitFor(msg: string): Promise<Record<string, unknown>>;
  exit: Promise<number | null>;
}

function run(entry: "server.js" | "worker.js", env: Record<string, string>, nodeArgs: string[] = []): Running {
  // Only PATH from this environment: nothing from the test run (NODE_PATH, NODE_OPTIONS) may help the bundle.
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    cwd: releaseDir,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ msg: string; resolve: (line: Record<string, unknown>) => void }> = [];
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout! }).on("line", (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.msg === line.msg)) waiter.resolve(line);
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    lines,
    exit,
    waitFor: (msg) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((line) => line.msg === msg);
        if (seen) return resolve(seen);
        waiters.push({ msg, resolve });
        void exit.then((code) =>
          reject(new Error(`${entry} exited (${code}) before logging "${msg}": ${JSON.stringify(lines)} ${stderr}`)),
        );
      }),
  };
}

test("npm run build makes a self-contained release: bundles, migrations, static files, package.json, shop.tgz", () => {
  for (const file of [
    "server.js",
    "worker.js",
    "data-migrations.js",
    "package.json",
    "migrations/0001_catalog.sql",
    "migrations/0002_orders.sql",
    "static/index.html",
  ]) {
    expect(existsSync(path.join(ROOT, "dist", "app", file))).toBe(true);
  }
  // The storefront's other files are there under content-hashed names only (static.test.ts checks the hashing).
  const staticFiles = readdirSync(path.join(ROOT, "dist", "app", "static"));
  expect(staticFiles).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^app\.[0-9a-f]{12}\.js$/),
      expect.stringMatching(/^style\.[0-9a-f]{12}\.css$/),
    ]),
  );
  expect(staticFiles).not.toContain("app.js");
  expect(JSON.parse(readFileSync(path.join(ROOT, "dist", "app", "package.json"), "utf8")).type).toBe("commonjs");
  const listing = execFileSync("tar", ["-tzf", ARTIFACT], { encoding: "utf8" }).split("\n");
  expect(listing).toEqual(
    expect.arrayContaining([
      "./server.js",
      "./worker.js",
      "./data-migrations.js",
      "./migrations/0001_catalog.sql",
      "./static/index.html",
      "./package.json",
    ]),
  );
  // The tests below run the release from a temp directory with no node_modules anywhere above it.
  for (let dir = releaseDir; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    expect(existsSync(path.join(dir, "node_modules"))).toBe(false);
  }
});

test("the built server migrates, seeds, gets ready; on SIGTERM it ends the request in flight, exit 0", async () => {
  const server = run("server.js", {
    DATABASE_URL: db.primaryUrl,
    DATABASE_REPLICA_URLS: db.replicaUrl,
    ADMIN_TOKEN,
    SESSION_SECRET: "release-test-session-secret-0123456789",
    HOST: "127.0.0.1",
    PORT: "0",
  });
  const ready = await server.waitFor("server ready");
  const url = ready.address as string;
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(server.lines.map((line) => line.msg)).toEqual(expect.arrayContaining(["migration applied", "catalog seeded"]));
  expect(server.lines.find((line) => line.msg === "catalog seeded")).toMatchObject({
    products: 10_000,
    service: "shop-server",
  });
  expect((await httpRequest(url, { path: "/readyz" })).status).toBe(200);
  await waitForReplica(db.cluster);
  expect((await httpRequest(url, { path: "/api/products?limit=1" })).json().items[0].id).toBe(1);
  expect((await httpRequest(url, { path: "/" })).status).toBe(200);

  // A checkout that will be in flight at SIGTERM: it waits for a row lock the test holds.
  const shopper = new Shopper({ request: (request) => httpRequest(url, request) });
  expect((await shopper.post("/api/cart/items", { productId: 1, quantity: 1 })).status).toBe(200);
  const holder: Client = clientFor(db.cluster, db.cluster.primary, db.name);
  await holder.connect();
  try {
    await holder.query("BEGIN");
    await holder.query("SELECT 1 FROM products WHERE id = 1 FOR UPDATE");
    const checkout = shopper.post("/api/checkout");
    await pollUntil("the checkout to wait for the row lock", async () => {
      const { rows } = await holder.query(
        "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted AND " +
          "a.application_name = 'shop:primary' AND a.datname = current_database()",
      );
      return rows[0].n > 0;
    });
    server.child.kill("SIGTERM");
    await server.waitFor("shutting down");
    // No new connections once shutdown has begun...
    await pollUntil("the server to refuse new connections", () =>
      httpRequest(url, { path: "/healthz", headers: { connection: "close" } }).then(
        () => false,
        (error: NodeJS.ErrnoException) => error.code === "ECONNREFUSED",
      ),
    );
    // ...but the one in flight completes once its lock is free.
    await holder.query("ROLLBACK");
    const response = await checkout;
    expect(response.status).toBe(201);
  } finally {
    await holder.end();
  }
  // Shutdown's lines in order: the signal, the memory sessions handed over (before the listener closed), the
  // request that was in flight, and the end. Other lines (its access line) may come between them.
  const code = await server.exit;
  const messages = server.lines.map((line) => line.msg);
  const order = ["shutting down", "sessions handed over", "request completed", "stopped"].map((msg) =>
    messages.lastIndexOf(msg),
  );
  expect({ code, last: messages.at(-1) }).toEqual({ code: 0, last: "stopped" });
  expect(order.every((index, i) => index >= 0 && (i === 0 || index > order[i - 1]))).toBe(true);
  expect(server.lines.every((line) => typeof line.level === "string" && typeof line.time === "string")).toBe(true);
});

test("the built worker reports ready with its health port and exits 0 on SIGINT", async () => {
  const worker = run("worker.js", { DATABASE_URL: db.primaryUrl, WORKER_HEALTH_PORT: "0", HOST: "127.0.0.1" });
  const ready = await worker.waitFor("worker ready");
  expect(ready.service).toBe("shop-worker");
  const url = ready.healthAddress as string;
  expect((await httpRequest(url, { path: "/healthz" })).status).toBe(200);
  expect((await httpRequest(url, { path: "/readyz" })).json()).toEqual({
    status: "ready",
    checks: [{ name: "primary", ok: true }],
  });
  worker.child.kill("SIGINT");
  expect(await worker.exit).toBe(0);
});

test("the built worker reads its database password from Secrets Manager: the SDK is in the bundle", async () => {
  // A local endpoint that speaks GetSecretValue (support/secrets-manager-endpoint.ts: no emulator exists here).
  const secrets = await startSecretsManagerEndpoint();
  try {
    const arn = secretArn("us-east-1", "release-test/db");
    const url = new URL(db.primaryUrl);
    secrets.put(arn, JSON.stringify({ username: url.username, password: decodeURIComponent(url.password) }));
    url.password = "not-the-password";
    const worker = run("worker.js", {
      DATABASE_URL: url.href,
      DATABASE_SECRET: arn,
      SECRETS_MANAGER_ENDPOINT: secrets.url,
      AWS_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
      WORKER_HEALTH_PORT: "0",
      HOST: "127.0.0.1",
    });
    const ready = await worker.waitFor("worker ready");
    expect((await httpRequest(ready.healthAddress as string, { path: "/readyz" })).status).toBe(200);
    expect(secrets.requests.map((r) => r.secretId)).toContain(arn);
    worker.child.kill("SIGINT");
    expect(await worker.exit).toBe(0);
  } finally {
    await secrets.close();
  }
});

test("a release started with a bad environment exits 1 with one line naming the variables", async () => {
  const server = run("server.js", { DATABASE_URL: db.primaryUrl, ADMIN_TOKEN: "short" });
  expect(await server.exit).toBe(1);
  expect(server.lines).toEqual([
    expect.objectContaining({
      level: "fatal",
      problems: [
        "ADMIN_TOKEN: must be at least 32 characters (got 5); generate one with `openssl rand -base64 32`",
        "SESSION_SECRET: is required",
      ],
    }),
  ]);
});

// The maps keep what a stack trace needs, file and line (scripts/build-app.mjs): every frame of the app names its
// TypeScript file and the line of the call, as local mode runs the release (with --enable-source-maps).
test("started with --enable-source-maps, the release's stack traces name app/src's files and lines", async () => {
  const closed = await freePort();
  const server = run(
    "server.js",
    {
      DATABASE_URL: `postgres://shop:pw@127.0.0.1:${closed}/shop`,
      ADMIN_TOKEN,
      SESSION_SECRET: "release-test-session-secret-0123456789",
    },
    ["--enable-source-maps"],
  );
  expect(await server.exit).toBe(1);
  expect(server.lines).toEqual([expect.objectContaining({ level: "fatal", msg: "shop-server failed to start" })]);
  const { stack } = server.lines[0].err as { stack: string };
  const source = readFileSync(path.join(ROOT, "app", "src", "start-server.ts"), "utf8").split("\n");
  const call = source.findIndex((line) => line.includes("await prepareOrServeReads(")) + 1;
  expect(call).toBeGreaterThan(0);
  expect(stack).toMatch(new RegExp(`at async startServer \\(\\S*/app/src/start-server\\.ts:${call}:\\d+\\)`));
  for (const file of readdirSync(releaseDir).filter((f) => f.endsWith(".js.map"))) {
    const map = JSON.parse(readFileSync(path.join(releaseDir, file), "utf8")) as {
      mappings: string;
      sourcesContent?: unknown;
    };
    expect({ file, sourcesContent: "sourcesContent" in map }).toEqual({ file, sourcesContent: false });
    expect({ file, lineGrained: lineMappings(map.mappings) === map.mappings }).toEqual({ file, lineGrained: true });
  }
});

// app/src/redis/client.ts imports @redis/client: the `redis` package adds four modules the shop never uses, which every
// process would load at start.
test("the release bundles the Redis client alone, without the Bloom, JSON, Search and TimeSeries modules", () => {
  const redisPackages = new Set<string>();
  for (const file of readdirSync(path.join(ROOT, "dist", "app")).filter((f) => f.endsWith(".js.map"))) {
    const { sources } = JSON.parse(readFileSync(path.join(ROOT, "dist", "app", file), "utf8")) as { sources: string[] };
    for (const source of sources) {
      const match = /node_modules\/(@redis\/[^/]+|redis)\//.exec(source);
      if (match) redisPackages.add(match[1]);
    }
  }
  expect([...redisPackages].sort()).toEqual(["@redis/client"]);
});

test("the built data-migrations.js copies a catalog to a new database with a report; bad input exits 2", async () => {
  const pool = testPool(db.primaryUrl, 1);
  await prepareDatabase(pool, { migrationsDir: MIGRATIONS_DIR, seedProducts: 50, logger: testLogger() });
  await pool.end();
  const target = await createSuiteDatabase("build_move");
  const command = (...args: string[]) =>
    spawnSync(process.execPath, ["data-migrations.js", ...args], {
      cwd: releaseDir,
      env: { PATH: process.env.PATH ?? "" },
      encoding: "utf8",
    });
  try {
    const moved = command("move", "--source", db.primaryUrl, "--target", target.primaryUrl);
    expect(moved.stderr).toBe("");
    expect(moved.status).toBe(0);
    expect(moved.stdout).toMatch(/^move-database: verified$/m);
    expect(moved.stdout).toMatch(/^products +\d+ +[0-9a-f]{64}$/m);
    const again = command("move", "--source", db.primaryUrl, "--target", target.primaryUrl);
    expect(again.stdout).toMatch(/^0 rows written in \d+ ms$/m);

    const bad = command("move", "--source", "mysql://shop@db/shop", "--target", target.primaryUrl);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("data-migrations: --source must be a postgres:// or postgresql:// URL");
    expect(bad.stderr).toContain("usage:");
    const unsharded = command("backfill-order-shards");
    expect(unsharded.status).toBe(2);
    expect(unsharded.stderr).toContain("DATABASE_URL: is required");
  } finally {
    await target.drop();
  }
});
