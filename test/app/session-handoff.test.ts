/**
 * Carts survive the replacement of the process that held them in memory (issue 15): the process hands its sessions
 * over (POST /admin/sessions/handoff; session/handoff.ts) and stops, and the shopper's next request, on another
 * process, finds the cart: a memory-session process (a roll at steps 3-6) or a Redis-session one (the 6 -> 7 climb).
 * A change made after the handoff arrives too; a checkout's rotation is not undone; two processes missing the same
 * session at once do not both get it; and a process that holds the session asks no database for it.
 */
import type { Session } from "fastify";
import { Pool } from "pg";
import type { Logger } from "../../app/src/logger";
import { HandoffSessionStore } from "../../app/src/session/handoff";
import { MemorySessionStore } from "../../app/src/session/memory-store";
import { freePort } from "../../lib/servers/postgres-cluster";
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";
import { type ShopInstance, type Suite, databaseReads, openSuite, startShop } from "./support/shop-instances";
import { Shopper } from "./support/shopper";
import { ADMIN_TOKEN, testLogger } from "./support/test-app";
import { startAll } from "./support/start-all";

let suite: Suite;
let redis: RedisServer;
/** Processes that outlive the tests: the ones that take shoppers over. */
let memoryA: ShopInstance;
let memoryB: ShopInstance;
let redisA: ShopInstance;
let redisB: ShopInstance;
const leftOpen: ShopInstance[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  suite = await openSuite("session_handoff");
  const redisEnv = { SESSION_STORE: "redis", SESSION_REDIS_URL: redis.url };
  const close = (shop: ShopInstance) => shop.close();
  [memoryA, memoryB, redisA, redisB] = await startAll([
    [startShop(suite), close],
    [startShop(suite), close],
    [startShop(suite, redisEnv), close],
    [startShop(suite, redisEnv), close],
  ]);
});
afterAll(async () => {
  for (const shop of [...leftOpen, memoryA, memoryB, redisA, redisB]) await shop?.close();
  await suite?.close();
  await redis?.stop();
});

/** A memory-session process that will be replaced. */
async function outgoing(): Promise<ShopInstance> {
  const shop = await startShop(suite);
  leftOpen.push(shop);
  return shop;
}

/** Stops `shop` (once). */
async function stop(shop: ShopInstance): Promise<void> {
  leftOpen.splice(leftOpen.indexOf(shop), 1);
  await shop.close();
}

