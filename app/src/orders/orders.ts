/**
 * Orders: checkout turns a cart into an order, a shopper reads back only their own orders, and the admin sees the
 * newest orders of every shard.
 *
 * No oversell: checkout locks the cart's product rows on the catalog database (SELECT ... FOR UPDATE, in id order
 * so that two checkouts never wait on each other in a cycle), checks every line's stock, then decrements it: the
 * stock is reserved at checkout, whatever happens to the order afterwards. A concurrent checkout of the same
 * product waits for the lock and then sees the stock this one left.
 *
 * Where the order is written depends on the step:
 * - Unsharded (steps 1-8): the order, its lines and (with the queue) its outbox row are written in the same
 *   transaction as the stock, on the catalog database. All or nothing.
 * - Sharded (step 9 on): stock is on the catalog database and the order on the shopper's shard, and no transaction
 *   spans both. See {@link placeOrder} and reservations.ts for how stock is never oversold and no acknowledged
 *   order is ever lost.
 *
 * One order per cart, at every step: the cart's id and version are claimed on the catalog database in the
 * transaction that takes the stock (checkouts.ts), so a cart checked out twice, at once or later, gives the first
 * order back and takes its stock once.
 *
 * With the queue (step 8 on) an order starts `pending` and gets an outbox row in its own transaction; the relay
 * (queue/outbox-relay.ts) sends it to SQS and the worker confirms it (confirm.ts). Without the queue an order is
 * `placed` at once, as before.
 */
import { randomUUID } from "node:crypto";
import type { PoolClient } from "pg";
import type { CartLine } from "../cart/cart";
import type { CartRef } from "../cart/cart-session";
import type { DbRouter, ReadOptions } from "../db/router";
import type { Lsn } from "../db/lsn";
import type { Logger } from "../logger";
import { orderPlacedMessage } from "../queue/messages";
import { type OrderShard, type OrderShards, onShard, shardUnavailable } from "../shards/order-shards";
import { claimCheckout } from "./checkouts";
import { type PreShardOrders, statusRank } from "./pre-shard-orders";
import { commitReservation, releaseReservation, reserveStock, voidOrder } from "./reservations";
import { CheckoutRejected, type PricedLine, takeStock } from "./stock";

export { CheckoutRejected } from "./stock";

/** Status of an order placed without a queue: its stock is reserved and nothing else will happen to it. */
export const ORDER_PLACED = "placed";
/** Status of an order accepted with the queue, until the worker confirms it. */
export const ORDER_PENDING = "pending";
/** Status of an order the worker has confirmed (and notified). */
export const ORDER_CONFIRMED = "confirmed";
/** Status of an order id claimed by a failed checkout's compensation: never shown, never confirmed. */
export const ORDER_VOID = "void";

/** An order as listed. */
export interface OrderSummary {
  orderId: string;
  status: string;
  totalCents: number;
  createdAt: string;
}

/** One line of an order, at the price paid. */
export interface OrderLine {
  productId: number;
  name: string;
  quantity: number;
  unitPriceCents: number;
}

/** An order with its lines. */
export interface Order extends OrderSummary {
  items: OrderLine[];
}

/** Most orders `listOrders` returns: the newest ones. */
export const ORDER_LIST_LIMIT = 50;

/** What {@link writeOrder} writes. */
interface NewOrder {
  orderId: string;
  shopperId: string;
  status: string;
  totalCents: number;
  lines: readonly PricedLine[];
  /** Also write the outbox row that tells the worker. */
  queued: boolean;
}

