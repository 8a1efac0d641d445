/**
 * backfillOrderShards (step 9) against real PostgreSQL: 3,000 orders of a catalog database (lines, events, unsent
 * outbox rows) go to the shards that own their shoppers while the catalog keeps changing (orders placed, pending
 * orders confirmed), verified and recorded; a second run changes nothing; a run stopped midway is finished by the
 * next; a shard that does not keep what is written fails the verification, naming the table and both checksums, and
 * nothing is recorded.
 */
import { Client, type Pool } from "pg";
import { backfillOrderShards } from "../../app/src/data-migrations/backfill-order-shards";
import { VerificationError } from "../../app/src/data-migrations/report";
import { migrate } from "../../app/src/db/migrate";
import { prepareDatabase } from "../../app/src/db/prepare";
import { SHARD_MIGRATIONS_DIR } from "../../app/src/shards/order-shards";
import { MIGRATIONS_DIR } from "../../app/src/paths";
import type { ShardMap } from "../../app/src/shards/shard-map";
import { bucketOf } from "../../app/src/shards/shard-map";
import { readCluster } from "../../lib/servers/postgres-cluster";
import { placeCatalogOrders } from "./support/catalog-orders";
import { type ShardCluster, startShardCluster } from "./support/shard-cluster";
import { TEST_SEED_PRODUCTS, testLogger } from "./support/test-app";
import { createSuiteDatabase, lockReplica } from "./support/test-database";
import { testPool } from "./support/test-pool";

const ORDERS = 3_000;

let unlock: () => Promise<void>;
let servers: ShardCluster;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  unlock = await lockReplica(await readCluster(), "shared");
  servers = await startShardCluster(["backfill-0", "backfill-1"]);
}, 120_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await servers?.close();
  await unlock?.();
});

/** A catalog database of a step-8 shop with `ORDERS` orders, and a pool on it. */
async function catalogWithOrders(label: string): Promise<{ url: string; pool: Pool }> {
  const db = await createSuiteDatabase(label);
  const pool = testPool(db.primaryUrl, 3);
  cleanups.push(
    () => db.drop(),
    () => pool.end(),
  );
  await prepareDatabase(pool, {
    migrationsDir: MIGRATIONS_DIR,
    seedProducts: TEST_SEED_PRODUCTS,
    logger: testLogger(),
  });
  await placeCatalogOrders(pool, ORDERS, TEST_SEED_PRODUCTS);
  return { url: db.primaryUrl, pool };
}

