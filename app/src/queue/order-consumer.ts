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
 */
import { DeleteMessageCommand, type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Logger } from "../logger";
import { metrics } from "../metrics";
import { confirmOrder } from "../orders/confirm";
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
}

/** Counters of one consumer, for logs and tests. */
export interface ConsumerStats {
  received: number;
  confirmed: number;
  duplicates: number;
  poison: number;
  failed: number;
  deleted: number;
}

/** See the module comment. */
export class OrderConsumer {
  readonly stats: ConsumerStats = { received: 0, confirmed: 0, duplicates: 0, poison: 0, failed: 0, deleted: 0 };
  private readonly abort = new AbortController();
  private loop?: Promise<void>;

  constructor(private readonly options: OrderConsumerOptions) {}

  /** Starts polling. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops polling (an open long poll is abandoned), lets the messages in hand finish, and resolves. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
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

  private async handle(message: Message): Promise<void> {
    const { logger } = this.options;
    this.stats.received += 1;
    const sent = Number(message.Attributes?.SentTimestamp);
    if (Number.isFinite(sent)) metrics.queueLag((Date.now() - sent) / 1000);
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount);
    const order = parseOrderPlaced(message.Body);
    if (!order) {
      this.stats.poison += 1;
      logger.warn(
        { messageId: message.MessageId, receiveCount },
        "poison message: not an order_placed message; left for the dead-letter queue",
      );
      return;
    }
    const shard = this.options.shards.forShopper(order.shopperId);
    try {
      const outcome = await confirmOrder(shard, order.orderId, order.shopperId, logger);
      if (outcome === "unknown_order") {
        this.stats.poison += 1;
        logger.warn(
          { messageId: message.MessageId, orderId: order.orderId, shard: shard.name, receiveCount },
          "poison message: no such order; left for the dead-letter queue",
        );
        return;
      }
      if (outcome === "confirmed") this.stats.confirmed += 1;
      else {
        this.stats.duplicates += 1;
        logger.info(
          { messageId: message.MessageId, orderId: order.orderId },
          "order already confirmed; redelivery ignored",
        );
      }
    } catch (error) {
      this.stats.failed += 1;
      logger.error(
        { err: error, messageId: message.MessageId, orderId: order.orderId, shard: shard.name, receiveCount },
        "order not confirmed; the message will come back",
      );
      return;
    }
    try {
      await this.options.sqs.send(
        new DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      this.stats.deleted += 1;
    } catch (error) {
      // The order is confirmed; a redelivery will find it so and be deleted then.
      logger.warn(
        { messageId: message.MessageId, orderId: order.orderId, reason: (error as Error).message },
        "message not deleted; its redelivery will be a no-op",
      );
    }
  }
}
