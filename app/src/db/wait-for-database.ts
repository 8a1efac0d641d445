/**
 * Waiting for a database at start instead of failing: a process whose database cannot be reached yet (the worker
 * of a secondary region whose primary region is down, a first boot before the database exists) that exits would
 * only be restarted by systemd every few seconds, a crash loop that says nothing more than one waiting process
 * does, and never gets past start-up. It waits here, logging once and then every {@link STILL_WAITING_MS}, while its
 * health listener (already open) answers /readyz 503 naming the database.
 */
import type { Pool } from "pg";
import type { Logger } from "../logger";
import { isUnavailableError } from "./failures";

/** How often a waiting process says it still waits, ms. */
export const STILL_WAITING_MS = 30_000;

/**
 * Resolves once `pool` answers `SELECT 1`, trying every `retryMs` while it is unreachable. Any other failure (a
 * refused password, a database that does not exist) rejects at once: waiting would not mend it.
 * @param retryMs the pause between attempts. @default 1000
 * @param now the clock (tests).
 */
export async function waitForDatabase(
  pool: Pool,
  target: string,
  logger: Logger,
  retryMs = 1000,
  now: () => number = Date.now,
): Promise<void> {
  const since = now();
  let saidAt: number | undefined;
  for (;;) {
    try {
      await pool.query("SELECT 1");
      if (saidAt !== undefined) logger.info({ target, waitedMs: now() - since }, "database reachable: starting");
      return;
    } catch (error) {
      if (!isUnavailableError(error)) throw error;
      if (saidAt === undefined || now() - saidAt >= STILL_WAITING_MS) {
        saidAt = now();
        logger.warn(
          { target, reason: (error as Error).message, waitedMs: saidAt - since },
          "database not reachable: waiting for it (/readyz answers 503 meanwhile)",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
}
