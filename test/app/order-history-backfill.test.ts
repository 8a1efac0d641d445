/**
 * Climbing 8 -> 9 with orders on the catalog database: shoppers order at step 8 (some confirmed by a step-8 worker,
 * some still pending with their message queued, one whose message never left the outbox because the queue was
 * unreachable), then a step-9 app and worker take over on the same catalog and sessions, and the backfill copies
 * the step-8 orders to their shards while shoppers keep reading their history and ordering (and a last step-8
 * server strands one more order in the outbox, between the backfill's bulk and last passes).
 *
 * Every order a shopper was told about is in their `GET /api/orders` (and `GET /api/orders/:id`) before, during and
 * after the backfill, once; every pending step-8 order is confirmed by a step-9 worker exactly once (before the
 * backfill on the catalog database, after it on its shard), none reaches the dead-letter queue.
 */
import type { Pool } from "pg";
import { backfillOrderShards } from "../../app/src/data-migrations/backfill-order-shards";
import { MemorySessionStore } from "../../app/src/session/memory-store";
import { bucketOf } from "../../app/src/shards/shard-map";
import type { RunningWorker } from "../../app/src/start-worker";
import { pollUntil } from "../../lib/servers/poll";
import { type Fauxqs, type QueuePair, startFauxqs } from "./support/fauxqs";
import type { HttpRequest } from "./support/http-client";
import { startTestWorker } from "./support/order-worker";
import { type ShardCluster, startShardCluster } from "./support/shard-cluster";
import { Shopper } from "./support/shopper";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { testPool } from "./support/test-pool";
import { waitForReplica } from "./support/test-database";
import { startAll } from "./support/start-all";

const SHARDS = ["history-0", "history-1"];

let suite: Suite;
let cluster: ShardCluster;
let fauxqs: Fauxqs;
let queue: QueuePair;
let catalog: Pool;
const sessionStore = new MemorySessionStore();
const closers: Array<() => Promise<unknown>> = [];

/** The app every shopper talks to now: step 8's, then step 9's (as the load balancer's targets change). */
let current: ShopInstance;
const entry = { request: (request: HttpRequest) => current.request(request) };

/** Each shopper and the orders they were told about. */
const ledger = new Map<Shopper, string[]>();
/** Shoppers with a checkout under way: their history may hold an order the ledger does not have yet. */
const busy = new Set<Shopper>();

beforeAll(async () => {
  [suite, cluster, fauxqs] = await startAll([
    [openSuite("history_backfill"), (s) => s.close()],
    [startShardCluster(SHARDS), (c) => c.close()],
    [startFauxqs(), (f) => f.stop()],
  ]);
  queue = await fauxqs.createQueuePair("history-backfill", { visibilityTimeoutSeconds: 10 });
  catalog = testPool(suite.db.primaryUrl, 2);
}, 120_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await catalog?.end();
  sessionStore.close();
  await fauxqs?.stop();
  await cluster?.close();
  await suite?.close();
});

const queued = () => ({
  ORDER_QUEUE_URL: queue.queueUrl,
  SQS_ENDPOINT: fauxqs.endpoint,
  AWS_REGION: "us-east-1",
  OUTBOX_RELAY_INTERVAL_MS: "200",
});

async function shop(env: Record<string, string>): Promise<ShopInstance> {
  const instance = await startShop(suite, env, { sessionStore });
  closers.push(() => instance.close());
  return instance;
}

async function worker(env: Record<string, string> = {}): Promise<RunningWorker> {
  const running = await startTestWorker({
    databaseUrl: suite.db.primaryUrl,
    queueUrl: queue.queueUrl,
    sqs: fauxqs.sqs,
    env,
  });
  closers.push(() => running.close());
  return running;
}

/** A shopper (new, or the same one again) buys product `productId` through `current`; the order is ledgered. */
async function order(productId: number, shopper = new Shopper(entry)): Promise<Shopper> {
  busy.add(shopper);
  expect((await shopper.post("/api/cart/items", { productId, quantity: 1 })).status).toBe(200);
  const checkout = await shopper.post("/api/checkout");
  expect(checkout.status).toBe(202);
  ledger.set(shopper, [...(ledger.get(shopper) ?? []), checkout.json<{ orderId: string }>().orderId]);
  busy.delete(shopper);
  return shopper;
}

/**
 * An order placed through a step-8 server that cannot reach the queue (its message stays in the catalog's outbox);
 * the shopper goes on through `current` once that server is gone.
 */
