/**
 * The session id is rotated after checkout (issue 14, finding 8): the answer's Set-Cookie names a new session id,
 * the old id no longer opens the session (no cart, no orders, no shopper), and the shopper, under the new id,
 * still sees their order at once (the write positions came along). With the memory store (steps 3-6) and with
 * sessions in a real redis-server (step 7 on).
 */
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { Shopper } from "./support/shopper";

let suite: Suite;
let redis: RedisServer;
let memory: ShopInstance;
let redisSessions: ShopInstance;

beforeAll(async () => {
  redis = await startRedisServer();
  suite = await openSuite("checkout-session");
  memory = await startShop(suite);
  redisSessions = await startShop(suite, { REDIS_URL: redis.url, SESSION_STORE: "redis" });
});
afterAll(async () => {
  await memory?.close();
  await redisSessions?.close();
  await suite?.close();
  await redis?.stop();
});

/** The session id a signed cookie value names (`<id>.<signature>`, URL-encoded). */
const sessionIdOf = (cookie: string | undefined): string => decodeURIComponent(cookie ?? "").split(".")[0];

describe.each([
  { store: "memory", shop: () => memory, productId: 31 },
  { store: "redis", shop: () => redisSessions, productId: 32 },
])("with the $store session store", ({ shop, productId }) => {
  test("checkout sets a new session id; the old one stops working; the shopper still sees their order", async () => {
    const shopper = new Shopper(shop());
    await shopper.post("/api/cart/items", { productId, quantity: 1 });
    const oldCookie = shopper.cookie;
    expect(sessionIdOf(oldCookie)).not.toBe("");

    const checkout = await shopper.post("/api/checkout");
    expect(checkout.status).toBe(201);
    const { orderId } = checkout.json();
    expect(checkout.headers["set-cookie"]).toBeDefined();
    expect(sessionIdOf(shopper.cookie)).not.toBe("");
    expect(sessionIdOf(shopper.cookie)).not.toBe(sessionIdOf(oldCookie));

    // Under the new id: the order, at once (read-your-writes came along), and an empty cart.
    expect((await shopper.get("/api/orders")).json().items).toEqual([expect.objectContaining({ orderId })]);
    expect((await shopper.get(`/api/orders/${orderId}`)).status).toBe(200);
    expect((await shopper.get("/api/cart")).json()).toEqual({ items: [], totalCents: 0 });

    // Under the old id: a stranger.
    const thief = new Shopper(shop());
    thief.cookie = oldCookie;
    expect((await thief.get(`/api/orders/${orderId}`)).status).toBe(404);
    expect((await thief.get("/api/orders")).json().items).toEqual([]);
    await thief.post("/api/cart/items", { productId, quantity: 1 });
    expect(sessionIdOf(thief.cookie)).not.toBe(sessionIdOf(oldCookie));
    expect((await thief.get("/api/orders")).json().items).toEqual([]);
  });
});
