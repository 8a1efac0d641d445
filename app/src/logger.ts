/**
 * The process's one logger: JSON lines on stdout, written synchronously by pino in this thread. No transport, so
 * the bundle needs no worker thread or extra file at run time, and nothing logged before `process.exit` is lost.
 */
import pino, { type Logger } from "pino";
import type { LOG_LEVELS } from "./config";

/** The logger type every module takes. */
export type { Logger };

/**
 * Creates the logger of one process.
 * @param service names the process in every line (`shop-server`, `shop-worker`), for log groups shared by both.
 * @param level the minimum level written; `silent` writes nothing.
 */
export function createLogger(service: string, level: (typeof LOG_LEVELS)[number]): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      // "level":"info" rather than 30: CloudWatch Logs Insights filters read better on names.
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}
