/**
 * Step 9: the orders written to the catalog database before the shards existed are copied to the shard that owns
 * their shopper (`ORDER_SHARDS`' map, the app's own bucket function), with their lines, their events and their
 * unsent outbox rows; then the copy is verified and recorded as done in `data_migrations` (migration 0007).
 *
 * Until that record exists a sharded app reads a shopper's history from their shard and from the catalog database
 * (orders/pre-shard-orders.ts), and a step-9 worker confirms the orders still kept on the catalog there, each under
 * a shared advisory lock ({@link BACKFILL_LOCK_KEY}). So an order placed at step 8 is shown throughout, and
 * confirmed once, in one place:
 * - before the record, on the catalog (its copy on the shard follows at the next pass);
 * - after it, on its shard, whose copy is then the order (the catalog's is left as it was, never read again).
 *
 * One run:
 * 1. Both schemas are brought up to date (the release's migrations, under the schema lock, as a server would).
 * 2. Bulk pass, while the shop runs: the catalog's orders are walked in id order, in chunks; for each order the
 *    md5 of its row, of its lines, of its events and of its unsent outbox rows are compared with those of its copy
 *    on its shard (one query per side and chunk), and the orders that differ are written to their shard in one
 *    transaction per shard and batch (the order upserted; its lines, events and outbox rows replaced).
 * 3. The last pass, holding {@link BACKFILL_LOCK_KEY} exclusively in a catalog transaction, so that no worker is
 *    confirming a catalog order meanwhile: the same pass again (it copies only what changed since), a verification
 *    pass (per table, count and checksum of the catalog's rows against those of the copies, read afresh: a
 *    difference throws a {@link VerificationError} naming the table and both figures), and the record, committed
 *    with the lock's release.
 * A run that dies midway keeps what it copied (each batch commits on its own), and the next one copies the rest.
 * Once recorded, a run changes nothing and returns the recorded tables with `copied: 0`. Outbox rows are copied as
 * new rows on the shard (their ids are the shard's own); the shard's relay sends them.
 */
import { Pool, type PoolClient, type PoolConfig } from "pg";
import { SCHEMA_LOCK_KEY, withAdvisoryLock } from "../db/advisory-lock";
import { migrate } from "../db/migrate";
import { createLogger } from "../logger";
import { MIGRATIONS_DIR } from "../paths";
import { SHARD_MIGRATIONS_DIR } from "../shards/order-shards";
import { type ShardMap, bucketOf } from "../shards/shard-map";
import {
  BACKFILL_LOCK_KEY,
  BACKFILL_ORDER_SHARDS,
  DEFAULT_BATCH_SIZE,
  type MigrationReport,
  type TableReport,
  VerificationError,
  finishedReport,
  migrationPool,
  withRunLock,
  withoutPassword,
} from "./report";
import type { BatchEvent } from "./move-database";
import { RunningChecksum } from "./tables";

/** Arguments of {@link backfillOrderShards}. */
export interface BackfillOrderShardsArgs {
  /** The catalog database (`DATABASE_URL`): the orders of steps 1-8 are there. */
  catalog: PoolConfig;
  /** The shard map (`ORDER_SHARDS`): each order goes to `shards[buckets[bucketOf(shopperId)]]`, its writer. */
  shards: ShardMap;
  /**
   * Settings of every shard's pool on top of its URL, e.g. `password` read from `ORDER_SHARDS_SECRET` (given, it
   * is used instead of any password in the URLs).
   * @default none: the URLs' own credentials
   */
  shardPool?: Omit<PoolConfig, "connectionString">;
  /** Progress lines. @default none */
  log?: (line: string) => void;
  /**
   * Orders per batch.
   * @default 500
   */
  batchSize?: number;
  /** Called after each batch is committed on a shard; an error it throws stops the run there, as a crash would. */
  onBatch?: (event: BatchEvent) => void | Promise<void>;
}

/** The tables copied, in the report's order. */
const TABLES = ["orders", "order_items", "order_events", "order_outbox"] as const;
type CopiedTable = (typeof TABLES)[number];

/** One order's figures on one side: the md5 of its row, the md5s of its lines, events and outbox rows in key order. */
interface OrderFigures {
  id: string;
  shopper: string;
  order: string;
  order_items: string;
  order_events: string;
  order_outbox: string;
  counts: Record<Exclude<CopiedTable, "orders">, number>;
}

