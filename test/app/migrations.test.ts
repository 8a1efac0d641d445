/** Migrations and the seed: applied once under the schema advisory lock, however many servers start together. */
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Pool } from "pg";
import { loadConfig } from "../../app/src/config";
import { SCHEMA_LOCK_KEY } from "../../app/src/db/advisory-lock";
import { MigrationError, readMigrations } from "../../app/src/db/migrate";
import { prepareDatabase } from "../../app/src/db/prepare";
import { SEED_CATEGORIES } from "../../app/src/db/seed";
import { MIGRATIONS_DIR } from "../../app/src/paths";
import { pollUntil } from "../../lib/servers/poll";
import { readCluster } from "../../lib/servers/postgres-cluster";
import { testEnv, testLogger } from "./support/test-app";
import { type SuiteDatabase, createSuiteDatabase, lockReplica } from "./support/test-database";

const logger = testLogger();
const cleanups: Array<() => Promise<unknown>> = [];
let unlock: () => Promise<void>;

beforeAll(async () => {
  unlock = await lockReplica(await readCluster(), "shared");
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await unlock?.();
});

/** A new empty database and a pool on its primary, both cleaned up after the file. */
async function freshDatabase(): Promise<{ db: SuiteDatabase; pool: Pool }> {
  const db = await createSuiteDatabase("migrations");
  const pool = new Pool({ connectionString: db.primaryUrl, max: 3 });
  cleanups.push(
    () => db.drop(),
    () => pool.end(),
  );
  return { db, pool };
}

/** Every migration of the catalog database, in order. */
const ALL = [
  "0001_catalog.sql",
  "0002_orders.sql",
  "0003_order_queue.sql",
  "0004_stock_reservations.sql",
  "0005_checkouts.sql",
  "0006_session_handoff.sql",
  "0007_data_migrations.sql",
];

const prepare = (pool: Pool, seedProducts: number, migrationsDir = MIGRATIONS_DIR) =>
  prepareDatabase(pool, { migrationsDir, seedProducts, logger });

test("the migrations directory holds the numbered SQL files, in order", async () => {
  const files = (await readMigrations(MIGRATIONS_DIR)).map((m) => m.file);
  expect(files).toEqual(ALL);
});

test("a fresh database gets every migration and the 10,000-product seed; a second start changes nothing", async () => {
  const { db, pool } = await freshDatabase();
  const seedProducts = loadConfig(testEnv(db, { SEED_PRODUCTS: "" })).SEED_PRODUCTS;
  expect(seedProducts).toBe(10_000);
  expect(await prepare(pool, seedProducts)).toEqual({ applied: ALL, seeded: 10_000 });
  expect(await prepare(pool, seedProducts)).toEqual({ applied: [], seeded: 0 });
  const { rows } = await pool.query(
    "SELECT version, file, length(checksum) AS checksum_length FROM schema_migrations ORDER BY version",
  );
  expect(rows).toEqual([
    { version: "0001", file: "0001_catalog.sql", checksum_length: 64 },
    { version: "0002", file: "0002_orders.sql", checksum_length: 64 },
    { version: "0003", file: "0003_order_queue.sql", checksum_length: 64 },
    { version: "0004", file: "0004_stock_reservations.sql", checksum_length: 64 },
    { version: "0005", file: "0005_checkouts.sql", checksum_length: 64 },
    { version: "0006", file: "0006_session_handoff.sql", checksum_length: 64 },
    { version: "0007", file: "0007_data_migrations.sql", checksum_length: 64 },
  ]);
  expect((await pool.query("SELECT count(*)::int AS n FROM products")).rows[0].n).toBe(10_000);
});

test("servers that start at the same moment apply each migration once and seed once", async () => {
  const { db } = await freshDatabase();
  const servers = Array.from({ length: 4 }, () => new Pool({ connectionString: db.primaryUrl, max: 2 }));
  cleanups.push(() => Promise.all(servers.map((pool) => pool.end())));
  const results = await Promise.all(servers.map((pool) => prepare(pool, 300)));
  expect(results.flatMap((result) => result.applied).sort()).toEqual(ALL);
  expect(results.map((result) => result.seeded).sort((a, b) => a - b)).toEqual([0, 0, 0, 300]);
  expect((await servers[0].query("SELECT count(*)::int AS n FROM products")).rows[0].n).toBe(300);
});

