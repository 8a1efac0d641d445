/**
 * One pg pool per database server. The connection string is handed to pg untouched, so whatever it carries
 * (`sslmode=verify-full&sslrootcert=...` on AWS, a password, an `application_name`) applies as written.
 */
import { Pool } from "pg";
import type { Logger } from "../logger";

/** The pool settings the app takes from its configuration. */
export interface PoolSettings {
  /** Most connections this pool opens. */
  max: number;
  /** Give up on opening a connection after this long. */
  connectTimeoutMs: number;
  /** Give up on a query's answer after this long; the connection is then thrown away. */
  queryTimeoutMs: number;
}

/**
 * Opens (lazily) a pool to one server.
 * @param name the target's name in logs and in `pg_stat_activity.application_name` (`shop:<name>`), never the URL,
 *   which may hold a password.
 */
export function createPool(connectionString: string, name: string, settings: PoolSettings, logger: Logger): Pool {
  const pool = new Pool({
    connectionString,
    application_name: `shop:${name}`,
    max: settings.max,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    query_timeout: settings.queryTimeoutMs,
  });
  // An idle connection whose server goes away emits 'error' on the pool; without a listener that would crash the
  // process. The next query on this pool sees the failure itself and the router reacts to it there.
  pool.on("error", (error) => logger.warn({ target: name, err: error }, "idle database connection lost"));
  // A connection that is checked out (a transaction in flight, the outbox relay's lock) emits 'error' on its own
  // client when the server goes away, where the pool's listener does not hear it: the query in flight rejects with
  // the failure, and this listener only keeps the event from crashing the process.
  pool.on("connect", (client) => {
    client.on("error", (error) => logger.warn({ target: name, err: error }, "database connection lost"));
  });
  return pool;
}
