/**
 * The worker's consumer of the orders queue: long-polls SQS, confirms each order (orders/confirm.ts), and deletes
 * the message only once the confirmation is committed.
 *
 * - A crash anywhere before the delete leaves the message in the queue; it comes back after the visibility timeout
 *   and the confirmation, being idempotent by order id, turns the redelivery into a no-op followed by the delete.
 * - A poison message (not an `order_placed` message, or one naming an order that does not exist) is logged and not
 *   deleted: after the queue's maxReceiveCount receives, SQS moves it to the dead-letter queue.
 * - A database that cannot be reached also leaves the message for a later receive.
 *
 * QueueLagSeconds (now - SentTimestamp) is counted for every message received.
 *
 * Each message is one job and writes one log line as soon as its outcome is committed (before the delete, so a
 * crash in between cannot lose the notification), never one per poll: `notification: order confirmed` (info),
 * `order already confirmed; redelivery ignored` (info), a poison message (warn), or `order not confirmed; the
 * message will come back` (error, with the error). Every line carries `job`, `messageId`, `receiveCount`, `ms` and,
 * once known, `orderId`, `shard` and `outcome`. Only a failed delete adds a line of its own (warn).
 *
 * A job still running after `jobTimeoutMs` (components/app-limits.ts) is given up: a line says so (error), the
 * consumer goes back to the queue, and the message comes back once its visibility timeout ends, which the stack's
 * configuration check keeps longer than the job timeout (stacks/capacity-checks.ts). The job itself is not cut short
 * (a database statement has its own DB_QUERY_TIMEOUT_MS): if it ends later, it still writes its line and deletes its
 * message, and a redelivery meanwhile waits on the order's row lock and finds it confirmed.
 */
