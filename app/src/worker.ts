/**
 * Entry point of the background worker (dist/app/worker.js in the bundle): `node worker.js` with DATABASE_URL and,
 * optionally, WORKER_HEALTH_PORT. Exits 0 after a clean shutdown on SIGTERM/SIGINT, 1 if it cannot start.
 */
import { loadWorkerConfig } from "./config";
import { createLogger } from "./logger";
import { exitOnFatalError, exitOnSignal, runEntryPoint } from "./process-lifecycle";
import { startWorker } from "./start-worker";

runEntryPoint("shop-worker", async () => {
  const config = loadWorkerConfig();
  const logger = createLogger("shop-worker", config.LOG_LEVEL);
  exitOnFatalError(logger);
  const worker = await startWorker(config, logger);
  exitOnSignal({ logger, close: worker.close, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
});
