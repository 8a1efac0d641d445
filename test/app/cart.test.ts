/** The cart routes: a cart per session, kept in a signed HttpOnly cookie's server-side session. */
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../app/src/app";
import { MAX_CART_LINES, MAX_LINE_QUANTITY } from "../../app/src/cart/cart";
import { loadConfig } from "../../app/src/config";
import { SESSION_COOKIE } from "../../app/src/session/shopper-session";
import { httpRequest } from "./support/http-client";
import { Shopper } from "./support/shopper";
import { ADMIN_TOKEN, type TestApp, setStock, startTestApp, testEnv, testLogger } from "./support/test-app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp("cart");
});
afterAll(() => t?.close());

test("a new visitor has an empty cart and gets no cookie until something is put in it", async () => {
  const shopper = new Shopper(t);
  const response = await shopper.get("/api/cart");
  expect(response.status).toBe(200);
  expect(response.json()).toEqual({ items: [], totalCents: 0 });
  expect(response.headers["set-cookie"]).toBeUndefined();
});

test("adding items sets a signed HttpOnly session cookie and the cart follows the session", async () => {
  const shopper = new Shopper(t);
  const added = await shopper.post("/api/cart/items", { productId: 10, quantity: 2 });
  expect(added.status).toBe(200);
  const cookie = (added.headers["set-cookie"] ?? [])[0];
  expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[^;]+\\.[^;]+;`)); // <session id>.<signature>
  expect(cookie).toMatch(/; HttpOnly/);
  expect(cookie).toMatch(/; SameSite=Lax/);
  expect(cookie).not.toMatch(/; Secure/);

  const product = (await t.request({ path: "/api/products/10" })).json();
  await shopper.post("/api/cart/items", { productId: 11, quantity: 1 });
  const more = await shopper.post("/api/cart/items", { productId: 10, quantity: 1 });
  const cart = more.json();
  expect(cart.items).toEqual([
    {
      productId: 10,
      name: product.name,
      priceCents: product.priceCents,
      quantity: 3,
      lineTotalCents: 3 * product.priceCents,
      inStock: true,
    },
    expect.objectContaining({ productId: 11, quantity: 1 }),
  ]);
  expect(cart.totalCents).toBe(cart.items[0].lineTotalCents + cart.items[1].lineTotalCents);
  expect((await shopper.get("/api/cart")).json()).toEqual(cart);
  expect((await new Shopper(t).get("/api/cart")).json()).toEqual({ items: [], totalCents: 0 });
});

test("DELETE removes a line; removing it again is a 404", async () => {
  const shopper = new Shopper(t);
  await shopper.post("/api/cart/items", { productId: 12, quantity: 1 });
  await shopper.post("/api/cart/items", { productId: 13, quantity: 1 });
  const removed = await shopper.delete("/api/cart/items/12");
  expect(removed.status).toBe(200);
  expect(removed.json().items.map((line: { productId: number }) => line.productId)).toEqual([13]);
  const again = await shopper.delete("/api/cart/items/12");
  expect(again.status).toBe(404);
  expect(again.json()).toEqual({ error: "not_in_cart", message: expect.any(String), details: { productId: 12 } });
  expect((await shopper.delete("/api/cart/items/abc")).status).toBe(400);
});

test("an unknown product is a 404 and leaves the cart as it was", async () => {
  const shopper = new Shopper(t);
  const response = await shopper.post("/api/cart/items", { productId: 999999, quantity: 1 });
  expect(response.status).toBe(404);
  expect(response.json().error).toBe("product_not_found");
  expect((await shopper.get("/api/cart")).json().items).toEqual([]);
});

test.each([
  ["a negative quantity", { productId: 1, quantity: -1 }],
  ["a zero quantity", { productId: 1, quantity: 0 }],
  ["a fractional quantity", { productId: 1, quantity: 1.5 }],
  ["a quantity as a string", { productId: 1, quantity: "2" }],
  ["a quantity over the per-line maximum", { productId: 1, quantity: MAX_LINE_QUANTITY + 1 }],
  ["a missing productId", { quantity: 1 }],
  ["an unknown field", { productId: 1, quantity: 1, price: 0 }],
  ["an array body", [{ productId: 1, quantity: 1 }]],
  ["a null body", null],
])("%s is a 400", async (_, body) => {
  const shopper = new Shopper(t);
  const response = await shopper.send("POST", "/api/cart/items", undefined, { "content-type": "application/json" });
  expect(response.status).toBe(400); // no body at all
  const withBody = await t.request({
    method: "POST",
    path: "/api/cart/items",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  expect(withBody.status).toBe(400);
  expect(withBody.json().error).toBe("validation_failed");
});

test("more units than in stock is a 409 naming the product, counting what the cart already holds", async () => {
  await setStock(t, 20, 3);
  const shopper = new Shopper(t);
  expect((await shopper.post("/api/cart/items", { productId: 20, quantity: 2 })).status).toBe(200);
  const response = await shopper.post("/api/cart/items", { productId: 20, quantity: 2 });
  expect(response.status).toBe(409);
  expect(response.json()).toMatchObject({
    error: "insufficient_stock",
    details: { productId: 20, requested: 4, available: 3 },
  });
  expect(response.json().message).toContain("product 20");
});

test(`a line holds ≤ ${MAX_LINE_QUANTITY} units and a cart ≤ ${MAX_CART_LINES} products (409)`, async () => {
  await setStock(t, 21, 1000);
  const shopper = new Shopper(t);
  expect((await shopper.post("/api/cart/items", { productId: 21, quantity: MAX_LINE_QUANTITY })).status).toBe(200);
  const over = await shopper.post("/api/cart/items", { productId: 21, quantity: 1 });
  expect(over.status).toBe(409);
  expect(over.json().error).toBe("quantity_limit");

  const full = new Shopper(t);
  for (let id = 30; id < 30 + MAX_CART_LINES; id += 1) {
    expect((await full.post("/api/cart/items", { productId: id, quantity: 1 })).status).toBe(200);
  }
  const one = await full.post("/api/cart/items", { productId: 30 + MAX_CART_LINES, quantity: 1 });
  expect(one.status).toBe(409);
  expect(one.json().error).toBe("cart_full");
});

test("a forged or tampered cookie is a fresh, empty session, not an error", async () => {
  const shopper = new Shopper(t);
  await shopper.post("/api/cart/items", { productId: 14, quantity: 1 });
  const [id, signature] = (shopper.cookie ?? "").split(".");
  // Each tampering must really change the cookie: replace with a character that differs from the one it replaces.
  const differs = (from: string, a: string, b: string) => (from === a ? b : a);
  const tamperedSignature = `${differs(signature.slice(0, 4), "AAAA", "BBBB")}${signature.slice(4)}`;
  const tamperedId = `${id.slice(0, -1)}${differs(id.slice(-1), "x", "y")}`;
  for (const cookie of ["garbage", `${id}.${tamperedSignature}`, `${tamperedId}.${signature}`, ""]) {
    const response = await t.request({ path: "/api/cart", headers: { cookie: `${SESSION_COOKIE}=${cookie}` } });
    expect(response.status).toBe(200);
    expect(response.json().items).toEqual([]);
  }
  expect((await shopper.get("/api/cart")).json().items).toHaveLength(1);
});

describe("COOKIE_SECURE", () => {
  let secureApp: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    const config = loadConfig(testEnv(t.db, { COOKIE_SECURE: "true", TRUST_PROXY: "true" }));
    secureApp = await buildApp(config, { router: t.router, logger: testLogger() });
    await secureApp.listen({ host: "127.0.0.1", port: 0 });
    url = `http://127.0.0.1:${(secureApp.server.address() as AddressInfo).port}`;
  });
  afterAll(() => secureApp?.close());

  test("marks the cookie Secure for requests that arrived over HTTPS at the load balancer", async () => {
    const response = await httpRequest(url, {
      method: "POST",
      path: "/api/cart/items",
      headers: { "x-forwarded-proto": "https" },
      body: { productId: 15, quantity: 1 },
    });
    expect(response.status).toBe(200);
    expect((response.headers["set-cookie"] ?? [])[0]).toMatch(/; Secure/);
  });

  test("never sends a Secure cookie over plain HTTP", async () => {
    const response = await httpRequest(url, {
      method: "POST",
      path: "/api/cart/items",
      body: { productId: 15, quantity: 1 },
    });
    expect(response.status).toBe(200);
    expect(response.headers["set-cookie"]).toBeUndefined();
  });
});

test("the admin token is no key to anyone's cart", async () => {
  const response = await t.request({ path: "/api/cart", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(response.json()).toEqual({ items: [], totalCents: 0 });
});
