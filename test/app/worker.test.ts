/**
 * The worker crashing mid-message (a real process, killed with SIGKILL): whether it dies after confirming and
 * before deleting, or while its confirmation is still uncommitted, the message comes back after the visibility
 * timeout and the order ends confirmed exactly once, with one notification and its stock taken once.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Client } from "pg";
import type { RunningWorker } from "../../app/src/start-worker";
import { type Fauxqs, type QueuePair, type SqsProxy, startFauxqs, startSqsProxy } from "./support/fauxqs";
import { startTestWorker } from "./support/order-worker";
import { pollUntil } from "../../lib/servers/poll";
import { clientFor } from "../../lib/servers/postgres-cluster";
import { Shopper } from "./support/shopper";
import { type TestApp, setStock, startTestApp } from "./support/test-app";

const ROOT = path.resolve(__dirname, "../..");

let fauxqs: Fauxqs;
let queue: QueuePair;
let proxy: SqsProxy;
let t: TestApp;
const children: ChildProcess[] = [];

beforeAll(async () => {
  fauxqs = await startFauxqs();
  queue = await fauxqs.createQueuePair("orders-worker-test", { visibilityTimeoutSeconds: 2 });
  proxy = await startSqsProxy(fauxqs.endpoint);
  t = await startTestApp("worker", {
    env: { ORDER_QUEUE_URL: queue.queueUrl, SQS_ENDPOINT: fauxqs.endpoint, OUTBOX_RELAY_INTERVAL_MS: "200" },
  });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await t?.close();
  await proxy?.close();
  await fauxqs?.stop();
});

const primary = (text: string, values: unknown[] = []) => t.router.primaryPool.query(text, values).then((r) => r.rows);

/** `node scripts/run.mjs app/src/worker.ts` as its own process, talking to SQS through the proxy. */
function spawnWorker(): { child: ChildProcess; lines: Array<Record<string, unknown>>; stderr: () => string } {
  const child = spawn(process.execPath, ["scripts/run.mjs", "app/src/worker.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      AWS_EC2_METADATA_DISABLED: "true",
      DATABASE_URL: t.db.primaryUrl,
      ORDER_QUEUE_URL: queue.queueUrl,
      SQS_ENDPOINT: proxy.endpoint,
      WORKER_WAIT_SECONDS: "1",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const lines: Array<Record<string, unknown>> = [];
  createInterface({ input: child.stdout! }).on("line", (text) =>
    lines.push(JSON.parse(text) as Record<string, unknown>),
  );
  // Read, so that a chatty stderr never fills its pipe and stalls the worker; kept for a failure's message.
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, lines, stderr: () => stderr };
}

/** What a wait on a spawned worker says when it times out: its state, its last lines and the queue's counts. */
function workerDetail(worker: ReturnType<typeof spawnWorker>): () => Promise<string> {
  return async () => {
    const { visible, inFlight } = await fauxqs.counts(queue.queueUrl);
    const exit = worker.child.exitCode ?? worker.child.signalCode;
    return (
      `worker ${exit === null ? "running" : `exited (${exit})`}; queue visible ${visible}, in flight ${inFlight}\n` +
      `last lines: ${JSON.stringify(worker.lines.slice(-8))}\nstderr: ${worker.stderr().slice(-2000)}`
    );
  };
}

function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  return exited;
}

async function checkout(productId: number): Promise<string> {
  const shopper = new Shopper(t);
  await shopper.post("/api/cart/items", { productId, quantity: 2 });
  const response = await shopper.post("/api/checkout");
  expect(response.status).toBe(202);
  return response.json().orderId as string;
}

async function withSurvivor(work: (survivor: RunningWorker) => Promise<void>): Promise<void> {
  const survivor = await startTestWorker({ databaseUrl: t.db.primaryUrl, queueUrl: queue.queueUrl, sqs: fauxqs.sqs });
  try {
    await work(survivor);
  } finally {
    await survivor.close();
  }
}

test("killed after confirming, before deleting: the redelivery is a no-op, the order confirmed once", async () => {
  await setStock(t, 80, 10);
  proxy.hold("DeleteMessage");
  const crashing = spawnWorker();
  const orderId = await checkout(80);
  await pollUntil(
    "the worker to confirm the order and try to delete the message",
    async () => proxy.held("DeleteMessage") === 1,
    { timeoutMs: 30_000 },
  );
  expect((await primary("SELECT status FROM orders WHERE id = $1", [orderId]))[0].status).toBe("confirmed");
  await kill(crashing.child);
  proxy.dropAll();
  expect(crashing.lines.filter((line) => line.msg === "notification: order confirmed")).toHaveLength(1);

  await withSurvivor(async (survivor) => {
    await pollUntil(
      "the message to come back and be deleted as a duplicate",
      async () => survivor.consumer!.stats.duplicates === 1,
      { timeoutMs: 30_000 },
    );
    await pollUntil("the queue to drain", async () => {
      const { visible, inFlight } = await fauxqs.counts(queue.queueUrl);
      return visible === 0 && inFlight === 0;
    });
    expect(survivor.consumer!.stats.confirmed).toBe(0);
  });
  expect(await primary("SELECT kind FROM order_events WHERE order_id = $1", [orderId])).toEqual([
    { kind: "order_confirmed" },
  ]);
  expect((await primary("SELECT stock FROM products WHERE id = 80"))[0].stock).toBe(8);
});

test("killed with its confirmation uncommitted: nothing of it lands, the redelivery confirms it once", async () => {
  await setStock(t, 81, 10);
  const orderId = await checkout(81);
  await pollUntil(
    "the relay to send the order",
    async () => (await primary("SELECT sent_at FROM order_outbox WHERE order_id = $1", [orderId]))[0].sent_at !== null,
  );
  // Hold the order's row, so the worker stops inside its transaction, after the receive and before any commit.
  const holder: Client = clientFor(t.db.cluster, t.db.cluster.primary, t.db.name);
  await holder.connect();
  try {
    await holder.query("BEGIN");
    await holder.query("SELECT 1 FROM orders WHERE id = $1 FOR UPDATE", [orderId]);
    const crashing = spawnWorker();
    await pollUntil(
      "the worker to wait for the order's row",
      async () => {
        const { rows } = await holder.query(
          "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted " +
            "AND a.datname = current_database() AND a.application_name = 'shop:primary'",
        );
        return rows[0].n > 0;
      },
      { timeoutMs: 30_000, detail: workerDetail(crashing) },
    );
    await kill(crashing.child);
    await holder.query("COMMIT");
    expect(crashing.lines.filter((line) => line.msg === "notification: order confirmed")).toHaveLength(0);
  } finally {
    await holder.end();
  }
  // The dead worker's transaction never committed (its backend rolls back once it finds the client gone).
  expect((await primary("SELECT status FROM orders WHERE id = $1", [orderId]))[0].status).toBe("pending");

  await withSurvivor(async (survivor) => {
    await pollUntil(
      "the redelivered message to confirm the order",
      async () => survivor.consumer!.stats.confirmed === 1,
      { timeoutMs: 30_000 },
    );
  });
  expect(await primary("SELECT status FROM orders WHERE id = $1", [orderId])).toEqual([{ status: "confirmed" }]);
  expect(await primary("SELECT kind FROM order_events WHERE order_id = $1", [orderId])).toEqual([
    { kind: "order_confirmed" },
  ]);
  expect((await primary("SELECT stock FROM products WHERE id = 81"))[0].stock).toBe(8);
});
