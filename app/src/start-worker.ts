/**
 * The background worker (step 8 on): consumes the orders queue (ORDER_QUEUE_URL), confirming each order on its
 * shard and recording its notification (queue/order-consumer.ts); with ORDER_SHARDS it also settles stock
 * reservations that a crashed checkout left open (orders/reservations.ts); at step 10 it publishes QueueLagSeconds.
 * It serves /healthz, /readyz and GET /admin/stats (http/process-stats.ts) if asked to, and stops cleanly: the open
 * long poll is abandoned and the messages in hand are finished before the pools close. Without ORDER_QUEUE_URL it
 * only proves its database connection.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import Fastify, { type FastifyBaseLogger } from "fastify";
import type { WorkerConfig } from "./config";
import { createPool } from "./db/pool";
import { configuredCredentials } from "./db/credentials";
import { DbRouter } from "./db/router";
import { waitForDatabase } from "./db/wait-for-database";
import { AccessLog, registerAccessLog } from "./http/access-log";
import { registerErrorHandling } from "./http/errors";
import type { Logger } from "./logger";
import { metrics, startMetricsPublisher } from "./metrics";
import { ProcessStats, statsRoutes } from "./http/process-stats";
import { settleStaleReservations } from "./orders/reservations";
import { OrderConsumer } from "./queue/order-consumer";
import { createSqsClient } from "./queue/sqs";
import { healthRoutes } from "./routes/health";
import { type OrderShards, openOrderShards } from "./shards/order-shards";

/** A started worker. */
export interface RunningWorker {
  /** `http://host:port` of the health listener, when WORKER_HEALTH_PORT is set. */
  healthAddress?: string;
  /** The queue consumer, when ORDER_QUEUE_URL is set. */
  consumer?: OrderConsumer;
  /** Stops consuming, finishes the messages in hand, stops the health listener and closes the pools. */
  close(): Promise<void>;
}

/** What `startWorker` can be handed instead of building it (tests); the caller closes what it hands in. */
export interface WorkerDeps {
  sqs?: SQSClient;
  shards?: OrderShards;
}

/**
 * Starts the worker: opens the health listener when WORKER_HEALTH_PORT is set, waits for the primary (retrying while
 * it cannot be reached; db/wait-for-database.ts), opens the order shards, starts consuming, and logs `worker ready`.
 */
export async function startWorker(config: WorkerConfig, logger: Logger, deps: WorkerDeps = {}): Promise<RunningWorker> {
  const pool = createPool(
    config.DATABASE_URL,
    "primary",
    {
      max: config.DB_POOL_MAX,
      connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
      queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
      credentials: configuredCredentials(config.DATABASE_SECRET, config),
    },
    logger,
  );
  // The worker only ever talks to the primary: it writes, and it must see what it wrote.
  const router = new DbRouter({ primary: { name: "primary", pool }, replicas: [], cooldownMs: 0, logger });
  const cleanups: Array<() => Promise<void> | void> = [() => router.close()];
  const closeAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    // The health listener first: while the primary cannot be reached, /readyz answers 503 naming it.
    let healthAddress: string | undefined;
    if (config.WORKER_HEALTH_PORT !== undefined) {
      // Its access lines are debug, like the web server's health checks; a readiness change is logged.
      const accessLog = new AccessLog({ region: config.AWS_REGION });
      const health = Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: accessLog });
      cleanups.push(() => health.close());
      registerAccessLog(health, accessLog);
      registerErrorHandling(health);
      await health.register(healthRoutes, { router });
      // Its figures: no request of its own to count, the queue's business metrics (process-stats.ts).
      const stats = new ProcessStats(
        { process: config.PROCESS_NAME ?? `pid-${process.pid}`, kind: "worker", region: config.AWS_REGION },
        () => metrics.totals(),
      );
      await health.register(statsRoutes, { stats });
      healthAddress = await health.listen({ host: config.HOST, port: config.WORKER_HEALTH_PORT });
    }
    // Unreachable (a secondary region whose primary region is down): wait for it rather than exit into a crash loop.
    await waitForDatabase(pool, "primary", logger);
    // The server migrates the shards; the worker only ever touches orders the server has written.
    const { shards } = deps.shards
      ? { shards: deps.shards }
      : await openOrderShards(config, router, logger, { migrate: false });
    if (!deps.shards) cleanups.push(() => shards.close());

    let consumer: OrderConsumer | undefined;
    if (config.ORDER_QUEUE_URL) {
      const sqs = deps.sqs ?? createSqsClient({ ...config, ORDER_QUEUE_URL: config.ORDER_QUEUE_URL });
      if (!deps.sqs) cleanups.push(() => sqs.destroy());
      consumer = new OrderConsumer({
        sqs,
        queueUrl: config.ORDER_QUEUE_URL,
        shards,
        logger,
        batchSize: config.WORKER_BATCH_SIZE,
        waitSeconds: config.WORKER_WAIT_SECONDS,
        region: config.AWS_REGION,
      });
      consumer.start();
      const running = consumer;
      cleanups.push(() => running.stop());
    } else {
      logger.warn("ORDER_QUEUE_URL is not set: there is no queue to consume");
    }

    if (shards.sharded) {
      let settling: Promise<unknown> = Promise.resolve();
      const timer = setInterval(
        () => {
          settling = settleStaleReservations(router, shards, config.RESERVATION_TIMEOUT_MS, logger).catch(
            (error: unknown) =>
              logger.warn({ reason: (error as Error).message }, "settling stock reservations failed; will retry"),
          );
        },
        Math.min(30_000, config.RESERVATION_TIMEOUT_MS),
      );
      timer.unref();
      cleanups.push(async () => {
        clearInterval(timer);
        await settling;
      });
    }

    const publisher = startMetricsPublisher(config, { service: "shop-worker", logger, publishes: ["QueueLagSeconds"] });
    if (publisher) cleanups.push(() => publisher.stop());

    logger.info(
      { healthAddress, queue: config.ORDER_QUEUE_URL !== undefined, shards: shards.all().map((s) => s.name) },
      "worker ready",
    );
    return { healthAddress, consumer, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
