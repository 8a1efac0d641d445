/**
 * The databases' side of the climb's checks: every acknowledged order is on the catalog primary or, from step 9,
 * on a shard, with the lines and total the shopper was told; and the stock adds up.
 *
 * The stock invariant. Stock is taken in the transaction that makes a checkout true and given back only when a
 * step-9 reservation is released (app/src/orders/orders.ts, reservations.ts; migrations 0002, 0004):
 *   - an order written on the catalog database (steps 1–8, no reservation) took its lines' units for good;
 *   - a sharded order's units are held by its `stock_reservations` row: `held` and `committed` rows hold them,
 *     `released` ones gave them back (their order was never written, or is a `void` claim);
 *   - nothing else changes stock here (the climb's admin changes prices only).
 * So for every product, at any moment when no checkout is in flight (the runner parks its shoppers first):
 *   stock at the start − stock now == taken now − taken at the start,
 * where taken = the units of every non-void order without a reservation (catalog or shard, counted once by id:
 * a backfilled order is on both) + the units of every reservation that is not released. Reading the catalog's
 * part in one REPEATABLE READ transaction makes a worker settling a reservation meanwhile harmless (the release
 * and its stock change commit together).
 */
import { Client } from "pg";
import type { AckedOrder } from "./ledger";

/** A PostgreSQL server and the database the app uses on it. */
export interface Database {
  name: string;
  port: number;
  database: string;
}

/** Where orders and stock live at the current step. */
export interface Databases {
  /** The catalog primary: products, stock, reservations, and the orders written before step 9. */
  catalog: Database;
  /** The order shards (step 9 on). */
  shards: Database[];
}

/** The launcher's status rows (scripts/local/launcher.ts `status()`), as far as the databases go. */
export interface StatusRow {
  name: string;
  kind: string;
  url: string;
  running: boolean;
}

/** The catalog primary and the shards, from the launcher's status (which follows a failover and a climb). */
export function databasesOf(rows: readonly StatusRow[]): Databases {
  const db = (row: StatusRow): Database => {
    const url = new URL(row.url);
    return { name: row.name, port: Number(url.port), database: url.pathname.slice(1) };
  };
  const catalog = rows.find((r) => r.kind === "postgres primary");
  if (!catalog) throw new Error(`the launcher lists no postgres primary: ${rows.map((r) => r.name).join(", ")}`);
  return { catalog: db(catalog), shards: rows.filter((r) => r.kind === "postgres shard").map(db) };
}

/** An order as a database holds it. */
export interface StoredOrder {
  orderId: string;
  status: string;
  totalCents: number;
  lines: Array<{ productId: number; quantity: number; unitPriceCents: number }>;
  /** Where it was found: `primary`, `shard-0`, … (several for a backfilled order). */
  where: string[];
}

/** Stock and units taken, per product. */
export type StockLedger = Map<number, { stock: number; taken: number }>;

/** Everything the checks read, in one pass over the servers. */
export interface Snapshot {
  orders: Map<string, StoredOrder>;
  stock: StockLedger;
}

const ORDERS_SQL = `
  SELECT o.id::text AS id, o.status, o.total_cents::text AS total, i.product_id, i.quantity, i.unit_price_cents
  FROM orders o LEFT JOIN order_items i ON i.order_id = o.id`;

/** Connects as the superuser `postgres` (the launcher's secrets.json has its password). */
async function connect(db: Database, password: string): Promise<Client> {
  const client = new Client({
    host: "127.0.0.1",
    port: db.port,
    user: "postgres",
    password,
    database: db.database,
    connectionTimeoutMillis: 5000,
    statement_timeout: 30_000,
  });
  await client.connect();
  return client;
}

type OrderRow = {
  id: string;
  status: string;
  total: string;
  product_id: number | null;
  quantity: number | null;
  unit_price_cents: number | null;
};

function addOrders(into: Map<string, StoredOrder>, rows: OrderRow[], where: string): void {
  const here = new Map<string, StoredOrder>();
  for (const r of rows) {
    let order = here.get(r.id);
    if (!order) {
      order = { orderId: r.id, status: r.status, totalCents: Number(r.total), lines: [], where: [where] };
      here.set(r.id, order);
    }
    if (r.product_id !== null)
      order.lines.push({ productId: r.product_id, quantity: r.quantity!, unitPriceCents: r.unit_price_cents! });
  }
  for (const [id, order] of here) {
    const seen = into.get(id);
    if (seen) seen.where.push(where);
    else into.set(id, order);
  }
}

