/**
 * The tier headers (app/src/http/tier-headers.ts): each answer under /api says the region and the process that
 * answered, and, when they were involved, the product cache's answer (step 5), the database targets that read
 * (step 4's replica) and the shopper's order shard (step 9). The apps run on real PostgreSQL (primary, replica, one
 * order shard) and a real redis-server.
 */
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { type ShardCluster, startShardCluster } from "./support/shard-cluster";
import { Shopper } from "./support/shopper";
import { waitForReplica } from "./support/test-database";
import { startAll } from "./support/start-all";

const TIERS = ["x-shop-region", "x-shop-process", "x-shop-cache", "x-shop-db", "x-shop-shard"];

let suite: Suite;
let redis: RedisServer;
let shards: ShardCluster;
const shops: ShopInstance[] = [];

beforeAll(async () => {
  [suite, redis, shards] = await startAll([
    [openSuite("tier-headers"), (s) => s.close()],
    [startRedisServer(), (r) => r.stop()],
    [startShardCluster(["shard-0"]), (c) => c.close()],
  ]);
}, 120_000);
afterAll(async () => {
  for (const shop of shops) await shop.close();
  await suite?.close();
  await redis?.stop();
  await shards?.close();
});

async function shop(env: Record<string, string>): Promise<ShopInstance> {
  const instance = await startShop(suite, { AWS_REGION: "eu-west-1", PROCESS_NAME: "web-7", ...env });
  shops.push(instance);
  return instance;
}

/** The tier headers an answer carries, by name (absent ones left out). */
function tiers(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  return Object.fromEntries(
    TIERS.filter((name) => headers[name] !== undefined).map((name) => [name, `${headers[name]}`]),
  );
}

test("step 4: a catalog read names the replica, and no cache or shard: those tiers were not involved", async () => {
  const s = await shop({});
  const read = await s.request({ path: "/api/products/5" });
  expect(read.status).toBe(200);
  expect(tiers(read.headers)).toEqual({
    "x-shop-region": "eu-west-1",
    "x-shop-process": "web-7",
    "x-shop-db": "replica-1",
  });
  const shopper = new Shopper(s);
  const write = await shopper.post("/api/cart/items", { productId: 5, quantity: 1 });
  expect(write.status).toBe(200);
  // The cart write reads the product (price, stock) from the replica; it writes to no order shard.
  expect(tiers(write.headers)).toEqual({
    "x-shop-region": "eu-west-1",
    "x-shop-process": "web-7",
    "x-shop-db": "replica-1",
  });
  // Outside /api (the page, its files, the health checks) nothing is said: a CDN could keep the page's copy.
  for (const path of ["/", "/healthz"]) {
    const other = await s.request({ path });
    expect([path, other.status, tiers(other.headers)]).toEqual([path, 200, {}]);
  }
});

test("step 5: the first read of a product is a cache miss read from the replica, the second a hit", async () => {
  const s = await shop({ REDIS_URL: redis.url });
  const first = await s.request({ path: "/api/products/17" });
  expect(first.status).toBe(200);
  expect(tiers(first.headers)).toMatchObject({ "x-shop-cache": "miss", "x-shop-db": "replica-1" });
  const second = await s.request({ path: "/api/products/17" });
  expect(tiers(second.headers)).toEqual({
    "x-shop-region": "eu-west-1",
    "x-shop-process": "web-7",
    "x-shop-cache": "hit",
  });
});

test("step 9: checkout and the order history name the shopper's shard; the history's reads name both", async () => {
  const s = await shop({ ORDER_SHARDS: shards.env, AWS_REGION: "us-east-1", PROCESS_NAME: "i-0123456789abcdef0" });
  const shopper = new Shopper(s);
  expect((await shopper.post("/api/cart/items", { productId: 3, quantity: 1 })).status).toBe(200);
  const checkout = await shopper.post("/api/checkout");
  expect(checkout.status).toBe(201);
  expect(tiers(checkout.headers)).toMatchObject({ "x-shop-shard": "shard-0" });
  // The history's catalog read carries the position of the checkout's catalog write, the stock it took
  // (read-your-writes): until the replica has replayed it, the primary answers, and is named. Replay usually takes a
  // millisecond, but not always on a busy machine (CI saw "primary,shard-0").
  await waitForReplica(suite.db.cluster);
  const orders = await shopper.get("/api/orders");
  expect(orders.status).toBe(200);
  expect(tiers(orders.headers)).toEqual({
    "x-shop-region": "us-east-1",
    "x-shop-process": "i-0123456789abcdef0",
    // Orders placed before step 9 are read from the catalog too until the backfill is recorded (app/README).
    "x-shop-db": "replica-1,shard-0",
    "x-shop-shard": "shard-0",
  });
});

test("without AWS_REGION and PROCESS_NAME there is no region or process to name", async () => {
  const s = await startShop(suite);
  shops.push(s);
  const read = await s.request({ path: "/api/products/5" });
  expect(tiers(read.headers)).toEqual({ "x-shop-db": "replica-1" });
});
