/** Checkout and orders: stock reserved in the checkout's transaction, no oversell, each shopper sees only their own
 * orders. */
import { randomUUID } from "node:crypto";
import { Shopper } from "./support/shopper";
import { type TestApp, setStock, startTestApp } from "./support/test-app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp("orders");
});
afterAll(() => t?.close());

async function primaryRow(productId: number): Promise<{ stock: number; price_cents: number }> {
  return (await t.router.primaryPool.query("SELECT stock, price_cents FROM products WHERE id = $1", [productId]))
    .rows[0];
}

test("checking out an empty cart is a 409", async () => {
  const response = await new Shopper(t).post("/api/checkout");
  expect(response.status).toBe(409);
  expect(response.json()).toEqual({ error: "cart_empty", message: "The cart is empty", details: null });
});

test("checkout places an order, reserves its stock, empties the cart; the shopper reads it back", async () => {
  await setStock(t, 40, 10);
  await setStock(t, 41, 10);
  const [p40, p41] = [await primaryRow(40), await primaryRow(41)];
  const shopper = new Shopper(t);
  await shopper.post("/api/cart/items", { productId: 40, quantity: 2 });
  await shopper.post("/api/cart/items", { productId: 41, quantity: 3 });

  const checkout = await shopper.post("/api/checkout");
  expect(checkout.status).toBe(201);
  const { orderId, status } = checkout.json();
  expect(status).toBe("placed");
  expect(orderId).toMatch(/^[0-9a-f-]{36}$/);
  expect(checkout.headers.location).toBe(`/api/orders/${orderId}`);

  expect((await primaryRow(40)).stock).toBe(8);
  expect((await primaryRow(41)).stock).toBe(7);
  expect((await shopper.get("/api/cart")).json()).toEqual({ items: [], totalCents: 0 });

  const total = 2 * p40.price_cents + 3 * p41.price_cents;
  const list = await shopper.get("/api/orders");
  expect(list.status).toBe(200);
  expect(list.json().items).toEqual([{ orderId, status: "placed", totalCents: total, createdAt: expect.any(String) }]);

  const order = await shopper.get(`/api/orders/${orderId}`);
  expect(order.status).toBe(200);
  expect(order.json()).toEqual({
    orderId,
    status: "placed",
    totalCents: total,
    createdAt: list.json().items[0].createdAt,
    items: [
      { productId: 40, name: expect.any(String), quantity: 2, unitPriceCents: p40.price_cents },
      { productId: 41, name: expect.any(String), quantity: 3, unitPriceCents: p41.price_cents },
    ],
  });
  expect((await shopper.get(`/api/orders/${orderId.toUpperCase()}`)).json().orderId).toBe(orderId);
});

test("another shopper's order is a 404, exactly like an order that does not exist", async () => {
  const owner = new Shopper(t);
  await owner.post("/api/cart/items", { productId: 42, quantity: 1 });
  const { orderId } = (await owner.post("/api/checkout")).json();

  const stranger = new Shopper(t);
  const theirs = await stranger.get(`/api/orders/${orderId}`);
  const missing = await stranger.get(`/api/orders/${randomUUID()}`);
  expect(theirs.status).toBe(404);
  expect(missing.status).toBe(404);
  expect(theirs.json().error).toBe("order_not_found");
  expect({ ...theirs.json(), message: "" }).toEqual({ ...missing.json(), message: "" });
  expect((await stranger.get("/api/orders")).json().items).toEqual([]);
  expect((await owner.get(`/api/orders/${orderId}`)).status).toBe(200);
});

test.each(["not-a-uuid", "123", "00000000-0000-4000-8000-000000000000x"])("order id %s is a 400", async (id) => {
  const response = await new Shopper(t).get(`/api/orders/${id}`);
  expect(response.status).toBe(400);
  expect(response.json().error).toBe("validation_failed");
});

test("checkout takes no input: a body with fields is a 400 and places nothing", async () => {
  const shopper = new Shopper(t);
  await shopper.post("/api/cart/items", { productId: 43, quantity: 1 });
  const response = await shopper.post("/api/checkout", { shopperId: randomUUID() });
  expect(response.status).toBe(400);
  expect((await shopper.get("/api/orders")).json().items).toEqual([]);
  expect((await shopper.post("/api/checkout", {})).status).toBe(201);
});

test("stock that ran out since the item was added is a 409 naming the product; nothing is written", async () => {
  await setStock(t, 44, 5);
  await setStock(t, 45, 5);
  const shopper = new Shopper(t);
  await shopper.post("/api/cart/items", { productId: 44, quantity: 1 });
  await shopper.post("/api/cart/items", { productId: 45, quantity: 4 });
  await setStock(t, 45, 2);

  const response = await shopper.post("/api/checkout");
  expect(response.status).toBe(409);
  const name = (await t.request({ path: "/api/products/45" })).json().name;
  expect(response.json()).toEqual({
    error: "insufficient_stock",
    message: expect.stringContaining(name),
    details: { productId: 45, name, requested: 4, available: 2 },
  });
  expect((await primaryRow(44)).stock).toBe(5);
  expect((await shopper.get("/api/orders")).json().items).toEqual([]);
  expect((await shopper.get("/api/cart")).json().items).toHaveLength(2);
});

test("concurrent checkouts never oversell: with 5 in stock, exactly 5 of 12 shoppers get one", async () => {
  await setStock(t, 50, 5);
  const shoppers = Array.from({ length: 12 }, () => new Shopper(t));
  for (const shopper of shoppers)
    expect((await shopper.post("/api/cart/items", { productId: 50, quantity: 1 })).status).toBe(200);

  const results = await Promise.all(shoppers.map((shopper) => shopper.post("/api/checkout")));
  const statuses = results.map((response) => response.status).sort();
  expect(statuses).toEqual([...Array(5).fill(201), ...Array(7).fill(409)]);
  for (const refused of results.filter((response) => response.status === 409)) {
    expect(refused.json()).toMatchObject({ error: "insufficient_stock", details: { productId: 50, available: 0 } });
  }
  expect((await primaryRow(50)).stock).toBe(0);
  const sold = await t.router.primaryPool.query(
    "SELECT sum(quantity)::int AS n FROM order_items WHERE product_id = 50",
  );
  expect(sold.rows[0].n).toBe(5);
});

test("carts that name the same products in opposite orders check out concurrently without deadlock", async () => {
  await setStock(t, 60, 100);
  await setStock(t, 61, 100);
  const shoppers = Array.from({ length: 10 }, () => new Shopper(t));
  for (const [i, shopper] of shoppers.entries()) {
    const [first, second] = i % 2 === 0 ? [60, 61] : [61, 60];
    await shopper.post("/api/cart/items", { productId: first, quantity: 1 });
    await shopper.post("/api/cart/items", { productId: second, quantity: 1 });
  }
  const results = await Promise.all(shoppers.map((shopper) => shopper.post("/api/checkout")));
  expect(results.map((response) => response.status)).toEqual(Array(10).fill(201));
  expect((await primaryRow(60)).stock).toBe(90);
  expect((await primaryRow(61)).stock).toBe(90);
});