test("a server waits while another holds the schema lock, then finds its work to do", async () => {
  const { pool } = await freshDatabase();
  const holder = await pool.connect();
  await holder.query("SELECT pg_advisory_lock($1::bigint)", [SCHEMA_LOCK_KEY]);
  const waiting = prepare(pool, 10);
  try {
    await pollUntil("the other server's lock request to queue behind ours", async () => {
      const { rows } = await holder.query(
        "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = " +
          "'advisory' AND NOT l.granted AND d.datname = current_database()",
      );
      return rows[0].n > 0;
    });
    expect((await holder.query("SELECT to_regclass('schema_migrations') AS t")).rows[0].t).toBeNull();
  } finally {
    await holder.query("SELECT pg_advisory_unlock($1::bigint)", [SCHEMA_LOCK_KEY]);
    holder.release();
  }
  expect(await waiting).toEqual({ applied: ALL, seeded: 10 });
});

test("the seed is deterministic: the same count gives the same rows in any database", async () => {
  const fingerprint = async (pool: Pool) =>
    (
      await pool.query(
        "SELECT md5(string_agg(concat_ws('|', id, sku, name, description, category, price_cents, stock), ',' " +
          "ORDER BY id)) AS h FROM products",
      )
    ).rows[0].h;
  const [a, b] = [await freshDatabase(), await freshDatabase()];
  await prepare(a.pool, 400);
  await prepare(b.pool, 400);
  expect(await fingerprint(a.pool)).toBe(await fingerprint(b.pool));
  const { rows } = await a.pool.query(
    "SELECT category, count(*)::int AS n FROM products GROUP BY category ORDER BY category",
  );
  expect(rows).toEqual([...SEED_CATEGORIES].sort().map((category) => ({ category, n: 400 / SEED_CATEGORIES.length })));
  const first = (await a.pool.query("SELECT sku, name, category, price_cents, stock FROM products WHERE id = 1"))
    .rows[0];
  expect(first).toEqual({
    sku: "SKU-0000001",
    name: "Sturdy Novel 1",
    category: "books",
    price_cents: 199 + 7919,
    stock: 37,
  });
});

test("a catalog that already has products is not seeded", async () => {
  const { pool } = await freshDatabase();
  await prepare(pool, 0);
  await pool.query(
    "INSERT INTO products (sku, name, category, price_cents, stock) VALUES ('OWN-1', 'Own', 'home', 1, 1)",
  );
  expect((await prepare(pool, 50)).seeded).toBe(0);
  expect((await pool.query("SELECT count(*)::int AS n FROM products")).rows[0].n).toBe(1);
});

test("a migration edited after it was applied stops the start, naming the file", async () => {
  const { pool } = await freshDatabase();
  await prepare(pool, 0);
  await pool.query("UPDATE schema_migrations SET checksum = 'edited' WHERE version = '0001'");
  await expect(prepare(pool, 0)).rejects.toThrow(
    new MigrationError("migration 0001_catalog.sql was changed after it was applied; add a new migration instead"),
  );
});

describe("with a migrations directory of its own", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "shop-migrations-"));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  test("a failing migration is rolled back whole and not recorded", async () => {
    const { pool } = await freshDatabase();
    await writeFile(
      path.join(dir, "0099_broken.sql"),
      "CREATE TABLE half_done (id int);\nSELECT no_such_function();\n",
    );
    await expect(prepare(pool, 0, dir)).rejects.toThrow(
      /migration 0099_broken.sql failed: function no_such_function\(\) does not exist/,
    );
    expect((await pool.query("SELECT version FROM schema_migrations ORDER BY version")).rows).toEqual(
      ALL.map((file) => ({ version: file.slice(0, 4) })),
    );
    expect((await pool.query("SELECT to_regclass('half_done') AS t")).rows[0].t).toBeNull();
  });

  test("a .sql file off the NNNN_name.sql pattern is an error, not silently skipped", async () => {
    await writeFile(path.join(dir, "3_oops.sql"), "SELECT 1;");
    await expect(readMigrations(dir)).rejects.toThrow("migration file 3_oops.sql does not match NNNN_name.sql");
  });
});
