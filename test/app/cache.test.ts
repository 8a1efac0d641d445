/**
 * The product cache against a real redis-server: cache-aside reads of products and list pages, invalidation on
 * every write (on every instance sharing the Redis), TTL with jitter, and single flight. `plain` is the same app
 * without Redis on the same database: what the cached instances answer must always equal what it answers.
 */
import { SEED_CATEGORIES } from "../../app/src/db/seed";
import { pollUntil } from "../../lib/servers/poll";
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";
import { type ShopInstance, type Suite, databaseReads, openSuite, startShop } from "./support/shop-instances";
import { ADMIN_TOKEN, TEST_SEED_PRODUCTS } from "./support/test-app";
import { waitForReplica } from "./support/test-database";

let redis: RedisServer;
let suite: Suite;
let cached: ShopInstance;
let other: ShopInstance;
let plain: ShopInstance;

beforeAll(async () => {
  redis = await startRedisServer();
  suite = await openSuite("cache");
  cached = await startShop(suite, { REDIS_URL: redis.url });
  other = await startShop(suite, { REDIS_URL: redis.url });
  plain = await startShop(suite);
});
afterAll(async () => {
  await cached?.close();
  await other?.close();
  await plain?.close();
  await suite?.close();
  await redis?.stop();
});

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const productKey = (id: number) => `shop:cache:v1:product:${id}`;
const integer = (reply: string) => Number(reply.slice(1).trim());

/** Runs `work` and returns how many database reads `instance` made meanwhile, with work's result. */
async function counting<T>(instance: ShopInstance, work: () => Promise<T>): Promise<{ reads: number; result: T }> {
  const before = databaseReads(instance.router);
  const result = await work();
  return { reads: databaseReads(instance.router) - before, result };
}

/** Every page of `query` (e.g. `category=garden&limit=5`), following nextCursor, as response texts. */
async function walk(instance: ShopInstance, query: string): Promise<string[]> {
  const pages: string[] = [];
  let cursor: string | null = null;
  do {
    const response = await instance.request({ path: `/api/products?${query}${cursor ? `&cursor=${cursor}` : ""}` });
    expect(response.status).toBe(200);
    pages.push(response.text);
    cursor = response.json().nextCursor;
  } while (cursor);
  return pages;
}

describe("cache-aside reads", () => {
  test("a product is read from the database once, then from Redis; the body is the database's", async () => {
    const first = await counting(cached, () => cached.request({ path: "/api/products/7" }));
    expect(first.reads).toBe(1);
    expect(first.result.status).toBe(200);
    expect(first.result.headers["content-type"]).toBe("application/json; charset=utf-8");
    const again = await counting(cached, () => cached.request({ path: "/api/products/7" }));
    expect(again.reads).toBe(0);
    expect(again.result.text).toBe(first.result.text);
    expect(first.result.json()).toEqual((await plain.request({ path: "/api/products/7" })).json());
    expect(await redis.command("EXISTS", productKey(7))).toBe(":1\r\n");
  });

  test("list pages (catalog, category, every cursor) come from Redis once warm, equal to the database's", async () => {
    for (const query of ["limit=25", "category=garden&limit=5", `category=${SEED_CATEGORIES[3]}&limit=50`]) {
      const cold = await counting(cached, () => walk(cached, query));
      expect(cold.reads).toBe(cold.result.length);
      const warm = await counting(cached, () => walk(cached, query));
      expect(warm.reads).toBe(0);
      expect(warm.result).toEqual(cold.result);
      expect(cold.result.map((text) => JSON.parse(text))).toEqual(
        (await walk(plain, query)).map((text) => JSON.parse(text)),
      );
    }
  });

  test("an unknown product is a 404 from the cache too", async () => {
    await cached.request({ path: "/api/products/99999" });
    const again = await counting(cached, () => cached.request({ path: "/api/products/99999" }));
    expect(again.reads).toBe(0);
    expect(again.result.status).toBe(404);
    expect(again.result.json().error).toBe("product_not_found");
  });
});