/** Writes the order, its lines and (when queued) its outbox row with `client`, inside the caller's transaction. */
async function writeOrder(client: PoolClient, order: NewOrder): Promise<void> {
  await client.query("INSERT INTO orders (id, shopper_id, status, total_cents) VALUES ($1, $2, $3, $4)", [
    order.orderId,
    order.shopperId,
    order.status,
    order.totalCents,
  ]);
  await client.query(
    `INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price_cents)
     SELECT $1, * FROM unnest($2::integer[], $3::text[], $4::integer[], $5::integer[])`,
    [
      order.orderId,
      order.lines.map((line) => line.productId),
      order.lines.map((line) => line.name),
      order.lines.map((line) => line.quantity),
      order.lines.map((line) => line.unitPriceCents),
    ],
  );
  if (order.queued) {
    const body = orderPlacedMessage({
      orderId: order.orderId,
      shopperId: order.shopperId,
      totalCents: order.totalCents,
    });
    await client.query("INSERT INTO order_outbox (order_id, body) VALUES ($1, $2)", [order.orderId, body]);
  }
}

/** A placed order, and the WAL positions the shopper's next reads must wait for. */
export interface PlacedOrder {
  orderId: string;
  status: string;
  totalCents: number;
  /** The shard it lives on. */
  shard: string;
  /** Position of the stock change on the catalog database. */
  catalogLsn: Lsn;
  /** Position of the order on its shard (the same as `catalogLsn` when unsharded); unknown after a recovered commit. */
  orderLsn?: Lsn;
  /** True when the cart had been checked out already: this is that order, and nothing was taken now. */
  replayed: boolean;
}

/** Options of {@link placeOrder}. */
export interface PlaceOrderOptions {
  /** With the queue: the order starts `pending` and gets an outbox row. */
  queued: boolean;
  logger: Logger;
  /**
   * Sharded: how long a checkout of a cart whose claim is held by a checkout still writing its order waits for that
   * order to appear on the shard, before answering `checkout_in_progress`.
   * @default 2000
   */
  claimWaitMs?: number;
}

/**
 * Places an order for `lines` (at least one), the content of `cart`, on behalf of `shopperId` and reserves its
 * stock; or, when that cart was checked out already, returns that order (`replayed`) and takes nothing.
 *
 * Sharded, in three steps, none of which can oversell or lose an acknowledged order:
 * 1. On the catalog database, one transaction takes the stock and records a `held` reservation under the order's
 *    id (made here, not by a database). A refusal (409) ends checkout with nothing written anywhere.
 * 2. On the shopper's shard, one transaction writes the order, its lines and its outbox row. Only now is the
 *    shopper told yes; the order cannot be lost any more, and the outbox row guarantees the queue hears of it.
 * 3. The reservation is marked `committed` (best effort: if this fails, the worker's settling finds the order on
 *    the shard and marks it later).
 * If step 2 fails for certain (the transaction never reached COMMIT), the reservation is released at once: the
 * stock is given back. If it is ambiguous (COMMIT sent, no answer), the order id is claimed on the shard with a
 * `void` row: if that succeeds the order never existed and never will (a late COMMIT would hit the primary key),
 * so the stock is given back; if the id is taken, the order did commit and checkout succeeds after all. When the
 * shard cannot even be asked, the reservation stays `held` (stock withheld, never oversold) until the worker
 * settles it the same way.
 *
 * @throws {CheckoutRejected} when a product is missing, its price changed or it is short of stock (nothing is
 *   written then), or the same cart's first checkout is still writing its order (`checkout_in_progress`).
 * @throws the shard's error (see `onShard`: 503 naming it) when the order could not be written.
 */
