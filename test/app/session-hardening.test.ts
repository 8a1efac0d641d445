/**
 * Sessions nobody can fill or plant (issue 14, findings 2 and 8): a read without a session stores nothing and sets
 * no cookie, the memory store (steps 3–6) is bounded per client as well as in total, and a `Secure` session cookie
 * is a `__Host-` cookie (`Path=/`, no `Domain`).
 */
import { randomUUID } from "node:crypto";
import { MemorySessionStore } from "../../app/src/session/memory-store";
import { SECURE_SESSION_COOKIE, SESSION_COOKIE } from "../../app/src/session/shopper-session";
import { Shopper } from "./support/shopper";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";

let suite: Suite;
const shops: ShopInstance[] = [];
const stores: MemorySessionStore[] = [];

beforeAll(async () => {
  suite = await openSuite("session_hardening");
});
afterAll(async () => {
  for (const shop of shops) await shop.close().catch(() => undefined);
  for (const store of stores) store.close();
  await suite?.close();
});

/** An app on the suite's database with a memory store the test can count. */
async function shopWithStore(
  env: Record<string, string> = {},
  store = new MemorySessionStore(),
): Promise<{ shop: ShopInstance; store: MemorySessionStore }> {
  stores.push(store);
  const shop = await startShop(suite, env, { sessionStore: store });
  shops.push(shop);
  return { shop, store };
}

describe("anonymous reads", () => {
  test("a cookie-less read of orders, an order or the cart stores no session and sets no cookie", async () => {
    const { shop, store } = await shopWithStore();
    for (const path of ["/api/orders", `/api/orders/${randomUUID()}`, "/api/cart"]) {
      const response = await shop.request({ path });
      expect(response.headers["set-cookie"]).toBeUndefined();
    }
    expect(store.size).toBe(0);
    // ...and they answer as for a shopper who has nothing yet.
    expect((await shop.request({ path: "/api/orders" })).json()).toEqual({ items: [] });
    const order = await shop.request({ path: `/api/orders/${randomUUID()}` });
    expect(order.status).toBe(404);
    expect(order.json()).toMatchObject({ error: "order_not_found" });
    expect((await shop.request({ path: "/api/cart" })).json()).toEqual({ items: [], totalCents: 0 });
    expect(store.size).toBe(0);
  });

  test("1,000 anonymous order reads leave the store empty; a shopper's write still makes one session", async () => {
    const { shop, store } = await shopWithStore();
    for (let i = 0; i < 1000; i += 50)
      await Promise.all(Array.from({ length: 50 }, () => shop.request({ path: "/api/orders" })));
    expect(store.size).toBe(0);

    const shopper = new Shopper(shop);
    expect((await shopper.post("/api/cart/items", { productId: 5, quantity: 1 })).status).toBe(200);
    expect(shopper.cookie).toBeDefined();
    expect(store.size).toBe(1);
    const placed = await shopper.post("/api/checkout");
    expect(placed.status).toBe(201);
    // The shopper's own reads still find their session and their order.
    expect((await shopper.get("/api/orders")).json().items.map((o: { orderId: string }) => o.orderId)).toEqual([
      placed.json().orderId,
    ]);
    expect((await shopper.get(`/api/orders/${placed.json().orderId}`)).status).toBe(200);
  });
});

