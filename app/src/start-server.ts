/** Starts the shop's HTTP server the way production runs it: migrate and seed, then build the app and listen. */
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app";
import type { AppConfig } from "./config";
import { prepareDatabase } from "./db/prepare";
import { createDbRouter } from "./db/router";
import type { Logger } from "./logger";
import { MIGRATIONS_DIR } from "./paths";

/** A listening server. */
export interface RunningServer {
  app: FastifyInstance;
  /** `http://host:port` it listens on. */
  address: string;
  /** Stops listening, lets in-flight requests finish, then closes the database pools. */
  close(): Promise<void>;
}

/**
 * Applies migrations and the seed (under the schema lock, so a fleet can start at once), then listens on
 * HOST:PORT. The server is only reachable once the database is ready for it.
 */
export async function startServer(config: AppConfig, logger: Logger): Promise<RunningServer> {
  const router = createDbRouter(config, logger);
  try {
    await prepareDatabase(router.primaryPool, {
      migrationsDir: MIGRATIONS_DIR,
      seedProducts: config.SEED_PRODUCTS,
      logger,
    });
    const app = await buildApp(config, { router, logger });
    const address = await app.listen({ host: config.HOST, port: config.PORT });
    logger.info({ address }, "server ready");
    return {
      app,
      address,
      close: async () => {
        // Fastify stops accepting, closes idle keep-alive connections and waits for in-flight requests; only
        // then may the pools those requests use be closed.
        await app.close();
        await router.close();
      },
    };
  } catch (error) {
    await router.close();
    throw error;
  }
}