/** The shard map with a new, empty database named `label` on each shard server. */
async function emptyShards(label: string): Promise<ShardMap> {
  const shards = await Promise.all(
    servers.map.shards.map(async (spec) => {
      const admin = new Client({ connectionString: spec.url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${label}`);
      } finally {
        await admin.end();
      }
      const url = spec.url.replace(/\/orders$/, `/${label}`);
      return { ...spec, url, readerUrl: url };
    }),
  );
  return { buckets: servers.map.buckets, shards };
}

/** Each shard's order tables, checksummed independently of the code under test (rows sorted as text, in UTC). */
async function fingerprint(map: ShardMap): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const spec of map.shards) {
    const client = new Client({ connectionString: spec.url });
    await client.connect();
    try {
      await client.query("SET TimeZone = 'UTC'");
      for (const [table, row] of [
        ["orders", "t"],
        ["order_items", "t"],
        ["order_events", "t"],
        ["order_outbox", "ROW(t.order_id, t.body, t.sent_at)"],
      ]) {
        const { rows } = await client.query<{ n: number; sum: string }>(
          `SELECT count(*)::int AS n, md5(coalesce(string_agg(${row}::text, '|' ORDER BY ${row}::text), '')) AS sum
             FROM ${table} AS t`,
        );
        result[`${spec.name} ${table}`] = `${rows[0].n}:${rows[0].sum}`;
      }
    } finally {
      await client.end();
    }
  }
  return result;
}

/** Every catalog order is on its shopper's shard with the same status and lines. */
async function everyOrderOnItsShard(catalog: Pool, map: ShardMap): Promise<void> {
  const { rows } = await catalog.query<{ id: string; shopper_id: string; status: string; lines: string }>(
    `SELECT o.id, o.shopper_id, o.status,
            (SELECT string_agg(product_id || 'x' || quantity, ',' ORDER BY product_id) FROM order_items
              WHERE order_id = o.id) AS lines
       FROM orders AS o`,
  );
  const pools = map.shards.map((spec) => testPool(spec.url, 1));
  try {
    for (const [index, pool] of pools.entries()) {
      const mine = rows.filter((row) => map.buckets[bucketOf(row.shopper_id)] === index);
      const { rows: copies } = await pool.query<{ id: string; status: string; lines: string }>(
        `SELECT o.id, o.status, (SELECT string_agg(product_id || 'x' || quantity, ',' ORDER BY product_id)
                                   FROM order_items WHERE order_id = o.id) AS lines
           FROM orders AS o WHERE o.id = ANY($1::uuid[])`,
        [mine.map((row) => row.id)],
      );
      const byId = new Map(copies.map((copy) => [copy.id, copy]));
      for (const row of mine) expect(byId.get(row.id)).toEqual({ id: row.id, status: row.status, lines: row.lines });
    }
  } finally {
    await Promise.all(pools.map((pool) => pool.end()));
  }
}

test("3,000 orders reach their shards as the catalog changes, verified, recorded; a rerun changes none", async () => {
  const catalog = await catalogWithOrders("backfill_bulk");
  const map = await emptyShards("backfill_bulk");
  const lines: string[] = [];
  let changed = false;
  const report = await backfillOrderShards({
    catalog: { connectionString: catalog.url },
    shards: map,
    log: (line) => lines.push(line),
    onBatch: async () => {
      // Halfway through the bulk pass, the shop goes on: 50 more orders, 20 pending ones confirmed (as a step-9
      // worker does before the record). The last pass copies them.
      if (changed) return;
      changed = true;
      await placeCatalogOrders(catalog.pool, 50, TEST_SEED_PRODUCTS);
      await catalog.pool.query(
        `WITH confirmed AS (
           UPDATE orders SET status = 'confirmed', confirmed_at = now()
            WHERE id IN (SELECT id FROM orders WHERE status = 'pending' ORDER BY id LIMIT 20) RETURNING id)
         INSERT INTO order_events (order_id, kind) SELECT id, 'order_confirmed' FROM confirmed`,
      );
    },
  });
  expect(changed).toBe(true);
  const counts = Object.fromEntries(report.tables.map((table) => [table.table, table.rows]));
  // A third of the orders were pending, with an unsent outbox row (1,000 + 16 of the 50; the 20 confirmed since keep
  // theirs, unsent, on the catalog); the others have their event, and the 20 confirmed one each too.
  expect(counts).toEqual({ orders: 3_050, order_items: 6_100, order_events: 2_034 + 20, order_outbox: 1_016 });
  // Each order was written once, or twice when it was confirmed after its first copy.
  expect(report.copied).toBeGreaterThanOrEqual(3_050 + 6_100 + 2_054 + 1_016);
  const [bulk, last] = [lines.find((line) => line.startsWith("bulk pass")), lines.find((l) => l.startsWith("last"))];
  expect(last).toMatch(/^last pass: 3050 orders compared, \d+ rows written, verified/);
  if (process.env.SHOP_TEST_TIMINGS) process.stdout.write(`backfillOrderShards: ${bulk}; ${last}\n`);
  await everyOrderOnItsShard(catalog.pool, map);
  const { rows: recorded } = await catalog.pool.query("SELECT report FROM data_migrations");
  expect(recorded).toEqual([{ report }]);

  const before = await fingerprint(map);
  const again = await backfillOrderShards({ catalog: { connectionString: catalog.url }, shards: map });
  expect(again).toMatchObject({ copied: 0, tables: report.tables });
  expect(await fingerprint(map)).toEqual(before);
});

test("a run stopped after 3 batches is finished by the next one, which copies only the rest", async () => {
  const catalog = await catalogWithOrders("backfill_resume");
  const map = await emptyShards("backfill_resume");
  const crash = new Error("injected: the run dies here");
  await expect(
    backfillOrderShards({
      catalog: { connectionString: catalog.url },
      shards: map,
      onBatch: ({ batch }) => {
        if (batch === 3) throw crash;
      },
    }),
  ).rejects.toBe(crash);
  expect((await catalog.pool.query("SELECT * FROM data_migrations")).rows).toEqual([]);
  const partial = await fingerprint(map);
  const copiedOrders = Object.entries(partial)
    .filter(([name]) => name.endsWith(" orders"))
    .reduce((sum, [, value]) => sum + Number(value.split(":")[0]), 0);
  expect(copiedOrders).toBeGreaterThan(0);
  expect(copiedOrders).toBeLessThan(ORDERS);

  const logLines: string[] = [];
  const rest = await backfillOrderShards({
    catalog: { connectionString: catalog.url },
    shards: map,
    log: (line) => logLines.push(line),
  });
  const orders = rest.tables.find((table) => table.table === "orders")!;
  expect(orders.rows).toBe(ORDERS);
  // The rerun wrote only the orders the first run had not, with their lines, events and outbox rows.
  expect(logLines[0]).toMatch(new RegExp(`^bulk pass: ${ORDERS} orders compared`));
  // Four rows an order: itself, two lines, and its event (confirmed) or its outbox row (pending).
  expect(logLines[0]).toContain(`, ${(ORDERS - copiedOrders) * 4} rows written`);
  await everyOrderOnItsShard(catalog.pool, map);
});

test("a shard that does not keep what is written fails verification, naming the table and both checksums", async () => {
  const catalog = await catalogWithOrders("backfill_tamper");
  const map = await emptyShards("backfill_tamper");
  // Shard 0 (migrated as a server would) doubles the quantity of every line written to it: a trigger standing in
  // for a copy that does not land as written.
  const shard0 = testPool(map.shards[0].url, 1);
  try {
    const client = await shard0.connect();
    try {
      await migrate(client, SHARD_MIGRATIONS_DIR, testLogger());
      await client.query(`CREATE FUNCTION double_quantity() RETURNS trigger LANGUAGE plpgsql AS
                            $$ BEGIN NEW.quantity := NEW.quantity * 2; RETURN NEW; END $$`);
      await client.query(
        "CREATE TRIGGER doubles BEFORE INSERT ON order_items FOR EACH ROW EXECUTE FUNCTION double_quantity()",
      );
    } finally {
      client.release();
    }
  } finally {
    await shard0.end();
  }
  const error: unknown = await backfillOrderShards({ catalog: { connectionString: catalog.url }, shards: map }).catch(
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(VerificationError);
  const failure = error as VerificationError;
  expect(failure.table).toBe("order_items");
  expect(failure.source.rows).toBe(2 * ORDERS);
  expect(failure.target.rows).toBe(2 * ORDERS);
  expect(failure.source.checksum).toMatch(/^[0-9a-f]{64}$/);
  expect(failure.target.checksum).not.toBe(failure.source.checksum);
  expect(failure.message).toBe(
    `verification failed for table order_items: source ${2 * ORDERS} rows, checksum ${failure.source.checksum}; ` +
      `target ${2 * ORDERS} rows, checksum ${failure.target.checksum}`,
  );
  expect((await catalog.pool.query("SELECT * FROM data_migrations")).rows).toEqual([]);
});
