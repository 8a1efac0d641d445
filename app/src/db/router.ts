/**
 * The primary/replica router: every database call of the app goes through it.
 *
 * - Writes run on the primary, in a transaction, and report the WAL position (LSN) that includes their commit.
 * - Reads go round-robin to the healthy replicas. A read may carry the LSN of the reader's last write
 *   (read-your-writes): a replica serves it only once it has replayed that far, otherwise the primary does. This
 *   needs no clock and no guess of the lag: a shopper sees their own order at once, while everyone else's reads,
 *   and the shopper's own as soon as the replica has caught up, stay on the replicas.
 * - A replica that fails with a connection error or a timeout is marked down for a cool-off; the failed read is
 *   retried once, on the next healthy replica, or on the primary when none is left, so the request still succeeds.
 *   Errors about the query itself (bad SQL, a constraint) are not retried: another server would say the same.
 * - A primary that cannot be connected to (at start, or when a write opens a connection) is marked down: writes
 *   then fail at once with a 503 naming it (`primary_unavailable`) instead of each waiting for the connect timeout,
 *   reads go on on the replicas, and the primary is asked every {@link PRIMARY_RETRY_MS} ms in the background until
 *   it answers. A secondary region whose primary region is down serves reads and refuses writes this way. Only a
 *   failed connect marks it: a slow query on a live primary is that query's failure, not the server's.
 */
import type { Pool, PoolClient, QueryResult, QueryResultRow } from "pg";
import type { AppConfig } from "../config";
import type { Logger } from "../logger";
import { HttpError } from "../http/errors";
import { type ServedBy, servedByDatabase } from "../served-by";
import { isUnavailableError } from "./failures";
import { type Lsn, isLsn, lsnToBigInt } from "./lsn";
import { createPool } from "./pool";
import { configuredCredentials } from "./credentials";

/** How often a primary marked down is asked, in the background, whether it answers again, ms. */
export const PRIMARY_RETRY_MS = 1000;

/**
 * 503 for a write while the primary cannot be reached: it names what is down and says reads go on. Its cause (an
 * address) goes to the request's access line, never to the client.
 */
export function primaryUnavailable(): HttpError {
  return new HttpError(
    503,
    "primary_unavailable",
    "The primary database is not reachable: changes are refused until it answers again; browsing still works",
    { down: ["primary"] },
    { "Retry-After": "5" },
  );
}

/** A named pool; the name shows in logs, in /readyz and in {@link DbRouter.stats}. */
export interface RouterTarget {
  name: string;
  pool: Pool;
}

/** What the router needs; {@link createDbRouter} builds it from the app's configuration. */
export interface DbRouterOptions {
  primary: RouterTarget;
  replicas: RouterTarget[];
  /** How long a failed replica stays out of the rotation. */
  cooldownMs: number;
  logger: Logger;
  /** Milliseconds clock; tests pass their own to step over the cool-off without waiting. */
  now?: () => number;
}

/** Options of one read. */
export interface ReadOptions {
  /**
   * The LSN of the reader's last write. Only a replica that has replayed at least this far may serve the read;
   * otherwise it goes to the primary. Leave unset for reads that need no particular freshness.
   */
  after?: Lsn;
  /** Where the request records which target answered (the access log's `db`); see served-by.ts. */
  served?: ServedBy;
}

/** The result of a write, with the WAL position a later read must wait for to see it. */
export interface Written<T> {
  result: T;
  lsn: Lsn;
}

/** One target's counters, for tests, logs and (later) metrics. */
export interface TargetStats {
  name: string;
  role: "primary" | "replica";
  /** Reads (and, on the primary, write transactions) this target completed. */
  served: number;
  /** Calls that failed because the target was unreachable. */
  failures: number;
  /** True while a replica sits out its cool-off. */
  down: boolean;
}

/** One target's answer to a readiness probe. */
export interface ProbeResult {
  name: string;
  ok: boolean;
  /** Why the probe failed; never contains the connection string. */
  error?: string;
}

interface TargetState extends RouterTarget {
  role: "primary" | "replica";
  served: number;
  failures: number;
  /** Epoch ms until which a replica is out of the rotation; 0 when healthy. */
  downUntil: number;
  /** Highest replay position this replica has reported; it only moves forward. */
  replayed?: bigint;
}

/** See the module comment. */
export class DbRouter {
  private readonly primaryState: TargetState;
  private readonly replicaStates: TargetState[];
  private readonly cooldownMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private nextReplica = 0;
  /** Set while the primary is marked down: the connect failure that marked it. */
  private primaryDownBy: Error | undefined;
  private primaryRetry: NodeJS.Timeout | undefined;
  /** True while a background check of a primary marked down is under way. */
  private primaryChecking = false;
  private closed = false;

