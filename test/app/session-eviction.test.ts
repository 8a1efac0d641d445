/**
 * Carts nobody can wipe (issue 14, finding 2): from step 7 the sessions live in a Redis of their own
 * (SESSION_REDIS_URL, `noeviction`), so a visitor who fills the product cache through many list cursors evicts
 * cache entries only. Two real redis-servers, as local mode and AWS run them: the cache's with a small `maxmemory`
 * under `allkeys-lru`, the sessions' under `noeviction`. The last test is the control: the same flood with the
 * sessions on the cache's Redis (what SESSION_STORE=redis without SESSION_REDIS_URL still does) empties carts.
 */
import { encodeCursor } from "../../app/src/catalog/cursor";
import { type RedisServer, infoField, startRedisServer } from "../../lib/servers/redis-server";
import { Shopper } from "./support/shopper";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { TEST_SEED_PRODUCTS } from "./support/test-app";

const SHOPPERS = 40;
let suite: Suite;
const servers: RedisServer[] = [];
const shops: ShopInstance[] = [];

beforeAll(async () => {
  suite = await openSuite("session_eviction");
});
afterAll(async () => {
  for (const shop of shops) await shop.close().catch(() => undefined);
  for (const server of servers) await server.stop().catch(() => undefined);
  await suite?.close();
});

async function redisServer(policy: string): Promise<RedisServer> {
  const server = await startRedisServer({ args: ["--maxmemory-policy", policy] });
  servers.push(server);
  return server;
}

async function shop(env: Record<string, string>): Promise<ShopInstance> {
  const started = await startShop(suite, { SESSION_STORE: "redis", ...env });
  shops.push(started);
  return started;
}

/** Room for about 256 KiB of keys above what the server uses now; the flood below caches several MiB. */
async function squeeze(server: RedisServer): Promise<void> {
  const used = Number(infoField(await server.command("INFO", "memory"), "used_memory"));
  expect(await server.command("CONFIG", "SET", "maxmemory", String(used + 256 * 1024))).toBe("+OK\r\n");
}

const evictedKeys = async (server: RedisServer) =>
  Number(infoField(await server.command("INFO", "stats"), "evicted_keys"));

/** Shoppers with one line each (a product and quantity of their own), as they were before the flood. */
async function fillCarts(at: ShopInstance): Promise<Array<{ shopper: Shopper; line: [number, number] }>> {
  const carts = [];
  for (let i = 0; i < SHOPPERS; i += 1) {
    const shopper = new Shopper(at);
    const line: [number, number] = [1 + (i % TEST_SEED_PRODUCTS), 1 + (i % 3)];
    expect((await shopper.post("/api/cart/items", { productId: line[0], quantity: line[1] })).status).toBe(200);
    carts.push({ shopper, line });
  }
  return carts;
}

/**
 * The attack of the issue: every list page a visitor can name is a cache key of its own (about 25 KB at 100 items
 * a page), and a cursor is just `{ after: <id> }`, so one key per starting id, page size and category.
 */
async function floodListPages(at: ShopInstance): Promise<void> {
  const paths: string[] = [];
  for (const limit of [100, 99, 98, 97])
    for (let after = 0; after < TEST_SEED_PRODUCTS; after += 1)
      paths.push(`/api/products?limit=${limit}&cursor=${encodeCursor(after)}`);
  for (let i = 0; i < paths.length; i += 16) {
    const responses = await Promise.all(paths.slice(i, i + 16).map((path) => at.request({ path })));
    for (const response of responses) expect(response.status).toBe(200);
  }
}

async function cartLines(shopper: Shopper): Promise<Array<[number, number]>> {
  const response = await shopper.get("/api/cart");
  expect(response.status).toBe(200);
  return response.json().items.map((item: { productId: number; quantity: number }) => [item.productId, item.quantity]);
}

test("a flood of list cursors fills the cache's Redis; every cart in the sessions' Redis stays intact", async () => {
  const cache = await redisServer("allkeys-lru");
  const sessions = await redisServer("noeviction");
  const at = await shop({ REDIS_URL: cache.url, SESSION_REDIS_URL: sessions.url });
  const carts = await fillCarts(at);
  await squeeze(cache);

  await floodListPages(at);

  // The flood really filled the cache (it evicted), and the sessions' Redis holds no cache key and lost nothing.
  expect(await evictedKeys(cache)).toBeGreaterThan(100);
  expect(await evictedKeys(sessions)).toBe(0);
  expect(await sessions.command("EVAL", "return #redis.call('KEYS', 'shop:cache:*')", "0")).toBe(":0\r\n");
  expect(await sessions.command("EVAL", "return #redis.call('KEYS', 'shop:sess:*')", "0")).toBe(`:${SHOPPERS}\r\n`);
  for (const { shopper, line } of carts) expect(await cartLines(shopper)).toEqual([line]);
  // The cache still works after the flood: a product read is served.
  expect((await at.request({ path: "/api/products/3" })).status).toBe(200);
}, 120_000);

test("control: the same flood with sessions on the cache's Redis (no SESSION_REDIS_URL) empties carts", async () => {
  const shared = await redisServer("allkeys-lru");
  const at = await shop({ REDIS_URL: shared.url });
  const carts = await fillCarts(at);
  await squeeze(shared);

  await floodListPages(at);

  let emptied = 0;
  for (const { shopper } of carts) if ((await cartLines(shopper)).length === 0) emptied += 1;
  expect(emptied).toBeGreaterThan(0);
}, 120_000);

test("/readyz lists the sessions' Redis as optional: down, carts are a 503, the server stays in rotation", async () => {
  const cache = await redisServer("allkeys-lru");
  const sessions = await redisServer("noeviction");
  const at = await shop({ REDIS_URL: cache.url, SESSION_REDIS_URL: sessions.url });
  const readyz = async () => (await at.request({ path: "/readyz" })).json();
  expect(await readyz()).toMatchObject({
    status: "ready",
    checks: expect.arrayContaining([
      { name: "redis", ok: true, optional: true },
      { name: "session-redis", ok: true, optional: true },
    ]),
  });
  await sessions.kill();
  const cart = await new Shopper(at).post("/api/cart/items", { productId: 2, quantity: 1 });
  expect(cart.status).toBe(503);
  expect(cart.headers["retry-after"]).toBe("1");
  // The catalog (on the cache's Redis) is unaffected, and readiness stays 200: degraded, not out of rotation.
  expect((await at.request({ path: "/api/products/2" })).status).toBe(200);
  const ready = await at.request({ path: "/readyz" });
  expect(ready.status).toBe(200);
  expect(ready.json()).toMatchObject({
    status: "degraded",
    checks: expect.arrayContaining([{ name: "session-redis", ok: false, optional: true }]),
  });
}, 60_000);
