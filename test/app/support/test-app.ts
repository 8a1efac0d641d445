/**
 * Starts the shop in-process for a test file: its own database on the shared cluster, migrated and seeded the
 * way the server does it, a router over the primary and the replica, and `buildApp` on top, listening on
 * 127.0.0.1 on a port the OS picks.
 */
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../../app/src/app";
import { type AppConfig, type LOG_LEVELS, loadConfig } from "../../../app/src/config";
import { prepareDatabase } from "../../../app/src/db/prepare";
import { type DbRouter, createDbRouter } from "../../../app/src/db/router";
import { type Logger, createLogger } from "../../../app/src/logger";
import { MIGRATIONS_DIR } from "../../../app/src/paths";
import { type HttpRequest, type HttpResponse, httpRequest } from "./http-client";
import { readCluster } from "../../../lib/servers/postgres-cluster";
import { type SuiteDatabase, createSuiteDatabase, lockReplica, waitForReplica } from "./test-database";

/** The admin token of every test app: long and varied enough for the token rule (components/admin-token.ts). */
export const ADMIN_TOKEN = "test-admin-token-0123456789-ABCDEFGHIJ-klmnopqrst";
/** Products seeded unless a test asks otherwise: enough for several pages and every category. */
export const TEST_SEED_PRODUCTS = 120;

/** Logs stay quiet unless SHOP_TEST_LOG_LEVEL asks for them (e.g. `debug` while investigating). */
export function testLogger(): Logger {
  return createLogger("shop-test", (process.env.SHOP_TEST_LOG_LEVEL ?? "silent") as (typeof LOG_LEVELS)[number]);
}

/** The environment a test server gets for `db`, with `extra` on top. */
export function testEnv(db: SuiteDatabase, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: db.primaryUrl,
    DATABASE_REPLICA_URLS: db.replicaUrl,
    ADMIN_TOKEN,
    SESSION_SECRET: "test-session-secret-0123456789-abcdef",
    LOG_LEVEL: "silent",
    HOST: "127.0.0.1",
    SEED_PRODUCTS: String(TEST_SEED_PRODUCTS),
    // Every test client is 127.0.0.1, and a test may be a hundred shoppers: one address's limits would throttle it.
    // High, not off, so that every test still passes through the limiters; rate-limit.test.ts sets real ones.
    RATE_LIMIT_ADMIN_PER_MINUTE: "1000000",
    RATE_LIMIT_CART_PER_MINUTE: "1000000",
    RATE_LIMIT_CHECKOUT_PER_MINUTE: "1000000",
    ...extra,
  };
}

/** Options of {@link startTestApp}. */
export interface TestAppOptions {
  /** Environment on top of {@link testEnv}'s. */
  env?: Record<string, string>;
  /** Clock of the router's replica cool-off. */
  clock?: () => number;
  /**
   * `exclusive` for a file that pauses or stops the shared replica; every other file holds it `shared`.
   * @default "shared"
   */
  replicaLock?: "shared" | "exclusive";
}

/** A running in-process app and what a test needs around it. */
export interface TestApp {
  app: FastifyInstance;
  /** `http://127.0.0.1:<port>` the app listens on. */
  url: string;
  /** Sends one request to the app. */
  request(request: HttpRequest): Promise<HttpResponse>;
  router: DbRouter;
  config: AppConfig;
  db: SuiteDatabase;
  /** Closes the app and the router, drops the database, releases the replica lock. */
  close(): Promise<void>;
}

/** See the module comment. `label` names the database, e.g. the test file's name. */
export async function startTestApp(label: string, options: TestAppOptions = {}): Promise<TestApp> {
  // The lock first: creating the database waits for the replica, which an exclusive holder may have stopped.
  const unlock = await lockReplica(await readCluster(), options.replicaLock ?? "shared");
  const db = await createSuiteDatabase(label);
  const config = loadConfig(testEnv(db, options.env));
  const logger = testLogger();
  const router = createDbRouter(config, logger, options.clock);
  let app: FastifyInstance;
  try {
    await prepareDatabase(router.primaryPool, {
      migrationsDir: MIGRATIONS_DIR,
      seedProducts: config.SEED_PRODUCTS,
      logger,
    });
    // Reads go to the replica: it must hold the schema and the seed before the first request.
    await waitForReplica(db.cluster);
    app = await buildApp(config, { router, logger });
    await app.listen({ host: "127.0.0.1", port: 0 });
  } catch (error) {
    await router.close();
    await db.drop();
    await unlock();
    throw error;
  }
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    app,
    url,
    request: (request) => httpRequest(url, request),
    router,
    config,
    db,
    close: async () => {
      await app.close();
      await router.close();
      await db.drop();
      await unlock();
    },
  };
}

/**
 * Arranges a product's stock for a test: written straight to the primary, then waited for on the replica, so that
 * the app's reads (which go to the replica) see it too.
 */
export async function setStock(t: TestApp, productId: number, stock: number): Promise<void> {
  await t.router.primaryPool.query("UPDATE products SET stock = $2 WHERE id = $1", [productId, stock]);
  await waitForReplica(t.db.cluster);
}
