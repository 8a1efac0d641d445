/**
 * A session-level PostgreSQL advisory lock held on one dedicated connection, so that when several servers start at
 * once exactly one migrates and seeds while the others wait, then find nothing left to do.
 */
import type { Pool, PoolClient } from "pg";

/**
 * The key of the schema lock: the bytes of "SHOPSCHM" read as a bigint. Advisory locks are per database, so the
 * key only needs to be unique among the locks of this app's database.
 */
export const SCHEMA_LOCK_KEY = "6001133709884082253";

/**
 * Runs `work` while holding advisory lock `key`, on a connection no one else uses; the lock is released (and the
 * connection returned) whatever `work` does. Waits as long as another holder keeps the lock.
 */
export async function withAdvisoryLock<T>(
  pool: Pool,
  key: string,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("SELECT pg_advisory_lock($1::bigint)", [key]);
    try {
      return await work(client);
    } finally {
      await client.query("SELECT pg_advisory_unlock($1::bigint)", [key]).catch((error: Error) => {
        // The session is unusable; discarding the connection ends the session, which releases the lock.
        broken = error;
      });
    }
  } finally {
    client.release(broken);
  }
}
