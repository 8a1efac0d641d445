/**
 * moveDatabase (step 1 -> 2) against real PostgreSQL: a shop of 10,000 products and 3,000 orders (lines, events,
 * outbox rows, checkout claims) moves into an empty database while it keeps taking orders; a second run copies what
 * changed, a third nothing; a run stopped midway is finished by the next; a row changed on the target behind the
 * copy's back fails the verification, naming the table and both checksums; and the move to another server leaves
 * sequences that go on where the source's stopped.
 */
import { Client, type Pool } from "pg";
import { prepareDatabase } from "../../app/src/db/prepare";
import { VerificationError, withoutPassword } from "../../app/src/data-migrations/report";
import { moveDatabase } from "../../app/src/data-migrations/move-database";
import { MIGRATIONS_DIR } from "../../app/src/paths";
import { readCluster } from "../../lib/servers/postgres-cluster";
import { placeCatalogOrders } from "./support/catalog-orders";
import { type ShardCluster, startShardCluster } from "./support/shard-cluster";
import { testLogger } from "./support/test-app";
import { type SuiteDatabase, createSuiteDatabase, lockReplica } from "./support/test-database";
import { testPool } from "./support/test-pool";

const ORDERS = 3_000;
const PRODUCTS = 10_000;

let unlock: () => Promise<void>;
let source: SuiteDatabase;
let sourcePool: Pool;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  unlock = await lockReplica(await readCluster(), "shared");
  source = await createSuiteDatabase("move_source");
  sourcePool = testPool(source.primaryUrl, 4);
  await prepareDatabase(sourcePool, { migrationsDir: MIGRATIONS_DIR, seedProducts: PRODUCTS, logger: testLogger() });
  await placeOrders(sourcePool, ORDERS);
}, 120_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await sourcePool?.end();
  await source?.drop();
  await unlock?.();
});

/** An empty database on the run's primary, dropped at the end. */
async function emptyTarget(label: string): Promise<SuiteDatabase> {
  const db = await createSuiteDatabase(label);
  cleanups.push(() => db.drop());
  return db;
}

/** `count` more orders (support/catalog-orders.ts), and the stock of every 7th product changed. */
async function placeOrders(pool: Pool, count: number): Promise<void> {
  await placeCatalogOrders(pool, count, PRODUCTS);
  await pool.query("UPDATE products SET stock = stock + 1, updated_at = now() WHERE id % 7 = 0");
}

/**
 * Every table's rows (but schema_migrations), checksummed independently of the code under test: the md5 of the rows'
 * texts sorted as text, in UTC.
 */
async function fingerprint(url: string): Promise<Record<string, string>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SET TimeZone = 'UTC'");
    const { rows: tables } = await client.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'",
    );
    const result: Record<string, string> = {};
    for (const { name } of tables) {
      const { rows } = await client.query<{ sum: string; n: number }>(
        `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS sum FROM ${name} t`,
      );
      result[name] = `${rows[0].n}:${rows[0].sum}`;
    }
    const sequences = await client.query<{ name: string; v: string | null }>(
      "SELECT sequencename AS name, last_value::text AS v FROM pg_sequences WHERE schemaname = 'public'",
    );
    for (const row of sequences.rows) result[`sequence ${row.name}`] = String(row.v);
    return result;
  } finally {
    await client.end();
  }
}

const totalRows = (fp: Record<string, string>) =>
  Object.entries(fp)
    .filter(([name]) => !name.startsWith("sequence "))
    .reduce((sum, [, value]) => sum + Number(value.split(":")[0]), 0);

test("the bulk pass copies a running shop, the catch-up only what changed since, a third run nothing", async () => {
  const target = await emptyTarget("move_target");
  const lines: string[] = [];
  // The shop keeps writing while the bulk pass runs: an order (with its lines and claim) placed halfway through.
  let wroteDuringCopy = false;
  const bulk = await moveDatabase({
    source: { connectionString: source.primaryUrl },
    target: { connectionString: target.primaryUrl },
    log: (line) => lines.push(line),
    onBatch: async ({ table }) => {
      if (table === "orders" && !wroteDuringCopy) {
        wroteDuringCopy = true;
        await placeOrders(sourcePool, 1);
      }
    },
  });
  expect(wroteDuringCopy).toBe(true);
  // The copy is the snapshot the run started from, verified: the order placed meanwhile is not in it.
  const atStart = await fingerprint(target.primaryUrl);
  expect(bulk.tables.find((t) => t.table === "orders")?.rows).toBe(ORDERS);
  expect(bulk.tables.map((t) => t.table).sort()).toEqual(
    Object.keys(atStart)
      .filter((name) => !name.startsWith("sequence "))
      .sort(),
  );
  expect(bulk.copied).toBe(totalRows(atStart));
  expect(lines.at(-1)).toMatch(/^verified: \d+ tables equal/);

  // Meanwhile: that order, 200 more, a price change, a released claim; then the catch-up pass (writes fenced).
  await placeOrders(sourcePool, 200);
  await sourcePool.query("UPDATE products SET price_cents = price_cents + 1 WHERE id = 42");
  await sourcePool.query(
    "DELETE FROM checkouts WHERE order_id = (SELECT order_id FROM checkouts ORDER BY created_at, order_id LIMIT 1)",
  );
  const catchUp = await moveDatabase({
    source: { connectionString: source.primaryUrl },
    target: { connectionString: target.primaryUrl },
    log: (line) => process.env.SHOP_TEST_TIMINGS && process.stdout.write(`${line}\n`),
  });
  const after = await fingerprint(target.primaryUrl);
  expect(after).toEqual(await fingerprint(source.primaryUrl));
  // The rows of 201 orders (the table's growth, less the claim deleted), every 7th product (stock changed, product
  // 42's price too), and the deleted claim.
  // That count is the proof that the catch-up copies only what changed; how long it takes is the benchmark's business
  // (a duration compared here failed a clean-clone CI run under load: catch-up 1,662 ms against bulk 1,608 ms).
  expect(catchUp.copied).toBe(totalRows(after) - totalRows(atStart) + 1 + Math.floor(PRODUCTS / 7) + 1);

  const again = await moveDatabase({
    source: { connectionString: source.primaryUrl },
    target: { connectionString: target.primaryUrl },
  });
  expect(again.copied).toBe(0);
  if (process.env.SHOP_TEST_TIMINGS) {
    const figures = `bulk ${bulk.ms} ms (${bulk.copied} rows), catch-up ${catchUp.ms} ms (${catchUp.copied} rows)`;
    process.stdout.write(`moveDatabase: ${figures}, unchanged ${again.ms} ms\n`);
  }
  expect(await fingerprint(target.primaryUrl)).toEqual(after);
  expect(again.tables).toEqual(catchUp.tables);
});

