/**
 * 100 shoppers check out at the same moment with the queue on, and two workers consume: every checkout is
 * accepted (202), every order ends confirmed exactly once with exactly one notification, no order is lost or
 * doubled, every outbox row is sent, the queues end empty, and the stock is exact to the unit. A request that
 * waits for a busy pool (80 of the 100 checkouts do) waits: a burst is not an unreachable database.
 */
import type { RunningWorker } from "../../app/src/start-worker";
import { type Fauxqs, type QueuePair, startFauxqs } from "./support/fauxqs";
import { startTestWorker } from "./support/order-worker";
import { pollUntil } from "../../lib/servers/poll";
import { startShop } from "./support/shop-instances";
import { Shopper } from "./support/shopper";
import { type TestApp, setStock, startTestApp } from "./support/test-app";

const SHOPPERS = 100;

let fauxqs: Fauxqs;
let queue: QueuePair;
let t: TestApp;
const workers: RunningWorker[] = [];

beforeAll(async () => {
  fauxqs = await startFauxqs();
  queue = await fauxqs.createQueuePair("orders-load-test", { visibilityTimeoutSeconds: 5 });
  t = await startTestApp("checkout_load", {
    env: {
      ORDER_QUEUE_URL: queue.queueUrl,
      SQS_ENDPOINT: fauxqs.endpoint,
      OUTBOX_RELAY_INTERVAL_MS: "200",
      DB_POOL_MAX: "20",
      // Every shopper buys product 90, so the checkouts take its row lock one after another, up to 20 deep (one per
      // connection). On a CPU-saturated machine a checkout's transaction takes 250 ms and more, and the last in line
      // would wait past the default 5 s query timeout: a 503 about the machine, not about checkout.
      DB_QUERY_TIMEOUT_MS: "30000",
    },
  });
});
afterAll(async () => {
  for (const worker of workers) await worker.close();
  await t?.close();
  await fauxqs?.stop();
});

const primary = (text: string, values: unknown[] = []) => t.router.primaryPool.query(text, values).then((r) => r.rows);

