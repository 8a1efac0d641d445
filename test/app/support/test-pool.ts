/** A pg pool for a test's own queries. */
import { Pool } from "pg";

/**
 * A pool on `url` whose connections, once the test is done with them, may be ended by the server without an error
 * event: `pool.end()` resolves before its last connections have closed, and a database dropped `WITH (FORCE)` or a
 * server stopped at the end of the file then terminates them (57P01), which an unheard pool 'error' would turn into
 * an unhandled error of whatever test runs then.
 */
export function testPool(url: string, max = 2): Pool {
  const pool = new Pool({ connectionString: url, max });
  pool.on("error", () => undefined);
  return pool;
}