async function strandedOrder(productId: number): Promise<string> {
  const cutOff = await shop({ ...queued(), SQS_ENDPOINT: "http://127.0.0.1:9" });
  let cutOffServes = true;
  const shopper = new Shopper({ request: (request) => (cutOffServes ? cutOff : current).request(request) });
  busy.add(shopper);
  expect((await shopper.post("/api/cart/items", { productId, quantity: 1 })).status).toBe(200);
  const orderId = (await shopper.post("/api/checkout")).json<{ orderId: string }>().orderId;
  // The shopper moves on before the server goes, so that the readers' requests never meet it closing.
  cutOffServes = false;
  ledger.set(shopper, [orderId]);
  busy.delete(shopper);
  await cutOff.close();
  return orderId;
}

/** Every shopper's history holds each of their orders once, and each opens. Returns the statuses seen. */
async function everyHistoryComplete(): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  for (const [shopper, orders] of [...ledger].filter(([shopper]) => !busy.has(shopper))) {
    const history = await shopper.get("/api/orders");
    expect(history.status).toBe(200);
    // An order placed meanwhile (the ledger has a new list, or will) is checked on the next round.
    if (busy.has(shopper) || ledger.get(shopper) !== orders) continue;
    const ids = history.json<{ items: Array<{ orderId: string; status: string }> }>().items.map((item) => {
      statuses.set(item.orderId, item.status);
      return item.orderId;
    });
    expect([...ids].sort()).toEqual([...orders].sort());
    for (const id of orders) {
      const one = await shopper.get(`/api/orders/${id}`);
      expect(one.status).toBe(200);
      expect(one.json<{ items: unknown[] }>().items).toHaveLength(1);
    }
  }
  return statuses;
}

/** The shopper of order `id`, wherever it is (the catalog for step 8's, a shard for step 9's). */
async function shopperOf(id: string): Promise<string> {
  const found = await catalog.query<{ shopper_id: string }>("SELECT shopper_id FROM orders WHERE id = $1", [id]);
  if (found.rows[0]) return found.rows[0].shopper_id;
  for (const spec of cluster.map.shards) {
    const pool = testPool(spec.url, 1);
    try {
      const { rows } = await pool.query<{ shopper_id: string }>("SELECT shopper_id FROM orders WHERE id = $1", [id]);
      if (rows[0]) return rows[0].shopper_id;
    } finally {
      await pool.end();
    }
  }
  throw new Error(`order ${id} is nowhere`);
}

const onShard = (shopperId: string) => {
  const spec = cluster.map.shards[cluster.map.buckets[bucketOf(shopperId)]];
  return testPool(spec.url, 1);
};

