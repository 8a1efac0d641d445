/**
 * The shard router: where a shopper's orders live.
 *
 * - Without `ORDER_SHARDS` (steps 1-8) there is one "shard", the catalog database itself (named `main`), through
 *   the app's primary/replica router, and checkout stays one transaction.
 * - With it (step 9 on), each shard is a {@link DbRouter} of its own (the writer, and the reader as its replica, so
 *   read-your-writes and the replica cool-off work per shard), and a shopper's orders live on
 *   `shards[buckets[bucketOf(shopperId)]]`: every order query of a shopper touches exactly one shard.
 *
 * A shard that cannot be reached makes only its own shoppers' order routes fail (503 `shard_unavailable` naming
 * it); the catalog, the carts and the other shards' shoppers never wait for it.
 */
import path from "node:path";
import type { PoolSettings } from "../db/pool";
import { createPool } from "../db/pool";
import { type CredentialLocation, configuredCredentials } from "../db/credentials";
import { DbRouter } from "../db/router";
import { SCHEMA_LOCK_KEY, withAdvisoryLock } from "../db/advisory-lock";
import { isUnavailableError } from "../db/failures";
import { migrate } from "../db/migrate";
import { HttpError } from "../http/errors";
import { PreShardOrders } from "../orders/pre-shard-orders";
import type { Logger } from "../logger";
import { MIGRATIONS_DIR } from "../paths";
import type { ServedBy } from "../served-by";
import { type ShardMap, bucketOf } from "./shard-map";

/** The migrations of an order shard (a subdirectory of the catalog's, so the release carries both). */
export const SHARD_MIGRATIONS_DIR = path.join(MIGRATIONS_DIR, "shards");

/** Name of the one order store of an unsharded shop: the catalog database. */
export const MAIN_SHARD = "main";

/** One place orders live. */
export interface OrderShard {
  name: string;
  router: DbRouter;
  /** True for the catalog database of an unsharded shop: stock and orders commit in one transaction. */
  isCatalog: boolean;
  /** False until the shard's migrations have been applied (a shard down at start-up is migrated later). */
  ready: boolean;
}

/** 503 naming the shard; its causes (addresses) go to the log, not to the client. */
export function shardUnavailable(shard: string): HttpError {
  return new HttpError(503, "shard_unavailable", `The orders shard ${shard} is not reachable; try again shortly`, {
    shard,
  });
}

/**
 * Runs `work` against `shard`, turning "cannot reach it" (or "not migrated yet") into {@link shardUnavailable}.
 * Errors about the query itself pass through unchanged.
 */
export async function onShard<T>(shard: OrderShard, work: () => Promise<T>): Promise<T> {
  if (!shard.ready) throw shardUnavailable(shard.name);
  try {
    return await work();
  } catch (error) {
    // The cause (addresses, ports) goes to the request's access line with the 503, never to the client. A shard's
    // writer is its router's primary: one marked down (db/router.ts) is this shard being unreachable too.
    if (isUnavailableError(error) || (error instanceof HttpError && error.code === "primary_unavailable"))
      throw Object.assign(shardUnavailable(shard.name), { cause: error });
    throw error;
  }
}

/** See the module comment. */
export class OrderShards {
  /**
   * Sharded and opened by {@link openOrderShards}: the orders steps 1-8 left on the catalog database, read and
   * confirmed there until the step-9 backfill is recorded (orders/pre-shard-orders.ts).
   */
  preShard?: PreShardOrders;

  private constructor(
    private readonly list: OrderShard[],
    /** Shard index of each bucket; undefined when unsharded. */
    private readonly buckets: number[] | undefined,
    /** Whether {@link close} closes the shards' routers (not the catalog's, which belongs to the app). */
    private readonly owned: boolean,
  ) {}

  /** The unsharded shop: orders live with the catalog, through its router. */
  static unsharded(catalog: DbRouter): OrderShards {
    return new OrderShards([{ name: MAIN_SHARD, router: catalog, isCatalog: true, ready: true }], undefined, false);
  }

  /**
   * One router per shard of `map`: the writer as primary, the reader (if any) as its one replica, named
   * `<shard>` and `<shard>-reader` in logs. Shards start not ready: call {@link migrateAll}.
   */
  static fromMap(map: ShardMap, settings: PoolSettings & { cooldownMs: number }, logger: Logger): OrderShards {
    const list = map.shards.map((spec) => {
      const primary = { name: spec.name, pool: createPool(spec.url, spec.name, settings, logger) };
      const replicas = spec.readerUrl
        ? [{ name: `${spec.name}-reader`, pool: createPool(spec.readerUrl, `${spec.name}-reader`, settings, logger) }]
        : [];
      return {
        name: spec.name,
        router: new DbRouter({ primary, replicas, cooldownMs: settings.cooldownMs, logger }),
        isCatalog: false,
        ready: false,
      };
    });
    return new OrderShards(list, [...map.buckets], true);
  }