  constructor(options: DbRouterOptions) {
    const state = (target: RouterTarget, role: TargetState["role"]): TargetState => ({
      ...target,
      role,
      served: 0,
      failures: 0,
      downUntil: 0,
    });
    this.primaryState = state(options.primary, "primary");
    this.replicaStates = options.replicas.map((replica) => state(replica, "replica"));
    this.cooldownMs = options.cooldownMs;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
  }

  /** The primary's pool, for work that is not a request's: migrations, the seed, the worker. */
  get primaryPool(): Pool {
    return this.primaryState.pool;
  }

  /** The replicas, in order (start-up checks their schema when the primary cannot be reached). */
  get replicas(): RouterTarget[] {
    return this.replicaStates.map(({ name, pool }) => ({ name, pool }));
  }

  /** False while the primary is marked down (see the module comment): a write would fail at once. */
  get primaryReachable(): boolean {
    return this.primaryDownBy === undefined;
  }

  /**
   * Marks the primary down after `error`, a failed connect: writes fail at once with {@link primaryUnavailable}
   * until a check every {@link PRIMARY_RETRY_MS} ms (or a /readyz probe) reaches it again.
   */
  markPrimaryDown(error: Error): void {
    if (this.primaryDownBy || this.closed) return;
    this.primaryDownBy = error;
    this.logger.warn(
      { reason: error.message, retryMs: PRIMARY_RETRY_MS },
      "primary unreachable: writes are refused until it answers; reads go on",
    );
    // Checks start at most every PRIMARY_RETRY_MS. A primary that drops connections makes each check last the
    // connect timeout, so one is always under way and every write fails at once; one that refuses them fails a
    // check at once, and a write between two checks tries its own connect, which fails as fast, or, once the
    // primary is back, goes through without waiting for the next check.
    const check = () => {
      const started = Date.now();
      this.primaryChecking = true;
      this.primaryState.pool.query("SELECT 1").then(
        () => {
          this.primaryChecking = false;
          this.primaryAnswered();
        },
        () => {
          this.primaryChecking = false;
          if (!this.primaryDownBy || this.closed) return;
          const wait = PRIMARY_RETRY_MS - (Date.now() - started);
          if (wait <= 0) return check();
          this.primaryRetry = setTimeout(check, wait);
          // Never what keeps a process alive: close() clears it, and an exiting process need not wait for it.
          this.primaryRetry.unref();
        },
      );
    };
    check();
  }

  /** The primary answered: writes go to it again. */
  private primaryAnswered(): void {
    if (!this.primaryDownBy) return;
    this.primaryDownBy = undefined;
    clearTimeout(this.primaryRetry);
    this.logger.info("primary reachable again: writes go to it");
  }