export async function placeOrder(
  catalog: DbRouter,
  shard: OrderShard,
  shopperId: string,
  cart: CartRef,
  lines: readonly CartLine[],
  options: PlaceOrderOptions,
): Promise<PlacedOrder> {
  const orderId = randomUUID();
  const status = options.queued ? ORDER_PENDING : ORDER_PLACED;

  if (shard.isCatalog) {
    const { result, lsn } = await catalog.transaction(async (client) => {
      const holder = await claimCheckout(client, shopperId, cart, orderId);
      if (holder !== orderId) {
        // Claim and order commit together here, so the claiming order is on this database.
        const { rows } = await client.query<{ status: string; total_cents: string }>(
          "SELECT status, total_cents FROM orders WHERE id = $1",
          [holder],
        );
        if (rows.length === 0) throw new Error(`order ${holder} holds a checkout claim but does not exist`);
        return { orderId: holder, status: rows[0].status, totalCents: Number(rows[0].total_cents), replayed: true };
      }
      const { priced, totalCents } = await takeStock(client, lines);
      await writeOrder(client, { orderId, shopperId, status, totalCents, lines: priced, queued: options.queued });
      return { orderId, status, totalCents, replayed: false };
    });
    return { ...result, shard: shard.name, catalogLsn: lsn, orderLsn: lsn };
  }

  if (!shard.ready) throw shardUnavailable(shard.name);
  const reserved = await reserveStock(catalog, { orderId, shopperId, shard: shard.name, cart, lines });
  if ("heldBy" in reserved.result) {
    const first = await claimedOrder(catalog, shard, reserved.result.heldBy, shopperId, options.claimWaitMs ?? 2000);
    return { ...first, shard: shard.name, catalogLsn: reserved.lsn, replayed: true };
  }
  const { priced, totalCents } = reserved.result;
  const logger = options.logger.child({ orderId, shard: shard.name });
  let reachedCommit = false;
  let orderLsn: Lsn | undefined;
  try {
    ({ lsn: orderLsn } = await onShard(shard, () =>
      shard.router.transaction(async (client) => {
        await writeOrder(client, { orderId, shopperId, status, totalCents, lines: priced, queued: options.queued });
        reachedCommit = true;
      }),
    ));
  } catch (error) {
    const committed = await compensate(catalog, shard, orderId, shopperId, reachedCommit, logger);
    if (!committed) throw error;
    logger.warn("order write looked failed but had committed; checkout stands");
  }
  await commitReservation(catalog, orderId).catch((error: unknown) =>
    logger.warn({ err: error }, "reservation not marked committed; the worker will settle it"),
  );
  return { orderId, status, totalCents, shard: shard.name, catalogLsn: reserved.lsn, orderLsn, replayed: false };
}

/**
 * Sharded: the order `orderId` that claimed the shopper's cart, read from the shard's primary. The claim commits
 * before the order is written, so a concurrent checkout may get here first: it waits up to `waitMs` for the order.
 * @throws {CheckoutRejected} `checkout_in_progress` when the order is not there in time, or will never be (its
 *   reservation was released: a retry then checks the cart out afresh).
 */
