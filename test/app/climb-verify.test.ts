/**
 * The climb's checks against a real sharded shop (the app in-process on the run's cluster, two shard servers): the
 * load's shoppers and admin (scripts/climb/shoppers.ts) buy through the HTTP API, and verify.ts finds every
 * acknowledged order on its shard with its lines and total, and the stock adding up (step-9 reservations, orders
 * from before step 9 and their backfilled copies, a released reservation); then what it must catch: an order gone,
 * an order changed, stock taken by no order.
 */
import { randomUUID } from "node:crypto";
import { Client } from "pg";
import { Ledger } from "../../scripts/climb/ledger";
import { emptyRow } from "../../scripts/climb/report";
import { Load } from "../../scripts/climb/shoppers";
import { type Databases, checkOrders, readSnapshot, stockProblems } from "../../scripts/climb/verify";
import { clientFor } from "../../lib/servers/postgres-cluster";
import { pollUntil } from "../../lib/servers/poll";
import { type ShardCluster, startShardCluster } from "./support/shard-cluster";
import { ADMIN_TOKEN, type TestApp, startTestApp } from "./support/test-app";

let shards: ShardCluster;
let t: TestApp;
let dbs: Databases;
let password: string;
const ledger = new Ledger();

beforeAll(async () => {
  shards = await startShardCluster(["climb-verify-0", "climb-verify-1"]);
  t = await startTestApp("climb-verify", { env: { ORDER_SHARDS: shards.env } });
  password = t.db.cluster.password;
  dbs = {
    catalog: { name: "primary", port: t.db.cluster.primary.port, database: t.db.name },
    shards: shards.shards.map((s) => ({ name: s.name, port: s.server.port, database: "orders" })),
  };
}, 120_000);
afterAll(async () => {
  await t?.close();
  await shards?.close();
});

async function sql(db: Databases["catalog"], text: string, values: unknown[] = []) {
  const client: Client = clientFor({ password }, db, db.database);
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

test("every order the shoppers were told about is on its shard as they saw it, and the stock adds up", async () => {
  const baseline = await readSnapshot(dbs, password);
  const row = emptyRow("step 9");
  const load = new Load({
    entryUrl: t.url,
    shoppers: 3,
    adminToken: ADMIN_TOKEN,
    ledger,
    row: () => row,
    think: { minMs: 5, maxMs: 20 },
  });
  load.start();
  try {
    await pollUntil("the shoppers to place 8 orders", async () => ledger.orders.size >= 8, { timeoutMs: 60_000 });
    await load.checkpoint();
    const snapshot = await readSnapshot(dbs, password);
    expect(checkOrders(ledger.orders.values(), snapshot)).toEqual([]);
    for (const order of ledger.orders.values()) {
      expect(order).toMatchObject({ present: true, visible: true });
      expect(snapshot.orders.get(order.orderId)!.where).toEqual([expect.stringMatching(/^climb-verify-[01]$/)]);
    }
    expect(stockProblems(baseline.stock, snapshot.stock)).toEqual([]);
    // Stock was really taken, and accounted for by the reservations.
    const taken = [...snapshot.stock].reduce((n, [id, s]) => n + s.taken - (baseline.stock.get(id)?.taken ?? 0), 0);
    expect(taken).toBe([...ledger.orders.values()].flatMap((o) => o.lines).reduce((n, l) => n + l.quantity, 0));
  } finally {
    await load.stop();
  }
  expect(row.failureSamples).toEqual([]);
  expect(row.requests).toBeGreaterThan(30);
  expect(ledger.cartLosses).toEqual([]);
});

/** Writes an order as the app does on `db` (the catalog before step 9, or a shard): one line of `productId`. */
async function writeOrder(db: Databases["catalog"], id: string, status: string, productId: number, quantity = 2) {
  await sql(db, "INSERT INTO orders (id, shopper_id, status, total_cents) VALUES ($1, $2, $3, $4)", [
    id,
    randomUUID(),
    status,
    quantity * 500,
  ]);
  if (status !== "void")
    await sql(
      db,
      "INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price_cents) " +
        "VALUES ($1, $2, 'x', $3, 500)",
      [id, productId, quantity],
    );
}

/** A step-9 reservation of `quantity` units of `productId` in `state`. */
async function reserve(id: string, productId: number, quantity: number, state: "held" | "released") {
  await sql(
    dbs.catalog,
    "INSERT INTO stock_reservations (order_id, shopper_id, shard, lines, state) " +
      "VALUES ($1, $2, 'climb-verify-1', $3, $4)",
    [id, randomUUID(), JSON.stringify([{ productId, quantity }]), state],
  );
}

test("a step-8 order counts once, backfilled or not; a released reservation gave back its units", async () => {
  const baseline = await readSnapshot(dbs, password);
  // Step 8 placed it on the catalog database, taking 2 units of #115 for good; the backfill copied it to a shard.
  const old = randomUUID();
  await sql(dbs.catalog, "UPDATE products SET stock = stock - 2 WHERE id = 115");
  await writeOrder(dbs.catalog, old, "placed", 115);
  await writeOrder(dbs.shards[0], old, "placed", 115);
  // A step-9 checkout whose shard write failed: its reservation released (the stock back), its id claimed void.
  const voided = randomUUID();
  await reserve(voided, 116, 3, "released");
  await writeOrder(dbs.shards[1], voided, "void", 116);
  // One still held (a crash between the shard write and the commit mark): its unit stays taken.
  await sql(dbs.catalog, "UPDATE products SET stock = stock - 1 WHERE id = 116");
  await reserve(randomUUID(), 116, 1, "held");

  const now = await readSnapshot(dbs, password);
  expect(stockProblems(baseline.stock, now.stock)).toEqual([]);
  expect(now.orders.get(old)!.where).toEqual(["primary", "climb-verify-0"]);
  expect(now.stock.get(115)!.taken - baseline.stock.get(115)!.taken).toBe(2);
  expect(now.stock.get(116)!.taken - baseline.stock.get(116)!.taken).toBe(1);
});

test("an order gone or changed, and stock taken by no order, are each named", async () => {
  const baseline = await readSnapshot(dbs, password);
  const [gone, changed] = [...ledger.orders.values()];
  const where = (id: string) => dbs.shards.find((s) => s.name === baseline.orders.get(id)!.where[0])!;
  await sql(where(gone.orderId), "DELETE FROM orders WHERE id = $1", [gone.orderId]);
  await sql(where(changed.orderId), "UPDATE order_items SET quantity = quantity + 1 WHERE order_id = $1", [
    changed.orderId,
  ]);
  await sql(dbs.catalog, "UPDATE products SET stock = stock - 4 WHERE id = 117");
  const now = await readSnapshot(dbs, password);
  const problems = checkOrders([gone, changed], now);
  expect(problems).toEqual([
    `order ${gone.orderId} (shopper ${gone.shopper}) is in no database`,
    expect.stringMatching(new RegExp(`^order ${changed.orderId} holds .* on climb-verify-[01], the cart was `)),
  ]);
  expect(gone.present).toBe(false);
  expect(changed.present).toBe(false);
  // The two orders' units stay held by their reservations: the order check, not the stock's, names them.
  const before = baseline.stock.get(117)!.stock;
  expect(stockProblems(baseline.stock, now.stock)).toEqual([
    `#117: stock ${before} → ${before - 4} (4 fewer), orders took 0`,
  ]);
});
