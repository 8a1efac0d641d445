/**
 * The orders a shop wrote on its catalog database before it had shards (steps 1-8), seen from a sharded app (step
 * 9 on) until the backfill (data-migrations/backfill-order-shards.ts) has copied them to their shards and recorded
 * itself done in `data_migrations`:
 *
 * - History: a shopper's orders are read from their shard AND from the catalog database, merged by order id (read
 *   both until the backfill is done). An order in both places is shown with the furthest status (`pending` then
 *   `confirmed`): the two copies only ever differ by a confirmation that has not been copied yet.
 * - Confirmation: an order still on the catalog is confirmed there, by the step-9 worker that receives the message
 *   step 8 queued for it, under a shared advisory lock that the backfill's last pass takes exclusively; once the
 *   record exists, on its shard. So each order is confirmed once, in the place that is its home at that moment.
 *
 * Once the record is seen, nothing here asks the catalog again: the process reads and confirms on shards only.
 * Until then it asks at most once per `recheckMs` whether the record exists.
 */
import type { DbRouter } from "../db/router";
import type { Logger } from "../logger";
import { BACKFILL_LOCK_KEY, BACKFILL_ORDER_SHARDS, isUndefinedTable } from "../data-migrations/report";
import { MAIN_SHARD, type OrderShard } from "../shards/order-shards";
import { type ConfirmOutcome, confirmIn } from "./confirm";
import { ORDER_CONFIRMED, ORDER_PENDING } from "./orders";

/** See the module comment. */
export class PreShardOrders {
  /** The catalog database as an order store (named `main`, as before step 9). */
  readonly shard: OrderShard;
  private done = false;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private checking?: Promise<void>;

  /**
   * @param catalog the catalog database's router.
   * @param recheckMs how long an answer "not done yet" is believed. @default 1000
   * @param now the clock (tests). @default Date.now
   */
  constructor(
    private readonly catalog: DbRouter,
    private readonly logger: Logger,
    private readonly recheckMs = 1000,
    private readonly now: () => number = Date.now,
  ) {
    this.shard = { name: MAIN_SHARD, router: catalog, isCatalog: true, ready: true };
  }

  /** True while the backfill has not been seen recorded: history must be read from the catalog database too. */
  async readBoth(): Promise<boolean> {
    if (this.done) return false;
    if (this.now() - this.checkedAt >= this.recheckMs) {
      this.checking ??= this.check().finally(() => {
        this.checking = undefined;
      });
      await this.checking;
    }
    return !this.done;
  }

  private async check(): Promise<void> {
    try {
      const { rows } = await this.catalog.primaryPool.query("SELECT 1 FROM data_migrations WHERE name = $1", [
        BACKFILL_ORDER_SHARDS,
      ]);
      this.seen(rows.length > 0);
    } catch (error) {
      // A catalog older than migration 0007 has no record; an unreachable one is asked again next time. Either way
      // both are read, which is right whatever the answer would have been.
      if (!isUndefinedTable(error))
        this.logger.warn({ reason: (error as Error).message }, "backfill record not readable; reading both");
    }
    this.checkedAt = this.now();
  }

  private seen(done: boolean): void {
    if (done && !this.done) this.logger.info("order backfill recorded: orders are read and confirmed on shards only");
    this.done ||= done;
  }

  /**
   * Confirms order `orderId` of `shopperId` on the catalog database if it is still kept there (see the module
   * comment); `"not_here"` when the backfill is done or the catalog has no such order (a step-9 order: its shard
   * has it).
   */
  async confirm(orderId: string, shopperId: string): Promise<ConfirmOutcome | "not_here"> {
    if (this.done) return "not_here";
    const { result } = await this.catalog.transaction(async (client): Promise<ConfirmOutcome | "not_here"> => {
      // Shared: workers confirm side by side; the backfill's last pass holds it exclusively while it copies,
      // verifies and records, so a confirmation here is either copied by that pass or never made here.
      await client.query("SELECT pg_advisory_xact_lock_shared($1::bigint)", [BACKFILL_LOCK_KEY]);
      const record = await client.query("SELECT 1 FROM data_migrations WHERE name = $1", [BACKFILL_ORDER_SHARDS]);
      if (record.rows.length > 0) {
        this.seen(true);
        return "not_here";
      }
      const outcome = await confirmIn(client, orderId, shopperId);
      return outcome === "missing" ? "not_here" : outcome;
    });
    return result;
  }
}

/** How far an order's status has gone: of two copies of one order, the furthest is shown. */
export function statusRank(status: string): number {
  return status === ORDER_CONFIRMED ? 2 : status === ORDER_PENDING ? 1 : 0;
}