async function handOver(shop: ShopInstance): Promise<number> {
  const response = await shop.request({
    method: "POST",
    path: "/admin/sessions/handoff",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect([response.status, response.text]).toEqual([200, expect.any(String)]);
  return response.json().sessions as number;
}

/** The same browser (its cookie), now sent to `shop` by the load balancer. */
function movedTo(shop: ShopInstance, shopper: Shopper): Shopper {
  const moved = new Shopper(shop);
  moved.cookie = shopper.cookie;
  return moved;
}

/** The session id a signed cookie value names (`<id>.<signature>`, URL-encoded). */
const sessionIdOf = (cookie: string | undefined): string => decodeURIComponent(cookie ?? "").split(".")[0];

async function handoffRows(sessionId: string): Promise<number> {
  const { rows } = await memoryA.router.primaryPool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM session_handoff WHERE sid = $1",
    [sessionId],
  );
  return rows[0].n;
}

/** Lines of a cart, as `[productId, quantity]`. */
async function cartOf(shopper: Shopper): Promise<Array<[number, number]>> {
  const response = await shopper.get("/api/cart");
  expect(response.status).toBe(200);
  return (response.json().items as Array<{ productId: number; quantity: number }>).map((item) => [
    item.productId,
    item.quantity,
  ]);
}

async function fill(shopper: Shopper, lines: Array<[number, number]>): Promise<void> {
  for (const [productId, quantity] of lines)
    expect((await shopper.post("/api/cart/items", { productId, quantity })).status).toBe(200);
}

test("a memory cart is there after its process hands over and stops, on another memory process (3-6)", async () => {
  const old = await outgoing();
  const shopper = new Shopper(old);
  await fill(shopper, [
    [11, 2],
    [12, 1],
  ]);
  expect(await handOver(old)).toBe(1);
  await stop(old);

  const moved = movedTo(memoryA, shopper);
  expect(await cartOf(moved)).toEqual([
    [11, 2],
    [12, 1],
  ]);
  // Claimed: the session is now memoryA's, under the same id, and gone from the table.
  expect(await handoffRows(sessionIdOf(shopper.cookie))).toBe(0);
  await fill(moved, [[13, 1]]);
  expect(sessionIdOf(moved.cookie)).toBe(sessionIdOf(shopper.cookie));
  expect(await cartOf(moved)).toEqual([
    [11, 2],
    [12, 1],
    [13, 1],
  ]);
});

test("through a Redis-session process (6 -> 7), after which any Redis process serves it", async () => {
  const old = await outgoing();
  const shoppers = [new Shopper(old), new Shopper(old), new Shopper(old)];
  for (const [i, shopper] of shoppers.entries()) await fill(shopper, [[20 + i, i + 1]]);
  expect(await handOver(old)).toBe(3);
  await stop(old);

  for (const [i, shopper] of shoppers.entries()) {
    // The first read lands on either Redis process; the session is in Redis from then on, for both.
    expect(await cartOf(movedTo(i % 2 === 0 ? redisA : redisB, shopper))).toEqual([[20 + i, i + 1]]);
    expect(await cartOf(movedTo(i % 2 === 0 ? redisB : redisA, shopper))).toEqual([[20 + i, i + 1]]);
  }
  // A Redis process has nothing in memory to hand over; nor has a memory process that never had a shopper.
  expect(await handOver(redisA)).toBe(0);
  expect(await handOver(await outgoing())).toBe(0);
});

test("a session changed after the handoff arrives with its latest content (written through)", async () => {
  const old = await outgoing();
  const shopper = new Shopper(old);
  await fill(shopper, [[31, 1]]);
  expect(await handOver(old)).toBe(1);
  // The process drains: its shoppers go on shopping on it until the load balancer moves them.
  await fill(shopper, [
    [32, 3],
    [31, 1],
  ]);
  expect((await shopper.delete("/api/cart/items/32")).status).toBe(200);
  await fill(shopper, [[33, 1]]);
  // A shopper who arrives only now is carried over too.
  const late = new Shopper(old);
  await fill(late, [[34, 4]]);
  await stop(old);

  expect(await cartOf(movedTo(memoryB, shopper))).toEqual([
    [31, 2],
    [33, 1],
  ]);
  expect(await cartOf(movedTo(redisA, late))).toEqual([[34, 4]]);
});

test("a process that is itself handing over passes on the sessions it claims", async () => {
  const first = await outgoing();
  const shopper = new Shopper(first);
  await fill(shopper, [[35, 2]]);
  expect(await handOver(first)).toBe(1);
  await stop(first);
  // The next process is already being drained when the shopper reaches it.
  const second = await outgoing();
  expect(await handOver(second)).toBe(0);
  expect(await cartOf(movedTo(second, shopper))).toEqual([[35, 2]]);
  await stop(second);
  expect(await cartOf(movedTo(memoryB, shopper))).toEqual([[35, 2]]);
});

describe.each([
  { when: "before", productId: 41, to: "a memory process" },
  { when: "after", productId: 42, to: "a Redis process" },
])("a checkout $when the handoff, read on $to", ({ when, productId }) => {
  test("is not undone: the old id stays retired, the new one holds the shopper", async () => {
    const old = await outgoing();
    const shopper = new Shopper(old);
    await fill(shopper, [[productId, 1]]);
    const oldCookie = shopper.cookie;
    if (when === "after") expect(await handOver(old)).toBe(1);
    const checkout = await shopper.post("/api/checkout");
    expect(checkout.status).toBe(201);
    const { orderId } = checkout.json();
    expect(sessionIdOf(shopper.cookie)).not.toBe(sessionIdOf(oldCookie));
    // Both ids go over: the old one's tombstone and the new session (written through, after the handoff).
    if (when === "before") expect(await handOver(old)).toBe(2);
    await stop(old);

    const shop = when === "before" ? memoryB : redisB;
    // The old cookie, on another process: a stranger's, except that a replayed checkout names the order.
    const stale = new Shopper(shop);
    stale.cookie = oldCookie;
    expect(await cartOf(stale)).toEqual([]);
    expect((await stale.get("/api/orders")).json().items).toEqual([]);
    const replay = await stale.post("/api/checkout");
    expect([replay.status, replay.json()]).toEqual([200, { orderId, status: "placed" }]);
    expect(replay.headers["set-cookie"]).toBeUndefined();
    // The new cookie: the shopper, with their order and an empty cart.
    const moved = movedTo(shop, shopper);
    expect((await moved.get("/api/orders")).json().items).toEqual([expect.objectContaining({ orderId })]);
    expect(await cartOf(moved)).toEqual([]);
  });
});

test("two processes missing the same session at once: exactly one gets it", async () => {
  const old = await outgoing();
  const shoppers = Array.from({ length: 8 }, () => new Shopper(old));
  for (const [i, shopper] of shoppers.entries()) await fill(shopper, [[50 + i, 1]]);
  expect(await handOver(old)).toBe(8);
  await stop(old);

  for (const [i, shopper] of shoppers.entries()) {
    const carts = await Promise.all([cartOf(movedTo(memoryA, shopper)), cartOf(movedTo(memoryB, shopper))]);
    // One process claimed it (the DELETE ... RETURNING decides); the other read an empty cart and made no session.
    expect(carts.filter((cart) => cart.length > 0)).toEqual([[[50 + i, 1]]]);
    const winner = carts[0].length > 0 ? memoryA : memoryB;
    const loser = winner === memoryA ? memoryB : memoryA;
    expect(await cartOf(movedTo(winner, shopper))).toEqual([[50 + i, 1]]);
    expect(await cartOf(movedTo(loser, shopper))).toEqual([]);
  }
});

test("a hit asks the primary nothing more; a miss asks it once, to claim", async () => {
  const old = await outgoing();
  const shopper = new Shopper(old);
  await fill(shopper, [[61, 1]]);
  const stranger = new Shopper(old);
  await fill(stranger, [[62, 1]]);
  await handOver(old);
  await stop(old);
  const shop = memoryA;
  // Every use of the primary's pool checks a client out (pool.query does it too, through pool.connect).
  const primary = shop.router.primaryPool;
  const query = jest.spyOn(primary, "query");
  const connect = jest.spyOn(primary, "connect");
  const cost = async (shopperThere: Shopper) => {
    query.mockClear();
    connect.mockClear();
    const reads = databaseReads(shop.router);
    expect(await cartOf(shopperThere)).toHaveLength(1);
    return { primary: connect.mock.calls.length, reads: databaseReads(shop.router) - reads };
  };
  try {
    const moved = movedTo(shop, shopper);
    // The miss: one DELETE ... RETURNING on the primary; the cart's prices are read from the replica, as on a hit.
    expect(await cost(moved)).toEqual({ primary: 1, reads: 1 });
    expect(query.mock.calls[0][0]).toMatch(/^DELETE FROM session_handoff/);
    // The hits: no query beyond the cart's own read.
    expect(await cost(moved)).toEqual({ primary: 0, reads: 1 });
    expect(await cost(moved)).toEqual({ primary: 0, reads: 1 });
    // Another shopper's first visit claims theirs, once.
    expect(await cost(movedTo(shop, stranger))).toEqual({ primary: 1, reads: 1 });
  } finally {
    query.mockRestore();
    connect.mockRestore();
  }
});

test("a destroyed session leaves the table too, and a tombstone is never written over", async () => {
  const pool = memoryA.router.primaryPool;
  const memory = new MemorySessionStore();
  const store = new HandoffSessionStore(memory, { pool, logger: testLogger() });
  const call = (run: (done: (error?: unknown) => void) => void) =>
    new Promise<void>((resolve, reject) => run((error) => (error ? reject(error) : resolve())));
  const session = (n: number) =>
    ({ cookie: { expires: new Date(Date.now() + 60_000) }, shopperId: `shopper-${n}` }) as unknown as Session;
  try {
    const ids = ["handoff-destroy-1", "handoff-destroy-2"];
    for (const [n, id] of ids.entries()) await call((done) => store.set(id, session(n), done));
    expect(await store.handOver()).toBe(2);
    expect((await Promise.all(ids.map(handoffRows))).reduce((a, b) => a + b)).toBe(2);
    await call((done) => store.destroy(ids[0], done));
    expect(await handoffRows(ids[0])).toBe(0);
    const tombstone = { orderId: "00000000-0000-4000-8000-000000000001", shard: "main", cartId: "c", cartVersion: 1 };
    await call((done) => store.retire(ids[1], tombstone, done));
    const { rows } = await pool.query("SELECT data FROM session_handoff WHERE sid = $1", [ids[1]]);
    expect(rows).toEqual([{ data: { tombstone } }]);
    // Claimed by another store, it stays a tombstone there: a session written over it is refused.
    const elsewhere = new MemorySessionStore();
    const other = new HandoffSessionStore(elsewhere, { pool, logger: testLogger() });
    const claimed = await new Promise((resolve, reject) =>
      other.get(ids[1], (error, value) => (error ? reject(error) : resolve(value))),
    );
    expect(claimed).toEqual({ tombstone });
    await expect(call((done) => other.set(ids[1], session(9), done))).rejects.toMatchObject({ code: "session_ended" });
    elsewhere.close();
  } finally {
    memory.close();
  }
});

test("an unreachable primary is a miss, logged once per interval", async () => {
  // Nothing listens on the port: every claim fails at once, as with a primary that is down.
  const pool = new Pool({ connectionString: `postgres://shop@127.0.0.1:${await freePort()}/shop` });
  pool.on("error", () => undefined);
  const warn = jest.fn();
  const logger = { warn, debug: jest.fn(), info: jest.fn(), error: jest.fn() } as unknown as Logger;
  const memory = new MemorySessionStore();
  const store = new HandoffSessionStore(memory, { pool, logger, logIntervalMs: 60_000 });
  try {
    for (const id of ["unreachable-1", "unreachable-2", "unreachable-3"]) {
      const session = await new Promise((resolve, reject) =>
        store.get(id, (error, value) => (error ? reject(error) : resolve(value))),
      );
      expect(session).toBeNull();
    }
    expect(warn.mock.calls.map(([, message]) => message)).toEqual([
      "session handoff unreachable: a missed session was not claimed",
    ]);
  } finally {
    memory.close();
    await pool.end();
  }
});
