/**
 * Entry point of the HTTP server (dist/app/server.js in the bundle): `node server.js` with the environment
 * described in app/README.md. Exits 1 on bad configuration or an unreachable database at start, 0 after a
 * clean shutdown on SIGTERM/SIGINT.
 */
import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./logger";
import { exitOnFatalError, exitOnSignal } from "./process-lifecycle";
import { startServer } from "./start-server";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    // LOG_LEVEL itself may be the bad variable, so this one line is written at a fixed level.
    if (error instanceof ConfigError) createLogger("shop-server", "info").fatal({ problems: error.problems }, error.message);
    throw error;
  }
  const logger = createLogger("shop-server", config.LOG_LEVEL);
  exitOnFatalError(logger);
  const server = await startServer(config, logger);
  exitOnSignal({ logger, close: server.close, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
}

main().catch((error: unknown) => {
  if (!(error instanceof ConfigError)) createLogger("shop-server", "info").fatal({ err: error }, "server failed to start");
  process.exit(1);
});