describe("invalidation", () => {
  test("PATCH drops the product and every page that shows it, on every instance that shares the Redis", async () => {
    const id = 9; // books (row 9 is in category 1 + (9 - 1) % 8 = books)
    const category = SEED_CATEGORIES[(id - 1) % SEED_CATEGORIES.length];
    for (const instance of [cached, other]) {
      await instance.request({ path: `/api/products/${id}` });
      await walk(instance, `category=${category}&limit=3`);
      await walk(instance, "limit=100");
    }
    const patched = await cached.request({
      method: "PATCH",
      path: `/api/products/${id}`,
      headers: admin,
      body: { priceCents: 4242 },
    });
    expect(patched.status).toBe(200);

    for (const instance of [cached, other]) {
      expect((await instance.request({ path: `/api/products/${id}` })).json().priceCents).toBe(4242);
      const pages = (await walk(instance, `category=${category}&limit=3`)).map((text) => JSON.parse(text));
      expect(pages.flatMap((page) => page.items).find((p: { id: number }) => p.id === id).priceCents).toBe(4242);
      const all = (await walk(instance, "limit=100")).map((text) => JSON.parse(text));
      expect(all.flatMap((page) => page.items).find((p: { id: number }) => p.id === id).priceCents).toBe(4242);
    }
  });

  test("POST: a new product is on its category's pages at once; its id (a cached 404 before) is found", async () => {
    const nextId = TEST_SEED_PRODUCTS + 1;
    expect((await cached.request({ path: `/api/products/${nextId}` })).status).toBe(404);
    const before = (await walk(cached, "category=kites&limit=10")).map((text) => JSON.parse(text));
    expect(before).toEqual([{ items: [], nextCursor: null }]);

    const created = await cached.request({
      method: "POST",
      path: "/api/products",
      headers: admin,
      body: { sku: "KITE-1", name: "Box Kite", category: "kites", priceCents: 1500, stock: 3 },
    });
    expect(created.status).toBe(201);
    expect(created.json().id).toBe(nextId);
    expect((await cached.request({ path: `/api/products/${nextId}` })).json()).toMatchObject({ name: "Box Kite" });
    expect((await other.request({ path: `/api/products/${nextId}` })).json()).toMatchObject({ name: "Box Kite" });
    const after = JSON.parse((await walk(other, "category=kites&limit=10"))[0]);
    expect(after.items.map((p: { id: number }) => p.id)).toEqual([nextId]);
  });

  test("a change made behind the app's back (no invalidation) shows only once the entry is gone", async () => {
    const id = 11;
    const original = (await cached.request({ path: `/api/products/${id}` })).json();
    await plain.router.primaryPool.query("UPDATE products SET name = 'Renamed' WHERE id = $1", [id]);
    await waitForReplica(suite.db.cluster);
    expect((await plain.request({ path: `/api/products/${id}` })).json().name).toBe("Renamed");
    expect((await cached.request({ path: `/api/products/${id}` })).json()).toEqual(original);
    await redis.command("DEL", productKey(id)); // what the TTL does, without waiting for it
    expect((await cached.request({ path: `/api/products/${id}` })).json().name).toBe("Renamed");
  });
});

describe("TTL", () => {
  test("entries live CACHE_TTL_SECONDS (60) give or take 10 %, not all the same", async () => {
    const ttls: number[] = [];
    for (let id = 40; id < 60; id += 1) {
      await cached.request({ path: `/api/products/${id}` });
      ttls.push(integer(await redis.command("PTTL", productKey(id))));
    }
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThan(60_000 * 0.9 - 5_000); // less what passed since it was written
      expect(ttl).toBeLessThanOrEqual(60_000 * 1.1);
    }
    expect(new Set(ttls.map((ttl) => Math.round(ttl / 1000))).size).toBeGreaterThan(1);
  });

  test("with CACHE_TTL_SECONDS=1 an entry expires by itself and the next read fetches the new row", async () => {
    const short = await startShop(suite, { REDIS_URL: `${redis.url}/1`, CACHE_TTL_SECONDS: "1" });
    try {
      const id = 12;
      expect((await short.request({ path: `/api/products/${id}` })).status).toBe(200);
      const ttl = integer(
        await redis.command("EVAL", `redis.call('SELECT', 1) return redis.call('PTTL', KEYS[1])`, "1", productKey(id)),
      );
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(1100);
      await plain.router.primaryPool.query("UPDATE products SET stock = 77 WHERE id = $1", [id]);
      await waitForReplica(suite.db.cluster);
      await pollUntil(
        "the entry to expire",
        async () =>
          (await redis.command(
            "EVAL",
            `redis.call('SELECT', 1) return redis.call('EXISTS', KEYS[1])`,
            "1",
            productKey(id),
          )) === ":0\r\n",
      );
      const fresh = await counting(short, () => short.request({ path: `/api/products/${id}` }));
      expect(fresh.reads).toBe(1);
      expect(fresh.result.json().stock).toBe(77);
    } finally {
      await short.close();
    }
  });
});

describe("single flight", () => {
  /** Holds every database read of `instance` until released; counts them. */
  function gateReads(instance: ShopInstance) {
    const original = instance.router.read;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const state = { calls: 0, release, restore: () => (instance.router.read = original) };
    instance.router.read = async function (this: unknown, ...args: Parameters<typeof original>) {
      state.calls += 1;
      await gate;
      return original.apply(instance.router, args);
    } as typeof original;
    return state;
  }

  test.each([
    ["a product", "/api/products/33"],
    ["a category page", "/api/products?category=toys&limit=50"],
  ])("20 concurrent misses on %s are one database query", async (_what, path) => {
    const cache = cached.app.productCache!;
    const joinedBefore = cache.coalesced;
    const gate = gateReads(cached);
    try {
      const responses = Promise.all(Array.from({ length: 20 }, () => cached.request({ path })));
      // The first request reads Redis before the database, so the others can all join before its load reaches the
      // gate: wait for both, then see that only that one load asked the database.
      await pollUntil(
        "19 requests to join the first one's load, and that load to reach the database",
        async () => cache.coalesced - joinedBefore === 19 && gate.calls > 0,
      );
      expect(gate.calls).toBe(1);
      gate.release();
      const all = await responses;
      expect(all.map((response) => response.status)).toEqual(Array(20).fill(200));
      expect(new Set(all.map((response) => response.text)).size).toBe(1);
      expect(gate.calls).toBe(1);
      expect(all[0].json()).toEqual((await plain.request({ path })).json());
    } finally {
      gate.release();
      gate.restore();
    }
  });
});
