/**
 * One order per cart (issue 14, finding 1), at every step's checkout: orders on the catalog database (steps 1-7),
 * with the queue (step 8) and on shards (step 9 on). Ten concurrent checkouts from one session give one order and
 * take its stock once, every answer naming that order (also those arriving after the first answer rotated the
 * session id: the old id's tombstone answers them); a retry after an answer that never arrived (the session
 * store failed once the order was placed) gets the first order back.
 */
import { randomUUID } from "node:crypto";
import type { Session } from "fastify";
import type { Pool } from "pg";
import { placeOrder } from "../../app/src/orders/orders";
import { reserveStock, settleStaleReservations } from "../../app/src/orders/reservations";
import { OrderShards } from "../../app/src/shards/order-shards";
import { MemorySessionStore, type SessionStore } from "../../app/src/session/memory-store";
import type { Tombstone } from "../../app/src/session/tombstone";
import { type Fauxqs, startFauxqs } from "./support/fauxqs";
import type { HttpResponse } from "./support/http-client";
import { type ShardCluster, startShardCluster } from "./support/shard-cluster";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { Shopper } from "./support/shopper";
import { testLogger } from "./support/test-app";
import { waitForReplica } from "./support/test-database";
import { startAll } from "./support/start-all";

/** A memory store whose writes fail while `failing` is set, as a session store that went away would. */
class FlakySessionStore implements SessionStore {
  failing = false;
  private readonly store = new MemorySessionStore();

  set(sessionId: string, session: Session, callback: (error?: unknown) => void): void {
    if (this.failing) callback(new Error("session store unavailable (test)"));
    else this.store.set(sessionId, session, callback);
  }

  get(sessionId: string, callback: (error: unknown, session?: Session | null) => void): void {
    this.store.get(sessionId, callback);
  }

  destroy(sessionId: string, callback: (error?: unknown) => void): void {
    if (this.failing) callback(new Error("session store unavailable (test)"));
    else this.store.destroy(sessionId, callback);
  }

  retire(sessionId: string, tombstone: Tombstone, callback: (error?: unknown) => void): void {
    if (this.failing) callback(new Error("session store unavailable (test)"));
    else this.store.retire(sessionId, tombstone, callback);
  }

  close(): void {
    this.store.close();
  }
}

let suite: Suite;
let fauxqs: Fauxqs;
let shardCluster: ShardCluster;
let plain: ShopInstance;
let queued: ShopInstance;
let sharded: ShopInstance;
let flaky: ShopInstance;
const flakyStore = new FlakySessionStore();

beforeAll(async () => {
  suite = await openSuite("checkout-once");
  [fauxqs, shardCluster] = await startAll([
    [startFauxqs(), (f) => f.stop()],
    [startShardCluster(["once-0", "once-1"]), (c) => c.close()],
  ]);
  const queue = await fauxqs.createQueuePair("checkout-once");
  const withQueue = { ORDER_QUEUE_URL: queue.queueUrl, SQS_ENDPOINT: fauxqs.endpoint, AWS_REGION: "us-east-1" };
  plain = await startShop(suite);
  queued = await startShop(suite, withQueue);
  sharded = await startShop(suite, { ...withQueue, ORDER_SHARDS: shardCluster.env });
  flaky = await startShop(suite, {}, { sessionStore: flakyStore });
}, 120_000);
afterAll(async () => {
  for (const shop of [plain, queued, sharded, flaky]) await shop?.close();
  flakyStore.close();
  await shardCluster?.close();
  await fauxqs?.stop();
  await suite?.close();
});

const primary = (): Pool => plain.router.primaryPool;
const stockOf = async (productId: number): Promise<number> =>
  (await primary().query("SELECT stock FROM products WHERE id = $1", [productId])).rows[0].stock;

async function setStock(productId: number, stock: number): Promise<void> {
  await primary().query("UPDATE products SET stock = $2 WHERE id = $1", [productId, stock]);
  await waitForReplica(suite.db.cluster);
}

