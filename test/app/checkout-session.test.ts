/**
 * The session id is rotated after checkout (issue 14, finding 8): the answer's Set-Cookie names a new session id,
 * the old id no longer opens the session (no cart, no orders, no shopper), and the shopper, under the new id,
 * still sees their order at once (the write positions came along). The old id is a tombstone for a few minutes
 * (session/tombstone.ts): a checkout retried with it (its answer, with the new cookie, was lost) gets the first
 * order back and no cookie; anything else on it is a stranger's; a request that loaded the session before the
 * checkout cannot save it back afterwards; and the tombstone expires. With the memory store (steps 3-6) and with
 * sessions in a real redis-server (step 7 on).
 */
import type { Session } from "fastify";
import { createRedis, type ShopRedis } from "../../app/src/redis/client";
import { MemorySessionStore, type SessionStore } from "../../app/src/session/memory-store";
import { createRedisSessionStore } from "../../app/src/session/redis-store";
import { TOMBSTONE_TTL_MS, type Tombstone } from "../../app/src/session/tombstone";
import { pollUntil } from "../../lib/servers/poll";
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { Shopper } from "./support/shopper";
import { testLogger } from "./support/test-app";
import { waitForReplica } from "./support/test-database";

/**
 * A store that passes every call through, except that it can hold the writes of one session id until released: a
 * request that loaded the session has answered its handler and waits in its save, as a slow save would.
 */
class HoldingStore implements SessionStore {
  private held?: { sessionId: string; gate: Promise<void>; release: () => void; waiting: number };

  constructor(readonly inner: SessionStore) {}

  /** Holds the next writes of `sessionId`; resolves once one is waiting, and returns how to let them go. */
  async holdWritesOf(sessionId: string): Promise<{ whenWaiting: () => Promise<void>; release: () => void }> {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = { sessionId, gate, release, waiting: 0 };
    this.held = held;
    return {
      whenWaiting: () => pollUntil("a save to wait", async () => held.waiting > 0),
      release: () => {
        this.held = undefined;
        release();
      },
    };
  }

  set(sessionId: string, session: Session, callback: (error?: unknown) => void): void {
    const held = this.held;
    if (held?.sessionId !== sessionId) return this.inner.set(sessionId, session, callback);
    held.waiting += 1;
    void held.gate.then(() => this.inner.set(sessionId, session, callback));
  }

  get(sessionId: string, callback: (error: unknown, session?: Session | null) => void): void {
    this.inner.get(sessionId, callback);
  }

  destroy(sessionId: string, callback: (error?: unknown) => void): void {
    this.inner.destroy(sessionId, callback);
  }

  retire(sessionId: string, tombstone: Tombstone, callback: (error?: unknown) => void): void {
    this.inner.retire(sessionId, tombstone, callback);
  }

  /** What the store holds under `sessionId`. */
  read(sessionId: string): Promise<Session | null | undefined> {
    return new Promise((resolve, reject) =>
      this.inner.get(sessionId, (error, session) => (error ? reject(error) : resolve(session))),
    );
  }
}

/** How long the tombstones of the `shortLived` shops last. */
const SHORT_TOMBSTONE_MS = 1500;

let suite: Suite;
let redis: RedisServer;
let sessionRedis: ShopRedis;
const memoryStores: MemorySessionStore[] = [];
const shops: Record<"memory" | "redis", { shop?: ShopInstance; store?: HoldingStore; shortLived?: ShopInstance }> = {
  memory: {},
  redis: {},
};

function storeOf(kind: "memory" | "redis", tombstoneTtlMs?: number): HoldingStore {
  if (kind === "redis")
    return new HoldingStore(createRedisSessionStore({ redis: sessionRedis, logger: testLogger(), tombstoneTtlMs }));
  const memory = new MemorySessionStore({ tombstoneTtlMs });
  memoryStores.push(memory);
  return new HoldingStore(memory);
}

