/**
 * GET /admin/stats (app/src/http/process-stats.ts) on a real server (PostgreSQL with its replica, redis-server for
 * the cache) and a real worker: what it counts (the requests the access line logs, by status class, latency bucket,
 * cache outcome, database target; never the health checks nor itself), the token it needs, a poll every second
 * that never trips the admin rate limit while wrong tokens still do, and the business metrics kept cumulative
 * across the EMF publisher's takes.
 */
import { loadWorkerConfig } from "../../app/src/config";
import { LATENCY_BUCKETS_MS, type ProcessStatsBody, percentileFromBuckets } from "../../app/src/http/process-stats";
import { BusinessMetrics } from "../../app/src/metrics";
import { type RunningWorker, startWorker } from "../../app/src/start-worker";
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";
import { httpRequest } from "./support/http-client";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { ADMIN_TOKEN, testLogger } from "./support/test-app";

/** The admin limit of this file's server: small, so that a handful of wrong tokens reach it. */
const ADMIN_LIMIT = 3;

let redis: RedisServer;
let suite: Suite;
let shop: ShopInstance;

beforeAll(async () => {
  redis = await startRedisServer();
  suite = await openSuite("process-stats");
  shop = await startShop(suite, {
    REDIS_URL: redis.url,
    PROCESS_NAME: "web-7",
    AWS_REGION: "eu-west-1",
    RATE_LIMIT_ADMIN_PER_MINUTE: String(ADMIN_LIMIT),
  });
});
afterAll(async () => {
  await shop?.close();
  await suite?.close();
  await redis?.stop();
});

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function stats(): Promise<ProcessStatsBody> {
  const response = await shop.request({ path: "/admin/stats", headers: admin });
  expect(response.status).toBe(200);
  return response.json<ProcessStatsBody>();
}

/** `after - before`, key by key (a key new in `after` counts from 0). */
function delta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}

test("counts each request once where its access line is written: status class, latency, cache, database", async () => {
  const before = await stats();
  expect(before).toMatchObject({ process: "web-7", region: "eu-west-1", kind: "web" });
  expect(Number.isNaN(Date.parse(before.startedAt))).toBe(false);

  expect((await shop.request({ path: "/api/products/17" })).status).toBe(200); // a miss: read from a database
  expect((await shop.request({ path: "/api/products/17" })).status).toBe(200); // a hit
  expect((await shop.request({ path: "/api/products/999999" })).status).toBe(404);
  expect((await shop.request({ path: "/nowhere" })).status).toBe(404);
  // Not counted: the health checks and the stats route itself.
  for (const path of ["/healthz", "/readyz", "/healthz"]) expect((await shop.request({ path })).status).toBe(200);
  await stats();

  const after = await stats();
  expect(after.requests.total - before.requests.total).toBe(4);
  expect(delta(before.requests.byStatusClass, after.requests.byStatusClass)).toEqual({
    "2xx": 2,
    "3xx": 0,
    "4xx": 2,
    "5xx": 0,
    aborted: 0,
  });
  expect(after.requests.latencyMs.buckets).toEqual(LATENCY_BUCKETS_MS);
  expect(after.requests.latencyMs.counts).toHaveLength(LATENCY_BUCKETS_MS.length + 1);
  const window = after.requests.latencyMs.counts.map((n, i) => n - before.requests.latencyMs.counts[i]);
  expect(window.reduce((a, b) => a + b, 0)).toBe(4);
  // The 404 of an unknown product reads the database and the cache too: two misses, one hit.
  expect(delta(before.cache, after.cache)).toEqual({ hit: 1, miss: 2, bypass: 0 });
  const reads = delta(before.db, after.db);
  expect(Object.keys(reads).every((target) => /^(primary|replica-\d+)$/.test(target))).toBe(true);
  expect(Object.values(reads).reduce((a, b) => a + b, 0)).toBe(2);
  // The business metrics ride along, cumulative: the two reads the cache served or missed counted there too.
  expect(after.business.cacheHits - before.business.cacheHits).toBe(1);
  expect(after.business.cacheMisses - before.business.cacheMisses).toBe(2);
});

