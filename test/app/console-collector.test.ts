/**
 * The console's figures collector (scripts/local/console/collector.ts) against real HTTP servers standing in for app
 * processes: one shared poll at most once a second however many pages ask, a process that accepts connections and
 * never answers shows as "no answer" without holding the poll back, rates come from the difference of two polls,
 * and a service whose health changes between two polls leaves an event in the log.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { LATENCY_BUCKETS_MS, type ProcessStatsBody } from "../../app/src/http/process-stats";
import { type ConsoleSource, FiguresCollector, POLL_INTERVAL_MS } from "../../scripts/local/console/collector";
import { EventLog } from "../../scripts/local/console/events";
import { pollUntil } from "../../lib/servers/poll";

const servers: http.Server[] = [];
let calls = 0;

/** A web process whose every poll finds 10 more requests, all 2xx in the 5-10 ms bucket. */
function statsBody(): ProcessStatsBody {
  calls++;
  const counts = LATENCY_BUCKETS_MS.map(() => 0).concat(0);
  counts[3] = calls * 10;
  return {
    process: "web-1",
    kind: "web",
    startedAt: "2026-01-01T00:00:00.000Z",
    requests: {
      total: calls * 10,
      byStatusClass: { "2xx": calls * 10, "3xx": 0, "4xx": 0, "5xx": 0, aborted: 0 },
      latencyMs: { buckets: LATENCY_BUCKETS_MS, counts },
    },
    cache: { hit: calls * 9, miss: calls, bypass: 0 },
    db: { "replica-1": calls },
    shard: {},
    business: {
      ordersPlaced: 0,
      revenueCents: 0,
      activeShoppers: 3,
      cacheHits: calls * 9,
      cacheMisses: calls,
      queueMessages: 0,
      queueLagSecondsSum: 0,
    },
  };
}

async function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

test("one shared poll a second for any number of pages; a process that never answers holds nothing back", async () => {
  const tokens = new Set<string | undefined>();
  const good = await listen((req, res) => {
    tokens.add(req.headers.authorization);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(statsBody()));
  });
  // Accepts the connection, reads the request, never answers: a process stopped with SIGSTOP looks like this.
  const hung = await listen(() => undefined);
  let redisUp = true;
  const row = (name: string, kind: string) => ({ name, kind, url: "", running: true });
  const source: ConsoleSource = {
    step: () => 5,
    services: () => [
      { row: row("web-1", "web"), health: async () => true },
      { row: row("web-2", "web"), health: () => new Promise<boolean>(() => undefined) },
      { row: row("redis", "redis"), health: async () => redisUp },
    ],
    apps: () => [
      { name: "web-1", kind: "web", region: "us-east-1", url: good },
      { name: "web-2", kind: "web", region: "us-east-1", url: hung },
    ],
    adminToken: () => "token-of-the-test",
    catalog: () => ({
      primary: { name: "primary", port: 1, database: "shop", user: "shop", password: () => "" },
      replicas: [],
    }),
    orderDatabases: () => [],
    queues: () => [],
  };
  const events = new EventLog();
  const collector = new FiguresCollector(source, events);
  const started = Date.now();
  try {
    // Twenty pages, each asking every 50 ms; Redis goes down once two polls have seen it up.
    const pages = setInterval(() => {
      for (let page = 0; page < 20; page++) collector.demand();
    }, 50);
    try {
      await pollUntil("two polls", async () => (collector.figures()?.seq ?? 0) >= 2, { timeoutMs: 20_000 });
      redisUp = false;
      await pollUntil("redis's health event", async () => events.since().length > 0, { timeoutMs: 20_000 });
    } finally {
      clearInterval(pages);
    }
    const elapsed = Date.now() - started;
    const polls = collector.pollCount();
    expect(polls).toBeGreaterThanOrEqual(2);
    expect(polls).toBeLessThanOrEqual(Math.floor(elapsed / POLL_INTERVAL_MS) + 1);
    // The last poll may still be under way.
    expect(calls).toBeGreaterThanOrEqual(polls - 1);
    expect(calls).toBeLessThanOrEqual(polls);
    expect([...tokens]).toEqual(["Bearer token-of-the-test"]);

    const figures = collector.figures()!;
    expect(figures.seq).toBeGreaterThanOrEqual(polls - 1);
    const [web1, web2] = figures.web;
    expect(web1).toMatchObject({ name: "web-1", answered: true });
    expect(web1.requestsPerSecond).toBeGreaterThan(0);
    // Every request of the window is in the (5, 10] ms bucket.
    expect(web1.p50Ms).toBeGreaterThan(5);
    expect(web1.p99Ms).toBeLessThanOrEqual(10);
    expect(web2).toMatchObject({ name: "web-2", answered: false, requestsPerSecond: null });
    expect(figures.cache).toEqual({ hits: 9, misses: 1, bypass: 0, hitRatio: 0.9 });
    expect(Object.keys(figures.readsPerSecond)).toEqual(["replica-1"]);
    expect(figures.business.activeShoppers).toBe(3);

    const health = Object.fromEntries(collector.services().map((service) => [service.name, service.healthy]));
    expect(health).toEqual({ "web-1": true, "web-2": null, redis: false });
    expect(events.since().map((e) => [e.kind, e.text])).toEqual([["health", "redis is down"]]);
  } finally {
    await collector.stop();
  }
});
