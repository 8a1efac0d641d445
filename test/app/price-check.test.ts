/**
 * The shopper pays the price they saw (issue 14, finding 3): the cart records the price each line was shown at; an
 * admin's price change between cart and checkout is refused with `409 price_changed`, the new total and the new
 * line prices, and no order; the cart then shows (and so takes) the new prices, and the next checkout pays them.
 */
import { ADMIN_TOKEN, type TestApp, setStock, startTestApp } from "./support/test-app";
import { Shopper } from "./support/shopper";
import { waitForReplica } from "./support/test-database";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp("price-check");
});
afterAll(() => t?.close());

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const row = async (productId: number): Promise<{ stock: number; price_cents: number; name: string }> =>
  (await t.router.primaryPool.query("SELECT stock, price_cents, name FROM products WHERE id = $1", [productId]))
    .rows[0];

async function setPrice(productId: number, priceCents: number): Promise<void> {
  const response = await t.request({
    method: "PATCH",
    path: `/api/products/${productId}`,
    headers: admin,
    body: { priceCents },
  });
  expect(response.status).toBe(200);
}

test("a price changed after the cart showed it is a 409 with the new total; the next checkout pays it", async () => {
  await setStock(t, 21, 10);
  await setStock(t, 22, 10);
  const [before21, before22] = [await row(21), await row(22)];
  const shopper = new Shopper(t);
  await shopper.post("/api/cart/items", { productId: 21, quantity: 2 });
  const shown = await shopper.post("/api/cart/items", { productId: 22, quantity: 1 });
  expect(shown.json().totalCents).toBe(2 * before21.price_cents + before22.price_cents);

  const newPrice = before21.price_cents * 5 + 100;
  await setPrice(21, newPrice);
  const refused = await shopper.post("/api/checkout");
  expect(refused.status).toBe(409);
  const newTotal = 2 * newPrice + before22.price_cents;
  expect(refused.json()).toEqual({
    error: "price_changed",
    message: expect.stringContaining(`product 21 changed`),
    details: {
      totalCents: newTotal,
      items: [
        {
          productId: 21,
          name: before21.name,
          quantity: 2,
          priceCents: newPrice,
          previousPriceCents: before21.price_cents,
        },
        {
          productId: 22,
          name: before22.name,
          quantity: 1,
          priceCents: before22.price_cents,
          previousPriceCents: before22.price_cents,
        },
      ],
    },
  });
  expect(refused.json().message).toContain(`${newTotal} cents`);
  // No order, no stock taken.
  expect((await shopper.get("/api/orders")).json().items).toEqual([]);
  expect([(await row(21)).stock, (await row(22)).stock]).toEqual([10, 10]);

  // The cart shows the new prices (even before a replica has the change: the 409 carried its position)...
  expect((await shopper.get("/api/cart")).json().totalCents).toBe(newTotal);
  // ...and checking out again pays them.
  const placed = await shopper.post("/api/checkout");
  expect(placed.status).toBe(201);
  const order = await shopper.get(`/api/orders/${placed.json().orderId}`);
  expect(order.json()).toMatchObject({
    totalCents: newTotal,
    items: [
      expect.objectContaining({ productId: 21, quantity: 2, unitPriceCents: newPrice }),
      expect.objectContaining({ productId: 22, quantity: 1, unitPriceCents: before22.price_cents }),
    ],
  });
  expect([(await row(21)).stock, (await row(22)).stock]).toEqual([8, 9]);
});

test("a price change the cart has shown since is no surprise: checkout pays it", async () => {
  await setStock(t, 23, 10);
  const shopper = new Shopper(t);
  await shopper.post("/api/cart/items", { productId: 23, quantity: 3 });
  const newPrice = (await row(23)).price_cents + 250;
  await setPrice(23, newPrice);
  await waitForReplica(t.db.cluster);
  expect((await shopper.get("/api/cart")).json().totalCents).toBe(3 * newPrice);
  const placed = await shopper.post("/api/checkout");
  expect(placed.status).toBe(201);
  expect((await shopper.get(`/api/orders/${placed.json().orderId}`)).json().totalCents).toBe(3 * newPrice);
});

test("a price that went down is refused too: the shopper agrees to the total they are charged", async () => {
  await setStock(t, 24, 10);
  const shopper = new Shopper(t);
  await shopper.post("/api/cart/items", { productId: 24, quantity: 1 });
  const cheaper = Math.floor((await row(24)).price_cents / 2);
  await setPrice(24, cheaper);
  const refused = await shopper.post("/api/checkout");
  expect(refused.status).toBe(409);
  expect(refused.json().details.totalCents).toBe(cheaper);
  expect((await shopper.post("/api/checkout")).status).toBe(201);
});
