/**
 * Taking stock at checkout, on the catalog database: the product rows are locked in id order (so two checkouts never
 * wait on each other in a cycle), every line is checked, then all are decremented. `stock >= 0` is also a table
 * constraint, the last line of defence.
 */
import type { PoolClient } from "pg";
import type { CartLine } from "../cart/cart";

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
 * In a transaction on the catalog database: locks the lines' product rows, checks the stock of each and takes it.
 * @throws {CheckoutRejected} when a product is missing or short of stock (the caller's transaction rolls back).
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
  const priced: PricedLine[] = [];
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
    priced.push({ ...line, name: product.name, unitPriceCents: product.price_cents });
  }
  await client.query(
    `UPDATE products AS p SET stock = p.stock - v.quantity, updated_at = now()
       FROM unnest($1::integer[], $2::integer[]) AS v(id, quantity)
      WHERE p.id = v.id`,
    [ids, lines.map((line) => line.quantity)],
  );
  return { priced, totalCents };
}