describe.each([
  { step: "catalog orders (steps 1-7)", shop: () => plain, productId: 11, created: 201, status: "placed" },
  { step: "with the queue (step 8)", shop: () => queued, productId: 12, created: 202, status: "pending" },
  { step: "on shards (step 9)", shop: () => sharded, productId: 13, created: 202, status: "pending" },
])("$step", ({ shop, productId, created, status }) => {
  test("ten concurrent checkouts of one cart: one order, its stock taken once, no second order", async () => {
    await setStock(productId, 50);
    const shopper = new Shopper(shop());
    expect((await shopper.post("/api/cart/items", { productId, quantity: 1 })).status).toBe(200);

    const cookieBefore = shopper.cookie;
    const answers: HttpResponse[] = await Promise.all(Array.from({ length: 10 }, () => shopper.post("/api/checkout")));

    // One answer placed the order. Every other one names it: those that read the session before the first answer
    // rotated its id replay the cart's claim; those that came after find the old id's tombstone and answer the same.
    const placed = answers.filter((answer) => answer.status === created);
    expect(placed).toHaveLength(1);
    const { orderId } = placed[0].json();
    expect(placed[0].json()).toEqual({ orderId, status });
    for (const answer of answers.filter((other) => other !== placed[0])) {
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual({ orderId, status: expect.stringMatching(/^(placed|pending|confirmed)$/) });
      expect(answer.headers.location).toBe(`/api/orders/${orderId}`);
    }
    expect(await stockOf(productId)).toBe(49);
    // One more submit, sent with the cookie from before (as a browser whose answers are still on their way): the
    // same order, read from its shard, and no cookie (the holder of an old id must not get the new one).
    const late = new Shopper(shop());
    late.cookie = cookieBefore;
    const lateAnswer = await late.post("/api/checkout");
    expect(lateAnswer.status).toBe(200);
    expect(lateAnswer.json()).toEqual({ orderId, status: expect.stringMatching(/^(placed|pending|confirmed)$/) });
    expect(lateAnswer.headers["set-cookie"]).toBeUndefined();
    expect(await stockOf(productId)).toBe(49);

    // The shopper (with whichever answer's cookie came last) has that one order, and an empty cart.
    const orders = await shopper.get("/api/orders");
    expect(orders.json().items).toEqual([expect.objectContaining({ orderId })]);
    expect((await shopper.get("/api/cart")).json()).toEqual({ items: [], totalCents: 0 });
    // Checking out again finds nothing to check out: no second order.
    const again = await shopper.post("/api/checkout");
    expect(again.status).toBe(409);
    expect(again.json().error).toBe("cart_empty");
    expect(await stockOf(productId)).toBe(49);
  });
});

test("a retry after a lost answer (the session store failed after the order was placed) gets that order", async () => {
  await setStock(14, 50);
  const shopper = new Shopper(flaky);
  await shopper.post("/api/cart/items", { productId: 14, quantity: 2 });

  flakyStore.failing = true;
  const lost = await shopper.post("/api/checkout");
  flakyStore.failing = false;
  // The shopper never heard of the order, and their session still holds the cart it was placed from.
  expect(lost.status).toBeGreaterThanOrEqual(500);
  expect(await stockOf(14)).toBe(48);

  const retry = await shopper.post("/api/checkout");
  expect(retry.status).toBe(200);
  const { orderId } = retry.json();
  expect(retry.json()).toEqual({ orderId, status: "placed" });
  expect(await stockOf(14)).toBe(48);
  const { rows } = await primary().query(
    "SELECT id FROM orders WHERE shopper_id = (SELECT shopper_id FROM orders WHERE id = $1)",
    [orderId],
  );
  expect(rows).toEqual([{ id: orderId }]);
  expect((await shopper.get(`/api/orders/${orderId}`)).json()).toMatchObject({
    orderId,
    totalCents: expect.any(Number),
  });
});

test("a cart changed after its checkout is a new order", async () => {
  await setStock(15, 50);
  const shopper = new Shopper(plain);
  await shopper.post("/api/cart/items", { productId: 15, quantity: 1 });
  const first = await shopper.post("/api/checkout");
  await shopper.post("/api/cart/items", { productId: 15, quantity: 1 });
  const second = await shopper.post("/api/checkout");
  expect([first.status, second.status]).toEqual([201, 201]);
  expect(second.json().orderId).not.toBe(first.json().orderId);
  expect(await stockOf(15)).toBe(48);
});

test("sharded: a cart whose checkout crashed waits for the worker's settling, then checks out afresh", async () => {
  const shards = OrderShards.fromMap(
    shardCluster.map,
    { max: 2, connectTimeoutMs: 1000, queryTimeoutMs: 5000, cooldownMs: 0 },
    testLogger(),
  );
  for (const shard of shards.all()) shard.ready = true; // the sharded app migrated them
  try {
    await setStock(16, 50);
    const { rows } = await primary().query("SELECT price_cents FROM products WHERE id = 16");
    const lines = [{ productId: 16, quantity: 2, priceCents: rows[0].price_cents as number }];
    const shopperId = randomUUID();
    const cart = { id: randomUUID(), version: 1 };
    const shard = shards.forShopper(shopperId);
    const options = { queued: false, logger: testLogger(), claimWaitMs: 200 };
    // A first checkout claimed the cart and reserved its stock, then its process died before writing the order.
    const crashed = randomUUID();
    await reserveStock(plain.router, { orderId: crashed, shopperId, shard: shard.name, cart, lines });
    expect(await stockOf(16)).toBe(48);

    await expect(placeOrder(plain.router, shard, shopperId, cart, lines, options)).rejects.toMatchObject({
      code: "checkout_in_progress",
      details: { orderId: crashed },
    });
    expect(await stockOf(16)).toBe(48);

    // The worker finds no order on the shard: the stock goes back, and the cart's claim with it.
    expect((await settleStaleReservations(plain.router, shards, 0, testLogger())).released).toEqual([crashed]);
    expect(await stockOf(16)).toBe(50);
    const placed = await placeOrder(plain.router, shard, shopperId, cart, lines, options);
    expect(placed).toMatchObject({ status: "placed", replayed: false });
    expect(placed.orderId).not.toBe(crashed);
    expect(await stockOf(16)).toBe(48);
    // That cart again: the order just placed, nothing taken.
    const again = await placeOrder(plain.router, shard, shopperId, cart, lines, options);
    expect(again).toMatchObject({ orderId: placed.orderId, status: "placed", replayed: true });
    expect(await stockOf(16)).toBe(48);
  } finally {
    await shards.close();
  }
});
