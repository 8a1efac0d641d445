/**
 * The cart: lines of (product, quantity, the price the shopper was shown) kept in the shopper's session, never in
 * the database until checkout. These functions only compute new lines; the routes check products and stock and
 * store the result (cart-session.ts).
 */

/** One cart line. */
export interface CartLine {
  productId: number;
  quantity: number;
  /**
   * The unit price the shopper was last shown for this line (when adding it, or in the cart): checkout charges it
   * or refuses with `price_changed`. Absent in lines stored before it was recorded; checkout treats that as changed.
   */
  priceCents?: number;
}

/** Most distinct products in one cart: it travels with the session on every request. */
export const MAX_CART_LINES = 50;
/** Most units of one product in one cart. */
export const MAX_LINE_QUANTITY = 100;

/** Why a line could not be added. */
export type AddRefusal = "cart_full" | "quantity_limit";

/**
 * The cart with `quantity` more units of `productId` at `priceCents` (a new line, or more on an existing one, which
 * takes the price just shown), or the reason it cannot be: too many distinct products, or too many units of this one.
 */
export function addLine(
  lines: readonly CartLine[],
  productId: number,
  quantity: number,
  priceCents: number,
): CartLine[] | AddRefusal {
  const existing = lines.find((line) => line.productId === productId);
  if (!existing) {
    if (lines.length >= MAX_CART_LINES) return "cart_full";
    if (quantity > MAX_LINE_QUANTITY) return "quantity_limit";
    return [...lines, { productId, quantity, priceCents }];
  }
  const total = existing.quantity + quantity;
  if (total > MAX_LINE_QUANTITY) return "quantity_limit";
  return lines.map((line) => (line === existing ? { productId, quantity: total, priceCents } : line));
}

/** The cart without `productId`, or `undefined` when it had no such line. */
export function removeLine(lines: readonly CartLine[], productId: number): CartLine[] | undefined {
  const kept = lines.filter((line) => line.productId !== productId);
  return kept.length === lines.length ? undefined : kept;
}

/** The quantity of `productId` already in the cart (0 if none). */
export function quantityOf(lines: readonly CartLine[], productId: number): number {
  return lines.find((line) => line.productId === productId)?.quantity ?? 0;
}
