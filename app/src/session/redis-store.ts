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
 * - A retired session id holds a tombstone (tombstone.ts) under the same key, with its own short TTL. connect-redis
 *   reads and deletes; writes go through a script that refuses to write a session over a tombstone (connect-redis's
 *   plain SET would revive a retired id when a request that loaded the session before its checkout saves it after).
 */
import { RedisStore } from "connect-redis";
import type { Session } from "fastify";
import { HttpError } from "../http/errors";
import type { Logger } from "../logger";
import { luaScript } from "../cache/cache";
import type { ShopRedis } from "../redis/client";
import { ThrottledLog } from "../redis/throttled-log";
import { type SessionStore, SessionStoreUnavailableError } from "./memory-store";
import { SESSION_MAX_AGE_MS } from "./shopper-session";
import { TOMBSTONE_JSON_PREFIX, TOMBSTONE_TTL_MS, sessionEnded, tombstoneJson } from "./tombstone";

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
  /**
   * How long a tombstone lasts (its key's TTL).
   * @default TOMBSTONE_TTL_MS (5 minutes)
   */
  tombstoneTtlMs?: number;
}

/**
 * SET `KEYS[1]` to `ARGV[1]` for `ARGV[2]` seconds unless it holds a tombstone (its text starts with `ARGV[3]`):
 * 1 when written, 0 when refused. One script, so that no tombstone can land between the check and the write.
 */
const SET_UNLESS_TOMBSTONE = luaScript(`
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, string.len(ARGV[3])) == ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
`);

/** The 503 a request gets when its session cannot be read or written. */
export function sessionStoreUnavailable(): HttpError {
  return new SessionStoreUnavailableError();
}

/** See the module comment. */
export function createRedisSessionStore(options: RedisSessionStoreOptions): SessionStore {
  const prefix = options.prefix ?? "shop:sess:";
  const tombstoneTtlMs = options.tombstoneTtlMs ?? TOMBSTONE_TTL_MS;
  const client = options.redis.client;
  const store = new RedisStore({
    client,
    prefix,
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
      // As connect-redis: the key lives as long as the cookie; one already expired is deleted instead.
      const expires = session.cookie?.expires;
      const ttlSeconds = expires
        ? Math.ceil((new Date(expires).getTime() - Date.now()) / 1000)
        : Math.ceil(SESSION_MAX_AGE_MS / 1000);
      let refused = false;
      guarded(
        "set",
        (error) => callback(error ?? (refused ? sessionEnded() : undefined)),
        (done) => {
          if (ttlSeconds <= 0) {
            void store.destroy(sessionId, (error) => done(error));
            return;
          }
          const value = JSON.stringify(session);
          const script = { keys: [prefix + sessionId], arguments: [value, String(ttlSeconds), TOMBSTONE_JSON_PREFIX] };
          client
            .evalSha(SET_UNLESS_TOMBSTONE.sha, script)
            .catch((error: Error) => {
              // First use on this server (or after a restart or SCRIPT FLUSH): send the script itself.
              if (!error.message?.startsWith("NOSCRIPT")) throw error;
              return client.eval(SET_UNLESS_TOMBSTONE.source, script);
            })
            .then(
              (written) => {
                refused = written === 0;
                done(null);
              },
              (error: unknown) => done(error),
            );
        },
      );
    },
    retire(sessionId, tombstone, callback) {
      guarded(
        "retire",
        (error) => callback(error ?? undefined),
        (done) => {
          client
            .set(prefix + sessionId, tombstoneJson(tombstone), { expiration: { type: "PX", value: tombstoneTtlMs } })
            .then(
              () => done(null),
              (error: unknown) => done(error),
            );
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
