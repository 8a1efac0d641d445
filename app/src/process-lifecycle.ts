/**
 * How the two entry points (server.js, worker.js) end: cleanly on SIGTERM or SIGINT (systemd, the auto-scaling
 * group and Ctrl-C all send one of them), loudly on a programming error that escaped every handler.
 */
import { ConfigError } from "./config";
import { type Logger, createLogger } from "./logger";

/** Options of {@link exitOnSignal}. */
export interface ShutdownOptions {
  logger: Logger;
  /** Stops taking work, finishes what is in flight and releases connections. */
  close: () => Promise<void>;
  /** After this long the process exits with code 1 even if `close` has not finished. */
  timeoutMs: number;
}

/**
 * On the first SIGTERM or SIGINT, runs `close` and exits with 0 when it resolves, 1 when it fails or outlasts
 * `timeoutMs`. Later signals change nothing: the timeout already bounds the wait. Returns the same stop, for the
 * process to call itself with its reason (the server, once replaced).
 */
export function exitOnSignal({ logger, close, timeoutMs }: ShutdownOptions): (signal: string) => void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs }, "shutdown timed out; exiting with work still in flight");
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    close().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  return stop;
}

/** Logs an uncaught exception or unhandled rejection as fatal and exits with 1: the state is unknown after one. */
export function exitOnFatalError(logger: Logger): void {
  const fatal = (error: unknown) => {
    logger.fatal({ err: error }, "fatal error");
    process.exit(1);
  };
  process.on("uncaughtException", fatal);
  process.on("unhandledRejection", fatal);
}

/**
 * Runs an entry point's `start` and turns a failure to start into one fatal log line and exit code 1. The line is
 * written at a fixed level by a fresh logger: LOG_LEVEL itself may be what failed to parse.
 */
export function runEntryPoint(service: string, start: () => Promise<void>): void {
  start().catch((error: unknown) => {
    const logger = createLogger(service, "info");
    if (error instanceof ConfigError) logger.fatal({ problems: error.problems }, error.message);
    else logger.fatal({ err: error }, `${service} failed to start`);
    process.exit(1);
  });
}