/**
 * The figures of the orders `picked` selects (a query over `orders`), the same on both sides. Columns are named (the
 * catalog's order_items has its columns in another order than the shard's); outbox rows by (order, body) only, as
 * their ids and sending differ by side: the catalog's unsent ones (`unsentOnly`), and every copy on the shard (its
 * relay may have sent them since). One aggregate per table over the picked orders, joined by id.
 */
const figuresSql = (picked: string, unsentOnly: boolean) => `
  WITH o AS (${picked}),
  i AS (SELECT order_id, count(*)::int AS n, string_agg(md5(ROW(order_id, product_id, product_name, quantity,
               unit_price_cents)::text), '' ORDER BY product_id) AS h
          FROM order_items WHERE order_id IN (SELECT id FROM o) GROUP BY order_id),
  e AS (SELECT order_id, count(*)::int AS n,
               string_agg(md5(ROW(order_id, kind, created_at)::text), '' ORDER BY kind COLLATE "C") AS h
          FROM order_events WHERE order_id IN (SELECT id FROM o) GROUP BY order_id),
  x AS (SELECT order_id, count(*)::int AS n,
               string_agg(md5(ROW(order_id, body)::text), '' ORDER BY body COLLATE "C") AS h
          FROM order_outbox WHERE order_id IN (SELECT id FROM o)${unsentOnly ? " AND sent_at IS NULL" : ""}
         GROUP BY order_id)
  SELECT o.id::text AS id, o.shopper_id::text AS shopper,
         md5(ROW(o.id, o.shopper_id, o.status, o.total_cents, o.created_at, o.confirmed_at)::text) AS "order",
         coalesce(i.n, 0) AS items_n, coalesce(i.h, '') AS order_items,
         coalesce(e.n, 0) AS events_n, coalesce(e.h, '') AS order_events,
         coalesce(x.n, 0) AS outbox_n, coalesce(x.h, '') AS order_outbox
    FROM o
    LEFT JOIN i ON i.order_id = o.id
    LEFT JOIN e ON e.order_id = o.id
    LEFT JOIN x ON x.order_id = o.id
   ORDER BY o.id`;

/** A chunk of the catalog's orders after id `$1` (null: from the start), at most `$2`. */
const CATALOG_CHUNK = figuresSql(
  "SELECT * FROM orders WHERE $1::uuid IS NULL OR id > $1::uuid ORDER BY id LIMIT $2",
  true,
);
/** The shard's copies of orders `$1`. */
const SHARD_COPIES = figuresSql("SELECT * FROM orders WHERE id = ANY($1::uuid[])", false);

/** Orders compared per round trip (one query per side); they are written in batches of `batchSize`. */
const COMPARE_CHUNK = 2_000;

/** The catalog's rows of orders `$1`, as JSON texts, to write on a shard. */
const CATALOG_ROWS = `
  SELECT (SELECT coalesce(json_agg(o), '[]') FROM orders AS o WHERE o.id = ANY($1::uuid[]))::text AS orders,
         (SELECT coalesce(json_agg(i), '[]') FROM order_items AS i WHERE i.order_id = ANY($1::uuid[]))::text AS items,
         (SELECT coalesce(json_agg(e), '[]') FROM order_events AS e WHERE e.order_id = ANY($1::uuid[]))::text AS events,
         (SELECT coalesce(json_agg(json_build_object('order_id', x.order_id, 'body', x.body,
                   'created_at', x.created_at)), '[]')
            FROM order_outbox AS x WHERE x.order_id = ANY($1::uuid[]) AND x.sent_at IS NULL)::text AS outbox`;

function figures(row: Record<string, unknown>): OrderFigures {
  return {
    id: row.id as string,
    shopper: row.shopper as string,
    order: row.order as string,
    order_items: row.order_items as string,
    order_events: row.order_events as string,
    order_outbox: row.order_outbox as string,
    counts: {
      order_items: row.items_n as number,
      order_events: row.events_n as number,
      order_outbox: row.outbox_n as number,
    },
  };
}

const sameFigures = (a: OrderFigures, b: OrderFigures | undefined) =>
  b !== undefined &&
  a.order === b.order &&
  a.order_items === b.order_items &&
  a.order_events === b.order_events &&
  a.order_outbox === b.order_outbox;

