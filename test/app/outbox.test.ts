/**
 * The outbox relay on its own, against a migrated database and fauxqs: rows are marked sent only after SQS took
 * them (a queue that cannot be reached leaves them for later: never lost), and several relays working the same
 * outbox at once send each row exactly once (FOR UPDATE SKIP LOCKED).
 */
import { randomUUID } from "node:crypto";
import { DeleteMessageCommand } from "@aws-sdk/client-sqs";
import { Pool } from "pg";
import { prepareDatabase } from "../../app/src/db/prepare";
import { MIGRATIONS_DIR } from "../../app/src/paths";
import { OutboxRelay } from "../../app/src/queue/outbox-relay";
import { orderPlacedMessage } from "../../app/src/queue/messages";
import { type Fauxqs, startFauxqs, sqsClientFor } from "./support/fauxqs";
import { freePort, readCluster } from "../../lib/servers/postgres-cluster";
import { testLogger } from "./support/test-app";
import { type SuiteDatabase, createSuiteDatabase, lockReplica } from "./support/test-database";

let fauxqs: Fauxqs;
let db: SuiteDatabase;
let pool: Pool;
let unlock: () => Promise<void>;
const logger = testLogger();

beforeAll(async () => {
  unlock = await lockReplica(await readCluster(), "shared");
  fauxqs = await startFauxqs();
  db = await createSuiteDatabase("outbox");
  pool = new Pool({ connectionString: db.primaryUrl, max: 10 });
  await prepareDatabase(pool, { migrationsDir: MIGRATIONS_DIR, seedProducts: 0, logger });
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
  await fauxqs?.stop();
  await unlock?.();
});

/** Writes `count` outbox rows (as checkout would) and returns their order ids. */
async function writeOutbox(count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  for (const orderId of ids) {
    await pool.query("INSERT INTO order_outbox (order_id, body) VALUES ($1, $2)", [
      orderId,
      orderPlacedMessage({ orderId, shopperId: randomUUID(), totalCents: 1 }),
    ]);
  }
  return ids;
}

/** Every message in the queue, received and deleted. */
async function drain(queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const batch = await fauxqs.peek(queueUrl);
    if (batch.length === 0) return bodies;
    bodies.push(...batch.map((m) => m.Body!));
    await Promise.all(
      batch.map((m) =>
        fauxqs.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle })),
      ),
    );
  }
}

const relay = (queueUrl: string, sqs = fauxqs.sqs) =>
  new OutboxRelay({ sources: [{ name: "main", pool }], sqs, queueUrl, logger, intervalMs: 60_000 });

test("a queue that cannot be reached leaves the rows unsent; once it answers they are sent, each once", async () => {
  const { queueUrl } = await fauxqs.createQueuePair("outbox-down");
  const ids = await writeOutbox(12);
  const nowhere = sqsClientFor(`http://127.0.0.1:${await freePort()}`);
  try {
    await relay(queueUrl, nowhere).flush();
  } finally {
    nowhere.destroy();
  }
  expect((await pool.query("SELECT count(*)::int AS n FROM order_outbox WHERE sent_at IS NULL")).rows[0].n).toBe(12);

  await relay(queueUrl).flush();
  expect((await pool.query("SELECT count(*)::int AS n FROM order_outbox WHERE sent_at IS NULL")).rows[0].n).toBe(0);
  const sent = (await drain(queueUrl)).map((body) => JSON.parse(body).orderId as string);
  expect(sent.sort()).toEqual([...ids].sort());
});

test("four relays on one outbox at once send each of 200 rows exactly once", async () => {
  const { queueUrl } = await fauxqs.createQueuePair("outbox-many");
  const ids = await writeOutbox(200);
  await Promise.all(Array.from({ length: 4 }, () => relay(queueUrl).flush()));
  expect((await pool.query("SELECT count(*)::int AS n FROM order_outbox WHERE sent_at IS NULL")).rows[0].n).toBe(0);
  const sent = (await drain(queueUrl)).map((body) => JSON.parse(body).orderId as string);
  expect(sent).toHaveLength(200);
  expect(new Set(sent).size).toBe(200);
  expect(sent.sort()).toEqual([...ids].sort());
});
