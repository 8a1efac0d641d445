/** The climb's ledger (scripts/climb/ledger.ts): the cart model, what counts as a lost cart, acknowledged orders. */
import { Ledger, type ServedCart, adding, cartContent, removing } from "../../scripts/climb/ledger";

const served = (...lines: Array<[number, number, number]>): ServedCart => ({
  items: lines.map(([productId, quantity, priceCents]) => ({ productId, quantity, priceCents })),
  totalCents: lines.reduce((s, [, q, p]) => s + q * p, 0),
});

test("cart content is product × quantity in product order, whatever the order and prices", () => {
  expect(cartContent([])).toBe("empty");
  expect(
    cartContent([
      { productId: 9, quantity: 1 },
      { productId: 2, quantity: 3 },
    ]),
  ).toBe("2×3, 9×1");
  const lines = adding(5, 2)([{ productId: 5, quantity: 1, priceCents: 100 }]);
  expect(lines).toEqual([{ productId: 5, quantity: 3, priceCents: 100 }]);
  expect(adding(6, 1)(lines)).toEqual([...lines, { productId: 6, quantity: 1, priceCents: 0 }]);
  expect(removing(5)(lines)).toEqual([]);
});

test("acknowledged writes move the model; a view that matches is no loss, one that differs is one loss", () => {
  const ledger = new Ledger();
  ledger.cartWritten(0, adding(3, 2), served([3, 2, 500]));
  ledger.cartWritten(0, adding(7, 1), served([3, 2, 500], [7, 1, 250]));
  ledger.cartViewed(0, served([7, 1, 260], [3, 2, 500])); // another order, a new price: the same cart
  expect(ledger.cartLosses).toEqual([]);
  expect(ledger.cart(0)).toEqual([
    { productId: 7, quantity: 1, priceCents: 260 },
    { productId: 3, quantity: 2, priceCents: 500 },
  ]);

  ledger.window = 2;
  ledger.cartViewed(0, served(), "checkpoint"); // a server that never had the session
  expect(ledger.cartLosses).toEqual([
    { shopper: 0, window: 2, where: "checkpoint", expected: "3×2, 7×1", found: "empty" },
  ]);
  // Counted once: from then on the shopper holds what it was shown.
  ledger.cartViewed(0, served());
  expect(ledger.lossesIn(2)).toHaveLength(1);
  expect(ledger.lossesIn(0)).toHaveLength(0);
});

test("a write answered with another cart's content is a loss (the write landed on a fresh session)", () => {
  const ledger = new Ledger();
  ledger.cartWritten(1, adding(3, 1), served([3, 1, 100]));
  ledger.cartWritten(1, adding(4, 1), served([4, 1, 100]));
  expect(ledger.cartLosses).toEqual([
    { shopper: 1, window: 0, where: "cart write", expected: "3×1, 4×1", found: "4×1" },
  ]);
});

test("a write without an answer allows the cart before it or after it, and nothing else", () => {
  const ledger = new Ledger();
  ledger.cartWritten(0, adding(3, 1), served([3, 1, 100]));
  ledger.writeUncertain(0, adding(4, 1));
  ledger.cartViewed(0, served([3, 1, 100], [4, 1, 100])); // it happened
  ledger.writeUncertain(0, removing(4));
  ledger.cartViewed(0, served([3, 1, 100], [4, 1, 100])); // it did not
  expect(ledger.cartLosses).toEqual([]);
  ledger.writeUncertain(0, removing(4));
  ledger.cartViewed(0, served());
  expect(ledger.cartLosses).toEqual([
    { shopper: 0, window: 0, where: "cart view", expected: "3×1, 4×1", found: "empty" },
  ]);
});

test("a write acknowledged after an unanswered one is checked against either outcome of the first", () => {
  const ledger = new Ledger();
  ledger.cartWritten(0, adding(3, 1), served([3, 1, 100]));
  ledger.writeUncertain(0, adding(4, 1));
  ledger.cartWritten(0, adding(5, 1), served([3, 1, 100], [5, 1, 100])); // the unanswered add never happened
  ledger.writeUncertain(0, adding(6, 1));
  ledger.cartWritten(0, adding(7, 1), served([3, 1, 100], [5, 1, 100], [6, 1, 100], [7, 1, 100])); // it did
  expect(ledger.cartLosses).toEqual([]);
  ledger.writeUncertain(0, adding(8, 1));
  ledger.cartWritten(0, adding(9, 1), served([9, 1, 100])); // neither: a fresh session took the write
  expect(ledger.cartLosses).toEqual([
    { shopper: 0, window: 0, where: "cart write", expected: "3×1, 5×1, 6×1, 7×1, 9×1", found: "9×1" },
  ]);
});

test("an acknowledged order holds the cart at its last shown prices; the cart is empty after it", () => {
  const ledger = new Ledger();
  ledger.cartWritten(0, adding(3, 2), served([3, 2, 500]));
  ledger.cartWritten(0, adding(8, 1), served([3, 2, 500], [8, 1, 199]));
  ledger.repriced(0, [{ productId: 8, priceCents: 210 }]); // 409 price_changed: the cart is at the new price
  ledger.window = 1;
  const order = ledger.orderAcked(0, "0d9e4a52-7a38-4c43-9d1f-0f6c6f8a1b11");
  expect(order).toEqual({
    orderId: "0d9e4a52-7a38-4c43-9d1f-0f6c6f8a1b11",
    shopper: 0,
    lines: [
      { productId: 3, quantity: 2, priceCents: 500 },
      { productId: 8, quantity: 1, priceCents: 210 },
    ],
    totalCents: 1210,
    window: 1,
  });
  expect(ledger.cart(0)).toEqual([]);
  // The same cart's checkout answered again (200 naming the first order) adds nothing.
  ledger.orderAcked(0, order.orderId);
  expect(ledger.orders.size).toBe(1);
  expect(ledger.ordersIn(1)).toEqual([order]);
  expect(ledger.ordersOf(0)).toEqual([order]);
  expect(ledger.ordersOf(1)).toEqual([]);
});

test("checkout finding no cart is a loss unless an unanswered checkout may have emptied it", () => {
  const ledger = new Ledger();
  ledger.cartWritten(0, adding(3, 1), served([3, 1, 100]));
  ledger.checkoutFoundNoCart(0);
  expect(ledger.cartLosses).toEqual([
    { shopper: 0, window: 0, where: "checkout (409 cart_empty)", expected: "3×1", found: "empty" },
  ]);
  ledger.cartWritten(1, adding(3, 1), served([3, 1, 100]));
  ledger.writeUncertain(1, () => []); // a checkout with no answer
  ledger.checkoutFoundNoCart(1);
  expect(ledger.cartLosses).toHaveLength(1);
});
