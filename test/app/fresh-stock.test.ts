/**
 * Fresh stock (issue 14, finding 9), against a real redis-server: a checkout changes stock, so the product's cached
 * read and the cached list pages that show it are dropped; the next reads show the new stock at once, on this
 * instance and on another sharing the Redis, while products the checkout did not touch stay cached.
 */
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";
import { type ShopInstance, type Suite, databaseReads, openSuite, startShop } from "./support/shop-instances";
import { Shopper } from "./support/shopper";
import { waitForReplica } from "./support/test-database";

let redis: RedisServer;
let suite: Suite;
let cached: ShopInstance;
let other: ShopInstance;

beforeAll(async () => {
  redis = await startRedisServer();
  suite = await openSuite("fresh-stock");
  cached = await startShop(suite, { REDIS_URL: redis.url });
  other = await startShop(suite, { REDIS_URL: redis.url });
});
afterAll(async () => {
  await cached?.close();
  await other?.close();
  await suite?.close();
  await redis?.stop();
});

const productKey = (id: number) => `shop:cache:v1:product:${id}`;

async function product(shop: ShopInstance, id: number): Promise<{ id: number; stock: number; category: string }> {
  const response = await shop.request({ path: `/api/products/${id}` });
  expect(response.status).toBe(200);
  return response.json();
}

/** The stock of product `id` as the first page of its category (limit 100: the whole category) shows it. */
async function listedStock(shop: ShopInstance, category: string, id: number): Promise<number | undefined> {
  const response = await shop.request({ path: `/api/products?category=${category}&limit=100` });
  expect(response.status).toBe(200);
  return (response.json().items as Array<{ id: number; stock: number }>).find((item) => item.id === id)?.stock;
}

test("a checkout's stock shows at once in the product and in its list page, on every instance", async () => {
  await cached.router.primaryPool.query("UPDATE products SET stock = 20 WHERE id IN (41, 42)");
  await waitForReplica(suite.db.cluster);
  const { category } = await product(cached, 41);
  // Cached: the product, a bystander, and the category page; a second read costs the database nothing.
  for (const shop of [cached, other]) {
    expect((await product(shop, 41)).stock).toBe(20);
    expect((await product(shop, 42)).stock).toBe(20);
    expect(await listedStock(shop, category, 41)).toBe(20);
  }
  const before = databaseReads(cached.router);
  expect((await product(cached, 41)).stock).toBe(20);
  expect(await listedStock(cached, category, 41)).toBe(20);
  expect(databaseReads(cached.router)).toBe(before);
  expect(await redis.command("EXISTS", productKey(41))).toBe(":1\r\n");

  const shopper = new Shopper(cached);
  await shopper.post("/api/cart/items", { productId: 41, quantity: 3 });
  expect((await shopper.post("/api/checkout")).status).toBe(201);

  for (const shop of [cached, other]) {
    expect((await product(shop, 41)).stock).toBe(17);
    expect(await listedStock(shop, category, 41)).toBe(17);
  }
  // Only what the checkout changed was dropped: the bystander is still served from Redis.
  expect(await redis.command("EXISTS", productKey(42))).toBe(":1\r\n");
  const afterCheckout = databaseReads(other.router);
  expect((await product(other, 42)).stock).toBe(20);
  expect(databaseReads(other.router)).toBe(afterCheckout);
});