test("step-8 orders stay in their shoppers' histories through climb and backfill, confirmed once each", async () => {
  // Step 8: six shoppers order; a step-8 worker confirms the first three's orders.
  current = await shop(queued());
  // Short polls: a long poll abandoned at close could still take (and hide for the visibility timeout) a message
  // sent just after.
  const step8 = await worker({ WORKER_WAIT_SECONDS: "0" });
  const early = [await order(1), await order(2), await order(3)];
  await pollUntil("the step-8 worker to confirm the first orders", async () => step8.consumer!.stats.confirmed === 3);
  await step8.close();
  const late = [await order(4), await order(5), await order(6, early[0])];
  await pollUntil("step 8's relay to send every outbox row", async () => {
    const { rows } = await catalog.query("SELECT count(*)::int AS n FROM order_outbox WHERE sent_at IS NULL");
    return rows[0].n === 0;
  });
  await current.close();
  // The last step-8 server cannot reach the queue: its order's message stays in the outbox.
  const stranded = await strandedOrder(7);
  const unsent = await catalog.query("SELECT order_id FROM order_outbox WHERE sent_at IS NULL");
  expect(unsent.rows).toEqual([{ order_id: stranded }]);

  // Step 9 takes over: the same catalog and sessions, the shards, a step-9 worker.
  current = await shop({ ...queued(), ORDER_SHARDS: cluster.env });
  const step9 = await worker({ ORDER_SHARDS: cluster.env });

  // Before the backfill: every order in its history (read from both), and the queued ones confirmed, on the catalog.
  await everyHistoryComplete();
  await pollUntil(
    "the step-9 worker to confirm step 8's queued orders",
    async () => step9.consumer!.stats.confirmed === 3,
  );
  // The histories are read from the replica, and the shoppers did not write the confirmations (no read-your-writes):
  // a replica a moment behind still shows them pending.
  await waitForReplica(suite.db.cluster);
  const before = await everyHistoryComplete();
  expect(before.get(stranded)).toBe("pending");
  for (const shopper of [...early, ...late])
    for (const id of ledger.get(shopper)!) expect(before.get(id)).toBe("confirmed");

  // During: shoppers order and read their histories while the backfill runs.
  let reading = true;
  const readers = (async () => {
    let rounds = 0;
    while (reading || rounds === 0) {
      await everyHistoryComplete();
      rounds += 1;
    }
    return rounds;
  })();
  const orderingDuring = (async () => {
    for (const productId of [8, 9, 10]) await order(productId);
    await order(11, late[0]);
  })();
  // Both ways a step-8 order left in the outbox is confirmed once (orders/pre-shard-orders.ts), each made to happen
  // rather than left to the relay's timing:
  // - `stranded`: the bulk pass copies its outbox row; its shard's relay sends that copy, and a worker confirms the
  //   order on the catalog, before the record. The last pass copies that confirmation.
  // - `latecomer`, placed by a step-8 server once the bulk pass has read the catalog's orders (one chunk here, so
  //   that pass never sees it): the last pass copies it under the lock, so the worker that gets its message waits
  //   for the record and confirms it on its shard.
  let latecomer: string | undefined;
  const strandedHome = onShard(await shopperOf(stranded));
  closers.push(() => strandedHome.end());
  const report = await backfillOrderShards({
    catalog: { connectionString: suite.db.primaryUrl },
    shards: cluster.map,
    onBatch: async () => {
      if (latecomer) return;
      const copied = await strandedHome.query("SELECT 1 FROM orders WHERE id = $1", [stranded]);
      if (copied.rows.length === 0) return; // its shard's batch is still to come
      await pollUntil("the stranded order to be confirmed on the catalog, before the record", async () => {
        const { rows } = await catalog.query("SELECT status FROM orders WHERE id = $1", [stranded]);
        return rows[0].status === "confirmed";
      });
      latecomer = await strandedOrder(12);
    },
  });
  await orderingDuring;
  reading = false;
  expect(await readers).toBeGreaterThan(0);
  expect(latecomer).toBeDefined();
  expect(report.tables.find((table) => table.table === "orders")?.rows).toBe(8);
  expect(report.tables.find((table) => table.table === "order_outbox")?.rows).toBe(2);

  // After: every order confirmed once, nothing is poison.
  await pollUntil("every order to be confirmed, the latecomer on its shard", async () => {
    const statuses = await everyHistoryComplete();
    return [...statuses.values()].every((status) => status === "confirmed");
  });
  // (A redelivery, counted as a duplicate, confirms nothing: at least once is the queue's contract.)
  expect(step9.consumer!.stats).toMatchObject({ confirmed: 3 + 2 + 4, poison: 0 });
  expect(await fauxqs.counts(queue.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
  // On its shard, each order (step 8's copied, step 9's own) holds its one confirmation.
  for (const orders of ledger.values()) {
    const shard = onShard(await shopperOf(orders[0]));
    try {
      for (const id of orders) {
        const events = await shard.query("SELECT kind FROM order_events WHERE order_id = $1", [id]);
        expect(events.rows).toEqual([{ kind: "order_confirmed" }]);
      }
    } finally {
      await shard.end();
    }
  }
  // Where each was confirmed: `stranded` on the catalog, and its shard's copy is that confirmation, timestamps and
  // all (one made on the catalog after the record would never be copied); `latecomer` on its shard, and its catalog
  // row stays as the backfill found it.
  const confirmation = async (db: Pool, id: string) => ({
    order: (await db.query("SELECT status, confirmed_at FROM orders WHERE id = $1", [id])).rows,
    events: (await db.query("SELECT kind, created_at FROM order_events WHERE order_id = $1", [id])).rows,
  });
  const strandedOnCatalog = await confirmation(catalog, stranded);
  expect(strandedOnCatalog.order).toEqual([{ status: "confirmed", confirmed_at: expect.any(Date) }]);
  expect(await confirmation(strandedHome, stranded)).toEqual(strandedOnCatalog);
  expect(await confirmation(catalog, latecomer!)).toEqual({
    order: [{ status: "pending", confirmed_at: null }],
    events: [],
  });
  await everyHistoryComplete();
});