beforeAll(async () => {
  redis = await startRedisServer();
  sessionRedis = createRedis({ url: redis.url, logger: testLogger(), name: "session-redis" });
  expect(await sessionRedis.whenReady(10_000)).toBe(true);
  suite = await openSuite("checkout-session");
  for (const kind of ["memory", "redis"] as const) {
    const store = storeOf(kind);
    shops[kind] = {
      store,
      shop: await startShop(suite, {}, { sessionStore: store }),
      shortLived: await startShop(suite, {}, { sessionStore: storeOf(kind, SHORT_TOMBSTONE_MS) }),
    };
  }
});
afterAll(async () => {
  for (const { shop, shortLived } of Object.values(shops)) {
    await shop?.close();
    await shortLived?.close();
  }
  memoryStores.forEach((store) => store.close());
  await sessionRedis?.close();
  await suite?.close();
  await redis?.stop();
});

/** The session id a signed cookie value names (`<id>.<signature>`, URL-encoded). */
const sessionIdOf = (cookie: string | undefined): string => decodeURIComponent(cookie ?? "").split(".")[0];

/** Another browser (or the same one, after a lost answer) holding `cookie`. */
function holding(shop: ShopInstance, cookie: string | undefined): Shopper {
  const other = new Shopper(shop);
  other.cookie = cookie;
  return other;
}

async function stockOf(shop: ShopInstance, productId: number): Promise<number> {
  return (await shop.router.primaryPool.query("SELECT stock FROM products WHERE id = $1", [productId])).rows[0].stock;
}

async function setStock(shop: ShopInstance, productId: number, stock: number): Promise<void> {
  await shop.router.primaryPool.query("UPDATE products SET stock = $2 WHERE id = $1", [productId, stock]);
  await waitForReplica(suite.db.cluster);
}

