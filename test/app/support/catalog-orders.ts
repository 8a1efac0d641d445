/** Orders written straight into a catalog database, as a step-8 shop holds them: the data migrations' test data. */
import type { Pool } from "pg";

/**
 * Writes `count` orders of 500 shoppers: a third `pending` with an unsent outbox row, the rest `confirmed` with their
 * event; two lines each (two of the first `products` products, at their price) and a checkout claim.
 */
export async function placeCatalogOrders(pool: Pool, count: number, products: number): Promise<void> {
  const half = Math.floor(products / 2);
  await pool.query(
    `WITH made AS (
       INSERT INTO orders (id, shopper_id, status, total_cents, created_at, confirmed_at)
       SELECT gen_random_uuid(), md5('shopper' || (g % 500))::uuid,
              CASE WHEN g % 3 = 0 THEN 'pending' ELSE 'confirmed' END, 2500,
              now() - g * interval '1 second', CASE WHEN g % 3 = 0 THEN NULL ELSE now() END
         FROM generate_series(1, $1::int) AS g
       RETURNING id, shopper_id, status),
     lines AS (
       INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price_cents)
       SELECT made.id, p.id, p.name, 1, p.price_cents FROM made
         CROSS JOIN LATERAL (SELECT abs(hashtext(made.id::text)) % $2::int AS pick) AS r
         CROSS JOIN LATERAL (SELECT id, name, price_cents FROM products
                              WHERE id IN (1 + r.pick, 1 + $2::int + r.pick)) AS p
       RETURNING order_id),
     events AS (
       INSERT INTO order_events (order_id, kind) SELECT id, 'order_confirmed' FROM made WHERE status = 'confirmed'
       RETURNING order_id),
     outbox AS (
       INSERT INTO order_outbox (order_id, body)
       SELECT id, json_build_object('type', 'order_placed', 'orderId', id)::text FROM made WHERE status = 'pending'
       RETURNING order_id)
     INSERT INTO checkouts (shopper_id, cart_id, cart_version, order_id)
     SELECT shopper_id, gen_random_uuid(), 1, id FROM made`,
    [count, half],
  );
}
