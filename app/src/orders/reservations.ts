/**
 * Stock reservations of the sharded checkout (see `placeOrder` in orders.ts): stock is taken on the catalog
 * database together with a reservation row, the order is written on a shard, and the reservation then ends in one
 * of two ways, each at most once:
 *
 *   held --(the order exists on its shard)------------------> committed   (the stock stays sold)
 *   held --(the order id is void on its shard, for good)----> released    (the stock is given back)
 *
 * The shard decides, through the order's primary key: claiming the id with a `void` row succeeds only if the order
 * was never written, and once claimed no late write of that order can commit. So a reservation is released only
 * for an order that cannot exist, and stock is never both sold and given back.
 *
 * Checkout settles its own reservation; one left `held` by a crash or an unreachable shard is settled by the
 * worker ({@link settleStaleReservations}), which asks the shard the same question.
 */
import type { CartLine } from "../cart/cart";
import type { CartRef } from "../cart/cart-session";
import type { DbRouter, Written } from "../db/router";
import type { Logger } from "../logger";
import type { OrderShard, OrderShards } from "../shards/order-shards";
import { claimCheckout, dropClaim } from "./checkouts";
import { type PricedLine, takeStock } from "./stock";

/**
 * In one transaction on the catalog database: claims the cart for the order (checkouts.ts), takes the stock of
 * `lines` and records the reservation. When the cart was claimed already, takes nothing and returns the claiming
 * order's id as `heldBy`.
 */
export async function reserveStock(
  catalog: DbRouter,
  reservation: { orderId: string; shopperId: string; shard: string; cart: CartRef; lines: readonly CartLine[] },
): Promise<Written<{ priced: PricedLine[]; totalCents: number } | { heldBy: string }>> {
  return catalog.transaction(async (client) => {
    const holder = await claimCheckout(client, reservation.shopperId, reservation.cart, reservation.orderId);
    if (holder !== reservation.orderId) return { heldBy: holder };
    const taken = await takeStock(client, reservation.lines);
    await client.query("INSERT INTO stock_reservations (order_id, shopper_id, shard, lines) VALUES ($1, $2, $3, $4)", [
      reservation.orderId,
      reservation.shopperId,
      reservation.shard,
      JSON.stringify(reservation.lines.map(({ productId, quantity }) => ({ productId, quantity }))),
    ]);
    return taken;
  });
}

/** Marks a held reservation committed; true when this call did it. */
export async function commitReservation(catalog: DbRouter, orderId: string): Promise<boolean> {
  const { rowCount } = await catalog.primaryPool.query(
    "UPDATE stock_reservations SET state = 'committed', resolved_at = now() WHERE order_id = $1 AND state = 'held'",
    [orderId],
  );
  return rowCount === 1;
}

/**
 * Releases a held reservation: its stock goes back to the products, in the same transaction that marks it
 * released, so the stock is given back at most once however many callers try. Its cart's checkout claim goes too:
 * the order will never exist, so the cart may be checked out afresh. True when this call did it.
 */
export async function releaseReservation(catalog: DbRouter, orderId: string): Promise<boolean> {
  const { result } = await catalog.transaction(async (client) => {
    const { rows } = await client.query<{ lines: CartLine[] }>(
      "UPDATE stock_reservations SET state = 'released', resolved_at = now() WHERE order_id = $1 AND state = " +
        "'held' RETURNING lines",
      [orderId],
    );
    if (rows.length === 0) return false;
    await dropClaim(client, orderId);
    const lines = [...rows[0].lines].sort((a, b) => a.productId - b.productId);
    await client.query(
      `UPDATE products AS p SET stock = p.stock + v.quantity, updated_at = now()
         FROM unnest($1::integer[], $2::integer[]) AS v(id, quantity)
        WHERE p.id = v.id`,
      [lines.map((line) => line.productId), lines.map((line) => line.quantity)],
    );
    return true;
  });
  return result;
}

/**
 * Claims order id `orderId` on `shard` with a `void` row unless the order exists. True when the id is void (now or
 * from an earlier claim): the order was never written and never will be. False when the order exists.
 */
export async function voidOrder(shard: OrderShard, orderId: string, shopperId: string): Promise<boolean> {
  const pool = shard.router.primaryPool;
  const inserted = await pool.query(
    "INSERT INTO orders (id, shopper_id, status, total_cents) VALUES ($1, $2, 'void', 0) ON CONFLICT (id) DO NOTHING",
    [orderId, shopperId],
  );
  if (inserted.rowCount === 1) return true;
  const { rows } = await pool.query<{ status: string }>("SELECT status FROM orders WHERE id = $1", [orderId]);
  return rows[0]?.status === "void";
}

/** What {@link settleStaleReservations} did. */
export interface SettleResult {
  committed: string[];
  released: string[];
  /** Reservations whose shard could not be asked; they stay held for the next round. */
  deferred: string[];
}

/**
 * Settles reservations held longer than `olderThanMs` (checkout's own settling normally takes milliseconds): for
 * each, asks the order's shard (by the shopper's bucket) and commits or releases. Safe to run from several workers
 * at once: every step is idempotent.
 */
export async function settleStaleReservations(
  catalog: DbRouter,
  shards: OrderShards,
  olderThanMs: number,
  logger: Logger,
  limit = 100,
): Promise<SettleResult> {
  const { rows } = await catalog.primaryPool.query<{ order_id: string; shopper_id: string }>(
    `SELECT order_id, shopper_id FROM stock_reservations
      WHERE state = 'held' AND created_at < now() - make_interval(secs => $1::double precision / 1000)
      ORDER BY created_at LIMIT $2`,
    [olderThanMs, limit],
  );
  const result: SettleResult = { committed: [], released: [], deferred: [] };
  for (const row of rows) {
    const shard = shards.forShopper(row.shopper_id);
    try {
      if (!shard.ready) throw new Error(`shard ${shard.name} is not migrated yet`);
      if (await voidOrder(shard, row.order_id, row.shopper_id)) {
        await releaseReservation(catalog, row.order_id);
        result.released.push(row.order_id);
      } else {
        await commitReservation(catalog, row.order_id);
        result.committed.push(row.order_id);
      }
    } catch (error) {
      logger.warn(
        { orderId: row.order_id, shard: shard.name, reason: (error as Error).message },
        "reservation not settled yet",
      );
      result.deferred.push(row.order_id);
    }
  }
  if (result.committed.length + result.released.length > 0) {
    logger.info(
      { committed: result.committed.length, released: result.released.length },
      "stale stock reservations settled",
    );
  }
  return result;
}
