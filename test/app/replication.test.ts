/**
 * The primary/replica router against a real streaming replica: reads on the replica, read-your-writes while the
 * replica lags (replay paused), and a replica stopped mid-test whose reads the primary takes over.
 *
 * This file pauses and stops the shared replica, so it holds the replica lock exclusively (see test-database.ts).
 * The router's cool-off runs on a clock the test moves, so nothing here waits for time to pass.
 */
import { type Server, createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../../app/src/config";
import { type DbRouter, type TargetStats, createDbRouter } from "../../app/src/db/router";
import { serverPid, startServer, stopServer } from "../../lib/servers/postgres-cluster";
import { Shopper } from "./support/shopper";
import { type TestApp, startTestApp, testEnv, testLogger } from "./support/test-app";
import { pauseReplay, resumeReplay, waitForReplica, withClient } from "./support/test-database";

const COOLDOWN_MS = 30_000;
let now = 1_000_000;
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp("replication", {
    replicaLock: "exclusive",
    clock: () => now,
    env: { REPLICA_COOLDOWN_MS: String(COOLDOWN_MS) },
  });
});

afterAll(async () => {
  // Leave the shared replica as the run found it, whatever a failed test left behind.
  const cluster = t?.db.cluster;
  if (cluster) {
    if ((await serverPid(cluster.replica.dataDir)) === undefined) await startServer(cluster, cluster.replica);
    await withClient(cluster, cluster.replica, "postgres", (client) => client.query("SELECT pg_wal_replay_resume()"));
  }
  await t?.close();
});

function stat(name: string, router: DbRouter = t.router): TargetStats {
  const found = router.stats().find((target) => target.name === name);
  if (!found) throw new Error(`no target ${name}`);
  return found;
}

/** Inserts a product straight into the primary (not through the API, so no session learns of the write). */
async function insertOnPrimary(sku: string, stock = 10): Promise<number> {
  const { rows } = await t.router.primaryPool.query<{ id: number }>(
    "INSERT INTO products (sku, name, category, price_cents, stock) VALUES ($1, $1, 'test', 100, $2) RETURNING id",
    [sku, stock],
  );
  return rows[0].id;
}

test("reads are served by the replica: a row only the primary has is not found while replay is paused", async () => {
  await pauseReplay(t.db.cluster);
  try {
    const id = await insertOnPrimary("REPL-0001");
    const before = stat("replica-1").served;
    const response = await t.request({ path: `/api/products/${id}` });
    expect(response.status).toBe(404);
    expect(stat("replica-1").served).toBe(before + 1);
    await resumeReplay(t.db.cluster);
    expect((await t.request({ path: `/api/products/${id}` })).status).toBe(200);
  } finally {
    await resumeReplay(t.db.cluster);
  }
  const sessions = await withClient(t.db.cluster, t.db.cluster.replica, "postgres", (client) =>
    client.query("SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = $1", [t.db.name]),
  );
  expect(sessions.rows).toContainEqual({ application_name: "shop:replica-1" });
});

test("read-your-writes: after checkout the shopper sees the order and new stock at once; replica lags", async () => {
  const shopper = new Shopper(t);
  await shopper.post("/api/cart/items", { productId: 70, quantity: 2 });
  const stockBefore = (await t.request({ path: "/api/products/70" })).json().stock;
  await pauseReplay(t.db.cluster);
  try {
    const primaryBefore = stat("primary").served;
    const checkout = await shopper.post("/api/checkout");
    expect(checkout.status).toBe(201);
    const { orderId } = checkout.json();

    expect((await shopper.get(`/api/orders/${orderId}`)).status).toBe(200);
    expect((await shopper.get("/api/orders")).json().items.map((o: { orderId: string }) => o.orderId)).toEqual([
      orderId,
    ]);
    expect((await shopper.get("/api/products/70")).json().stock).toBe(stockBefore - 2);
    // checkout (1) and the three reads above (3) ran on the primary; the paused replica would have missed them.
    expect(stat("primary").served).toBe(primaryBefore + 4);

    // Anyone else still reads the lagging replica: the lag is real.
    expect((await t.request({ path: "/api/products/70" })).json().stock).toBe(stockBefore);
  } finally {
    await resumeReplay(t.db.cluster);
  }
  // Once the replica has replayed the shopper's write, their reads go back to it.
  const [primaryServed, replicaServed] = [stat("primary").served, stat("replica-1").served];
  expect((await shopper.get("/api/orders")).json().items).toHaveLength(1);
  expect(stat("primary").served).toBe(primaryServed);
  expect(stat("replica-1").served).toBe(replicaServed + 1);
});

