/**
 * Step 9, orders sharded by shopper, against three real PostgreSQL servers as shards (plus the run's cluster as the
 * catalog): stable and even placement, every order of a shopper on the shard the map gives it, the queue and the
 * worker across shards, the admin's scatter-gather (merge order, per-shard timeout, partial answers), a shard
 * stopped mid-test failing only its own shoppers, and stock reservations that a crash left open being settled.
 */
import { randomUUID } from "node:crypto";
import { Pool } from "pg";
import { assignBuckets } from "../../components/shard-map";
import { settleStaleReservations, reserveStock } from "../../app/src/orders/reservations";
import { OrderShards } from "../../app/src/shards/order-shards";
import { SHARD_BUCKETS, bucketOf } from "../../app/src/shards/shard-map";
import type { RunningWorker } from "../../app/src/start-worker";
import { type Fauxqs, type QueuePair, startFauxqs } from "./support/fauxqs";
import { startTestWorker } from "./support/order-worker";
import { pollUntil } from "../../lib/servers/poll";
import { Prng } from "../../lib/prng";
import { type ShardCluster, startShardCluster } from "./support/shard-cluster";
import { Shopper } from "./support/shopper";
import { ADMIN_TOKEN, type TestApp, setStock, startTestApp, testLogger } from "./support/test-app";

const NAMES = ["use1-shards-0", "use1-shards-1", "use1-shards-2"];

let cluster: ShardCluster;
let fauxqs: Fauxqs;
let queue: QueuePair;
let t: TestApp;
let worker: RunningWorker;
const pools = new Map<string, Pool>();

beforeAll(async () => {
  const [shards, emulator] = await Promise.allSettled([startShardCluster(NAMES), startFauxqs()]);
  if (shards.status === "fulfilled") cluster = shards.value;
  if (emulator.status === "fulfilled") fauxqs = emulator.value;
  if (shards.status === "rejected") throw shards.reason;
  if (emulator.status === "rejected") throw emulator.reason;
  queue = await fauxqs.createQueuePair("orders-shards-test");
  const env = {
    ORDER_SHARDS: cluster.env,
    ORDER_QUEUE_URL: queue.queueUrl,
    SQS_ENDPOINT: fauxqs.endpoint,
    OUTBOX_RELAY_INTERVAL_MS: "200",
    DB_CONNECT_TIMEOUT_MS: "1000",
    SHARD_QUERY_TIMEOUT_MS: "1000",
  };
  t = await startTestApp("shards", { env });
  worker = await startTestWorker({
    databaseUrl: t.db.primaryUrl,
    queueUrl: queue.queueUrl,
    sqs: fauxqs.sqs,
    env: { ORDER_SHARDS: cluster.env, DB_CONNECT_TIMEOUT_MS: "1000" },
  });
  for (const shard of cluster.shards) {
    const pool = new Pool({ connectionString: shard.url, max: 3 });
    pool.on("error", () => undefined); // a shard this file stops on purpose
    pools.set(shard.name, pool);
  }
}, 120_000);
afterAll(async () => {
  await worker?.close();
  await t?.close();
  for (const pool of pools.values()) await pool.end();
  await fauxqs?.stop();
  await cluster?.close();
});

const catalog = (text: string, values: unknown[] = []) => t.router.primaryPool.query(text, values).then((r) => r.rows);
const onShard = (name: string, text: string, values: unknown[] = []) =>
  pools
    .get(name)!
    .query(text, values)
    .then((r) => r.rows);
