/**
 * The cache never keeps what a write has replaced, even with a lagging replica: after a product write, a miss is
 * filled from a database that has replayed that write (the primary while the replica lags), on the instance that
 * wrote and on every other one sharing the Redis. Without that, the first read after a PATCH would cache the
 * replica's old row for a whole TTL.
 *
 * The same holds while Redis is away: an instance that wrote a product reads it back from a database that has the
 * write, both while Redis is down (reads bypass it) and once an empty Redis is back (which no longer knows the
 * latest write's position).
 *
 * This file pauses the shared replica's replay, so it holds the replica lock exclusively (see test-database.ts).
 */
import { pollUntil } from "../../lib/servers/poll";
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { ADMIN_TOKEN } from "./support/test-app";
import { pauseReplay, resumeReplay, withClient } from "./support/test-database";

let redis: RedisServer;
let suite: Suite;
let writer: ShopInstance;
let reader: ShopInstance;

beforeAll(async () => {
  redis = await startRedisServer();
  suite = await openSuite("cache_replica", { replicaLock: "exclusive" });
  writer = await startShop(suite, { REDIS_URL: redis.url });
  reader = await startShop(suite, { REDIS_URL: redis.url });
});
afterAll(async () => {
  await writer?.close();
  await reader?.close();
  await suite?.close();
  await redis?.stop();
});

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** The admin's `PATCH /api/products/:id` with `body`, on `shop`. */
function patchProduct(shop: ShopInstance, id: number, body: { priceCents?: number; stock?: number }) {
  return shop.request({ method: "PATCH", path: `/api/products/${id}`, headers: admin, body });
}

/** Product `id` as the (possibly lagging) replica has it. */
async function onReplica(id: number): Promise<{ price_cents: number; stock: number }> {
  const { cluster, name } = suite.db;
  return withClient(
    cluster,
    cluster.replica,
    name,
    async (client) => (await client.query("SELECT price_cents, stock FROM products WHERE id = $1", [id])).rows[0],
  );
}

test("replay paused: reads after a PATCH on either instance see the write and cache it, not the old row", async () => {
  const id = 17;
  const page = "/api/products?category=books&limit=100"; // product 17 is a book
  for (const shop of [writer, reader]) {
    expect((await shop.request({ path: `/api/products/${id}` })).status).toBe(200);
    expect((await shop.request({ path: page })).status).toBe(200);
  }
  await pauseReplay(suite.db.cluster);
  try {
    const patched = await patchProduct(writer, id, { priceCents: 31337 });
    expect(patched.status).toBe(200);
    expect((await onReplica(id)).price_cents).not.toBe(31337); // the replica really lags

    for (const shop of [reader, writer]) {
      const product = await shop.request({ path: `/api/products/${id}` });
      expect(product.json().priceCents).toBe(31337);
      const listed = (await shop.request({ path: page })).json().items.find((p: { id: number }) => p.id === id);
      expect(listed.priceCents).toBe(31337);
    }
    // Other products' pages are filled from the primary too while the replica lags: the cache never goes back.
    expect((await reader.request({ path: "/api/products?category=toys&limit=3" })).status).toBe(200);
  } finally {
    await resumeReplay(suite.db.cluster);
  }
  // What is cached is the new row: still served, now without the database at all.
  for (const shop of [reader, writer])
    expect((await shop.request({ path: `/api/products/${id}` })).json().priceCents).toBe(31337);
  await pollUntil("the replica to have the write", async () => (await onReplica(id)).price_cents === 31337);
});

test("replay paused, Redis killed: a write is read back, then cached (not the old row) by an empty Redis", async () => {
  const id = 23;
  const own = await startRedisServer();
  const shop = await startShop(suite, { REDIS_URL: own.url });
  try {
    expect((await shop.request({ path: `/api/products/${id}` })).status).toBe(200); // cached
    const stock = (await onReplica(id)).stock + 7;
    await own.kill();
    await pauseReplay(suite.db.cluster);
    try {
      const patched = await patchProduct(shop, id, { stock });
      expect(patched.status).toBe(200);
      expect((await onReplica(id)).stock).not.toBe(stock); // the replica really lags
      expect((await shop.request({ path: `/api/products/${id}` })).json().stock).toBe(stock);
      expect(shop.app.productCache!.status()).toBe("degraded");

      await own.restart(); // empty: no catalog:lsn
      await pollUntil("the app to use Redis again", async () => shop.app.productCache!.status() === "ok");
      expect((await shop.request({ path: `/api/products/${id}` })).json().stock).toBe(stock);
      expect((await shop.request({ path: `/api/products/${id}` })).json().stock).toBe(stock);
    } finally {
      await resumeReplay(suite.db.cluster);
    }
  } finally {
    await shop.close();
    await own.stop();
  }
});
