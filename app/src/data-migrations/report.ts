/**
 * What every data migration (move-database.ts, backfill-order-shards.ts) shares: its report, the error a failed
 * verification throws, the pools it opens, the table of finished migrations (migration 0007) and its locks.
 *
 * A data migration is idempotent (a second run copies nothing and changes nothing), resumable (it copies in batches,
 * each committed on its own, and a rerun after a crash copies what is left) and verified: per table, the row count
 * and a checksum of the rows in primary-key order, computed on both sides after the copy, must be equal.
 */
import { Client, type ClientConfig, Pool, type PoolConfig } from "pg";
import { MIGRATION_POOL_MAX } from "../../../components/app-limits";

/** One table of a {@link MigrationReport}: the figures both sides agreed on. */
export interface TableReport {
  table: string;
  rows: number;
  /** sha256 (hex) over the md5 of each row's text, in primary-key order. */
  checksum: string;
}

/** What a data migration did, printed by the CLI and stored in `data_migrations.report`. */
export interface MigrationReport {
  name: string;
  tables: TableReport[];
  /** Rows this run wrote (inserted, updated or deleted on the target); 0 on a second run. */
  copied: number;
  /** Wall time of the run, ms. */
  ms: number;
}

/** A table whose two sides differ after the copy: named, with both figures. */
export class VerificationError extends Error {
  constructor(
    readonly table: string,
    readonly source: { rows: number; checksum: string },
    readonly target: { rows: number; checksum: string },
  ) {
    super(
      `verification failed for table ${table}: source ${source.rows} rows, checksum ${source.checksum}; ` +
        `target ${target.rows} rows, checksum ${target.checksum}`,
    );
    this.name = "VerificationError";
  }
}

/** Name of the step-9 backfill in `data_migrations`. */
export const BACKFILL_ORDER_SHARDS = "backfill-order-shards";

/**
 * Advisory lock (on the catalog database) between the backfill's last pass and the step-9 workers that confirm
 * orders still kept on the catalog: the workers hold it shared for one confirmation, the backfill exclusively while
 * it copies the last changes, verifies and records itself done. The bytes of "SHOPBKFL" read as a bigint.
 */
export const BACKFILL_LOCK_KEY = "6001133709599393356";

/** Session lock held for a whole run, so two runs of one migration never interleave ("SHOPDMIG"). */
export const RUN_LOCK_KEY = "6001133709633079623";

/** Rows per batch: each batch is read, compared and (when it differs) written in one round trip per side. */
export const DEFAULT_BATCH_SIZE = 500;

/**
 * A pool for a migration: few connections, and a session whose text forms of rows do not depend on the server's
 * settings (time stamps in UTC, ISO dates), so that both sides print a row alike and their checksums compare.
 */
export function migrationPool(config: PoolConfig, name: string): Pool {
  const { password } = config;
  // A password given beside a connection string (read from a secret, the URL holding none) is set on each client
  // after pg has read the string, as db/pool.ts does: given to the pool, it is lost, because pg lets the string's
  // fields win over the config's, an absent password included ("client password must be a string").
  class PasswordClient extends Client {
    constructor(clientConfig?: ClientConfig) {
      super(clientConfig);
      (this as { password: unknown }).password = password;
    }
  }
  const pool = new Pool({
    max: MIGRATION_POOL_MAX,
    ...config,
    ...(password !== undefined && config.connectionString ? { Client: PasswordClient } : {}),
    application_name: `shop:data-migrations:${name}`,
    options: [config.options, "-c TimeZone=UTC -c DateStyle=ISO,YMD -c extra_float_digits=3"].filter(Boolean).join(" "),
  });
  // An idle connection lost between batches must not crash the process; the next query reports it.
  pool.on("error", () => undefined);
  return pool;
}

/**
 * `url` without its password: pg lets a connection string's password win over a `password` in the config, so a
 * password read from a secret is only used when the URL holds none.
 */
export function withoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = "";
  return parsed.toString();
}

/** True when `error` is PostgreSQL's "relation does not exist" (42P01). */
export function isUndefinedTable(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "42P01";
}

/** The recorded report of migration `name` on `pool`'s database, or `undefined` when it has not finished there. */
export async function finishedReport(pool: Pool, name: string): Promise<MigrationReport | undefined> {
  try {
    const { rows } = await pool.query<{ report: MigrationReport }>(
      "SELECT report FROM data_migrations WHERE name = $1",
      [name],
    );
    return rows[0]?.report;
  } catch (error) {
    // A database older than migration 0007 has finished none.
    if (isUndefinedTable(error)) return undefined;
    throw error;
  }
}

/** Runs `work` holding the run lock of `pool`'s database; refuses at once when another run holds it. */
export async function withRunLock<T>(pool: Pool, work: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS ok", [
      RUN_LOCK_KEY,
    ]);
    if (!rows[0].ok) throw new Error("another data migration is running against this database; wait for it to end");
    try {
      return await work();
    } finally {
      await client.query("SELECT pg_advisory_unlock($1::bigint)", [RUN_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    client.release(true);
  }
}
