/**
 * Issue 15, item 6: a secondary region starts and serves reads while the primary region is down. Its servers reach
 * the catalog's primary over the peering, and a region that is down drops packets: connections are neither refused
 * nor answered. Such a server used to fail its start (start-up migrates and seeds on the primary first), so an
 * instance launched during the outage never served; and a worker exited into a crash loop.
 *
 * Real parts: the run's PostgreSQL primary and its streaming replica hold this file's database, migrated and seeded
 * by a primary-region start. The "primary region" is a TCP relay in front of the real primary that holds every
 * connection unanswered (down) or passes it through (back), so the same server sees the outage end.
 */
import { type Server, type Socket, connect, createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { loadConfig, loadWorkerConfig } from "../../app/src/config";
import { prepareDatabase } from "../../app/src/db/prepare";
import { createDbRouter } from "../../app/src/db/router";
import { MIGRATIONS_DIR } from "../../app/src/paths";
import { type RunningServer, startServer } from "../../app/src/start-server";
import { type RunningWorker, startWorker } from "../../app/src/start-worker";
import { pollUntil } from "../../lib/servers/poll";
import { freePort, readCluster } from "../../lib/servers/postgres-cluster";
import { httpRequest } from "./support/http-client";
import { Shopper } from "./support/shopper";
import { ADMIN_TOKEN, TEST_SEED_PRODUCTS, testEnv, testLogger } from "./support/test-app";
import { type SuiteDatabase, createSuiteDatabase, lockReplica, waitForReplica } from "./support/test-database";

/** The primary region as this region's servers reach it: `down` holds connections unanswered, `up` relays them. */
class PrimaryRegion {
  state: "down" | "up" = "down";
  /** Connections this region was asked for. */
  connections = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly primaryPort: number) {
    this.server = createServer((socket) => {
      this.track(socket);
      this.connections += 1;
      if (this.state === "down") return; // a dropped SYN-ACK's worth of silence: the client's timeout ends it
      const upstream = connect(this.primaryPort, "127.0.0.1");
      this.track(upstream);
      socket.pipe(upstream).pipe(socket);
    });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.sockets.delete(socket));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return String((this.server.address() as AddressInfo).port);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Times `work`, ms. */
async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await work();
  return { ms: performance.now() - start, result };
}

let db: SuiteDatabase;
let unlock: () => Promise<void>;
let region: PrimaryRegion;
let env: Record<string, string>;
let server: RunningServer | undefined;
let worker: RunningWorker | undefined;
const logger = testLogger();

beforeAll(async () => {
  unlock = await lockReplica(await readCluster(), "shared");
  db = await createSuiteDatabase("secondary-region");
  // The primary region's servers migrated and seeded the catalog before the outage; the replica has it all.
  const primaryRouter = createDbRouter(loadConfig(testEnv(db)), logger);
  await prepareDatabase(primaryRouter.primaryPool, {
    migrationsDir: MIGRATIONS_DIR,
    seedProducts: TEST_SEED_PRODUCTS,
    logger,
  });
  await primaryRouter.close();
  await waitForReplica(db.cluster);
  region = new PrimaryRegion(db.cluster.primary.port);
  const relayPort = await region.listen();
  env = testEnv(db, {
    DATABASE_URL: db.primaryUrl.replace(/:\d+\//, `:${relayPort}/`),
    PORT: "0",
    // A connect that no one answers ends here: the start, and /readyz's probe of the primary, wait this long.
    DB_CONNECT_TIMEOUT_MS: "1000",
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await worker?.close();
  await region?.close();
  await db?.drop();
  await unlock?.();
});

test("primary region down: a server starts from the replica, serves reads, refuses writes at once", async () => {
  server = await startServer(loadConfig(env), logger);
  const url = server.address;
  const get = (path: string) => httpRequest(url, { path });

  const ready = await get("/readyz");
  expect([ready.status, ready.json()]).toEqual([
    200,
    {
      status: "degraded",
      checks: [
        { name: "primary", ok: false },
        { name: "replica-1", ok: true },
      ],
    },
  ]);
  const list = await get("/api/products?limit=5");
  expect(list.status).toBe(200);
  expect(list.json().items).toHaveLength(5);
  expect((await get("/api/products/1")).status).toBe(200);
  expect((await get("/")).status).toBe(200);

  // A shopper's cart is in this server's memory at this step; the order is the write the primary must take.
  const shopper = new Shopper({ request: (request) => httpRequest(url, request) });
  expect((await shopper.post("/api/cart/items", { productId: 1, quantity: 1 })).status).toBe(200);
  const body = {
    error: "primary_unavailable",
    message: "The primary database is not reachable: changes are refused until it answers again; browsing still works",
    details: { down: ["primary"] },
  };
  for (let i = 0; i < 3; i++) {
    const checkout = await timed(() => shopper.post("/api/checkout"));
    expect([checkout.result.status, checkout.result.json(), checkout.result.headers["retry-after"]]).toEqual([
      503,
      body,
      "5",
    ]);
    expect(checkout.ms).toBeLessThan(1000);
  }
  const create = await timed(() =>
    httpRequest(url, {
      method: "POST",
      path: "/api/products",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: { sku: "SECONDARY-1", name: "Written without its primary", category: "test", priceCents: 100, stock: 1 },
    }),
  );
  expect([create.result.status, create.result.json()]).toEqual([503, body]);
  expect(create.ms).toBeLessThan(1000);

  // The primary region comes back: the same server takes writes again, with no restart.
  region.state = "up";
  await pollUntil("the checkout to go through", async () => (await shopper.post("/api/checkout")).status < 300, {
    intervalMs: 200,
  });
  expect((await get("/readyz")).json().status).toBe("ready");
}, 60_000);

test("a worker whose primary is unreachable waits, answering /readyz 503, and starts once it answers", async () => {
  region.state = "down";
  const healthPort = await freePort();
  const starting = startWorker(
    loadWorkerConfig({ ...env, WORKER_HEALTH_PORT: String(healthPort), HOST: "127.0.0.1" }),
    logger,
  );
  let settled = false;
  void starting.then(
    () => (settled = true),
    () => (settled = true),
  );
  const health = `http://127.0.0.1:${healthPort}`;
  let readyz: Awaited<ReturnType<typeof httpRequest>> | undefined;
  await pollUntil("the worker's /readyz", async () => {
    readyz = await httpRequest(health, { path: "/readyz" }).catch(() => undefined);
    return readyz !== undefined;
  });
  expect([readyz!.status, readyz!.json()]).toEqual([
    503,
    { error: "not_ready", message: "Not reachable: primary", details: { failing: ["primary"] } },
  ]);
  // Attempt after attempt, it still waits: it neither exited nor gave up.
  const before = region.connections;
  await pollUntil("two more attempts to reach the primary", async () => region.connections >= before + 2);
  expect(settled).toBe(false);
  expect((await httpRequest(health, { path: "/readyz" })).status).toBe(503);

  region.state = "up";
  worker = await starting;
  expect(worker.healthAddress).toBe(health);
  expect((await httpRequest(health, { path: "/readyz" })).status).toBe(200);
}, 60_000);
