/**
 * Sessions in Redis (step 7): with SESSION_STORE=redis any server of the fleet serves any shopper. Two app
 * instances share one redis-server: a cart built through A is read, changed and checked out through B, and
 * survives A's restart. With the memory store (steps 3-6) it does not, which is why step 7 exists.
 */
import { ConfigError, loadConfig } from "../../app/src/config";
import { SESSION_MAX_AGE_MS } from "../../app/src/session/shopper-session";
import { pollUntil } from "../../lib/servers/poll";
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";
import { Shopper } from "./support/shopper";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { testEnv } from "./support/test-app";

let redis: RedisServer;
let suite: Suite;
const shops: ShopInstance[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  suite = await openSuite("redis_session");
});
afterAll(async () => {
  for (const shop of shops) await shop.close().catch(() => undefined);
  await suite?.close();
  await redis?.stop();
});

async function start(env: Record<string, string>): Promise<ShopInstance> {
  const shop = await startShop(suite, env);
  shops.push(shop);
  return shop;
}
const redisSessions = () => start({ REDIS_URL: redis.url, SESSION_STORE: "redis" });

/** The same shopper (the same cookie) talking to another instance. */
function sameShopper(shopper: Shopper, shop: ShopInstance): Shopper {
  const moved = new Shopper(shop);
  moved.cookie = shopper.cookie;
  return moved;
}

/** Keys of a RESP array reply of bulk strings. */
function keysOf(reply: string): string[] {
  return reply.split("\r\n").filter((_line, i, lines) => i > 0 && lines[i - 1].startsWith("$"));
}

test("a cart built through A is read and changed through B, survives A's restart, is checked out via B", async () => {
  let a = await redisSessions();
  const b = await redisSessions();
  const viaA = new Shopper(a);
  expect((await viaA.post("/api/cart/items", { productId: 21, quantity: 2 })).status).toBe(200);
  expect(viaA.cookie).toBeDefined();

  const viaB = sameShopper(viaA, b);
  const seenByB = await viaB.get("/api/cart");
  expect(seenByB.status).toBe(200);
  expect(seenByB.json().items).toEqual([expect.objectContaining({ productId: 21, quantity: 2 })]);
  expect((await viaB.post("/api/cart/items", { productId: 22, quantity: 1 })).status).toBe(200);

  await a.close();
  shops.splice(shops.indexOf(a), 1);
  a = await redisSessions();
  const afterRestart = await sameShopper(viaA, a).get("/api/cart");
  expect(
    afterRestart.json().items.map((line: { productId: number; quantity: number }) => [line.productId, line.quantity]),
  ).toEqual([
    [21, 2],
    [22, 1],
  ]);

  const checkout = await viaB.post("/api/checkout");
  expect(checkout.status).toBe(201);
  const orderId = checkout.json().orderId;
  // The session carries the write's WAL position too: A shows the order at once, though A did not place it. (Under
  // the session's new id: checkout rotated it, in the cookie B's answer set.)
  const orders = await sameShopper(viaB, a).get("/api/orders");
  expect(orders.json().items.map((order: { orderId: unknown }) => order.orderId)).toContain(orderId);
  expect((await sameShopper(viaB, a).get("/api/cart")).json().items).toEqual([]);
});

test("sessions have their own key prefix, and live as long as the cookie (7 days)", async () => {
  const shop = await redisSessions();
  const shopper = new Shopper(shop);
  await shopper.post("/api/cart/items", { productId: 30, quantity: 1 });
  const sessionId = decodeURIComponent(shopper.cookie!).split(".")[0];
  const key = `shop:sess:${sessionId}`;
  expect(keysOf(await redis.command("KEYS", "shop:sess:*"))).toContain(key);
  const ttlSeconds = Number((await redis.command("TTL", key)).slice(1).trim());
  expect(ttlSeconds).toBeGreaterThan(SESSION_MAX_AGE_MS / 1000 - 120);
  expect(ttlSeconds).toBeLessThanOrEqual(SESSION_MAX_AGE_MS / 1000);
  expect(JSON.parse((await redis.command("GET", key)).split("\r\n")[1])).toMatchObject({
    cart: [{ productId: 30, quantity: 1 }],
  });
  // Browsing makes no session and sets no cookie.
  const before = keysOf(await redis.command("KEYS", "shop:sess:*")).length;
  const browse = await shop.request({ path: "/api/products?limit=3" });
  expect(browse.headers["set-cookie"]).toBeUndefined();
  expect(keysOf(await redis.command("KEYS", "shop:sess:*"))).toHaveLength(before);
});

