/**
 * Entry point of the HTTP server (dist/app/server.js in the bundle): `node server.js` with the environment
 * described in app/README.md. Exits 1 on bad configuration or an unreachable database at start, 0 after a
 * clean shutdown on SIGTERM/SIGINT.
 */
import { loadConfig } from "./config";
import { createLogger } from "./logger";
import { exitOnFatalError, exitOnSignal, runEntryPoint } from "./process-lifecycle";
import { startServer } from "./start-server";

runEntryPoint("shop-server", async () => {
  const config = loadConfig();
  const logger = createLogger("shop-server", config.LOG_LEVEL);
  exitOnFatalError(logger);
  const server = await startServer(config, logger);
  const stop = exitOnSignal({ logger, close: server.close, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  // Replaced by a server on the same port (POST /admin/maintenance {"writes":"moved"}): stop as on SIGTERM.
  void server.app.writeFence.whenMoved.then(() => stop("moved"));
});
