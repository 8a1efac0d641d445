/**
 * `Cache-Control` per route, matching the CDN in front of the app (step 6): public product reads may be cached
 * 30 s by anyone; everything personal (cart, checkout, orders, admin writes) and every error is `private,
 * no-store`; health is `no-store`; the page `no-cache`. Checked with the cache on and off: the headers are a
 * property of the route, not of where the answer came from.
 */
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";
import { Shopper } from "./support/shopper";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { ADMIN_TOKEN } from "./support/test-app";

let redis: RedisServer;
let suite: Suite;
let cached: ShopInstance;
let plain: ShopInstance;

beforeAll(async () => {
  redis = await startRedisServer();
  suite = await openSuite("cache_control");
  cached = await startShop(suite, { REDIS_URL: redis.url, SESSION_STORE: "redis" });
  plain = await startShop(suite);
});
afterAll(async () => {
  await cached?.close();
  await plain?.close();
  await suite?.close();
  await redis?.stop();
});

const PUBLIC = "public, max-age=30";
const PERSONAL = "private, no-store";
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe.each([
  ["cache on", () => cached],
  ["cache off", () => plain],
])("%s", (_label, shop) => {
  test("public product reads: public, max-age=30; their errors: private, no-store", async () => {
    for (const path of ["/api/products", "/api/products?category=toys&limit=50", "/api/products/1"]) {
      const response = await shop().request({ path });
      expect([path, response.status, response.headers["cache-control"]]).toEqual([path, 200, PUBLIC]);
    }
    const head = await shop().request({ method: "HEAD", path: "/api/products/2" });
    expect([head.status, head.headers["cache-control"]]).toEqual([200, PUBLIC]);
    for (const path of [
      "/api/products/99999",
      "/api/products?limit=0",
      "/api/products?cursor=not-ours",
      "/api/products/abc",
    ]) {
      const response = await shop().request({ path });
      expect([path, response.status >= 400, response.headers["cache-control"]]).toEqual([path, true, PERSONAL]);
    }
  });

  test("the shopper's cart, checkout and orders: private, no-store", async () => {
    const shopper = new Shopper(shop());
    const responses = [
      await shopper.post("/api/cart/items", { productId: 3, quantity: 1 }),
      await shopper.get("/api/cart"),
      await shopper.post("/api/cart/items", { productId: 4, quantity: 1 }),
      await shopper.delete("/api/cart/items/4"),
      await shopper.post("/api/checkout"),
      await shopper.get("/api/orders"),
    ];
    const orderId = responses[4].json().orderId;
    responses.push(await shopper.get(`/api/orders/${orderId}`), await shopper.post("/api/checkout"));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 201, 200, 200, 409]);
    for (const response of responses) expect(response.headers["cache-control"]).toBe(PERSONAL);
  });

  test("admin writes (and their refusals): private, no-store", async () => {
    const sku = `CC-${_label === "cache on" ? 1 : 2}`;
    const created = await shop().request({
      method: "POST",
      path: "/api/products",
      headers: admin,
      body: { sku, name: "Cache Test", category: "misc", priceCents: 1, stock: 1 },
    });
    expect(created.status).toBe(201);
    const patched = await shop().request({
      method: "PATCH",
      path: `/api/products/${created.json().id}`,
      headers: admin,
      body: { stock: 2 },
    });
    expect(patched.status).toBe(200);
    const refused = await shop().request({ method: "PATCH", path: "/api/products/1", body: { stock: 2 } });
    expect(refused.status).toBe(401);
    for (const response of [created, patched, refused]) expect(response.headers["cache-control"]).toBe(PERSONAL);
  });

  test("health: no-store; the page: no-cache; an unknown route: private, no-store", async () => {
    expect((await shop().request({ path: "/healthz" })).headers["cache-control"]).toBe("no-store");
    expect((await shop().request({ path: "/readyz" })).headers["cache-control"]).toBe("no-store");
    expect((await shop().request({ path: "/" })).headers["cache-control"]).toBe("no-cache");
    expect((await shop().request({ path: "/api/nope" })).headers["cache-control"]).toBe(PERSONAL);
  });
});

test("cache on: a public product read never carries or sets a session cookie, even for a shopper", async () => {
  const shopper = new Shopper(cached);
  await shopper.post("/api/cart/items", { productId: 5, quantity: 1 });
  expect(shopper.cookie).toBeDefined();
  const read = await shopper.get("/api/products/5");
  expect(read.headers["cache-control"]).toBe(PUBLIC);
  expect(read.headers["set-cookie"]).toBeUndefined();
  expect((await shopper.get("/api/cart")).json().items).toHaveLength(1);
});