test("needs the admin token; a reader with it is never rate limited, wrong tokens are", async () => {
  expect((await shop.request({ path: "/admin/stats" })).status).toBe(401);
  // A console polling once a second for a minute and more: many times the admin limit, every answer a 200.
  for (let i = 0; i < ADMIN_LIMIT * 5; i++) await stats();
  const wrong = { authorization: "Bearer not-the-token-at-all-0123456789-abcdefghij" };
  const statuses: number[] = [];
  for (let i = 0; i < ADMIN_LIMIT + 1; i++)
    statuses.push((await shop.request({ path: "/admin/stats", headers: wrong })).status);
  // The token-less request above counted as the first refusal.
  expect(statuses).toEqual([401, 401, 429, 429]);
  // The valid token still reads: the poll is not locked out by the guesser's refusals.
  await stats();
});

test("a worker serves its figures on its health listener: no requests of its own, the business metrics", async () => {
  let worker: RunningWorker | undefined;
  try {
    worker = await startWorker(
      loadWorkerConfig({
        DATABASE_URL: suite.db.primaryUrl,
        HOST: "127.0.0.1",
        WORKER_HEALTH_PORT: "0",
        PROCESS_NAME: "worker-2",
        LOG_LEVEL: "silent",
      }),
      testLogger(),
    );
    const address = worker.healthAddress!;
    for (const path of ["/healthz", "/readyz"]) expect((await httpRequest(address, { path })).status).toBe(200);
    const response = await httpRequest(address, { path: "/admin/stats" });
    expect(response.status).toBe(200);
    const body = response.json<ProcessStatsBody>();
    expect(body).toMatchObject({ process: "worker-2", kind: "worker", requests: { total: 0 } });
    expect(Object.keys(body.business).sort()).toEqual([
      "activeShoppers",
      "cacheHits",
      "cacheMisses",
      "ordersPlaced",
      "queueLagSecondsSum",
      "queueMessages",
      "revenueCents",
    ]);
  } finally {
    await worker?.close();
  }
});

test("business totals stay cumulative across the publisher's takes", () => {
  const counters = new BusinessMetrics(() => 1_000);
  counters.orderPlaced(1250);
  counters.cacheHit();
  counters.queueLag(2);
  counters.take(["OrdersPlaced", "Revenue", "CacheHits", "QueueLagSeconds"]);
  counters.orderPlaced(750);
  counters.queueLag(4);
  counters.shopperSeen("s-1");
  expect(counters.totals()).toEqual({
    ordersPlaced: 2,
    revenueCents: 2000,
    activeShoppers: 1,
    cacheHits: 1,
    cacheMisses: 0,
    queueMessages: 2,
    queueLagSecondsSum: 6,
  });
});

test("percentiles of a window come from its bucket counts, interpolated inside a bucket", () => {
  const buckets = [1, 2, 5, 10];
  // 100 requests: 50 at most 1 ms, 40 in (1, 2], 9 in (5, 10], 1 slower than 10 ms.
  const counts = [50, 40, 0, 9, 1];
  expect(percentileFromBuckets(buckets, counts, 0.5)).toBe(1);
  expect(percentileFromBuckets(buckets, counts, 0.9)).toBe(2);
  expect(percentileFromBuckets(buckets, counts, 0.95)).toBeCloseTo(5 + (5 * 5) / 9, 6);
  expect(percentileFromBuckets(buckets, counts, 1)).toBe(10);
  expect(percentileFromBuckets(buckets, [0, 0, 0, 0, 0], 0.5)).toBeUndefined();
  expect(() => percentileFromBuckets(buckets, [1, 2], 0.5)).toThrow(/counts must have 5 entries/);
  expect(() => percentileFromBuckets(buckets, counts, 0)).toThrow(/q must be in \(0, 1\], got 0/);
});
