/**
 * What the worker does with an `order_placed` message: confirm the order and tell the shopper, exactly once per
 * order however often the message arrives.
 *
 * The order's row is locked (`FOR UPDATE`) on its shard; a `pending` order becomes `confirmed` and gets its
 * `order_confirmed` event (the notification: a row here, and the consumer's `notification: order confirmed` log
 * line, where a real shop would send an e-mail) in the same transaction. A redelivered message finds the order
 * confirmed and changes nothing; the event's primary key (order, kind) would refuse a second one anyway. Stock was
 * taken at checkout and is not touched here.
 */
import type { PoolClient } from "pg";
import type { OrderShard } from "../shards/order-shards";
import { ORDER_CONFIRMED, ORDER_PENDING } from "./orders";

/** The kind of the event the confirmation records. */
export const ORDER_CONFIRMED_EVENT = "order_confirmed";

/** What became of a message. */
export type ConfirmOutcome =
  /** The order was pending and is now confirmed; the notification was recorded. */
  | "confirmed"
  /** Already confirmed: a redelivery. Nothing changed. */
  | "already_confirmed"
  /** No such order for that shopper (or one that was never placed): a poison message. */
  | "unknown_order";

/** Confirms order `orderId` of `shopperId` on `shard`; see the module comment. */
export async function confirmOrder(shard: OrderShard, orderId: string, shopperId: string): Promise<ConfirmOutcome> {
  const { result } = await shard.router.transaction((client) => confirmIn(client, orderId, shopperId));
  return result === "missing" ? "unknown_order" : result;
}

/**
 * The confirmation itself, in the caller's transaction on the database that holds the order (its shard; before the
 * step-9 backfill, possibly the catalog: orders/pre-shard-orders.ts). `"missing"` when that database has no such
 * order of that shopper.
 */
export async function confirmIn(
  client: PoolClient,
  orderId: string,
  shopperId: string,
): Promise<ConfirmOutcome | "missing"> {
  const { rows } = await client.query<{ status: string }>(
    "SELECT status FROM orders WHERE id = $1 AND shopper_id = $2 FOR UPDATE",
    [orderId, shopperId],
  );
  const status = rows[0]?.status;
  if (status === undefined) return "missing";
  if (status === ORDER_CONFIRMED) return "already_confirmed";
  if (status !== ORDER_PENDING) return "unknown_order";
  await client.query("UPDATE orders SET status = $2, confirmed_at = now() WHERE id = $1", [orderId, ORDER_CONFIRMED]);
  await client.query("INSERT INTO order_events (order_id, kind) VALUES ($1, $2) ON CONFLICT DO NOTHING", [
    orderId,
    ORDER_CONFIRMED_EVENT,
  ]);
  return "confirmed";
}
