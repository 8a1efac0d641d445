/**
 * Several app instances on one test database, as a fleet behind a load balancer runs: the cache and session tests
 * start two servers on one Redis, restart one, or give one a different static directory. (test-app.ts's
 * `startTestApp` makes one app on a database of its own; this splits the database from the apps.)
 */
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { type AppDeps, buildApp } from "../../../app/src/app";
import { type AppConfig, loadConfig } from "../../../app/src/config";
import { prepareDatabase } from "../../../app/src/db/prepare";
import { type DbRouter, createDbRouter } from "../../../app/src/db/router";
import { MIGRATIONS_DIR } from "../../../app/src/paths";
import { type HttpRequest, type HttpResponse, httpRequest } from "./http-client";
import { readCluster } from "../../../lib/servers/postgres-cluster";
import { testEnv, testLogger } from "./test-app";
import { type SuiteDatabase, createSuiteDatabase, lockReplica, waitForReplica } from "./test-database";

/** A test file's database, migrated and seeded, with the replica caught up. */
export interface Suite {
  db: SuiteDatabase;
  /** Drops the database and releases the replica lock (close the apps first). */
  close(): Promise<void>;
}

/** Options of {@link openSuite}. */
export interface SuiteOptions {
  /** @default 120 (test-app.ts's TEST_SEED_PRODUCTS) */
  seedProducts?: number;
  /** @default "shared" */
  replicaLock?: "shared" | "exclusive";
}

/** Makes, migrates and seeds a database named after `label`. */
export async function openSuite(label: string, options: SuiteOptions = {}): Promise<Suite> {
  const unlock = await lockReplica(await readCluster(), options.replicaLock ?? "shared");
  const db = await createSuiteDatabase(label);
  const env = testEnv(db, options.seedProducts === undefined ? {} : { SEED_PRODUCTS: String(options.seedProducts) });
  const config = loadConfig(env);
  const router = createDbRouter(config, testLogger());
  try {
    await prepareDatabase(router.primaryPool, {
      migrationsDir: MIGRATIONS_DIR,
      seedProducts: config.SEED_PRODUCTS,
      logger: testLogger(),
    });
    await waitForReplica(db.cluster);
  } catch (error) {
    await router.close();
    await db.drop();
    await unlock();
    throw error;
  }
  await router.close();
  return {
    db,
    close: async () => {
      await db.drop();
      await unlock();
    },
  };
}

/** One running app on a suite's database. */
export interface ShopInstance {
  app: FastifyInstance;
  url: string;
  request(request: HttpRequest): Promise<HttpResponse>;
  /** The instance's own router; {@link databaseReads} counts the reads it served. */
  router: DbRouter;
  config: AppConfig;
  /** Closes the app, then its router. */
  close(): Promise<void>;
}

/** Reads (and write transactions) the router's targets have served so far: the tests' database query counter. */
export function databaseReads(router: DbRouter): number {
  return router.stats().reduce((sum, target) => sum + target.served, 0);
}

/** Starts an app on `suite`'s database with `env` on top of the test environment, listening on 127.0.0.1. */
export async function startShop(
  suite: Suite,
  env: Record<string, string> = {},
  deps: Omit<AppDeps, "router"> = {},
): Promise<ShopInstance> {
  const config = loadConfig(testEnv(suite.db, env));
  const logger = deps.logger ?? testLogger();
  const router = createDbRouter(config, logger);
  let app: FastifyInstance;
  try {
    app = await buildApp(config, { ...deps, router, logger });
    await app.listen({ host: "127.0.0.1", port: 0 });
  } catch (error) {
    await router.close();
    throw error;
  }
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    app,
    url,
    request: (request) => httpRequest(url, request),
    router,
    config,
    close: async () => {
      await app.close();
      await router.close();
    },
  };
}
