/**
 * Step 8, orders through a queue (fauxqs): checkout answers 202 `pending` after writing the order and its outbox
 * row in one transaction; the relay sends the row to SQS; the worker confirms the order and records one
 * notification; a redelivery is a no-op; poison messages end in the dead-letter queue after 5 receives.
 */
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import pino from "pino";
import { OrderConsumer } from "../../app/src/queue/order-consumer";
import { OrderShards } from "../../app/src/shards/order-shards";
import type { RunningWorker } from "../../app/src/start-worker";
import { type Fauxqs, type QueuePair, startFauxqs } from "./support/fauxqs";
import { startTestWorker } from "./support/order-worker";
import { pollUntil } from "../../lib/servers/poll";
import { Shopper } from "./support/shopper";
import { type TestApp, setStock, startTestApp } from "./support/test-app";

let fauxqs: Fauxqs;
let queue: QueuePair;
let t: TestApp;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  fauxqs = await startFauxqs();
  queue = await fauxqs.createQueuePair("orders-queue-test", { visibilityTimeoutSeconds: 1, maxReceiveCount: 5 });
  t = await startTestApp("queue", {
    env: {
      ORDER_QUEUE_URL: queue.queueUrl,
      SQS_ENDPOINT: fauxqs.endpoint,
      AWS_REGION: "us-east-1",
      OUTBOX_RELAY_INTERVAL_MS: "200",
    },
  });
});
afterAll(async () => {
  await worker?.close();
  await t?.close();
  await fauxqs?.stop();
});

const primary = (text: string, values: unknown[] = []) => t.router.primaryPool.query(text, values).then((r) => r.rows);

async function runWorker(): Promise<RunningWorker> {
  worker ??= await startTestWorker({ databaseUrl: t.db.primaryUrl, queueUrl: queue.queueUrl, sqs: fauxqs.sqs });
  return worker;
}

async function queueDrained(queueUrl: string): Promise<boolean> {
  const { visible, inFlight } = await fauxqs.counts(queueUrl);
  return visible === 0 && inFlight === 0;
}

// First in the file: the shared worker (runWorker) is not consuming yet, so this consumer alone gets the message.
test("a job running past the job timeout is given up and logged; it still confirms once and deletes", async () => {
  await setStock(t, 71, 10);
  const shopper = new Shopper(t);
  await shopper.post("/api/cart/items", { productId: 71, quantity: 1 });
  const { orderId } = (await shopper.post("/api/checkout")).json();
  await pollUntil(
    "the relay to send the outbox row",
    async () => (await primary("SELECT sent_at FROM order_outbox WHERE order_id = $1", [orderId]))[0].sent_at !== null,
  );
  // Another transaction holds the order's row: the job's SELECT ... FOR UPDATE waits for it.
  const holder = await t.router.primaryPool.connect();
  await holder.query("BEGIN");
  await holder.query("SELECT id FROM orders WHERE id = $1 FOR UPDATE", [orderId]);
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split("\n")) if (text.trim() !== "") lines.push(JSON.parse(text));
      done();
    },
  });
  const consumer = new OrderConsumer({
    sqs: fauxqs.sqs,
    queueUrl: queue.queueUrl,
    shards: OrderShards.unsharded(t.router),
    logger: pino({ level: "info" }, sink),
    batchSize: 1,
    waitSeconds: 1,
    jobTimeoutMs: 200,
  });
  consumer.start();
  try {
    await pollUntil("the job to be given up", async () => consumer.stats.timedOut >= 1);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 50,
        job: "order_placed",
        timeoutMs: 200,
        msg: expect.stringContaining("given up, its message comes back after the visibility timeout"),
      }),
    );
    expect(consumer.stats).toMatchObject({ confirmed: 0, deleted: 0 });
    expect((await primary("SELECT status FROM orders WHERE id = $1", [orderId]))[0].status).toBe("pending");
  } finally {
    await holder.query("COMMIT");
    holder.release();
  }
  // The job it gave up ends once the row is free: its line is still written, the order confirmed once, and the
  // message deleted (by it or by a redelivery, which finds the order confirmed).
  await pollUntil("the queue to drain", () => queueDrained(queue.queueUrl));
  await consumer.stop();
  expect(consumer.stats.confirmed).toBe(1);
  expect(lines).toContainEqual(expect.objectContaining({ orderId, outcome: "confirmed" }));
  expect(await primary("SELECT kind FROM order_events WHERE order_id = $1", [orderId])).toEqual([
    { kind: "order_confirmed" },
  ]);
});