/** See the module comment. */
export async function backfillOrderShards(args: BackfillOrderShardsArgs): Promise<MigrationReport> {
  const started = performance.now();
  const log = args.log ?? (() => undefined);
  const batchSize = args.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error("batchSize must be a positive integer");
  const catalog = migrationPool(args.catalog, "catalog");
  const shards = args.shards.shards.map((spec) => ({
    name: spec.name,
    pool: migrationPool(
      { ...args.shardPool, connectionString: args.shardPool?.password ? withoutPassword(spec.url) : spec.url },
      spec.name,
    ),
  }));
  const shardOf = (shopperId: string) => shards[args.shards.buckets[bucketOf(shopperId)]];
  try {
    return await withRunLock(catalog, async () => {
      const quiet = createLogger("shop-data-migrations", "silent");
      await withAdvisoryLock(catalog, SCHEMA_LOCK_KEY, (client) => migrate(client, MIGRATIONS_DIR, quiet));
      const recorded = await finishedReport(catalog, BACKFILL_ORDER_SHARDS);
      if (recorded) {
        log(`already done: recorded with ${recorded.tables.map((t) => `${t.table} ${t.rows}`).join(", ")}`);
        return { ...recorded, copied: 0, ms: Math.round(performance.now() - started) };
      }
      for (const shard of shards)
        await withAdvisoryLock(shard.pool, SCHEMA_LOCK_KEY, (client) => migrate(client, SHARD_MIGRATIONS_DIR, quiet));

      const pass = new Pass(catalog, shardOf, batchSize, args.onBatch);
      const since = (at: number) => `${Math.round(performance.now() - at)} ms`;
      let at = performance.now();
      const bulk = await pass.copy();
      log(`bulk pass: ${bulk.orders} orders compared, ${bulk.copied} rows written (${since(at)})`);

      // The last pass: no worker confirms a catalog order while it runs (they wait for the lock, then see the record).
      const fence = await catalog.connect();
      try {
        await fence.query("BEGIN");
        await fence.query("SELECT pg_advisory_xact_lock($1::bigint)", [BACKFILL_LOCK_KEY]);
        at = performance.now();
        const last = await pass.copy();
        const tables = await pass.verify();
        log(`last pass: ${last.orders} orders compared, ${last.copied} rows written, verified (${since(at)})`);
        const report: MigrationReport = {
          name: BACKFILL_ORDER_SHARDS,
          tables,
          copied: bulk.copied + last.copied,
          ms: Math.round(performance.now() - started),
        };
        await fence.query("INSERT INTO data_migrations (name, report) VALUES ($1, $2)", [
          BACKFILL_ORDER_SHARDS,
          JSON.stringify(report),
        ]);
        await fence.query("COMMIT");
        log(`verified and recorded: ${tables.map((t) => `${t.table} ${t.rows}`).join(", ")} in ${report.ms} ms`);
        return report;
      } finally {
        // An error above leaves the transaction open: ending the connection rolls it back and frees the lock.
        fence.release(true);
      }
    });
  } finally {
    await Promise.all([catalog.end(), ...shards.map((shard) => shard.pool.end())]);
  }
}

interface ShardPool {
  name: string;
  pool: Pool;
}

/** The walks over the catalog's orders: copying what differs, and verifying. */
class Pass {
  private batchNumber = 0;

  constructor(
    private readonly catalog: Pool,
    private readonly shardOf: (shopperId: string) => ShardPool,
    private readonly batchSize: number,
    private readonly onBatch: BackfillOrderShardsArgs["onBatch"],
  ) {}

  /** Yields each chunk of the catalog's orders with their copies' figures, grouped by shard. */
  private async *chunks(): AsyncGenerator<{ mine: OrderFigures[]; theirs: Map<string, OrderFigures> }> {
    let after: string | null = null;
    for (;;) {
      const mine: OrderFigures[] = (await this.catalog.query(CATALOG_CHUNK, [after, COMPARE_CHUNK])).rows.map(figures);
      if (mine.length === 0) return;
      const byShard = new Map<ShardPool, string[]>();
      for (const order of mine) {
        const shard = this.shardOf(order.shopper);
        byShard.set(shard, [...(byShard.get(shard) ?? []), order.id]);
      }
      const theirs = new Map<string, OrderFigures>();
      await Promise.all(
        [...byShard].map(async ([shard, ids]) => {
          for (const row of (await shard.pool.query(SHARD_COPIES, [ids])).rows)
            theirs.set(row.id as string, figures(row));
        }),
      );
      yield { mine, theirs };
      if (mine.length < COMPARE_CHUNK) return;
      after = mine[mine.length - 1].id;
    }
  }

