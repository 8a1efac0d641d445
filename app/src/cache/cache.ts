/**
 * The cache: Redis as an optimisation the shop never depends on. Every command goes through {@link Cache.attempt},
 * which answers {@link UNAVAILABLE} instead of failing, so that a caller falls back to the database:
 *
 * - while the connection is down (node-redis is reconnecting in the background) nothing is sent at all;
 * - a command gets `timeoutMs` (default 100 ms) to answer; past it, or on any error, that read goes to the
 *   database. After `failuresToPause` (default 3) failures in a row the cache is skipped for `breakerMs`
 *   (default 1 s), so a stalled Redis costs a few requests 100 ms each, not every request; one slow reply on a
 *   busy server does not send a second of traffic to the database;
 * - failures are logged once per interval, with how many were left out.
 *
 * Entries live `ttlSeconds`, give or take `jitter` (10 %), so that keys filled together do not expire together
 * and send one wave of misses to the database.
 */
import { createHash } from "node:crypto";
import type { Logger } from "../logger";
import { type RedisClient, type ShopRedis, withTimeout } from "../redis/client";
import { ThrottledLog } from "../redis/throttled-log";

/** What {@link Cache.attempt} answers when Redis could not be used. */
export const UNAVAILABLE: unique symbol = Symbol("cache unavailable");
export type Unavailable = typeof UNAVAILABLE;

/** Options of {@link Cache}. */
export interface CacheOptions {
  redis: ShopRedis;
  logger: Logger;
  /** Mean lifetime of an entry. */
  ttlSeconds: number;
  /**
   * Relative spread of lifetimes: 0.1 makes them 90 %-110 % of `ttlSeconds`.
   * @default 0.1
   */
  jitter?: number;
  /**
   * How long one command may take before the cache counts as unavailable.
   * @default 100
   */
  timeoutMs?: number;
  /**
   * How long the cache is skipped after a failure.
   * @default 1000
   */
  breakerMs?: number;
  /**
   * Failures in a row after which the cache is skipped for `breakerMs`.
   * @default 3
   */
  failuresToPause?: number;
  /**
   * Prefix of every key: the app's namespace and the format version of what it stores, so that a release that
   * changes what it caches never reads a previous release's entries.
   * @default "shop:cache:v1:"
   */
  keyPrefix?: string;
  /**
   * How often failures are logged at most.
   * @default 30000
   */
  logIntervalMs?: number;
  /** Random numbers in [0, 1) for the jitter (tests). */
  random?: () => number;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

/** Counters of a cache, for tests, the benchmark and logs. */
export interface CacheStats {
  /** Reads answered from Redis. */
  hits: number;
  /** Reads Redis did not have: the database answered and the entry was written. */
  misses: number;
  /** Commands that failed or timed out. */
  errors: number;
  /** Operations that did not even try Redis (disconnected, or the breaker open). */
  bypassed: number;
}

/** Options of one {@link Cache.attempt}. */
export interface AttemptOptions {
  /**
   * Try even within the pause after a failure (only a closed connection stops it): for invalidations, which
   * matter more than the 100 ms they may cost.
   */
  ignoreBreaker?: boolean;
}

/** A Lua script, sent once per connection and then run by its SHA-1. */
export interface LuaScript {
  source: string;
  sha: string;
}

/** Makes a {@link LuaScript} of `source`. */
export function luaScript(source: string): LuaScript {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

/** See the module comment. */
export class Cache {
  readonly stats: CacheStats = { hits: 0, misses: 0, errors: 0, bypassed: 0 };
  readonly keyPrefix: string;
  private readonly redis: ShopRedis;
  private readonly logger: Logger;
  private readonly ttlMs: number;
  private readonly jitter: number;
  private readonly timeoutMs: number;
  private readonly breakerMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly failures: ThrottledLog;
  private readonly failuresToPause: number;
  private skipUntil = 0;
  private failuresInARow = 0;

  constructor(options: CacheOptions) {
    this.redis = options.redis;
    this.logger = options.logger;
    this.ttlMs = options.ttlSeconds * 1000;
    this.jitter = options.jitter ?? 0.1;
    this.timeoutMs = options.timeoutMs ?? 100;
    this.breakerMs = options.breakerMs ?? 1000;
    this.failuresToPause = options.failuresToPause ?? 3;
    this.keyPrefix = options.keyPrefix ?? "shop:cache:v1:";
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.failures = new ThrottledLog(options.logIntervalMs ?? 30_000, this.now);
  }

  /** True when the next operation will try Redis: connected, and no recent failure. */
  get available(): boolean {
    return this.redis.isReady && this.now() >= this.skipUntil;
  }

  /** The full key of `name`. */
  key(name: string): string {
    return `${this.keyPrefix}${name}`;
  }

  /** A lifetime for a new entry, in milliseconds: the TTL with its jitter, at least 1 ms. */
  entryTtlMs(): number {
    const spread = 1 + this.jitter * (2 * this.random() - 1);
    return Math.max(1, Math.round(this.ttlMs * spread));
  }

  /**
   * Runs `operation` against Redis within the timeout; {@link UNAVAILABLE} if Redis is down, slow or failing.
   * `what` names the operation in the log.
   */
  async attempt<T>(
    what: string,
    operation: (client: RedisClient) => Promise<T>,
    options: AttemptOptions = {},
  ): Promise<T | Unavailable> {
    if (!this.redis.isReady || (!options.ignoreBreaker && this.now() < this.skipUntil)) {
      this.stats.bypassed += 1;
      return UNAVAILABLE;
    }
    try {
      const result = await withTimeout(operation(this.redis.client), this.timeoutMs);
      this.failuresInARow = 0;
      return result;
    } catch (error) {
      this.stats.errors += 1;
      this.failuresInARow += 1;
      const pausing = this.failuresInARow >= this.failuresToPause;
      if (pausing) this.skipUntil = this.now() + this.breakerMs;
      this.failures.record((suppressed) =>
        this.logger.warn(
          {
            operation: what,
            reason: (error as Error).message,
            failuresInARow: this.failuresInARow,
            skipMs: pausing ? this.breakerMs : 0,
            suppressed,
          },
          "cache unavailable, reading from the database",
        ),
      );
      return UNAVAILABLE;
    }
  }

  /** Runs `script` (EVALSHA, or EVAL the first time a server sees it) through {@link attempt}. */
  runScript<T>(
    what: string,
    script: LuaScript,
    keys: string[],
    args: string[],
    options: AttemptOptions = {},
  ): Promise<T | Unavailable> {
    return this.attempt(
      what,
      async (client) => {
        try {
          return (await client.evalSha(script.sha, { keys, arguments: args })) as T;
        } catch (error) {
          if (!(error as Error).message?.startsWith("NOSCRIPT")) throw error;
          return (await client.eval(script.source, { keys, arguments: args })) as T;
        }
      },
      options,
    );
  }

  /** `ok` when Redis is in use, `degraded` while reads go to the database. */
  status(): "ok" | "degraded" {
    return this.available ? "ok" : "degraded";
  }
}
