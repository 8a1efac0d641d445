/**
 * Step 10, business metrics in CloudWatch's embedded metric format, sent the way production sends them: the
 * `Agent` environment over TCP, here to a listener this test runs on 127.0.0.1 in place of the CloudWatch agent.
 * The server's record carries OrdersPlaced, Revenue, ActiveShoppers, CacheHits and CacheMisses; the worker's
 * QueueLagSeconds; both in ScaleLadder/Shop with no dimensions, as the dashboard reads them.
 */
import { type Server, type Socket, createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { metrics } from "../../app/src/metrics";
import type { RunningWorker } from "../../app/src/start-worker";
import { type Fauxqs, type QueuePair, startFauxqs } from "./support/fauxqs";
import { startTestWorker } from "./support/order-worker";
import { pollUntil } from "../../lib/servers/poll";
import { Shopper } from "./support/shopper";
import { type TestApp, startTestApp } from "./support/test-app";

const LOG_GROUP = "/scale-ladder/test/metrics";

let agent: Server;
const sockets: Socket[] = [];
const records: Array<Record<string, any>> = [];
let fauxqs: Fauxqs;
let queue: QueuePair;
let t: TestApp | undefined;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  agent = createServer((socket) => {
    sockets.push(socket);
    createInterface({ input: socket }).on("line", (line) => records.push(JSON.parse(line)));
  });
  await new Promise<void>((resolve) => agent.listen(0, "127.0.0.1", resolve));
  fauxqs = await startFauxqs();
  queue = await fauxqs.createQueuePair("orders-metrics-test");
});
afterAll(async () => {
  await worker?.close();
  await t?.close();
  await fauxqs?.stop();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => agent.close(resolve));
});

/** The fields every EMF record of the shop has, whatever its metrics. */
function expectEmfShape(record: Record<string, any>, metricNames: string[]) {
  expect(record._aws).toEqual({
    Timestamp: expect.any(Number),
    LogGroupName: LOG_GROUP,
    CloudWatchMetrics: [{ Namespace: "ScaleLadder/Shop", Dimensions: [[]], Metrics: expect.any(Array) }],
  });
  expect(Math.abs(record._aws.Timestamp - Date.now())).toBeLessThan(60_000);
  const defined = record._aws.CloudWatchMetrics[0].Metrics as Array<{ Name: string; Unit: string }>;
  expect(defined.map((m) => m.Name).sort()).toEqual([...metricNames].sort());
  for (const name of metricNames) expect(record).toHaveProperty(name);
}

test("server and worker send EMF records to the agent: business metrics at top level, defined in _aws", async () => {
  const emf = {
    AWS_EMF_ENVIRONMENT: "Agent",
    AWS_EMF_AGENT_ENDPOINT: `tcp://127.0.0.1:${(agent.address() as AddressInfo).port}`,
    AWS_EMF_LOG_GROUP_NAME: LOG_GROUP,
    AWS_EMF_NAMESPACE: "ScaleLadder/Shop",
  };
  t = await startTestApp("metrics", {
    env: { ...emf, ORDER_QUEUE_URL: queue.queueUrl, SQS_ENDPOINT: fauxqs.endpoint, OUTBOX_RELAY_INTERVAL_MS: "200" },
  });
  worker = await startTestWorker({ databaseUrl: t.db.primaryUrl, queueUrl: queue.queueUrl, sqs: fauxqs.sqs, env: emf });

  let totalCents = 0;
  const shoppers = [new Shopper(t), new Shopper(t)];
  for (const [i, shopper] of shoppers.entries()) {
    await shopper.post("/api/cart/items", { productId: 10 + i, quantity: 2 });
    const placed = await shopper.post("/api/checkout");
    expect(placed.status).toBe(202);
    totalCents += (await shopper.get(`/api/orders/${placed.json().orderId}`)).json().totalCents;
  }
  await shoppers[0].get("/api/cart");
  // The catalog cache's counters (the cache calls these).
  metrics.cacheHit();
  metrics.cacheHit();
  metrics.cacheHit();
  metrics.cacheMiss();
  await pollUntil("the worker to confirm both orders", async () => worker!.consumer!.stats.confirmed === 2);

  // Closing flushes: each process sends what it counted since its last record.
  await worker.close();
  worker = undefined;
  await t.close();
  t = undefined;
  await pollUntil("both records to reach the agent", async () => records.length >= 2);

  const server = records.find((record) => record.service === "shop-server")!;
  expectEmfShape(server, ["OrdersPlaced", "Revenue", "ActiveShoppers", "CacheHits", "CacheMisses"]);
  expect(server._aws.CloudWatchMetrics[0].Metrics).toEqual(
    expect.arrayContaining([
      { Name: "OrdersPlaced", Unit: "Count" },
      { Name: "Revenue", Unit: "None" },
      { Name: "ActiveShoppers", Unit: "Count" },
      { Name: "CacheHits", Unit: "Count" },
      { Name: "CacheMisses", Unit: "Count" },
    ]),
  );
  expect(server).toMatchObject({
    OrdersPlaced: 2,
    Revenue: totalCents / 100,
    ActiveShoppers: 2,
    CacheHits: 3,
    CacheMisses: 1,
  });

  const fromWorker = records.find((record) => record.service === "shop-worker")!;
  expectEmfShape(fromWorker, ["QueueLagSeconds"]);
  expect(fromWorker._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: "QueueLagSeconds", Unit: "Seconds" }]);
  const lags = [fromWorker.QueueLagSeconds].flat() as number[];
  expect(lags).toHaveLength(2);
  for (const lag of lags) expect(lag).toBeGreaterThanOrEqual(0);
});