/** The shard the published map gives `shopperId`. */
const shardFor = (shopperId: string) => NAMES[cluster.map.buckets[bucketOf(shopperId)]];
const admin = (path: string) => t.request({ path, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

/** The shard holding order `orderId`, found by asking every shard. */
async function whereIs(orderId: string): Promise<{ shard: string; shopperId: string; status: string }> {
  for (const name of NAMES) {
    const rows = await onShard(name, "SELECT shopper_id, status FROM orders WHERE id = $1", [orderId]);
    if (rows.length > 0) return { shard: name, shopperId: rows[0].shopper_id, status: rows[0].status };
  }
  throw new Error(`order ${orderId} is on no shard`);
}

async function buy(shopper: Shopper, productId: number, quantity = 1) {
  expect((await shopper.post("/api/cart/items", { productId, quantity })).status).toBe(200);
  return shopper.post("/api/checkout");
}

describe("placement", () => {
  test("the bucket is the first 4 bytes of sha256(shopper id) mod 256: fixed vectors, case does not matter", () => {
    // Computed with `printf %s <id> | sha256sum`: db8055e0..., 16362f56..., 66c6a0d1...
    expect(bucketOf("00000000-0000-4000-8000-000000000000")).toBe(0xdb8055e0 % 256);
    expect(bucketOf("3f2504e0-4f89-41d3-9a0c-0305e82c3301")).toBe(0x16362f56 % 256);
    expect(bucketOf("FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF")).toBe(0x66c6a0d1 % 256);
  });

  test("10,000 shopper ids spread evenly over the 256 buckets (chi-square) and the 3 shards", () => {
    const prng = new Prng(2024);
    const hex = "0123456789abcdef";
    const ids = Array.from({ length: 10_000 }, () => {
      const s = prng.string(32, hex);
      return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-a${s.slice(17, 20)}-${s.slice(20)}`;
    });
    const perBucket = new Array<number>(SHARD_BUCKETS).fill(0);
    for (const id of ids) perBucket[bucketOf(id)] += 1;
    const expected = ids.length / SHARD_BUCKETS;
    const chiSquare = perBucket.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    // 255 degrees of freedom: the 99.9th percentile is about 330.5.
    expect(chiSquare).toBeLessThan(330.5);

    const buckets = assignBuckets(3);
    const perShard = [0, 0, 0];
    for (const id of ids) perShard[buckets[bucketOf(id)]] += 1;
    for (const n of perShard) expect(Math.abs(n - ids.length / 3)).toBeLessThan(ids.length * 0.03);
    // Stable: the same ids land in the same buckets every time.
    expect(ids.slice(0, 50).map(bucketOf)).toEqual(ids.slice(0, 50).map(bucketOf));
  });
});

describe("sharded orders", () => {
  test("every shard got the shard migrations under the lock; the catalog keeps products and no orders", async () => {
    for (const name of NAMES) {
      expect(await onShard(name, "SELECT file FROM schema_migrations ORDER BY version")).toEqual([
        { file: "0001_orders.sql" },
      ]);
    }
    expect(await catalog("SELECT count(*)::int AS n FROM orders")).toEqual([{ n: 0 }]);
  });

  test("a shopper's orders live on their bucket's shard; the worker confirms them there; stock: catalog", async () => {
    await setStock(t, 100, 50);
    const seen = new Set<string>();
    for (let i = 0; i < 8; i += 1) {
      const shopper = new Shopper(t);
      const first = await buy(shopper, 100);
      const second = await buy(shopper, 100, 2);
      expect([first.status, second.status]).toEqual([202, 202]);
      const [a, b] = [await whereIs(first.json().orderId), await whereIs(second.json().orderId)];
      expect(a.shopperId).toBe(b.shopperId);
      expect(a.shard).toBe(shardFor(a.shopperId));
      expect(b.shard).toBe(a.shard);
      seen.add(a.shard);
      await pollUntil("the worker to confirm both orders", async () => {
        const { items } = (await shopper.get("/api/orders")).json();
        return items.length === 2 && items.every((item: { status: string }) => item.status === "confirmed");
      });
      const order = (await shopper.get(`/api/orders/${first.json().orderId}`)).json();
      expect(order.items).toEqual([
        { productId: 100, name: expect.any(String), quantity: 1, unitPriceCents: expect.any(Number) },
      ]);
    }
    expect(seen.size).toBeGreaterThan(1);
    expect(await catalog("SELECT stock FROM products WHERE id = 100")).toEqual([{ stock: 50 - 8 * 3 }]);
    expect(await catalog("SELECT state, count(*)::int AS n FROM stock_reservations GROUP BY state")).toEqual([
      { state: "committed", n: 16 },
    ]);
    expect(await catalog("SELECT count(*)::int AS n FROM orders")).toEqual([{ n: 0 }]);
  });
});

describe("scatter-gather: GET /api/admin/orders/recent", () => {
  const base = Date.parse("2030-01-01T00:00:00Z");
  /** Orders with chosen times, written straight onto the shards: order k is k seconds after `base`. */
  async function plant(): Promise<Array<{ orderId: string; shard: string; at: string }>> {
    const planted: Array<{ orderId: string; shard: string; at: string }> = [];
    for (let k = 0; k < 12; k += 1) {
      const shard = NAMES[(k * 7) % 3];
      const orderId = randomUUID();
      const at = new Date(base + k * 1000).toISOString();
      await onShard(
        shard,
        "INSERT INTO orders (id, shopper_id, status, total_cents, created_at) VALUES ($1, $2, 'confirmed', $3, $4)",
        [orderId, randomUUID(), 100 + k, at],
      );
      planted.push({ orderId, shard, at });
    }
    // A void id (a failed checkout's claim) is never listed, however new.
    await onShard(
      NAMES[0],
      "INSERT INTO orders (id, shopper_id, status, total_cents, created_at) VALUES ($1, $2, 'void', 0, $3)",
      [randomUUID(), randomUUID(), new Date(base + 60_000).toISOString()],
    );
    return planted;
  }

  test("asks every shard and merges their newest orders, newest first, across shards", async () => {
    const planted = await plant();
    const response = await admin("/api/admin/orders/recent?limit=5");
    expect(response.status).toBe(200);
    const body = response.json();
    expect(body.partial).toBe(false);
    expect(body.details).toEqual({ shards: NAMES, unavailableShards: [] });
    const newest = [...planted].reverse().slice(0, 5);
    expect(
      body.items.map((item: { orderId: string; shard: string; createdAt: string }) => [
        item.orderId,
        item.shard,
        item.createdAt,
      ]),
    ).toEqual(newest.map((p) => [p.orderId, p.shard, p.at]));
    expect(body.items[0]).toEqual({
      orderId: newest[0].orderId,
      shard: newest[0].shard,
      shopperId: expect.any(String),
      status: "confirmed",
      totalCents: 111,
      createdAt: newest[0].at,
    });
    expect((await admin("/api/admin/orders/recent")).json().items).toHaveLength(20);
  });

  test("needs the admin token, and a limit of 1-100", async () => {
    expect((await t.request({ path: "/api/admin/orders/recent" })).status).toBe(401);
    expect((await admin("/api/admin/orders/recent?limit=0")).status).toBe(400);
    expect((await admin("/api/admin/orders/recent?limit=101")).status).toBe(400);
  });

  test("a shard that does not answer in time is named in details.unavailableShards; others' orders come", async () => {
    const slow = NAMES[1];
    const blocker = await pools.get(slow)!.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
      const response = await admin("/api/admin/orders/recent?limit=5");
      expect(response.status).toBe(200);
      const body = response.json();
      expect(body.partial).toBe(true);
      expect(body.details.unavailableShards).toEqual([slow]);
      expect(body.items).toHaveLength(5);
      expect(body.items.every((item: { shard: string }) => item.shard !== slow)).toBe(true);
    } finally {
      await blocker.query("ROLLBACK");
      blocker.release();
    }
  });
});

describe("a shard down", () => {
  test("fails only its own shoppers' order routes (503 naming it); the catalog and other shards carry on", async () => {
    await setStock(t, 101, 100);
    // Shoppers with an order each, grouped by the shard they landed on.
    const byShard = new Map<string, Shopper[]>();
    for (let i = 0; i < 12; i += 1) {
      const shopper = new Shopper(t);
      const response = await buy(shopper, 101);
      expect(response.status).toBe(202);
      const { shard } = await whereIs(response.json().orderId);
      byShard.set(shard, [...(byShard.get(shard) ?? []), shopper]);
    }
    const down = NAMES.find((name) => (byShard.get(name)?.length ?? 0) > 0)!;
    const up = NAMES.find((name) => name !== down && (byShard.get(name)?.length ?? 0) > 0)!;
    const [victim, bystander] = [byShard.get(down)![0], byShard.get(up)![0]];

    await cluster.stop(down);
    try {
      const list = await victim.get("/api/orders");
      expect(list.status).toBe(503);
      expect(list.json()).toEqual({
        error: "shard_unavailable",
        message: expect.stringContaining(down),
        details: { shard: down },
      });
      const stockBefore = (await catalog("SELECT stock FROM products WHERE id = 101"))[0].stock;
      const refused = await buy(victim, 101, 2);
      expect(refused.status).toBe(503);
      expect(refused.json().details).toEqual({ shard: down });
      // The write never reached the shard, so the reservation was released at once: stock as before.
      expect((await catalog("SELECT stock FROM products WHERE id = 101"))[0].stock).toBe(stockBefore);
      expect((await victim.get("/api/cart")).json().items).toEqual([
        expect.objectContaining({ productId: 101, quantity: 2 }),
      ]);

      expect((await bystander.get("/api/orders")).status).toBe(200);
      expect((await buy(bystander, 101)).status).toBe(202);
      expect((await t.request({ path: "/api/products/101" })).status).toBe(200);
      expect((await t.request({ path: "/readyz" })).status).toBe(200);
      const recent = (await admin("/api/admin/orders/recent?limit=3")).json();
      expect([recent.partial, recent.details.unavailableShards]).toEqual([true, [down]]);
    } finally {
      await cluster.start(down);
    }
    await pollUntil(
      "the shard's shoppers to be served again",
      async () => (await victim.get("/api/orders")).status === 200,
      { timeoutMs: 30_000 },
    );
    expect((await victim.post("/api/checkout")).status).toBe(202);
    expect(await catalog("SELECT count(*)::int AS n FROM stock_reservations WHERE state = 'held'")).toEqual([{ n: 0 }]);
  });
});

describe("stock reservations left open by a crash", () => {
  test("are settled by asking the shard: released (stock back, id void) if no order, else committed", async () => {
    await setStock(t, 102, 10);
    const own = OrderShards.fromMap(
      cluster.map,
      { max: 2, connectTimeoutMs: 1000, queryTimeoutMs: 5000, cooldownMs: 0 },
      testLogger(),
    );
    for (const shard of own.all()) shard.ready = true;
    try {
      const lost = { orderId: randomUUID(), shopperId: randomUUID() };
      const landed = { orderId: randomUUID(), shopperId: randomUUID() };
      // Both reserved stock and then "crashed": one before writing its order, one after writing it.
      const [{ price_cents: priceCents }] = await catalog("SELECT price_cents FROM products WHERE id = 102");
      for (const r of [lost, landed]) {
        await reserveStock(t.router, {
          ...r,
          shard: shardFor(r.shopperId),
          cart: { id: randomUUID(), version: 1 },
          lines: [{ productId: 102, quantity: 3, priceCents }],
        });
      }
      await onShard(
        shardFor(landed.shopperId),
        "INSERT INTO orders (id, shopper_id, status, total_cents) VALUES ($1, $2, 'pending', 1)",
        [landed.orderId, landed.shopperId],
      );
      expect(await catalog("SELECT stock FROM products WHERE id = 102")).toEqual([{ stock: 4 }]);

      // Not yet stale: left alone.
      expect(await settleStaleReservations(t.router, own, 60_000, testLogger())).toEqual({
        committed: [],
        released: [],
        deferred: [],
      });
      const settled = await settleStaleReservations(t.router, own, 0, testLogger());
      expect(settled).toEqual({ committed: [landed.orderId], released: [lost.orderId], deferred: [] });
      expect(await catalog("SELECT stock FROM products WHERE id = 102")).toEqual([{ stock: 7 }]);
      // The lost order's cart claim went with its stock (that cart may be checked out afresh); the landed one's stays.
      expect(
        await catalog("SELECT order_id FROM checkouts WHERE order_id = ANY($1::uuid[])", [
          [lost.orderId, landed.orderId],
        ]),
      ).toEqual([{ order_id: landed.orderId }]);
      expect(
        await onShard(shardFor(lost.shopperId), "SELECT status FROM orders WHERE id = $1", [lost.orderId]),
      ).toEqual([{ status: "void" }]);
      // A late write of the lost order can never land now: its id is taken.
      await expect(
        onShard(
          shardFor(lost.shopperId),
          "INSERT INTO orders (id, shopper_id, status, total_cents) VALUES ($1, $2, 'pending', 1)",
          [lost.orderId, lost.shopperId],
        ),
      ).rejects.toThrow(/duplicate key/);
      // Settling again changes nothing: the stock is given back once.
      expect(await settleStaleReservations(t.router, own, 0, testLogger())).toEqual({
        committed: [],
        released: [],
        deferred: [],
      });
      expect(await catalog("SELECT stock FROM products WHERE id = 102")).toEqual([{ stock: 7 }]);
    } finally {
      await own.close();
    }
  });
});
