/**
 * The business metrics' counters, and the `Local` environment of aws-embedded-metrics (EMF records on stdout):
 * ActiveShoppers counts distinct shoppers in a sliding 5-minute window; counters restart after each record; a
 * namespace from AWS_EMF_NAMESPACE; nothing is published without AWS_EMF_ENVIRONMENT.
 */
import { ACTIVE_SHOPPER_WINDOW_MS, BusinessMetrics, startMetricsPublisher } from "../../app/src/metrics";
import { testLogger } from "./support/test-app";

test("ActiveShoppers: distinct shoppers seen within the last 5 minutes, sliding", () => {
  let now = 1_000_000;
  const counters = new BusinessMetrics(() => now);
  counters.shopperSeen("a");
  counters.shopperSeen("b");
  counters.shopperSeen("a");
  expect(counters.activeShoppers()).toBe(2);
  now += ACTIVE_SHOPPER_WINDOW_MS - 1000;
  counters.shopperSeen("b"); // b is seen again: its window starts over
  now += 2000;
  expect(counters.activeShoppers()).toBe(1); // a has not been seen for more than the window
  now += ACTIVE_SHOPPER_WINDOW_MS;
  expect(counters.activeShoppers()).toBe(0);
});

test("counters are sums since the last record; the window is not reset by a record", () => {
  const counters = new BusinessMetrics();
  counters.orderPlaced(1250);
  counters.orderPlaced(750);
  counters.cacheHit();
  counters.cacheMiss();
  counters.queueLag(1.5);
  counters.queueLag(-3); // a clock a little behind SQS's: never a negative lag
  counters.shopperSeen("s");
  expect(counters.take()).toEqual({
    ordersPlaced: 2,
    revenueCents: 2000,
    activeShoppers: 1,
    cacheHits: 1,
    cacheMisses: 1,
    queueLagSeconds: [1.5, 0],
  });
  expect(counters.take()).toEqual({
    ordersPlaced: 0,
    revenueCents: 0,
    activeShoppers: 1,
    cacheHits: 0,
    cacheMisses: 0,
    queueLagSeconds: [],
  });
});

test("nothing is published, and the library is never loaded, without AWS_EMF_ENVIRONMENT", () => {
  expect(
    startMetricsPublisher(
      { AWS_EMF_AGENT_ENDPOINT: "tcp://127.0.0.1:25888", AWS_EMF_NAMESPACE: "ScaleLadder/Shop" },
      { service: "shop-server", logger: testLogger(), publishes: [] },
    ),
  ).toBeUndefined();
  expect(Object.keys(require.cache).some((file) => file.includes("aws-embedded-metrics"))).toBe(false);
});

test("Local: one EMF record on stdout, in the configured namespace, with no dimensions", async () => {
  const lines: string[] = [];
  const spy = jest.spyOn(console, "log").mockImplementation((line: unknown) => {
    lines.push(String(line));
  });
  try {
    const counters = new BusinessMetrics();
    const publisher = startMetricsPublisher(
      { AWS_EMF_ENVIRONMENT: "Local", AWS_EMF_AGENT_ENDPOINT: "tcp://127.0.0.1:25888", AWS_EMF_NAMESPACE: "Test/Shop" },
      {
        service: "shop-server",
        logger: testLogger(),
        publishes: ["OrdersPlaced", "Revenue", "QueueLagSeconds"],
        source: counters,
      },
    )!;
    counters.orderPlaced(999);
    counters.queueLag(2);
    counters.queueLag(4);
    await publisher.flush();
    await publisher.stop(); // the last record: zero counters, no lag samples
    expect(lines).toHaveLength(2);
    const [first, last] = lines.map((line) => JSON.parse(line));
    expect(first).toEqual({
      service: "shop-server",
      OrdersPlaced: 1,
      Revenue: 9.99,
      QueueLagSeconds: [2, 4],
      _aws: {
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [
          {
            Namespace: "Test/Shop",
            Dimensions: [[]],
            Metrics: expect.arrayContaining([
              { Name: "OrdersPlaced", Unit: "Count" },
              { Name: "Revenue", Unit: "None" },
              { Name: "QueueLagSeconds", Unit: "Seconds" },
            ]),
          },
        ],
      },
    });
    expect(first._aws.CloudWatchMetrics[0].Metrics).toHaveLength(3);
    expect(last).toMatchObject({ OrdersPlaced: 0, Revenue: 0 });
    expect(last).not.toHaveProperty("QueueLagSeconds");
  } finally {
    spy.mockRestore();
  }
});