test("checkout answers 202 pending; relay sends it; worker confirms it once; shopper: pending, confirmed", async () => {
  await setStock(t, 70, 10);
  const shopper = new Shopper(t);
  await shopper.post("/api/cart/items", { productId: 70, quantity: 3 });
  const checkout = await shopper.post("/api/checkout");
  expect(checkout.status).toBe(202);
  const { orderId, status } = checkout.json();
  expect(status).toBe("pending");
  expect(checkout.headers.location).toBe(`/api/orders/${orderId}`);
  // Stock is taken at checkout, in the order's own transaction, with its outbox row.
  expect((await primary("SELECT stock FROM products WHERE id = 70"))[0].stock).toBe(7);
  expect((await shopper.get(`/api/orders/${orderId}`)).json().status).toBe("pending");
  await pollUntil(
    "the relay to send the outbox row",
    async () => (await primary("SELECT sent_at FROM order_outbox WHERE order_id = $1", [orderId]))[0].sent_at !== null,
  );

  const running = await runWorker();
  await pollUntil(
    "the order to be confirmed",
    async () => (await shopper.get(`/api/orders/${orderId}`)).json().status === "confirmed",
  );
  await pollUntil("the queue to drain", () => queueDrained(queue.queueUrl));
  expect(await primary("SELECT kind FROM order_events WHERE order_id = $1", [orderId])).toEqual([
    { kind: "order_confirmed" },
  ]);
  expect((await primary("SELECT stock FROM products WHERE id = 70"))[0].stock).toBe(7);
  expect((await shopper.get("/api/orders")).json().items).toEqual([
    expect.objectContaining({ orderId, status: "confirmed" }),
  ]);
  expect(running.consumer?.stats).toMatchObject({ confirmed: 1, deleted: 1, poison: 0 });
});

test("a redelivered message for a confirmed order changes nothing and is deleted", async () => {
  const running = await runWorker();
  const shopper = new Shopper(t);
  await shopper.post("/api/cart/items", { productId: 71, quantity: 1 });
  const { orderId } = (await shopper.post("/api/checkout")).json();
  await pollUntil(
    "the order to be confirmed",
    async () => (await primary("SELECT status FROM orders WHERE id = $1", [orderId]))[0].status === "confirmed",
  );
  const [{ confirmed_at: confirmedAt }] = await primary("SELECT confirmed_at FROM orders WHERE id = $1", [orderId]);
  const duplicatesBefore = running.consumer!.stats.duplicates;

  // The same message again, as SQS may deliver it (or the relay may send it twice after a crash).
  const [{ body }] = await primary("SELECT body FROM order_outbox WHERE order_id = $1", [orderId]);
  await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: body }));
  await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: body }));
  await pollUntil(
    "both duplicates to be handled",
    async () => running.consumer!.stats.duplicates === duplicatesBefore + 2,
  );
  await pollUntil("the queue to drain", () => queueDrained(queue.queueUrl));
  expect(await primary("SELECT status, confirmed_at FROM orders WHERE id = $1", [orderId])).toEqual([
    { status: "confirmed", confirmed_at: confirmedAt },
  ]);
  expect(await primary("SELECT count(*)::int AS n FROM order_events WHERE order_id = $1", [orderId])).toEqual([
    { n: 1 },
  ]);
});

test("poison messages (not JSON, unknown order) are never deleted and reach the DLQ after 5 receives", async () => {
  const running = await runWorker();
  const poisonBefore = running.consumer!.stats.poison;
  const unknown = {
    type: "order_placed",
    orderId: randomUUID(),
    shopperId: randomUUID(),
    totalCents: 100,
    placedAt: new Date().toISOString(),
  };
  await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: "{ this is not an order" }));
  await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: JSON.stringify(unknown) }));

  await pollUntil(
    "both poison messages to reach the DLQ",
    async () => (await fauxqs.counts(queue.dlqUrl)).visible === 2,
    { intervalMs: 200 },
  );
  await pollUntil("the main queue to drain", () => queueDrained(queue.queueUrl));
  // Each was received (and refused) 5 times: the queue's maxReceiveCount.
  expect(running.consumer!.stats.poison - poisonBefore).toBe(10);
  const dead = await fauxqs.peek(queue.dlqUrl);
  expect(dead.map((m) => m.Body).sort()).toEqual([JSON.stringify(unknown), "{ this is not an order"].sort());
  expect(await primary("SELECT count(*)::int AS n FROM orders WHERE id = $1", [unknown.orderId])).toEqual([{ n: 0 }]);
});

test("without the queue, checkout stays synchronous: 201 placed (steps 1-7)", async () => {
  const plain = await startTestApp("queue_off");
  try {
    const shopper = new Shopper(plain);
    await shopper.post("/api/cart/items", { productId: 72, quantity: 1 });
    const checkout = await shopper.post("/api/checkout");
    expect([checkout.status, checkout.json().status]).toEqual([201, "placed"]);
    const rows = await plain.router.primaryPool.query("SELECT count(*)::int AS n FROM order_outbox");
    expect(rows.rows[0].n).toBe(0);
  } finally {
    await plain.close();
  }
});