describe("the memory store's bounds, through the app (TRUST_PROXY: the client is X-Forwarded-For's address)", () => {
  /** A shopper at `address` who puts one product in a cart. */
  async function shopperAt(shop: ShopInstance, address: string, productId: number): Promise<Shopper> {
    const shopper = new Shopper(shop);
    const body = { productId, quantity: 1 };
    expect((await shopper.send("POST", "/api/cart/items", body, { "x-forwarded-for": address })).status).toBe(200);
    return shopper;
  }
  /** A cookie-less cart write from `address`: one new session each time. */
  const anonymousWrite = (shop: ShopInstance, address: string) =>
    shop.request({
      method: "POST",
      path: "/api/cart/items",
      headers: { "x-forwarded-for": address },
      body: { productId: 1, quantity: 1 },
    });

  test("one address making sessions, then many past the total, leave every shopper's cart in place", async () => {
    const { shop, store } = await shopWithStore(
      { TRUST_PROXY: "true" },
      new MemorySessionStore({ maxSessions: 40, maxSessionsPerClient: 5 }),
    );
    const shoppers: Array<[Shopper, number]> = [];
    for (let i = 1; i <= 10; i += 1) shoppers.push([await shopperAt(shop, `192.0.2.${i}`, 10 + i), 10 + i]);

    for (let i = 0; i < 60; i += 1) expect((await anonymousWrite(shop, "198.51.100.7")).status).toBe(200);
    for (const [shopper, productId] of shoppers)
      expect((await shopper.get("/api/cart")).json().items).toEqual([
        expect.objectContaining({ productId, quantity: 1 }),
      ]);
    // Twenty more addresses, eight sessions each: 160 sessions against a store of 40.
    for (let round = 0; round < 8; round += 1)
      await Promise.all(Array.from({ length: 20 }, (_, a) => anonymousWrite(shop, `203.0.113.${a + 1}`)));
    for (const [shopper, productId] of shoppers)
      expect((await shopper.get("/api/cart")).json().items).toEqual([
        expect.objectContaining({ productId, quantity: 1 }),
      ]);
    expect(store.size).toBe(40);
    expect(store.sessionsOf("198.51.100.7")).toBeLessThanOrEqual(5);
    // Checkout rotates the session id; the new id still counts against the shopper's address, and so does the old
    // id's tombstone (session/tombstone.ts) for its few minutes: no one's checkouts grow anyone else's share.
    const [first] = shoppers[0];
    expect(store.sessionsOf("192.0.2.1")).toBe(1);
    expect((await first.post("/api/checkout")).status).toBe(201);
    expect(store.sessionsOf("192.0.2.1")).toBe(2);
  });
});

describe("the __Host- cookie (COOKIE_SECURE)", () => {
  const https = { "x-forwarded-proto": "https" };

  test("a Secure session cookie is __Host-shop_session with Path=/ and no Domain, and the app reads it", async () => {
    const { shop } = await shopWithStore({ COOKIE_SECURE: "true", TRUST_PROXY: "true" });
    const added = await shop.request({
      method: "POST",
      path: "/api/cart/items",
      headers: https,
      body: { productId: 7, quantity: 2 },
    });
    expect(added.status).toBe(200);
    const [cookie] = added.headers["set-cookie"] ?? [];
    expect(cookie).toMatch(new RegExp(`^${SECURE_SESSION_COOKIE}=[^;]+\\.[^;]+;`));
    const attributes = cookie.split(/;\s*/).slice(1);
    expect(attributes).toEqual(expect.arrayContaining(["Secure", "Path=/", "HttpOnly", "SameSite=Lax"]));
    expect(attributes.filter((a) => /^domain=/i.test(a))).toEqual([]);

    const value = cookie.slice(SECURE_SESSION_COOKIE.length + 1, cookie.indexOf(";"));
    const cart = await shop.request({
      path: "/api/cart",
      headers: { ...https, cookie: `${SECURE_SESSION_COOKIE}=${value}` },
    });
    expect(cart.json().items).toEqual([expect.objectContaining({ productId: 7, quantity: 2 })]);
    // The old name is not read on a Secure stack (app/README.md: a cart made before the update starts afresh).
    const old = await shop.request({ path: "/api/cart", headers: { ...https, cookie: `${SESSION_COOKIE}=${value}` } });
    expect(old.json().items).toEqual([]);
  });

  test("without COOKIE_SECURE the cookie keeps its plain name (a __Host- cookie needs Secure)", async () => {
    const { shop } = await shopWithStore();
    const added = await shop.request({ method: "POST", path: "/api/cart/items", body: { productId: 7, quantity: 1 } });
    const [cookie] = added.headers["set-cookie"] ?? [];
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(cookie).not.toMatch(/; Secure/);
  });
});