async function claimedOrder(
  catalog: DbRouter,
  shard: OrderShard,
  orderId: string,
  shopperId: string,
  waitMs: number,
): Promise<{ orderId: string; status: string; totalCents: number; orderLsn: Lsn }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { rows } = await onShard(shard, () =>
      shard.router.primaryPool.query<{ status: string; total_cents: string; lsn: Lsn }>(
        `SELECT status, total_cents, pg_current_wal_insert_lsn()::text AS lsn FROM orders
          WHERE id = $1 AND shopper_id = $2 AND status <> '${ORDER_VOID}'`,
        [orderId, shopperId],
      ),
    );
    if (rows.length === 1) {
      return { orderId, status: rows[0].status, totalCents: Number(rows[0].total_cents), orderLsn: rows[0].lsn };
    }
    const reservation = await catalog.primaryPool.query<{ state: string }>(
      "SELECT state FROM stock_reservations WHERE order_id = $1",
      [orderId],
    );
    if (reservation.rows[0]?.state !== "held" || Date.now() >= deadline) {
      throw new CheckoutRejected(
        "checkout_in_progress",
        `This cart's checkout (order ${orderId}) has not finished; try again shortly`,
        { orderId },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * After a failed shard write: gives the stock back when the order certainly does not exist. Returns true when it
 * turns out the order did commit.
 */
async function compensate(
  catalog: DbRouter,
  shard: OrderShard,
  orderId: string,
  shopperId: string,
  reachedCommit: boolean,
  logger: Logger,
): Promise<boolean> {
  try {
    if (reachedCommit) {
      const voided = await voidOrder(shard, orderId, shopperId);
      if (!voided) {
        await commitReservation(catalog, orderId);
        return true;
      }
    }
    await releaseReservation(catalog, orderId);
    logger.info({ certain: !reachedCommit }, "order not written; reserved stock released");
  } catch (error) {
    logger.warn({ err: error }, "reservation left held after a failed order write; the worker will settle it");
  }
  return false;
}

interface OrderRow {
  id: string;
  status: string;
  total_cents: string;
  created_at: Date;
}

function toSummary(row: OrderRow): OrderSummary {
  return {
    orderId: row.id,
    status: row.status,
    // bigint arrives as text; a cart's total stays far below 2^53 cents (50 lines x 100 units x int4 price).
    totalCents: Number(row.total_cents),
    createdAt: row.created_at.toISOString(),
  };
}

/**
 * Before the step-9 backfill is done: the catalog database's orders as well as the shard's, read with `options` (the
 * shopper's catalog write position); see pre-shard-orders.ts.
 */
export interface PreShardRead {
  orders: PreShardOrders;
  options: ReadOptions;
}

const LIST_ORDERS = `SELECT id, status, total_cents, created_at FROM orders
  WHERE shopper_id = $1 AND status <> '${ORDER_VOID}' ORDER BY created_at DESC, id LIMIT $2`;

/**
 * The newest {@link ORDER_LIST_LIMIT} orders of `shopperId`, newest first, from their shard; until the step-9
 * backfill is done (`preShard`), merged with those on the catalog database, each order once.
 */
export async function listOrders(
  shard: OrderShard,
  shopperId: string,
  options: ReadOptions,
  preShard?: PreShardRead,
): Promise<OrderSummary[]> {
  if (preShard && !shard.isCatalog && (await preShard.orders.readBoth())) {
    return listFromBoth(shard, shopperId, options, preShard);
  }
  const { rows } = await onShard(shard, () =>
    shard.router.read<OrderRow>(LIST_ORDERS, [shopperId, ORDER_LIST_LIMIT], options),
  );
  return rows.map(toSummary);
}

/** {@link listOrders} from the shard and the catalog: by id, the furthest status; ordered as the query orders. */
async function listFromBoth(
  shard: OrderShard,
  shopperId: string,
  options: ReadOptions,
  preShard: PreShardRead,
): Promise<OrderSummary[]> {
  const read = (where: OrderShard, readOptions: ReadOptions) =>
    onShard(where, () =>
      where.router.read<OrderRow & { created_us: string }>(
        `SELECT id, status, total_cents, created_at,
                (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us
           FROM orders WHERE shopper_id = $1 AND status <> '${ORDER_VOID}' ORDER BY created_at DESC, id LIMIT $2`,
        [shopperId, ORDER_LIST_LIMIT],
        readOptions,
      ),
    );
  const [own, before] = await Promise.all([read(shard, options), read(preShard.orders.shard, preShard.options)]);
  const byId = new Map<string, OrderRow & { created_us: string }>();
  for (const row of [...own.rows, ...before.rows]) {
    const seen = byId.get(row.id);
    if (!seen || statusRank(row.status) > statusRank(seen.status)) byId.set(row.id, row);
  }
  return [...byId.values()]
    .sort((a, b) => {
      const [at, bt] = [BigInt(a.created_us), BigInt(b.created_us)];
      return at === bt ? (a.id < b.id ? -1 : 1) : at > bt ? -1 : 1;
    })
    .slice(0, ORDER_LIST_LIMIT)
    .map(toSummary);
}

const GET_ORDER = `SELECT o.id, o.status, o.total_cents, o.created_at,
         json_agg(json_build_object(
           'productId', i.product_id, 'name', i.product_name, 'quantity', i.quantity,
           'unitPriceCents', i.unit_price_cents
         ) ORDER BY i.product_id) AS lines
    FROM orders AS o
    JOIN order_items AS i ON i.order_id = o.id
   WHERE o.id = $1 AND o.shopper_id = $2 AND o.status <> '${ORDER_VOID}'
   GROUP BY o.id`;

/**
 * Order `orderId` with its lines if it belongs to `shopperId`; `undefined` otherwise, whoever owns it. Until the
 * step-9 backfill is done (`preShard`), looked for on the catalog database too (the furthest status wins).
 */
export async function getOrder(
  shard: OrderShard,
  shopperId: string,
  orderId: string,
  options: ReadOptions,
  preShard?: PreShardRead,
): Promise<Order | undefined> {
  const read = async (where: OrderShard, readOptions: ReadOptions) => {
    const { rows } = await onShard(where, () =>
      where.router.read<OrderRow & { lines: OrderLine[] }>(GET_ORDER, [orderId, shopperId], readOptions),
    );
    return rows[0];
  };
  const both = preShard && !shard.isCatalog && (await preShard.orders.readBoth());
  const [own, before] = await Promise.all([
    read(shard, options),
    both ? read(preShard.orders.shard, preShard.options) : undefined,
  ]);
  const row = own && before ? (statusRank(before.status) > statusRank(own.status) ? before : own) : (own ?? before);
  return row && { ...toSummary(row), items: row.lines };
}

/**
 * The status now of order `orderId` on `shard`, read from its primary (the order may be seconds old), or `undefined`
 * when there is no such order (or it is void). For a replayed checkout whose shopper is known only by the order.
 */
export async function orderStatus(shard: OrderShard, orderId: string): Promise<string | undefined> {
  const { rows } = await onShard(shard, () =>
    shard.router.primaryPool.query<{ status: string }>(
      `SELECT status FROM orders WHERE id = $1 AND status <> '${ORDER_VOID}'`,
      [orderId],
    ),
  );
  return rows[0]?.status;
}

/** One order in the admin's cross-shard view. */
export interface RecentOrder extends OrderSummary {
  shopperId: string;
  shard: string;
}

/** The admin's view of the newest orders: what the shards that answered hold, and which did not answer. */
export interface RecentOrders {
  items: RecentOrder[];
  unavailableShards: string[];
}

/**
 * The newest `limit` orders across every shard (scatter-gather): each shard is asked for its own newest `limit`
 * on its reader, at most `timeoutMs` is waited for each, and the answers are merged newest first (ties by id). A
 * shard that fails or is late is named in `unavailableShards` and the rest is still returned.
 */
export async function recentOrders(
  shards: OrderShards,
  limit: number,
  timeoutMs: number,
  logger: Logger,
): Promise<RecentOrders> {
  const unavailableShards: string[] = [];
  const answers = await Promise.all(
    shards.all().map(async (shard) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        if (!shard.ready) throw new Error("not migrated yet");
        const query = shard.router.read<OrderRow & { shopper_id: string; created_us: string }>(
          `SELECT id, shopper_id, status, total_cents, created_at,
                  (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us
             FROM orders WHERE status <> '${ORDER_VOID}' ORDER BY created_at DESC, id DESC LIMIT $1`,
          [limit],
        );
        query.catch(() => undefined); // a late answer's failure has nobody left to hear it
        const { rows } = await Promise.race([query, late]);
        return rows.map((row) => ({
          order: { ...toSummary(row), shopperId: row.shopper_id, shard: shard.name },
          at: BigInt(row.created_us),
        }));
      } catch (error) {
        logger.warn({ shard: shard.name, reason: (error as Error).message }, "shard left out of recent orders");
        unavailableShards.push(shard.name);
        return [];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const merged = answers
    .flat()
    .sort((a, b) => (a.at === b.at ? (a.order.orderId < b.order.orderId ? 1 : -1) : a.at < b.at ? 1 : -1));
  return { items: merged.slice(0, limit).map((entry) => entry.order), unavailableShards: unavailableShards.sort() };
}
