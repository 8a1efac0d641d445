/**
 * Sessions in Redis (step 7, `SESSION_STORE=redis`): connect-redis on the app's node-redis connection, so that any
 * server of the fleet can serve any shopper and a cart survives the server that made it.
 *
 * - Keys `shop:sess:<session id>`, apart from the cache's `shop:cache:` keys on the same Redis. Each lives as long
 *   as its cookie: connect-redis sets the TTL from the cookie's expiry (7 days from the session's creation; the
 *   sessions are not rolling), falling back to {@link SESSION_MAX_AGE_MS}.
 * - Unlike the cache, sessions are not optional: a cart cannot be read from anywhere else. So a failure is not
 *   hidden but answered fast and honestly: every store call gets `timeoutMs` (default 1 s), and a store that is
 *   down, slow or failing makes the request a 503 `service_unavailable` (logged once per interval), never a hang.
 *   Routes that do not use sessions (catalog reads with the cache on, the storefront) never ask the store at all.
 */
import { RedisStore } from "connect-redis";
import type { Session } from "fastify";
import { HttpError } from "../http/errors";
import type { Logger } from "../logger";
import type { ShopRedis } from "../redis/client";
import { ThrottledLog } from "../redis/throttled-log";
import type { SessionStore } from "./memory-store";
import { SESSION_MAX_AGE_MS } from "./shopper-session";

/** Options of {@link createRedisSessionStore}. */
export interface RedisSessionStoreOptions {
  redis: ShopRedis;
  logger: Logger;
  /**
   * Prefix of the session keys.
   * @default "shop:sess:"
   */
  prefix?: string;
  /**
   * How long one store call may take.
   * @default 1000
   */
  timeoutMs?: number;
  /**
   * How often failures are logged at most.
   * @default 30000
   */
  logIntervalMs?: number;
}

/** The 503 a request gets when its session cannot be read or written. */
export function sessionStoreUnavailable(): HttpError {
  return new HttpError(503, "service_unavailable", "Sessions are not reachable; try again shortly", null, {
    "retry-after": "1",
  });
}

/** See the module comment. */
export function createRedisSessionStore(options: RedisSessionStoreOptions): SessionStore {
  const store = new RedisStore({
    client: options.redis.client,
    prefix: options.prefix ?? "shop:sess:",
    ttl: Math.ceil(SESSION_MAX_AGE_MS / 1000),
    // @fastify/session never calls touch (sessions are not rolling); nothing to refresh.
    disableTouch: true,
  });
  const timeoutMs = options.timeoutMs ?? 1000;
  const failures = new ThrottledLog(options.logIntervalMs ?? 30_000);

  /** Calls `call` with a callback that fires once: with the store's answer, or with a 503 on error or timeout. */
  function guarded<T>(
    operation: string,
    callback: (error: unknown, value?: T) => void,
    call: (done: (error: unknown, value?: T) => void) => void,
  ) {
    let settled = false;
    const fail = (reason: string) => {
      failures.record((suppressed) =>
        options.logger.warn({ operation, reason, suppressed }, "session store unavailable"),
      );
      callback(sessionStoreUnavailable());
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      fail(`no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    try {
      call((error, value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) fail((error as Error).message ?? String(error));
        else callback(null, value);
      });
    } catch (error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fail((error as Error).message);
    }
  }

  return {
    get(sessionId, callback) {
      guarded<Session | null>("get", callback, (done) => {
        void store.get(sessionId, (error, session) => done(error, (session as Session | null | undefined) ?? null));
      });
    },
    set(sessionId, session, callback) {
      guarded(
        "set",
        (error) => callback(error ?? undefined),
        (done) => {
          void store.set(sessionId, session as never, (error) => done(error));
        },
      );
    },
    destroy(sessionId, callback) {
      guarded(
        "destroy",
        (error) => callback(error ?? undefined),
        (done) => {
          void store.destroy(sessionId, (error) => done(error));
        },
      );
    },
  };
}