  /** Runs a read-only statement on a replica if one fits `options`, else on the primary. See the module comment. */
  async read<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values: unknown[] = [],
    options: ReadOptions = {},
  ): Promise<QueryResult<R>> {
    const first = (await this.pickReplica(options.after)) ?? this.primaryState;
    try {
      const result = await this.run<R>(first, text, values);
      servedByDatabase(options.served, first.name);
      return result;
    } catch (error) {
      if (first.role === "primary" || !isUnavailableError(error)) throw error;
      const second = (await this.pickReplica(options.after, first)) ?? this.primaryState;
      this.logger.warn({ failed: first.name, retry: second.name }, "retrying read on another database");
      const result = await this.run<R>(second, text, values);
      servedByDatabase(options.served, second.name);
      return result;
    }
  }

  /**
   * Runs `work` in one transaction on the primary (BEGIN, work, COMMIT; ROLLBACK if `work` throws) and returns its
   * result with the WAL position after the commit, which readers pass as {@link ReadOptions.after}.
   */
  async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<Written<T>> {
    const target = this.primaryState;
    // Marked down and being checked: refused at once (see markPrimaryDown for when a write tries anyway).
    if (this.primaryDownBy && this.primaryChecking)
      throw Object.assign(primaryUnavailable(), { cause: this.primaryDownBy });
    let client: PoolClient;
    try {
      client = await target.pool.connect();
    } catch (error) {
      if (!isUnavailableError(error)) throw error;
      target.failures += 1;
      this.markPrimaryDown(error as Error);
      throw Object.assign(primaryUnavailable(), { cause: error });
    }
    this.primaryAnswered();
    // A connection that failed mid-way is handed back with the error, so that pg-pool discards it.
    let discard: Error | undefined;
    try {
      await client.query("BEGIN");
      let result: T;
      try {
        result = await work(client);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch((rollbackError: Error) => {
          discard = rollbackError;
        });
        throw error;
      }
      // The insert position is at or past the end of our commit record: a replica that has replayed this far has
      // our write.
      const { rows } = await client.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn");
      target.served += 1;
      return { result, lsn: rows[0].lsn };
    } catch (error) {
      if (isUnavailableError(error)) {
        target.failures += 1;
        discard = error as Error;
      }
      throw error;
    } finally {
      client.release(discard);
    }
  }

  /**
   * Asks every target for `SELECT 1`. A replica that answers is put back in the rotation at once; one that does
   * not is taken out, as a failed read would.
   */
  async probe(): Promise<ProbeResult[]> {
    return Promise.all(
      [this.primaryState, ...this.replicaStates].map(async (target): Promise<ProbeResult> => {
        try {
          await target.pool.query("SELECT 1");
          if (target.role === "primary") this.primaryAnswered();
          if (target.role === "replica" && target.downUntil !== 0) {
            target.downUntil = 0;
            this.logger.info({ target: target.name }, "replica back in rotation");
          }
          return { name: target.name, ok: true };
        } catch (error) {
          if (isUnavailableError(error)) this.markDown(target, error);
          return { name: target.name, ok: false, error: (error as Error).message };
        }
      }),
    );
  }

  /** Counters and state of each target, primary first. */
  stats(): TargetStats[] {
    const now = this.now();
    return [this.primaryState, ...this.replicaStates].map((target) => ({
      name: target.name,
      role: target.role,
      served: target.served,
      failures: target.failures,
      down: target.downUntil > now,
    }));
  }

  /** Closes every pool; in-flight queries finish first. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.primaryRetry);
    await Promise.all([this.primaryState, ...this.replicaStates].map((target) => target.pool.end()));
  }

  private async run<R extends QueryResultRow>(target: TargetState, text: string, values: unknown[]) {
    try {
      const result = await target.pool.query<R>(text, values);
      target.served += 1;
      return result;
    } catch (error) {
      if (isUnavailableError(error)) this.markDown(target, error);
      throw error;
    }
  }

  /** The next healthy replica (other than `failed`) in round-robin order that has replayed up to `after`, if any. */
  private async pickReplica(after: Lsn | undefined, failed?: TargetState): Promise<TargetState | undefined> {
    const now = this.now();
    const count = this.replicaStates.length;
    let candidate: TargetState | undefined;
    for (let step = 0; step < count && !candidate; step += 1) {
      const replica = this.replicaStates[(this.nextReplica + step) % count];
      if (replica !== failed && replica.downUntil <= now) {
        candidate = replica;
        this.nextReplica = (this.nextReplica + step + 1) % count;
      }
    }
    if (!candidate || after === undefined) return candidate;
    const needed = lsnToBigInt(after);
    if (candidate.replayed !== undefined && candidate.replayed >= needed) return candidate;
    // Only readers who wrote recently get here, and only until the replica has caught up with them: one cheap
    // round trip that decides whether the replica may serve them.
    try {
      const { rows } = await candidate.pool.query<{ lsn: string | null }>(
        "SELECT pg_last_wal_replay_lsn()::text AS lsn",
      );
      const reported = rows[0].lsn;
      // NULL: the server is not in recovery (not a replica at all), so we cannot tell; the primary is always right.
      if (!isLsn(reported)) return undefined;
      const replayed = lsnToBigInt(reported);
      if (candidate.replayed === undefined || replayed > candidate.replayed) candidate.replayed = replayed;
      return candidate.replayed >= needed ? candidate : undefined;
    } catch (error) {
      if (!isUnavailableError(error)) throw error;
      this.markDown(candidate, error);
      return undefined;
    }
  }

  private markDown(target: TargetState, error: unknown): void {
    target.failures += 1;
    if (target.role !== "replica") return;
    const wasUp = target.downUntil <= this.now();
    target.downUntil = this.now() + this.cooldownMs;
    if (wasUp) {
      this.logger.warn(
        { target: target.name, cooldownMs: this.cooldownMs, reason: (error as Error).message },
        "replica out of rotation",
      );
    }
  }
}

/**
 * Builds the router of the server's configuration: `primary` for DATABASE_URL and `replica-1`, `replica-2`, ...
 * for DATABASE_REPLICA_URLS in the order given.
 * @param clock replaces `Date.now` for the cool-off (tests).
 */
export function createDbRouter(config: AppConfig, logger: Logger, clock?: () => number): DbRouter {
  const settings = {
    max: config.DB_POOL_MAX,
    connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
    queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
    // One source for the primary and the replicas: they share the catalog's credentials.
    credentials: configuredCredentials(config.DATABASE_SECRET, config),
  };
  return new DbRouter({
    primary: { name: "primary", pool: createPool(config.DATABASE_URL, "primary", settings, logger) },
    replicas: config.DATABASE_REPLICA_URLS.map((url, index) => {
      const name = `replica-${index + 1}`;
      return { name, pool: createPool(url, name, settings, logger) };
    }),
    cooldownMs: config.REPLICA_COOLDOWN_MS,
    logger,
    now: clock,
  });
}