import { DeleteMessageCommand, type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { WORKER_JOB_TIMEOUT_MS } from "../../../components/app-limits";
import type { Logger } from "../logger";
import { metrics } from "../metrics";
import { ORDER_CONFIRMED_EVENT, type ConfirmOutcome, confirmOrder } from "../orders/confirm";
import type { OrderShards } from "../shards/order-shards";
import { parseOrderPlaced } from "./messages";

/** Options of {@link OrderConsumer}. */
export interface OrderConsumerOptions {
  sqs: SQSClient;
  queueUrl: string;
  shards: OrderShards;
  logger: Logger;
  /** Messages per receive (1-10). */
  batchSize: number;
  /** Long-poll wait per receive, in seconds (0-20). */
  waitSeconds: number;
  /** The AWS region this worker serves (`AWS_REGION`), in every job line; none if unset. */
  region?: string;
  /**
   * How long to wait for one job before giving it up (see the module comment).
   * @default WORKER_JOB_TIMEOUT_MS (components/app-limits.ts)
   */
  jobTimeoutMs?: number;
}

/** The fields of a job's one log line. */
export interface JobLine {
  region?: string;
  job: "order_placed";
  messageId?: string;
  receiveCount: number;
  orderId?: string;
  shopperId?: string;
  shard?: string;
  outcome?: ConfirmOutcome | "not_an_order" | "failed";
  event?: string;
  err?: unknown;
  /** From the message's arrival in this process to its committed outcome, in ms. */
  ms?: number;
}

/** Counters of one consumer, for logs and tests. */
export interface ConsumerStats {
  received: number;
  confirmed: number;
  duplicates: number;
  poison: number;
  failed: number;
  deleted: number;
  /** Jobs given up after the job timeout (each is also counted once it ends). */
  timedOut: number;
}

/** See the module comment. */
export class OrderConsumer {
  readonly stats: ConsumerStats = {
    received: 0,
    confirmed: 0,
    duplicates: 0,
    poison: 0,
    failed: 0,
    deleted: 0,
    timedOut: 0,
  };
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  /** Jobs not ended yet, those given up included: stop() waits for them before the pools close. */
  private readonly jobs = new Set<Promise<void>>();

  constructor(private readonly options: OrderConsumerOptions) {}

  /** Starts polling. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops polling (an open long poll is abandoned), lets the messages in hand finish, and resolves. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await Promise.all(this.jobs);
  }

  private async run(): Promise<void> {
    const { sqs, queueUrl, logger } = this.options;
    while (!this.abort.signal.aborted) {
      let messages: Message[];
      try {
        const answer = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: this.options.batchSize,
            WaitTimeSeconds: this.options.waitSeconds,
            MessageSystemAttributeNames: ["SentTimestamp", "ApproximateReceiveCount"],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = answer.Messages ?? [];
      } catch (error) {
        if (this.abort.signal.aborted) break;
        logger.warn({ reason: (error as Error).message }, "receiving from the orders queue failed; retrying");
        await this.pause(1000);
        continue;
      }
      await Promise.all(messages.map((message) => this.handle(message)));
    }
  }

  /** Waits `ms`, or less if the consumer is stopped meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.abort.signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  /** Waits for `message`'s job for at most the job timeout (see the module comment). */
  private async handle(message: Message): Promise<void> {
    const job = this.job(message);
    this.jobs.add(job);
    const ended = () => void this.jobs.delete(job);
    job.then(ended, ended);
    const timeoutMs = this.options.jobTimeoutMs ?? WORKER_JOB_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const given = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const gaveUp = await Promise.race([job.then(() => false), given]);
    clearTimeout(timer);
    if (!gaveUp) return;
    this.stats.timedOut += 1;
    this.options.logger.error(
      {
        region: this.options.region,
        job: "order_placed",
        messageId: message.MessageId,
        receiveCount: Number(message.Attributes?.ApproximateReceiveCount),
        timeoutMs,
      },
      "job still running after the job timeout; given up, its message comes back after the visibility timeout",
    );
  }

  /** One job: handles `message` and writes its one line. */
  private async job(message: Message): Promise<void> {
    const started = performance.now();
    const line: JobLine = {
      region: this.options.region,
      job: "order_placed",
      messageId: message.MessageId,
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount),
    };
    const [level, msg] = await this.process(message, line);
    line.ms = Math.round((performance.now() - started) * 10) / 10;
    this.options.logger[level](line, msg);
    if (line.outcome === "confirmed" || line.outcome === "already_confirmed") await this.delete(message, line);
  }

  /** Deletes the message of a handled order. */
  private async delete(message: Message, line: JobLine): Promise<void> {
    try {
      await this.options.sqs.send(
        new DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      this.stats.deleted += 1;
    } catch (error) {
      // The order is confirmed; a redelivery will find it so and be deleted then.
      this.options.logger.warn(
        { messageId: message.MessageId, orderId: line.orderId, reason: (error as Error).message },
        "message not deleted; its redelivery will be a no-op",
      );
    }
  }

  /** Handles `message`, filling in `line`; answers the level and message of the line. */
  private async process(message: Message, line: JobLine): Promise<["info" | "warn" | "error", string]> {
    this.stats.received += 1;
    const sent = Number(message.Attributes?.SentTimestamp);
    if (Number.isFinite(sent)) metrics.queueLag((Date.now() - sent) / 1000);
    const order = parseOrderPlaced(message.Body);
    if (!order) {
      this.stats.poison += 1;
      line.outcome = "not_an_order";
      return ["warn", "poison message: not an order_placed message; left for the dead-letter queue"];
    }
    line.orderId = order.orderId;
    const shard = this.options.shards.forShopper(order.shopperId, line);
    let outcome: ConfirmOutcome;
    try {
      // A message step 8 queued for an order still on the catalog database: confirmed there, once, until the step-9
      // backfill is recorded (orders/pre-shard-orders.ts).
      const preShard = this.options.shards.preShard;
      const before = preShard ? await preShard.confirm(order.orderId, order.shopperId) : "not_here";
      if (before === "not_here") outcome = await confirmOrder(shard, order.orderId, order.shopperId);
      else {
        outcome = before;
        line.shard = preShard?.shard.name;
      }
    } catch (error) {
      this.stats.failed += 1;
      line.outcome = "failed";
      line.err = error;
      return ["error", "order not confirmed; the message will come back"];
    }
    line.outcome = outcome;
    if (outcome === "unknown_order") {
      this.stats.poison += 1;
      return ["warn", "poison message: no such order; left for the dead-letter queue"];
    }
    if (outcome === "confirmed") {
      this.stats.confirmed += 1;
      line.shopperId = order.shopperId;
      line.event = ORDER_CONFIRMED_EVENT;
    } else this.stats.duplicates += 1;
    return [
      "info",
      outcome === "confirmed" ? "notification: order confirmed" : "order already confirmed; redelivery ignored",
    ];
  }
}