test("a replica stopped mid-test: reads go to the primary, /readyz (200) names it, it rejoins later", async () => {
  const cluster = t.db.cluster;
  expect((await t.request({ path: "/readyz" })).status).toBe(200);
  await stopServer(cluster.replica);
  try {
    // Only the primary has this row, and only the primary is running: a 200 can only come from it.
    const id = await insertOnPrimary("REPL-0002");
    const primaryBefore = stat("primary").served;
    const first = await t.request({ path: `/api/products/${id}` });
    expect(first.status).toBe(200);
    expect(first.json().sku).toBe("REPL-0002");
    expect(stat("primary").served).toBe(primaryBefore + 1);
    expect(stat("replica-1")).toMatchObject({ down: true });
    const failures = stat("replica-1").failures;
    expect(failures).toBeGreaterThanOrEqual(1);

    // During the cool-off the replica is not even tried.
    for (let i = 0; i < 5; i += 1) expect((await t.request({ path: "/api/products?limit=5" })).status).toBe(200);
    expect(stat("replica-1").failures).toBe(failures);
    expect(stat("primary").served).toBe(primaryBefore + 6);

    // Degraded, not out of rotation: the primary serves the reads (see routes/health.ts).
    const ready = await t.request({ path: "/readyz" });
    expect(ready.status).toBe(200);
    expect(ready.json()).toMatchObject({
      status: "degraded",
      checks: expect.arrayContaining([{ name: "replica-1", ok: false }]),
    });
    expect((await t.request({ path: "/healthz" })).status).toBe(200);
  } finally {
    await startServer(cluster, cluster.replica);
    await waitForReplica(cluster);
  }
  // Still inside the cool-off: reads stay on the primary even though the replica is back.
  const replicaServed = stat("replica-1").served;
  await t.request({ path: "/api/products/1" });
  expect(stat("replica-1").served).toBe(replicaServed);
  now += COOLDOWN_MS + 1;
  expect((await t.request({ path: "/api/products/1" })).status).toBe(200);
  expect(stat("replica-1").served).toBe(replicaServed + 1);
  expect(stat("replica-1").down).toBe(false);
  expect((await t.request({ path: "/readyz" })).status).toBe(200);
});

describe("with several replicas", () => {
  const routers: DbRouter[] = [];
  const sockets = new Set<Socket>();
  let silent: Server;

  /** A router (no app needed) over the suite's primary and the given replica URLs, on the test's clock. */
  function routerFor(replicaUrls: string[], extra: Record<string, string> = {}): DbRouter {
    const config = loadConfig(testEnv(t.db, { DATABASE_REPLICA_URLS: replicaUrls.join(","), ...extra }));
    const router = createDbRouter(config, testLogger(), () => now);
    routers.push(router);
    return router;
  }

  beforeAll(async () => {
    // A "replica" that accepts connections and never answers: the timeout case.
    silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    await Promise.all(routers.map((router) => router.close()));
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  test("reads go round-robin over healthy replicas", async () => {
    const router = routerFor([t.db.replicaUrl, t.db.replicaUrl]);
    for (let i = 0; i < 6; i += 1) await router.read("SELECT 1");
    expect(router.stats().map((s) => [s.name, s.served])).toEqual([
      ["primary", 0],
      ["replica-1", 3],
      ["replica-2", 3],
    ]);
  });

  test("a read failing on an unreachable replica is retried once on the next, which then takes all reads", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const router = routerFor([t.db.replicaUrl.replace(/:\d+\//, `:${closedPort}/`), t.db.replicaUrl]);
    const { rows } = await router.read<{ n: number }>("SELECT count(*)::int AS n FROM products");
    expect(rows[0].n).toBeGreaterThan(0);
    expect(stat("replica-1", router)).toMatchObject({ served: 0, failures: 1, down: true });
    expect(stat("replica-2", router)).toMatchObject({ served: 1, failures: 0 });
    for (let i = 0; i < 4; i += 1) await router.read("SELECT 1");
    expect(stat("replica-2", router).served).toBe(5);
    expect(stat("replica-1", router).failures).toBe(1);
    expect(stat("primary", router).served).toBe(0);
  });

  test("a replica that does not answer in time counts as failed; the read falls back to the primary", async () => {
    const { port } = silent.address() as AddressInfo;
    const router = routerFor([t.db.replicaUrl.replace(/:\d+\//, `:${port}/`)], { DB_CONNECT_TIMEOUT_MS: "300" });
    const { rows } = await router.read<{ ok: number }>("SELECT 1 AS ok");
    expect(rows).toEqual([{ ok: 1 }]);
    expect(stat("replica-1", router)).toMatchObject({ failures: 1, down: true });
    expect(stat("primary", router).served).toBe(1);
  });

  test("an error in the query itself is not retried and does not take the replica out", async () => {
    const router = routerFor([t.db.replicaUrl]);
    await expect(router.read("SELECT 1 / 0")).rejects.toMatchObject({ code: "22012" });
    expect(stat("replica-1", router)).toMatchObject({ failures: 0, down: false });
    expect(stat("primary", router).served).toBe(0);
  });
});