describe.each([
  { kind: "memory" as const, productId: 31 },
  { kind: "redis" as const, productId: 32 },
])("with the $kind session store", ({ kind, productId }) => {
  const shop = () => shops[kind].shop!;
  const store = () => shops[kind].store!;

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
    const thief = holding(shop(), oldCookie);
    expect((await thief.get(`/api/orders/${orderId}`)).status).toBe(404);
    expect((await thief.get("/api/orders")).json().items).toEqual([]);
    await thief.post("/api/cart/items", { productId, quantity: 1 });
    expect(sessionIdOf(thief.cookie)).not.toBe(sessionIdOf(oldCookie));
    expect((await thief.get("/api/orders")).json().items).toEqual([]);
  });

  test("a checkout retried with the old cookie (the answer was lost) gets the first order, and no cookie", async () => {
    await setStock(shop(), productId, 50);
    const shopper = new Shopper(shop());
    await shopper.post("/api/cart/items", { productId, quantity: 2 });
    const oldCookie = shopper.cookie;
    const first = await shopper.post("/api/checkout");
    expect(first.status).toBe(201);
    const { orderId } = first.json();
    expect(sessionIdOf(shopper.cookie)).not.toBe(sessionIdOf(oldCookie));

    // The browser never got that answer (nor its cookie), and sends the checkout again, twice.
    const browser = holding(shop(), oldCookie);
    for (let attempt = 0; attempt < 2; attempt++) {
      const retry = await browser.post("/api/checkout");
      expect(retry.status).toBe(200);
      expect(retry.json()).toEqual({ orderId, status: "placed" });
      expect(retry.headers.location).toBe(`/api/orders/${orderId}`);
      expect(retry.headers["set-cookie"]).toBeUndefined();
    }
    expect(await stockOf(shop(), productId)).toBe(48);
    // The old id holds only what the replay needs: no shopper, no cart.
    expect(await store().read(sessionIdOf(oldCookie))).toEqual({
      tombstone: { orderId, shard: "main", cartId: expect.any(String), cartVersion: 1 },
    });
    // The shopper's new session has the one order.
    expect((await shopper.get("/api/orders")).json().items).toEqual([expect.objectContaining({ orderId })]);
  });

  test("on a retired id, reads are a stranger's and a cart write starts a new session, never the old one", async () => {
    const shopper = new Shopper(shop());
    await shopper.post("/api/cart/items", { productId, quantity: 1 });
    const oldCookie = shopper.cookie;
    const { orderId } = (await shopper.post("/api/checkout")).json();
    const newCookie = shopper.cookie;

    const stranger = holding(shop(), oldCookie);
    const cart = await stranger.get("/api/cart");
    expect(cart.json()).toEqual({ items: [], totalCents: 0 });
    expect(cart.headers["set-cookie"]).toBeUndefined();
    expect((await stranger.get("/api/orders")).json().items).toEqual([]);
    expect((await stranger.get(`/api/orders/${orderId}`)).status).toBe(404);

    const add = await stranger.post("/api/cart/items", { productId, quantity: 3 });
    expect(add.status).toBe(200);
    expect(add.json().items).toEqual([expect.objectContaining({ productId, quantity: 3 })]);
    expect(sessionIdOf(stranger.cookie)).not.toBe(sessionIdOf(oldCookie));
    expect(sessionIdOf(stranger.cookie)).not.toBe(sessionIdOf(newCookie));
    expect((await stranger.get("/api/orders")).json().items).toEqual([]);
    // The old id is still the tombstone: a checkout on it still answers the order.
    expect(await store().read(sessionIdOf(oldCookie))).toEqual({ tombstone: expect.objectContaining({ orderId }) });
    expect((await holding(shop(), oldCookie).post("/api/checkout")).json()).toEqual({ orderId, status: "placed" });
  });

  test("a cart write that loaded the session before its checkout cannot save it back after: 409", async () => {
    const shopper = new Shopper(shop());
    await shopper.post("/api/cart/items", { productId, quantity: 1 });
    const oldCookie = shopper.cookie;
    const oldId = sessionIdOf(oldCookie);

    // Another tab adds a line; its save is slow, and the checkout runs meanwhile.
    const hold = await store().holdWritesOf(oldId);
    const lateAdd = holding(shop(), oldCookie).post("/api/cart/items", { productId, quantity: 5 });
    await hold.whenWaiting();
    const checkout = await shopper.post("/api/checkout");
    expect(checkout.status).toBe(201);
    const { orderId } = checkout.json();
    hold.release();

    const answer = await lateAdd;
    expect(answer.status).toBe(409);
    expect(answer.json().error).toBe("session_ended");
    expect(answer.headers["set-cookie"]).toBeUndefined();
    expect(await store().read(oldId)).toEqual({ tombstone: expect.objectContaining({ orderId }) });
    const stranger = holding(shop(), oldCookie);
    expect((await stranger.get("/api/cart")).json().items).toEqual([]);
    expect((await stranger.get("/api/orders")).json().items).toEqual([]);
  });

  test("the tombstone expires: then a checkout on the old id finds a stranger's empty cart", async () => {
    const shortLived = shops[kind].shortLived!;
    const shopper = new Shopper(shortLived);
    await shopper.post("/api/cart/items", { productId, quantity: 1 });
    const oldCookie = shopper.cookie;
    const { orderId } = (await shopper.post("/api/checkout")).json();
    expect((await holding(shortLived, oldCookie).post("/api/checkout")).json()).toEqual({ orderId, status: "placed" });

    await pollUntil("the tombstone to expire", async () => {
      const retry = await holding(shortLived, oldCookie).post("/api/checkout");
      if (retry.status === 200) return false;
      expect(retry.status).toBe(409);
      expect(retry.json().error).toBe("cart_empty");
      return true;
    });
  });
});

test("in Redis, a tombstone's key lives for TOMBSTONE_TTL_MS, not the session's 7 days", async () => {
  const shopper = new Shopper(shops.redis.shop!);
  await shopper.post("/api/cart/items", { productId: 33, quantity: 1 });
  const key = `shop:sess:${sessionIdOf(shopper.cookie)}`;
  expect((await shopper.post("/api/checkout")).status).toBe(201);
  const pttl = Number((await redis.command("PTTL", key)).slice(1).trim());
  expect(pttl).toBeGreaterThan(TOMBSTONE_TTL_MS - 60_000);
  expect(pttl).toBeLessThanOrEqual(TOMBSTONE_TTL_MS);
});
