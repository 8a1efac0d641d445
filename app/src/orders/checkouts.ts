/**
 * One order per cart: the claims of migration 0005 (`checkouts`), on the catalog database.
 *
 * Checkout claims (shopper, cart id, cart version) for its new order id in the transaction that takes the stock,
 * before it locks any product. A concurrent checkout of the same cart waits on the claim's unique key until the
 * first transaction ends: committed, it finds the first order's id and takes no stock; rolled back (a 409, a
 * failure), it goes on as the first. The key is in the database, so this holds across processes and servers.
 */
import type { PoolClient } from "pg";
import type { CartRef } from "../cart/cart-session";

/**
 * In the caller's transaction on the catalog database: claims `cart` of `shopperId` for `orderId`. Returns
 * `orderId` when this call made the claim, else the id of the order that holds it (committed by an earlier or
 * concurrent checkout, which this call waited for).
 */
export async function claimCheckout(
  client: PoolClient,
  shopperId: string,
  cart: CartRef,
  orderId: string,
): Promise<string> {
  // A claim deleted (its reservation released) between the two statements leaves neither; try again, which then
  // makes the claim (a release is final), so a second round is the most it can take.
  for (let attempt = 1; ; attempt++) {
    const inserted = await client.query<{ order_id: string }>(
      `INSERT INTO checkouts (shopper_id, cart_id, cart_version, order_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (shopper_id, cart_id, cart_version) DO NOTHING RETURNING order_id`,
      [shopperId, cart.id, cart.version, orderId],
    );
    if (inserted.rows.length === 1) return orderId;
    // READ COMMITTED: this statement's snapshot is taken after the INSERT waited for the claim's transaction.
    const { rows } = await client.query<{ order_id: string }>(
      "SELECT order_id FROM checkouts WHERE shopper_id = $1 AND cart_id = $2 AND cart_version = $3",
      [shopperId, cart.id, cart.version],
    );
    if (rows.length === 1) return rows[0].order_id;
    if (attempt >= 3) throw new Error(`the checkout claim of cart ${cart.id} v${cart.version} keeps changing`);
  }
}

/** In the caller's transaction: drops the claim of `orderId`, whose order will never exist. */
export async function dropClaim(client: PoolClient, orderId: string): Promise<void> {
  await client.query("DELETE FROM checkouts WHERE order_id = $1", [orderId]);
}