  /** True when orders live on shards of their own. */
  get sharded(): boolean {
    return this.buckets !== undefined;
  }

  /** Every shard, in map order. */
  all(): readonly OrderShard[] {
    return this.list;
  }

  /** The shard holding `shopperId`'s orders; `served` records its name (the access log's `shard`). */
  forShopper(shopperId: string, served?: ServedBy): OrderShard {
    const shard = this.buckets ? this.list[this.buckets[bucketOf(shopperId)]] : this.list[0];
    if (served) served.shard = shard.name;
    return shard;
  }

  /**
   * Applies the shard migrations on every shard not yet ready, each under the schema advisory lock of its own
   * database (so a fleet starting together migrates each shard once). A shard that cannot be reached stays not
   * ready and is named in the result; the others are ready whatever it does.
   */
  async migrateAll(logger: Logger, dir = SHARD_MIGRATIONS_DIR): Promise<{ migrated: string[]; unavailable: string[] }> {
    const pending = this.list.filter((shard) => !shard.ready);
    const results = await Promise.all(
      pending.map(async (shard) => {
        try {
          await withAdvisoryLock(shard.router.primaryPool, SCHEMA_LOCK_KEY, (client) =>
            migrate(client, dir, logger.child({ shard: shard.name })),
          );
          shard.ready = true;
          return { shard: shard.name, ok: true };
        } catch (error) {
          if (!isUnavailableError(error)) throw error;
          logger.warn(
            { shard: shard.name, reason: (error as Error).message },
            "order shard unreachable; its migrations wait",
          );
          return { shard: shard.name, ok: false };
        }
      }),
    );
    return {
      migrated: results.filter((r) => r.ok).map((r) => r.shard),
      unavailable: results.filter((r) => !r.ok).map((r) => r.shard),
    };
  }

  /**
   * Keeps trying {@link migrateAll} every `intervalMs` while some shard is not ready; returns a function that stops
   * trying. The timer does not keep the process alive.
   */
  retryMigrations(logger: Logger, intervalMs = 5000): () => void {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async () => {
      if (stopped || this.list.every((shard) => shard.ready)) return;
      try {
        const { migrated } = await this.migrateAll(logger);
        if (migrated.length > 0) logger.info({ shards: migrated }, "order shards migrated after start-up");
      } catch (error) {
        logger.error({ err: error }, "order shard migrations failed");
      }
      if (!stopped && this.list.some((shard) => !shard.ready)) {
        timer = setTimeout(tick, intervalMs);
        timer.unref();
      }
    };
    timer = setTimeout(tick, intervalMs);
    timer.unref();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  /** Closes the shards' pools (never the catalog's router, which its owner closes). */
  async close(): Promise<void> {
    if (this.owned) await Promise.all(this.list.map((shard) => shard.router.close()));
  }
}

/**
 * The order shards of a configuration: the map's shards when ORDER_SHARDS is set (migrated here; a shard that is
 * down is migrated in the background as soon as it answers), else the catalog database. Close with
 * {@link OrderShards.close} and the returned `stopRetrying`.
 */
export async function openOrderShards(
  config: {
    ORDER_SHARDS?: ShardMap;
    ORDER_SHARDS_SECRET?: CredentialLocation;
    SECRETS_MANAGER_ENDPOINT?: string;
    DB_POOL_MAX: number;
    DB_CONNECT_TIMEOUT_MS: number;
    DB_QUERY_TIMEOUT_MS: number;
    REPLICA_COOLDOWN_MS?: number;
  },
  catalog: DbRouter,
  logger: Logger,
  options: { migrate: boolean } = { migrate: true },
): Promise<{ shards: OrderShards; stopRetrying: () => void }> {
  if (!config.ORDER_SHARDS) return { shards: OrderShards.unsharded(catalog), stopRetrying: () => undefined };
  const shards = OrderShards.fromMap(
    config.ORDER_SHARDS,
    {
      max: config.DB_POOL_MAX,
      connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
      queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
      cooldownMs: config.REPLICA_COOLDOWN_MS ?? 30_000,
      credentials: configuredCredentials(config.ORDER_SHARDS_SECRET, config),
    },
    logger,
  );
  shards.preShard = new PreShardOrders(catalog, logger);
  if (!options.migrate) {
    for (const shard of shards.all()) shard.ready = true;
    return { shards, stopRetrying: () => undefined };
  }
  try {
    const { unavailable } = await shards.migrateAll(logger);
    return { shards, stopRetrying: unavailable.length > 0 ? shards.retryMigrations(logger) : () => undefined };
  } catch (error) {
    await shards.close();
    throw error;
  }
}