test(`${SHOPPERS} concurrent checkouts: each order confirmed once, none lost or doubled, stock exact`, async () => {
  // Product 90: exactly one unit per shopper. Products 91-94: 1-3 units each for a quarter of the shoppers.
  await setStock(t, 90, SHOPPERS);
  for (const id of [91, 92, 93, 94]) await setStock(t, id, 1000);
  const extra = (i: number) => ({ productId: 91 + (i % 4), quantity: (i % 3) + 1 });
  const shoppers = Array.from({ length: SHOPPERS }, () => new Shopper(t));
  for (const [i, shopper] of shoppers.entries()) {
    expect((await shopper.post("/api/cart/items", { productId: 90, quantity: 1 })).status).toBe(200);
    expect((await shopper.post("/api/cart/items", extra(i))).status).toBe(200);
  }
  for (let i = 0; i < 2; i += 1) {
    workers.push(
      await startTestWorker({
        databaseUrl: t.db.primaryUrl,
        queueUrl: queue.queueUrl,
        sqs: fauxqs.sqs,
        env: { WORKER_BATCH_SIZE: "5" },
      }),
    );
  }

  const responses = await Promise.all(shoppers.map((shopper) => shopper.post("/api/checkout")));
  expect(responses.map((response) => response.status)).toEqual(Array(SHOPPERS).fill(202));
  const orderIds = responses.map((response) => response.json().orderId as string);
  expect(new Set(orderIds).size).toBe(SHOPPERS);

  await pollUntil(
    "every order to be confirmed",
    async () => (await primary("SELECT count(*)::int AS n FROM orders WHERE status = 'confirmed'"))[0].n === SHOPPERS,
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  await pollUntil("the queue to drain", async () => {
    const { visible, inFlight } = await fauxqs.counts(queue.queueUrl);
    return visible === 0 && inFlight === 0;
  });

  expect(await primary("SELECT status, count(*)::int AS n FROM orders GROUP BY status")).toEqual([
    { status: "confirmed", n: SHOPPERS },
  ]);
  expect((await primary("SELECT array_agg(id::text ORDER BY id) AS ids FROM orders"))[0].ids).toEqual(
    [...orderIds].sort(),
  );
  expect(
    await primary(
      "SELECT kind, count(*)::int AS n, count(DISTINCT order_id)::int AS orders FROM order_events GROUP BY kind",
    ),
  ).toEqual([{ kind: "order_confirmed", n: SHOPPERS, orders: SHOPPERS }]);
  expect(await primary("SELECT count(*)::int AS n, count(sent_at)::int AS sent FROM order_outbox")).toEqual([
    { n: SHOPPERS, sent: SHOPPERS },
  ]);
  expect(await fauxqs.counts(queue.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });

  // Stock: exactly what was bought, product by product.
  const bought = new Map<number, number>([[90, SHOPPERS]]);
  for (let i = 0; i < SHOPPERS; i += 1)
    bought.set(extra(i).productId, (bought.get(extra(i).productId) ?? 0) + extra(i).quantity);
  const stock = await primary("SELECT id, stock FROM products WHERE id BETWEEN 90 AND 94 ORDER BY id");
  expect(stock).toEqual(
    [90, 91, 92, 93, 94].map((id) => ({ id, stock: (id === 90 ? SHOPPERS : 1000) - bought.get(id)! })),
  );
  const items = await primary(
    "SELECT product_id, sum(quantity)::int AS n FROM order_items GROUP BY product_id ORDER BY product_id",
  );
  expect(items).toEqual([...bought.entries()].sort(([a], [b]) => a - b).map(([id, n]) => ({ product_id: id, n })));

  // Between them the workers confirmed every order once, and refused none.
  const stats = workers.map((worker) => worker.consumer!.stats);
  expect(stats.reduce((sum, s) => sum + s.confirmed, 0)).toBe(SHOPPERS);
  expect(stats.reduce((sum, s) => sum + s.poison + s.failed, 0)).toBe(0);
});

test("a checkout and a read waiting on a busy pool past DB_CONNECT_TIMEOUT_MS are served, not a 503", async () => {
  // One connection per pool, and 500 ms to open one. Waiting for a connection that another request holds is not
  // opening one: pg-pool's own connectionTimeoutMillis would bound that wait too, and its "timeout exceeded when
  // trying to connect" reads as an unreachable database (a 503, a replica taken out of rotation).
  const connectTimeoutMs = 500;
  await setStock(t, 95, 10);
  const shop = await startShop(
    { db: t.db, close: async () => undefined },
    { DB_POOL_MAX: "1", DB_CONNECT_TIMEOUT_MS: String(connectTimeoutMs) },
  );
  try {
    const shopper = new Shopper(shop);
    expect((await shopper.post("/api/cart/items", { productId: 95, quantity: 1 })).status).toBe(200);

    // The primary's one connection is held until the checkout has waited for it three times the connect timeout.
    const pool = shop.router.primaryPool;
    const held = await pool.connect();
    let checkout;
    try {
      checkout = shopper.post("/api/checkout");
      await pollUntil("the checkout to wait for the primary's connection", async () => pool.waitingCount === 1);
      await new Promise((resolve) => setTimeout(resolve, 3 * connectTimeoutMs));
    } finally {
      held.release();
    }
    const placed = await checkout;
    expect({ status: placed.status, body: placed.json() }).toMatchObject({ status: 201, body: { status: "placed" } });

    // The replica's one connection is busy for three times the connect timeout; the read waits for it.
    const replica = () => shop.router.stats().find((target) => target.name === "replica-1")!;
    const servedBefore = replica().served;
    const busy = shop.router.read("SELECT pg_sleep($1)", [(3 * connectTimeoutMs) / 1000]);
    const read = await shop.request({ path: "/api/products/95" });
    await busy;
    expect(read.status).toBe(200);
    expect(replica()).toMatchObject({ served: servedBefore + 2, failures: 0, down: false });
  } finally {
    await shop.close();
  }
});
