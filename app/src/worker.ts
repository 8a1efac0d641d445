/**
 * Entry point of the background worker (dist/app/worker.js in the bundle): `node worker.js` with DATABASE_URL and,
 * optionally, WORKER_HEALTH_PORT. Exits 0 after a clean shutdown on SIGTERM/SIGINT, 1 if it cannot start.
 */
import { ConfigError, loadWorkerConfig } from "./config";
import { createLogger } from "./logger";
import { exitOnFatalError, exitOnSignal } from "./process-lifecycle";
import { startWorker } from "./start-worker";

async function main(): Promise<void> {
  let config;
  try {
    config = loadWorkerConfig();
  } catch (error) {
    if (error instanceof ConfigError) createLogger("shop-worker", "info").fatal({ problems: error.problems }, error.message);
    throw error;
  }
  const logger = createLogger("shop-worker", config.LOG_LEVEL);
  exitOnFatalError(logger);
  const worker = await startWorker(config, logger);
  exitOnSignal({ logger, close: worker.close, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
}

main().catch((error: unknown) => {
  if (!(error instanceof ConfigError)) createLogger("shop-worker", "info").fatal({ err: error }, "worker failed to start");
  process.exit(1);
});