/** Reads every order, the stock and the reservations; see the module comment for what "taken" counts. */
export async function readSnapshot(dbs: Databases, superuserPassword: string): Promise<Snapshot> {
  const orders = new Map<string, StoredOrder>();
  const stock: StockLedger = new Map();
  const reservations: Array<{
    order_id: string;
    state: string;
    lines: Array<{ productId: number; quantity: number }>;
  }> = [];
  const catalog = await connect(dbs.catalog, superuserPassword);
  try {
    await catalog.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    for (const p of (await catalog.query<{ id: number; stock: number }>("SELECT id, stock FROM products")).rows)
      stock.set(p.id, { stock: p.stock, taken: 0 });
    addOrders(orders, (await catalog.query<OrderRow>(ORDERS_SQL)).rows, dbs.catalog.name);
    reservations.push(
      ...(
        await catalog.query<(typeof reservations)[number]>(
          "SELECT order_id::text, state, lines FROM stock_reservations",
        )
      ).rows,
    );
    await catalog.query("COMMIT");
  } finally {
    await catalog.end();
  }
  await Promise.all(
    dbs.shards.map(async (shard) => {
      const client = await connect(shard, superuserPassword);
      try {
        addOrders(orders, (await client.query<OrderRow>(ORDERS_SQL)).rows, shard.name);
      } finally {
        await client.end();
      }
    }),
  );
  const take = (productId: number, quantity: number) => {
    const entry = stock.get(productId) ?? { stock: 0, taken: 0 };
    entry.taken += quantity;
    stock.set(productId, entry);
  };
  const reserved = new Set(reservations.map((r) => r.order_id));
  for (const order of orders.values())
    if (order.status !== "void" && !reserved.has(order.orderId))
      for (const l of order.lines) take(l.productId, l.quantity);
  for (const r of reservations) if (r.state !== "released") for (const l of r.lines) take(l.productId, l.quantity);
  return { orders, stock };
}

/**
 * Products whose stock does not add up between `start` and `now` (see the module comment); none means consistent.
 * `#12: stock 40 → 31 (9 fewer), orders took 8`.
 */
export function stockProblems(start: StockLedger, now: StockLedger): string[] {
  const problems: string[] = [];
  for (const [id, before] of start) {
    const after = now.get(id);
    if (!after) {
      problems.push(`#${id}: gone from the catalog`);
      continue;
    }
    const fewer = before.stock - after.stock;
    const took = after.taken - before.taken;
    if (fewer !== took)
      problems.push(`#${id}: stock ${before.stock} → ${after.stock} (${fewer} fewer), orders took ${took}`);
  }
  return problems;
}

/** What is wrong with acknowledged `order` as stored (`stored` undefined: not found); undefined when nothing. */
export function orderProblem(order: AckedOrder, stored: StoredOrder | undefined): string | undefined {
  if (!stored) return `order ${order.orderId} (shopper ${order.shopper}) is in no database`;
  if (stored.status === "void") return `order ${order.orderId} is void on ${stored.where.join(", ")}`;
  const want = order.lines
    .map((l) => `${l.productId}×${l.quantity}@${l.priceCents}`)
    .sort()
    .join(", ");
  const have = stored.lines
    .map((l) => `${l.productId}×${l.quantity}@${l.unitPriceCents}`)
    .sort()
    .join(", ");
  if (want !== have) return `order ${order.orderId} holds ${have} on ${stored.where.join(", ")}, the cart was ${want}`;
  if (stored.totalCents !== order.totalCents)
    return `order ${order.orderId} totals ${stored.totalCents}, the cart ${order.totalCents}`;
  return undefined;
}

/** Marks each of `orders` present or not in `snapshot`; returns the problems found. */
export function checkOrders(orders: Iterable<AckedOrder>, snapshot: Snapshot): string[] {
  const problems: string[] = [];
  for (const order of orders) {
    const problem = orderProblem(order, snapshot.orders.get(order.orderId));
    order.present = problem === undefined;
    order.presentProblem = problem;
    if (problem) problems.push(problem);
  }
  return problems;
}
