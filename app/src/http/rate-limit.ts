/**
 * Rate limits on the routes worth flooding: the admin routes (a token guesser, a runaway script), cart writes and
 * checkout. Each limit counts a client address's requests in a fixed one-minute window and answers the request past
 * the limit with a 429 `rate_limited` and `Retry-After` (seconds until the window ends), before any other route work:
 * an admin request is counted before its token is checked, so wrong tokens are limited too.
 *
 * | limit | routes | default per address and minute | variable |
 * | --- | --- | ---: | --- |
 * | `admin` | every route behind the admin token ({@link requireAdminToken}) | 60 | `RATE_LIMIT_ADMIN_PER_MINUTE` |
 * | `cart` | `POST /api/cart/items`, `DELETE /api/cart/items/:productId` | 120 | `RATE_LIMIT_CART_PER_MINUTE` |
 * | `checkout` | `POST /api/checkout` | 20 | `RATE_LIMIT_CHECKOUT_PER_MINUTE` |
 *
 * A shopper adds an item every few seconds at most and checks out once; the defaults leave room for several shoppers
 * behind one address (an office, a mobile carrier's NAT) and stop a script within seconds. 0 turns a limit off.
 *
 * - Selected here, by route, in one table ({@link LIMITED_ROUTES}) plus the admin guard's mark: `@fastify/rate-limit`
 *   is registered with `global: false` and this module adds a hook to those routes only, so the catalog reads and
 *   the storefront pay nothing.
 * - The client address is Fastify's `request.ip`: the socket's peer, or with `TRUST_PROXY` the address the load
 *   balancer saw (X-Forwarded-For); IPv6 addresses count per /64, as one host usually holds a whole /64.
 * - Counted in this process (an LRU of 5,000 addresses per limit) until sessions move to Redis (step 7,
 *   `SESSION_STORE=redis`); from then on in Redis ({@link redisRateLimitStore}), shared by the fleet: one Lua script
 *   increments and sets the window's expiry atomically. The cache's Redis (`REDIS_URL`), not the sessions' own: there
 *   is a counter per address, and an attacker has addresses to spare (an IPv6 /48 holds 65,536 /64s), so in the
 *   sessions' Redis, which never evicts, a flood of addresses would fill it and have new carts refused. The cache's
 *   evicts least recently used keys first, and a counter in use is touched by every request it counts. Redis down
 *   or slow fails open (the request goes on, the failure is logged once per 30 s): an outage of the limiter must not
 *   become an outage of checkout.
 * - A 429 is a 4xx like any other: its access line says `error: "rate_limited"`, one line, no stack.
 */
import { createHash } from "node:crypto";
import fastifyRateLimit, { type FastifyRateLimitStore, normalizeIP } from "@fastify/rate-limit";
import type {
  FastifyInstance,
  FastifyRequest,
  RouteOptions,
  onRequestAsyncHookHandler,
  onRequestHookHandler,
} from "fastify";
import type { Logger } from "../logger";
import { type ShopRedis, withTimeout } from "../redis/client";
import { ThrottledLog } from "../redis/throttled-log";
import { type AdminGuard, isAdminGuard } from "./admin-auth";
import { HttpError } from "./errors";

/** The limits, by name. */
export type LimitName = "admin" | "cart" | "checkout";

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * `refused`: on an admin route, only the requests its token guard refuses count in the admin limit.
     * @default every request counts
     */
    adminRateLimit?: "refused";
  }
}

/** The shopper routes that are limited, as `METHOD /pattern` (with the `/api` prefix) -> the limit they count in. */
export const LIMITED_ROUTES: Readonly<Record<string, Exclude<LimitName, "admin">>> = {
  "POST /api/cart/items": "cart",
  "DELETE /api/cart/items/:productId": "cart",
  "POST /api/checkout": "checkout",
};

/** The window every limit counts in. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/** Options of {@link registerRateLimits}. */
export interface RateLimitOptions {
  /** Requests per client address per minute, by limit; 0 turns that limit off. */
  perMinute: Record<LimitName, number>;
  /** Count in Redis (shared by the fleet) rather than in this process. */
  redis?: ShopRedis;
  logger: Logger;
}

/**
 * Registers `@fastify/rate-limit` (per route only) and the hook that puts a limiter first on each limited route.
 * Call it before the routes are registered: it sees them as they are added.
 */
export async function registerRateLimits(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  const store = options.redis ? redisRateLimitStore(options.redis, options.logger) : undefined;
  await app.register(fastifyRateLimit, { global: false, ...(store ? { store } : {}) });
  const hooks = new Map<LimitName, onRequestAsyncHookHandler>();
  const hookFor = (name: LimitName): onRequestAsyncHookHandler | undefined => {
    const max = options.perMinute[name];
    if (max === 0) return undefined;
    let hook = hooks.get(name);
    if (!hook) {
      hook = limiter(app, name, max);
      hooks.set(name, hook);
    }
    return hook;
  };
  app.addHook("onRoute", (route) => {
    const name = limitOf(route);
    const hook = name && hookFor(name);
    if (!hook) return;
    // First of the route's own hooks: before the admin guard, so that wrong tokens count as well.
    // (Fastify hands the HEAD twin of a GET route the GET's options, this hook already in them.)
    const own = ownOnRequest(route);
    if (own.includes(hook) || own.some((h) => LIMITERS.has(h))) return;
    // A route polled every second (GET /admin/stats) counts only the requests its guard refuses: a token guesser
    // is still limited, a reader with the token is not.
    const guard = own.find(isAdminGuard) as AdminGuard | undefined;
    const limit: onRequestAsyncHookHandler =
      name === "admin" && guard && route.config?.adminRateLimit === "refused"
        ? async (request, reply) => {
            if (!guard.accepts(request)) await hook.call(app, request, reply);
          }
        : hook;
    LIMITERS.add(limit);
    route.onRequest = [limit, ...own];
  });
}