test("with the memory store, B does not know A's shopper: what step 7 fixes", async () => {
  const a = await start({});
  const b = await start({});
  const viaA = new Shopper(a);
  await viaA.post("/api/cart/items", { productId: 23, quantity: 1 });
  expect((await sameShopper(viaA, b).get("/api/cart")).json().items).toEqual([]);
});

test("Redis down: the cart is a fast 503 (no 500, no hang), browsing with the cookie works; back: carts", async () => {
  const shop = await redisSessions();
  const shopper = new Shopper(shop);
  await shopper.post("/api/cart/items", { productId: 24, quantity: 1 });
  await redis.kill();
  try {
    const cart = await shopper.get("/api/cart");
    expect(cart.status).toBe(503);
    expect(cart.json()).toMatchObject({ error: "service_unavailable" });
    expect(cart.headers["cache-control"]).toBe("private, no-store");
    expect((await shopper.post("/api/cart/items", { productId: 25, quantity: 1 })).status).toBe(503);
    // A new shopper's first cart write (no cookie: nothing to load, the save fails) gets the app's own 503 too, not
    // Fastify's fallback body (the session plugin's save failed a second time while the 503 was being sent).
    const stranger = await new Shopper(shop).post("/api/cart/items", { productId: 25, quantity: 1 });
    expect(stranger.status).toBe(503);
    expect(stranger.json()).toEqual(expect.objectContaining({ error: "service_unavailable" }));
    expect(stranger.json()).not.toHaveProperty("statusCode");
    // Catalog reads (cache on) and the storefront do not load the session at all.
    expect((await shopper.get("/api/products/24")).status).toBe(200);
    expect((await shopper.get("/api/products?category=books&limit=2")).status).toBe(200);
    expect((await shopper.get("/")).status).toBe(200);
  } finally {
    await redis.restart();
  }
  // The client reconnects with a capped back-off; on a loaded 2-core machine that has taken longer than the default
  // 30 s deadline once, so this wait gets a more generous one (still a wait on the state, not on time).
  await pollUntil("carts to work again", async () => (await shopper.get("/api/cart")).status === 200, {
    timeoutMs: 90_000,
    intervalMs: 250,
  });
  // The restarted Redis is empty (no persistence): the session is gone, the shopper starts a new cart.
  expect((await shopper.post("/api/cart/items", { productId: 25, quantity: 1 })).status).toBe(200);
  expect((await shopper.get("/api/cart")).json().items).toEqual([expect.objectContaining({ productId: 25 })]);
}, 150_000);

describe("configuration", () => {
  const base = () => testEnv(suite.db);
  const problemsOf = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
    }
    throw new Error("expected a ConfigError");
  };

  test("SESSION_STORE=redis needs SESSION_REDIS_URL or REDIS_URL; SESSION_STORE is memory or redis", () => {
    expect(problemsOf({ ...base(), SESSION_STORE: "redis" })).toEqual([
      "SESSION_STORE: redis needs SESSION_REDIS_URL or REDIS_URL",
    ]);
    expect(problemsOf({ ...base(), SESSION_STORE: "redis", SESSION_REDIS_URL: "http://sessions:6379" })).toEqual([
      "SESSION_REDIS_URL: must be a redis:// or rediss:// URL",
    ]);
    expect(
      loadConfig({ ...base(), SESSION_STORE: "redis", SESSION_REDIS_URL: "rediss://:t0ken@sessions:6379" })
        .SESSION_REDIS_URL,
    ).toBe("rediss://:t0ken@sessions:6379");
    expect(problemsOf({ ...base(), SESSION_STORE: "dynamo" })).toEqual(["SESSION_STORE: must be memory or redis"]);
    expect(loadConfig({ ...base(), SESSION_STORE: "redis", REDIS_URL: "redis://127.0.0.1:6379" }).SESSION_STORE).toBe(
      "redis",
    );
  });

  test("REDIS_URL is redis:// or rediss://, never echoed; CACHE_TTL_SECONDS is 0 (off) to a day", () => {
    const secret = "http://:hunter2hunter2@cache:6379";
    const problems = problemsOf({ ...base(), REDIS_URL: secret, CACHE_TTL_SECONDS: "86401" });
    expect(problems).toEqual([
      "REDIS_URL: must be a redis:// or rediss:// URL",
      "CACHE_TTL_SECONDS: must be at most 86400",
    ]);
    expect(problems.join(" ")).not.toContain("hunter2");
    const aws = loadConfig({
      ...base(),
      REDIS_URL: "rediss://:tok3n@master.shop.abc123.use1.cache.amazonaws.com:6379",
      CACHE_TTL_SECONDS: "0",
    });
    expect(aws.REDIS_URL).toBe("rediss://:tok3n@master.shop.abc123.use1.cache.amazonaws.com:6379");
    expect(aws.CACHE_TTL_SECONDS).toBe(0);
  });
});
