/**
 * Taking stock at checkout, on the catalog database: the product rows are locked in id order (so two checkouts never
 * wait on each other in a cycle), every line is checked, then all are decremented. `stock >= 0` is also a table
 * constraint, the last line of defence. The price charged is the one the shopper was shown: a line whose product's
 * price has changed since refuses the whole checkout (`price_changed`), before any stock is taken.
 */
import type { PoolClient } from "pg";
import type { CartLine } from "../cart/cart";
import type { Lsn } from "../db/lsn";

/** Details of a refusal about one product's stock, or a product that is gone. */
export interface StockRefusalDetails {
  productId: number;
  name?: string;
  requested: number;
  available: number;
}

/** Details of `price_changed`: the cart at today's prices, each line with the price the shopper was shown. */
export interface PriceChangedDetails {
  /** The cart's total at today's prices. */
  totalCents: number;
  items: Array<{ productId: number; name: string; quantity: number; priceCents: number; previousPriceCents?: number }>;
}

/**
 * Why checkout refused a cart (a 409); `details` names the product, or gives the new prices (`price_changed`), or
 * the order id of a checkout of the same cart still under way on its shard (`checkout_in_progress`).
 */
export class CheckoutRejected extends Error {
  constructor(
    public readonly code: "insufficient_stock" | "product_not_found" | "price_changed" | "checkout_in_progress",
    message: string,
    public readonly details: StockRefusalDetails | PriceChangedDetails | { orderId: string },
    /**
     * `price_changed`: a WAL position at or past the price change. The shopper's next reads wait for it, so that a
     * lagging replica never shows their cart at the old prices again.
     */
    public readonly lsn?: Lsn,
  ) {
    super(message);
    this.name = "CheckoutRejected";
  }
}

/** A cart line with the product's name and price at the moment its row was locked. */
export interface PricedLine extends CartLine {
  name: string;
  unitPriceCents: number;
}

interface LockedProduct {
  id: number;
  name: string;
  price_cents: number;
  stock: number;
}

/**
 * In a transaction on the catalog database: locks the lines' product rows, checks the price and stock of each and
 * takes the stock.
 * @throws {CheckoutRejected} when a product is missing, its price is not the one the line was shown at, or it is
 *   short of stock (the caller's transaction rolls back).
 */
export async function takeStock(
  client: PoolClient,
  lines: readonly CartLine[],
): Promise<{ priced: PricedLine[]; totalCents: number }> {
  const ids = lines.map((line) => line.productId);
  const { rows } = await client.query<LockedProduct>(
    "SELECT id, name, price_cents, stock FROM products WHERE id = ANY($1::integer[]) ORDER BY id FOR UPDATE",
    [ids],
  );
  const locked = new Map(rows.map((row) => [row.id, row]));
  const missing = lines.find((line) => !locked.has(line.productId));
  if (missing) {
    throw new CheckoutRejected("product_not_found", `Product ${missing.productId} no longer exists`, {
      productId: missing.productId,
      requested: missing.quantity,
      available: 0,
    });
  }
  if (lines.some((line) => line.priceCents !== locked.get(line.productId)?.price_cents)) {
    // The rows are locked, so every price change they show has committed: the insert position is past it.
    const { rows: at } = await client.query<{ lsn: Lsn }>("SELECT pg_current_wal_insert_lsn()::text AS lsn");
    throw priceChanged(lines, locked, at[0].lsn);
  }
  const priced: PricedLine[] = [];
  let totalCents = 0;
  for (const line of lines) {
    const product = locked.get(line.productId) as LockedProduct;
    if (product.stock < line.quantity) {
      throw new CheckoutRejected(
        "insufficient_stock",
        `Only ${product.stock} of "${product.name}" (product ${product.id}) left, ${line.quantity} requested`,
        { productId: product.id, name: product.name, requested: line.quantity, available: product.stock },
      );
    }
    totalCents += product.price_cents * line.quantity;
    priced.push({
      productId: line.productId,
      quantity: line.quantity,
      name: product.name,
      unitPriceCents: product.price_cents,
    });
  }
  await client.query(
    `UPDATE products AS p SET stock = p.stock - v.quantity, updated_at = now()
       FROM unnest($1::integer[], $2::integer[]) AS v(id, quantity)
      WHERE p.id = v.id`,
    [ids, lines.map((line) => line.quantity)],
  );
  return { priced, totalCents };
}

/** The `price_changed` refusal for `lines`, whose products are all in `locked`. */
function priceChanged(lines: readonly CartLine[], locked: Map<number, LockedProduct>, lsn: Lsn): CheckoutRejected {
  const items = lines.map((line) => {
    const product = locked.get(line.productId) as LockedProduct;
    return {
      productId: line.productId,
      name: product.name,
      quantity: line.quantity,
      priceCents: product.price_cents,
      previousPriceCents: line.priceCents,
    };
  });
  const totalCents = items.reduce((sum, item) => sum + item.priceCents * item.quantity, 0);
  const changed = items.filter((item) => item.priceCents !== item.previousPriceCents).map((item) => item.productId);
  return new CheckoutRejected(
    "price_changed",
    `The price of product${changed.length > 1 ? "s" : ""} ${changed.join(", ")} changed since the cart showed it; ` +
      `the new total is ${totalCents} cents. Check out again to pay it.`,
    { totalCents, items },
    lsn,
  );
}
