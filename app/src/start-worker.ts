/**
 * The background worker. For now it proves its configuration and its database connection, reports ready, serves
 * /healthz and /readyz if asked to, and stops cleanly; the order queue's consumer joins it in a later step.
 */
import Fastify, { type FastifyBaseLogger } from "fastify";
import type { WorkerConfig } from "./config";
import { createPool } from "./db/pool";
import { DbRouter } from "./db/router";
import { registerErrorHandling } from "./http/errors";
import type { Logger } from "./logger";
import { healthRoutes } from "./routes/health";

/** A started worker. */
export interface RunningWorker {
  /** `http://host:port` of the health listener, when WORKER_HEALTH_PORT is set. */
  healthAddress?: string;
  /** Stops the health listener and closes the database pool. */
  close(): Promise<void>;
}

/**
 * Starts the worker: connects to the primary (failing fast if it does not answer), opens the health listener when
 * WORKER_HEALTH_PORT is set, and logs `worker ready`.
 */
export async function startWorker(config: WorkerConfig, logger: Logger): Promise<RunningWorker> {
  const pool = createPool(
    config.DATABASE_URL,
    "primary",
    { max: config.DB_POOL_MAX, connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS, queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS },
    logger,
  );
  // The worker only ever talks to the primary: it writes, and it must see what it wrote.
  const router = new DbRouter({ primary: { name: "primary", pool }, replicas: [], cooldownMs: 0, logger });
  try {
    await pool.query("SELECT 1");
    let healthAddress: string | undefined;
    const health = config.WORKER_HEALTH_PORT === undefined
      ? undefined
      : Fastify({ loggerInstance: logger as FastifyBaseLogger, disableRequestLogging: true });
    if (health) {
      registerErrorHandling(health);
      await health.register(healthRoutes, { router });
      healthAddress = await health.listen({ host: config.HOST, port: config.WORKER_HEALTH_PORT });
    }
    logger.info({ healthAddress }, "worker ready");
    return {
      healthAddress,
      close: async () => {
        await health?.close();
        await router.close();
      },
    };
  } catch (error) {
    await router.close();
    throw error;
  }
}
