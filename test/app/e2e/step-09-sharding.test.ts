/**
 * End to end, step 9: orders through the queue onto two order shards. A shopper's journey (pending, then confirmed
 * by the worker; the order on exactly one shard); a worker killed in the middle of confirming an order (the order
 * is confirmed exactly once, by the worker that replaces it).
 */
import type { Client } from "pg";
import { BrowserShopper, journey, waitForOrderStatus } from "./support/journey";
import { type Topology, startTopology } from "./support/local-topology";
import { pollUntil } from "../../../lib/servers/poll";

jest.setTimeout(180_000);
const PORT = 21900;
const SHARDS = ["shard-0", "shard-1"];
let topology: Topology;

beforeAll(async () => {
  topology = await startTopology(9, PORT);
});
afterAll(async () => {
  await topology?.stop();
});

async function onShards<T>(work: (db: Client, shard: string) => Promise<T>): Promise<T[]> {
  return Promise.all(
    SHARDS.map(async (shard) => {
      const db = await topology.db(shard);
      try {
        return await work(db, shard);
      } finally {
        await db.end();
      }
    }),
  );
}

test("a shopper's order goes pending, is confirmed by the worker, and lives on exactly one shard", async () => {
  const result = await journey(new BrowserShopper(topology.entryUrl));
  expect(result.placedAs).toBe("pending");
  const counts = await onShards(
    async (db) =>
      (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM orders WHERE id = $1", [result.orderId])).rows[0]
        .n,
  );
  expect(counts.sort()).toEqual([0, 1]);
});

test("a worker killed in the middle of an order: the order is confirmed exactly once", async () => {
  // Hold the confirmation half-way: the worker confirms an order and records its event in one transaction, and
  // the event table is locked here on every shard, so the worker waits inside that transaction.
  const locks = await Promise.all(SHARDS.map((shard) => topology.db(shard)));
  try {
    for (const db of locks) await db.query("BEGIN; LOCK TABLE order_events IN EXCLUSIVE MODE");
    const shopper = new BrowserShopper(topology.entryUrl);
    expect((await shopper.post("/api/cart/items", { productId: 7, quantity: 1 })).status).toBe(200);
    const checkout = await shopper.post("/api/checkout");
    expect(checkout.status).toBe(202);
    const { orderId } = checkout.json<{ orderId: string }>();

    // The worker is mid-order once one of its sessions waits for the lock.
    await pollUntil("the worker to wait inside its confirmation", async () =>
      (
        await onShards(
          async (db) =>
            (
              await db.query<{ n: number }>(
                "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE " +
                  "'%order_events%'",
              )
            ).rows[0].n,
        )
      ).some((n) => n > 0),
    );
    expect(await topology.fault("worker-kill", "worker-1")).toContain("killed worker-1");
    for (const db of locks) await db.query("ROLLBACK");

    // The message comes back after its visibility timeout; the restarted worker confirms the order.
    await waitForOrderStatus(shopper, orderId, "confirmed", 90_000);
    const events = await onShards(
      async (db) =>
        (
          await db.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM order_events WHERE order_id = $1 AND kind = 'order_confirmed'",
            [orderId],
          )
        ).rows[0].n,
    );
    expect(events.reduce((a, b) => a + b, 0)).toBe(1);
    const listed = (await shopper.get("/api/orders")).json<{ items: Array<{ orderId: string; status: string }> }>()
      .items;
    expect(listed).toEqual([expect.objectContaining({ orderId, status: "confirmed" })]);
    expect((await topology.status()).find((s) => s.name === "worker-1")!.restarts).toBeGreaterThanOrEqual(1);
  } finally {
    for (const db of locks) await db.end().catch(() => undefined);
  }
});