test("a run stopped after 3 batches of order lines is finished by the next, which copies only the rest", async () => {
  const target = await emptyTarget("move_resume");
  const crash = new Error("injected: the run dies here");
  await expect(
    moveDatabase({
      source: { connectionString: source.primaryUrl },
      target: { connectionString: target.primaryUrl },
      onBatch: ({ batch, table }) => {
        if (table === "order_items" && batch === 3) throw crash;
      },
    }),
  ).rejects.toBe(crash);
  const partial = totalRows(await fingerprint(target.primaryUrl));
  const whole = totalRows(await fingerprint(source.primaryUrl));
  expect(partial).toBeGreaterThan(PRODUCTS);
  expect(partial).toBeLessThan(whole);

  const rest = await moveDatabase({
    source: { connectionString: source.primaryUrl },
    target: { connectionString: target.primaryUrl },
  });
  expect(rest.copied).toBe(whole - partial);
  expect(await fingerprint(target.primaryUrl)).toEqual(await fingerprint(source.primaryUrl));
});

test("passwords read from a secret when connections open (the URLs hold none) reach the servers", async () => {
  // The runbook's --source-secret/--target-secret and the 8 -> 9 backfill's shard secret give the pools a `password`
  // function and URLs without one: pg lets the URL's (absent) password win over the config's, so the server was
  // asked with none ("client password must be a string").
  const target = await emptyTarget("move_secret");
  const fromSecret = (url: string) => ({
    connectionString: withoutPassword(url),
    password: async () => decodeURIComponent(new URL(url).password),
  });
  const report = await moveDatabase({ source: fromSecret(source.primaryUrl), target: fromSecret(target.primaryUrl) });
  expect(report.copied).toBeGreaterThan(PRODUCTS);
  expect(await fingerprint(target.primaryUrl)).toEqual(await fingerprint(source.primaryUrl));
});

test("a target row changed behind the copy's back fails verification, naming the table and the checksums", async () => {
  const target = await emptyTarget("move_tamper");
  const targetPool = testPool(target.primaryUrl, 1);
  cleanups.push(() => targetPool.end());
  let tampered = false;
  const run = moveDatabase({
    source: { connectionString: source.primaryUrl },
    target: { connectionString: target.primaryUrl },
    onBatch: async ({ table }) => {
      // Order lines come after the products they reference: a writer on the target changes a product now.
      if (table === "order_items" && !tampered) {
        tampered = true;
        await targetPool.query("UPDATE products SET price_cents = price_cents + 1 WHERE id = 7");
      }
    },
  });
  const error: unknown = await run.catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(VerificationError);
  const failure = error as VerificationError;
  expect(failure.table).toBe("products");
  expect(failure.source.rows).toBe(PRODUCTS);
  expect(failure.target.rows).toBe(PRODUCTS);
  expect(failure.source.checksum).toMatch(/^[0-9a-f]{64}$/);
  expect(failure.target.checksum).toMatch(/^[0-9a-f]{64}$/);
  expect(failure.target.checksum).not.toBe(failure.source.checksum);
  expect(failure.message).toContain(`table products: source ${PRODUCTS} rows, checksum ${failure.source.checksum}`);
  expect(failure.message).toContain(`target ${PRODUCTS} rows, checksum ${failure.target.checksum}`);
});

describe("to another server", () => {
  let servers: ShardCluster;
  beforeAll(async () => {
    servers = await startShardCluster(["move-rds"]);
  }, 120_000);
  afterAll(async () => servers?.close());

  test("the copy is verified there, and new rows get ids after the source's", async () => {
    const url = servers.shards[0].url;
    const report = await moveDatabase({
      source: { connectionString: source.primaryUrl },
      target: { connectionString: url },
    });
    expect(await fingerprint(url)).toEqual(await fingerprint(source.primaryUrl));
    expect(report.tables.find((t) => t.table === "products")).toMatchObject({ rows: PRODUCTS });
    const pool = testPool(url, 1);
    try {
      const { rows } = await pool.query<{ id: number }>(
        `INSERT INTO products (sku, name, category, price_cents, stock)
         VALUES ('NEW-1', 'New', 'misc', 100, 1) RETURNING id`,
      );
      expect(rows[0].id).toBe(PRODUCTS + 1);
    } finally {
      await pool.end();
    }
  });
});