  /** Writes every order whose copy differs (or is missing); returns how many orders it compared and rows it wrote. */
  async copy(): Promise<{ orders: number; copied: number }> {
    let orders = 0;
    let copied = 0;
    for await (const { mine, theirs } of this.chunks()) {
      orders += mine.length;
      const stale = new Map<ShardPool, OrderFigures[]>();
      for (const order of mine) {
        if (sameFigures(order, theirs.get(order.id))) continue;
        const shard = this.shardOf(order.shopper);
        stale.set(shard, [...(stale.get(shard) ?? []), order]);
      }
      for (const [shard, list] of stale) {
        for (let i = 0; i < list.length; i += this.batchSize) {
          const batch = list.slice(i, i + this.batchSize).map((order) => order.id);
          copied += await this.write(shard, batch);
          this.batchNumber += 1;
          await this.onBatch?.({ table: `orders -> ${shard.name}`, batch: this.batchNumber, rows: batch.length });
        }
      }
    }
    return { orders, copied };
  }

  /** Copies orders `ids` (all of one shard) with their lines, events and unsent outbox rows, in one transaction. */
  private async write(shard: ShardPool, ids: string[]): Promise<number> {
    const { rows } = await this.catalog.query<{ orders: string; items: string; events: string; outbox: string }>(
      CATALOG_ROWS,
      [ids],
    );
    const { orders, items, events, outbox } = rows[0];
    const client: PoolClient = await shard.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const written = await client.query(
        `INSERT INTO orders (id, shopper_id, status, total_cents, created_at, confirmed_at)
         SELECT id, shopper_id, status, total_cents, created_at, confirmed_at
           FROM json_populate_recordset(NULL::orders, $1::json)
         ON CONFLICT (id) DO UPDATE SET shopper_id = EXCLUDED.shopper_id, status = EXCLUDED.status,
           total_cents = EXCLUDED.total_cents, created_at = EXCLUDED.created_at, confirmed_at = EXCLUDED.confirmed_at`,
        [orders],
      );
      // Lines, events and outbox rows are replaced whole: the catalog's are the order's until the record is written.
      await client.query("DELETE FROM order_items WHERE order_id = ANY($1::uuid[])", [ids]);
      await client.query("DELETE FROM order_events WHERE order_id = ANY($1::uuid[])", [ids]);
      await client.query("DELETE FROM order_outbox WHERE order_id = ANY($1::uuid[])", [ids]);
      const lines = await client.query(
        `INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price_cents)
         SELECT order_id, product_id, product_name, quantity, unit_price_cents
           FROM json_populate_recordset(NULL::order_items, $1::json)`,
        [items],
      );
      const kinds = await client.query(
        `INSERT INTO order_events (order_id, kind, created_at)
         SELECT order_id, kind, created_at FROM json_populate_recordset(NULL::order_events, $1::json)`,
        [events],
      );
      const unsent = await client.query(
        `INSERT INTO order_outbox (order_id, body, created_at)
         SELECT order_id, body, created_at FROM json_populate_recordset(NULL::order_outbox, $1::json)`,
        [outbox],
      );
      await client.query("COMMIT");
      return [written, lines, kinds, unsent].reduce((sum, result) => sum + (result.rowCount ?? 0), 0);
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /**
   * Per table, count and checksum of the catalog's rows and of their copies, in key order (orders by id; lines,
   * events and outbox rows by order, then their own key). Throws a {@link VerificationError} on a difference.
   */
  async verify(): Promise<TableReport[]> {
    const sums = () =>
      Object.fromEntries(TABLES.map((table) => [table, new RunningChecksum()])) as Record<CopiedTable, RunningChecksum>;
    const mineSums = sums();
    const theirSums = sums();
    const feed = (target: Record<CopiedTable, RunningChecksum>, order: OrderFigures) => {
      target.orders.add(order.order);
      for (const table of ["order_items", "order_events", "order_outbox"] as const) {
        // The joined md5s of the order's rows: a checksum over all rows in key order, counted row by row.
        target[table].add(order[table], order.counts[table]);
      }
    };
    for await (const { mine, theirs } of this.chunks()) {
      for (const order of mine) {
        feed(mineSums, order);
        const copy = theirs.get(order.id);
        if (copy) feed(theirSums, copy);
      }
    }
    return TABLES.map((table) => {
      const want = { rows: mineSums[table].rows, checksum: mineSums[table].digest() };
      const have = { rows: theirSums[table].rows, checksum: theirSums[table].digest() };
      if (want.rows !== have.rows || want.checksum !== have.checksum) throw new VerificationError(table, want, have);
      return { table, ...want };
    });
  }
}