/** Every limiter hook put on a route, so that the HEAD twin of a GET route (given the GET's hooks) gets no second. */
const LIMITERS = new WeakSet<onRequestHookHandler | onRequestAsyncHookHandler>();

/** A route's own onRequest hooks, as a list. */
function ownOnRequest(route: RouteOptions): onRequestHookHandler[] {
  if (route.onRequest === undefined) return [];
  return Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
}

/** The limit a route counts in, if any. */
function limitOf(route: RouteOptions): LimitName | undefined {
  if (ownOnRequest(route).some(isAdminGuard)) return "admin";
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  for (const method of methods) {
    const name = LIMITED_ROUTES[`${method} ${route.url}`];
    if (name) return name;
  }
  return undefined;
}

/** The onRequest hook of one limit: counts the request, and answers 429 past `max`. */
function limiter(app: FastifyInstance, name: LimitName, max: number): onRequestAsyncHookHandler {
  const count = app.createRateLimit({
    max,
    timeWindow: RATE_LIMIT_WINDOW_MS,
    // The limit's name keys its counters apart from the other limits' (one Redis keyspace for all of them).
    keyGenerator: (request: FastifyRequest) => `${name}:${normalizeIP(request.ip)}`,
  });
  return async (request) => {
    const result = await count(request);
    if (result.isAllowed || !result.isExceeded) return;
    const seconds = Math.max(1, result.ttlInSeconds);
    throw new HttpError(
      429,
      "rate_limited",
      `Too many ${name} requests from this address; retry in ${seconds} s`,
      { limit: name, max, windowSeconds: RATE_LIMIT_WINDOW_MS / 1000, retryAfterSeconds: seconds },
      { "retry-after": String(seconds) },
    );
  };
}

/**
 * Increments a window's counter and starts its expiry on the first request, atomically (a crash between an INCR
 * and a PEXPIRE would otherwise leave a counter that never expires: an address locked out for good). A counter
 * found without an expiry is given one. Answers `{count, ttl ms}`.
 */
const INCREMENT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return {count, tonumber(ARGV[1])}
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;
const INCREMENT_SHA = createHash("sha1").update(INCREMENT_SCRIPT).digest("hex");

/** Prefix of every counter's key: the app's namespace and this format's version. */
export const RATE_LIMIT_KEY_PREFIX = "shop:ratelimit:v1:";
/** How long Redis may take to count a request before the request goes on uncounted. */
const REDIS_TIMEOUT_MS = 100;

/**
 * A `@fastify/rate-limit` store class over the app's Redis connection (node-redis; the plugin's own Redis store is
 * for ioredis). It fails open: while Redis is down, or when it does not answer within 100 ms, the request counts as
 * the window's first, and the failure is logged once per 30 s with how many were not.
 */
export function redisRateLimitStore(redis: ShopRedis, logger: Logger) {
  const failures = new ThrottledLog(30_000);
  const failOpen = (reason: string) =>
    failures.record((suppressed) =>
      logger.warn({ address: redis.address, reason, suppressed }, "rate limit not counted: redis unavailable"),
    );
  const increment = async (key: string, windowMs: number): Promise<{ current: number; ttl: number }> => {
    const options = { keys: [key], arguments: [String(windowMs)] };
    let reply: unknown;
    try {
      reply = await withTimeout(redis.client.evalSha(INCREMENT_SHA, options), REDIS_TIMEOUT_MS);
    } catch (error) {
      // First use on this server (or after a restart or SCRIPT FLUSH): send the script itself, which Redis caches.
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      reply = await withTimeout(redis.client.eval(INCREMENT_SCRIPT, options), REDIS_TIMEOUT_MS);
    }
    const [current, ttl] = reply as [number, number];
    return { current, ttl };
  };

  return class RedisRateLimitStore implements FastifyRateLimitStore {
    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      windowMs: number,
    ) {
      const open = { current: 0, ttl: windowMs };
      if (!redis.isReady) {
        failOpen("not connected");
        callback(null, open);
        return;
      }
      increment(RATE_LIMIT_KEY_PREFIX + key, windowMs).then(
        (result) => callback(null, result),
        (error: Error) => {
          failOpen(error.message);
          callback(null, open);
        },
      );
    }

    child(): FastifyRateLimitStore {
      // Every limit shares the one keyspace: the keys carry the limit's name.
      return this;
    }
  };
}
