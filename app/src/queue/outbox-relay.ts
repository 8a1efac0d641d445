/**
 * The outbox relay: runs in every web server and moves rows of `order_outbox` (written by checkout in the order's
 * own transaction) to the orders queue.
 *
 * At least once, never lost: a batch of unsent rows is locked (`FOR UPDATE SKIP LOCKED`, so several servers relay
 * side by side without sending a row twice at the same time), sent with SendMessageBatch, and only the entries SQS
 * accepted are marked sent, in the same transaction that locked them. A crash after the send and before the commit
 * sends those rows again later; the worker is idempotent by order id, so a duplicate is harmless. Rows SQS refused,
 * or a batch whose send failed, stay unsent and go on the next run.
 *
 * It runs right after each checkout (`nudge`) and every `intervalMs` for anything left behind (a server that died
 * between commit and send, a queue that was unreachable). Sent rows are deleted after a day.
 */
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Pool } from "pg";
import type { Logger } from "../logger";

/** SQS's most entries in one SendMessageBatch. */
const BATCH = 10;
/** How long sent rows are kept (for looking into an incident) before the relay deletes them. */
const KEEP_SENT = "1 day";

/** A database holding an outbox: the catalog database, or one order shard. */
export interface OutboxSource {
  name: string;
  pool: Pool;
}

/** Options of {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  sources: readonly OutboxSource[];
  sqs: SQSClient;
  queueUrl: string;
  logger: Logger;
  /** Period of the background sweep. */
  intervalMs: number;
}

/** See the module comment. */
export class OutboxRelay {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private lastPurge = 0;

  constructor(private readonly options: OutboxRelayOptions) {}

  /** Starts the periodic sweep. */
  start(): void {
    const tick = () => {
      this.nudge();
      if (!this.stopped) {
        this.timer = setTimeout(tick, this.options.intervalMs);
        this.timer.unref();
      }
    };
    this.timer = setTimeout(tick, this.options.intervalMs);
    this.timer.unref();
  }

  /** Asks for a run now; runs asked for while one is going are folded into one more run after it. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runAll().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.nudge();
      }
    });
  }

  /** Relays everything unsent now and resolves when done (tests, and the last run at shutdown). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    await this.runAll();
  }

  /** Stops the sweep, waits for the run in flight, and makes one last run so a clean shutdown leaves nothing behind. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    while (this.running) await this.running;
    await this.runAll();
  }

  private async runAll(): Promise<void> {
    const purge = Date.now() - this.lastPurge > 3_600_000;
    if (purge) this.lastPurge = Date.now();
    await Promise.all(
      this.options.sources.map(async (source) => {
        try {
          while ((await this.relayBatch(source)) === BATCH) {
            // a full batch, all of it sent: there may be more
          }
          if (purge)
            await source.pool.query(`DELETE FROM order_outbox WHERE sent_at < now() - interval '${KEEP_SENT}'`);
        } catch (error) {
          this.options.logger.warn(
            { source: source.name, reason: (error as Error).message },
            "outbox relay run failed; will retry",
          );
        }
      }),
    );
  }

  /** Sends one batch of `source`'s unsent rows; returns how many were sent. */
  private async relayBatch(source: OutboxSource): Promise<number> {
    const client = await source.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      try {
        const { rows } = await client.query<{ id: string; body: string }>(
          "SELECT id, body FROM order_outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
          [BATCH],
        );
        let sentCount = 0;
        if (rows.length > 0) {
          const answer = await this.options.sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: this.options.queueUrl,
              Entries: rows.map((row) => ({ Id: row.id, MessageBody: row.body })),
            }),
          );
          const sent = (answer.Successful ?? []).map((entry) => entry.Id);
          for (const failed of answer.Failed ?? []) {
            this.options.logger.warn(
              { source: source.name, outboxId: failed.Id, code: failed.Code, reason: failed.Message },
              "queue refused an outbox row; will retry",
            );
          }
          sentCount = sent.length;
          if (sent.length > 0)
            await client.query("UPDATE order_outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", [sent]);
          this.options.logger.debug({ source: source.name, sent: sent.length }, "outbox rows sent");
        }
        await client.query("COMMIT");
        return sentCount;
      } catch (error) {
        await client.query("ROLLBACK").catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }
}
