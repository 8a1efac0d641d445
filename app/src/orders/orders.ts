/**
 * Orders: checkout turns a cart into an order in one transaction on the primary, and a shopper reads back only
 * their own orders.
 *
 * No oversell: checkout locks the cart's product rows (SELECT ... FOR UPDATE, in id order so that two checkouts
 * never wait on each other in a cycle), checks every line's stock, then decrements it. A concurrent checkout of
 * the same product waits for the lock and then sees the stock this one left.
 */
import type { CartLine } from "../cart/cart";
import type { DbRouter, ReadOptions, Written } from "../db/router";

/** The status of an order that checkout has just placed; its stock is reserved. */
export const ORDER_PLACED = "placed";

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

/** Why checkout refused a cart; `details` names the product. */
export class CheckoutRejected extends Error {
  constructor(
    public readonly code: "insufficient_stock" | "product_not_found",
    message: string,
    public readonly details: { productId: number; name?: string; requested: number; available: number },
  ) {
    super(message);
    this.name = "CheckoutRejected";
  }
}

/** Most orders `listOrders` returns: the newest ones. */
export const ORDER_LIST_LIMIT = 50;

interface LockedProduct {
  id: number;
  name: string;
  price_cents: number;
  stock: number;
}

/**
 * Places an order for `lines` (at least one) on behalf of `shopperId` and reserves its stock.
 * @throws {CheckoutRejected} when a product is missing or short of stock; nothing is written then.
 */
export async function placeOrder(
  router: DbRouter,
  shopperId: string,
  lines: readonly CartLine[],
): Promise<Written<{ orderId: string; status: string }>> {
  const ids = lines.map((line) => line.productId);
  const quantities = lines.map((line) => line.quantity);
  return router.transaction(async (client) => {
    const { rows } = await client.query<LockedProduct>(
      "SELECT id, name, price_cents, stock FROM products WHERE id = ANY($1::integer[]) ORDER BY id FOR UPDATE",
      [ids],
    );
    const locked = new Map(rows.map((row) => [row.id, row]));
    let totalCents = 0;
    for (const line of lines) {
      const product = locked.get(line.productId);
      if (!product) {
        throw new CheckoutRejected("product_not_found", `Product ${line.productId} no longer exists`, {
          productId: line.productId,
          requested: line.quantity,
          available: 0,
        });
      }
      if (product.stock < line.quantity) {
        throw new CheckoutRejected(
          "insufficient_stock",
          `Only ${product.stock} of "${product.name}" (product ${product.id}) left, ${line.quantity} requested`,
          { productId: product.id, name: product.name, requested: line.quantity, available: product.stock },
        );
      }
      totalCents += product.price_cents * line.quantity;
    }
    await client.query(
      `UPDATE products AS p SET stock = p.stock - v.quantity, updated_at = now()
         FROM unnest($1::integer[], $2::integer[]) AS v(id, quantity)
        WHERE p.id = v.id`,
      [ids, quantities],
    );
    const order = await client.query<{ id: string; status: string }>(
      "INSERT INTO orders (shopper_id, status, total_cents) VALUES ($1, $2, $3) RETURNING id, status",
      [shopperId, ORDER_PLACED, totalCents],
    );
    const orderId = order.rows[0].id;
    await client.query(
      `INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
       SELECT $1, v.id, v.quantity, p.price_cents
         FROM unnest($2::integer[], $3::integer[]) AS v(id, quantity)
         JOIN products AS p ON p.id = v.id`,
      [orderId, ids, quantities],
    );
    return { orderId, status: order.rows[0].status };
  });
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

/** The newest {@link ORDER_LIST_LIMIT} orders of `shopperId`, newest first. */
export async function listOrders(router: DbRouter, shopperId: string, options: ReadOptions): Promise<OrderSummary[]> {
  const { rows } = await router.read<OrderRow>(
    `SELECT id, status, total_cents, created_at FROM orders
      WHERE shopper_id = $1 ORDER BY created_at DESC, id LIMIT $2`,
    [shopperId, ORDER_LIST_LIMIT],
    options,
  );
  return rows.map(toSummary);
}

/** Order `orderId` with its lines if it belongs to `shopperId`; `undefined` otherwise, whoever owns it. */
export async function getOrder(
  router: DbRouter,
  shopperId: string,
  orderId: string,
  options: ReadOptions,
): Promise<Order | undefined> {
  const { rows } = await router.read<OrderRow & { lines: OrderLine[] }>(
    `SELECT o.id, o.status, o.total_cents, o.created_at,
            json_agg(json_build_object(
              'productId', i.product_id, 'name', p.name, 'quantity', i.quantity, 'unitPriceCents', i.unit_price_cents
            ) ORDER BY i.product_id) AS lines
       FROM orders AS o
       JOIN order_items AS i ON i.order_id = o.id
       JOIN products AS p ON p.id = i.product_id
      WHERE o.id = $1 AND o.shopper_id = $2
      GROUP BY o.id`,
    [orderId, shopperId],
    options,
  );
  const row = rows[0];
  return row && { ...toSummary(row), items: row.lines };
}
