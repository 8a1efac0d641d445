/**
 * `buildApp` assembles the shop's HTTP application: one Fastify plugin per feature (health, products, cart,
 * orders, storefront), sessions, validation and the error shape. It neither migrates nor listens: server.ts does
 * that for production, and tests call `inject` or `listen({ host: "127.0.0.1", port: 0 })` on the result.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { Cache } from "./cache/cache";
import { ProductCache } from "./catalog/product-cache";
import type { AppConfig } from "./config";
import { type DbRouter, createDbRouter } from "./db/router";
import { AccessLog, registerAccessLog } from "./http/access-log";
import { registerCacheControl } from "./http/cache-control";
import { registerErrorHandling } from "./http/errors";
import { REQUEST_ID_HEADER, requestIdFor } from "./http/request-id";
import { registerCsrfProtection } from "./http/csrf";
import { ProcessStats, statsRoutes } from "./http/process-stats";
import { registerRateLimits } from "./http/rate-limit";
import { registerSecurityHeaders } from "./http/security-headers";
import { registerTierHeaders } from "./http/tier-headers";
import { type WriteFence, registerWriteFence } from "./http/write-fence";
import { serverTimeouts } from "./http/timeouts";
import { validatorCompiler } from "./http/validation";
import { type Logger, createLogger } from "./logger";
import { STATIC_DIR } from "./paths";
import { type ShopRedis, createRedis, withTimeout } from "./redis/client";
import { cartRoutes } from "./routes/cart";
import { healthRoutes } from "./routes/health";
import { orderRoutes } from "./routes/orders";
import { productRoutes } from "./routes/products";
import { adminOrderRoutes } from "./routes/admin-orders";
import { adminOperationRoutes } from "./routes/admin-operations";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { metrics, startMetricsPublisher } from "./metrics";
import { OutboxRelay } from "./queue/outbox-relay";
import { createSqsClient } from "./queue/sqs";
import { type OrderShards, openOrderShards } from "./shards/order-shards";
import { storefrontRoutes } from "./routes/storefront";
import { MemorySessionStore, type SessionStore } from "./session/memory-store";
import { createRedisSessionStore } from "./session/redis-store";
import { HandoffSessionStore } from "./session/handoff";
import { registerSessions } from "./session/shopper-session";

declare module "fastify" {
  interface FastifyInstance {
    /**
     * The catalog cache when REDIS_URL is set (and CACHE_TTL_SECONDS is not 0), else null. A route that changes
     * products outside the catalog API calls its `productsWritten(ids, lsn)`.
     */
    productCache: ProductCache | null;
    /** The write fence of the shop's writes (http/write-fence.ts); server.ts shuts down once it has moved. */
    writeFence: WriteFence;
    /** The session store, which hands memory sessions over and claims missed ones (session/handoff.ts). */
    sessionHandoff: HandoffSessionStore;
  }
}

/**
 * What `buildApp` can be handed instead of building it from the configuration. Whatever is handed in belongs to
 * the caller, who closes it; whatever `buildApp` builds, the app closes in `app.close()`.
 */
export interface AppDeps {
  /** The database router; default: pools for DATABASE_URL and DATABASE_REPLICA_URLS. */
  router?: DbRouter;
  /** Any connect-style session store; default: per SESSION_STORE, a {@link MemorySessionStore} or Redis. */
  sessionStore?: SessionStore;
  /** The Redis connection of the cache (and of the sessions without SESSION_REDIS_URL); default: one to REDIS_URL. */
  redis?: ShopRedis;
  /** The Redis connection of the sessions (SESSION_STORE=redis); default: one to SESSION_REDIS_URL, when set. */
  sessionRedis?: ShopRedis;
  /** The logger; default: JSON on stdout at LOG_LEVEL. */
  logger?: Logger;
  /** Directory of the storefront's files; default: the app's static directory. */
  staticDir?: string;
  /** Where orders live; default: ORDER_SHARDS's shards (migrated here), or the catalog database. */
  shards?: OrderShards;
  /** Client of the orders queue (ORDER_QUEUE_URL); default: one built from AWS_REGION and SQS_ENDPOINT. */
  sqs?: SQSClient;
  /**
   * How long the write fence holds a write before answering 503 `maintenance` (tests shorten it).
   * @default 15000 (http/write-fence.ts's DEFAULT_MAX_HOLD_MS)
   */
  writeFenceMaxHoldMs?: number;
}

/** Largest request body accepted; bigger ones get a 413 before any parsing. The API's bodies are a few hundred bytes.
 * */
export const BODY_LIMIT_BYTES = 16 * 1024;

/** Builds the shop's Fastify app, ready to `inject` or `listen`. */
export async function buildApp(config: AppConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const logger = deps.logger ?? createLogger("shop-server", config.LOG_LEVEL);
  // This process's figures (GET /admin/stats), counted where the access line is written.
  const stats = new ProcessStats(
    { process: config.PROCESS_NAME ?? `pid-${process.pid}`, kind: "web", region: config.AWS_REGION },
    () => metrics.totals(),
  );
  const accessLog = new AccessLog({ region: config.AWS_REGION, stats });
  const app = Fastify({
    // Typed as Fastify's logger interface, which pino implements, so the app keeps the default FastifyInstance type.
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // The nearest TRUST_PROXY hops, never "trust all": the client's own X-Forwarded-For entries stay out of
    // request.ip. (A plain number means no trust at all to Fastify 5.12, which cannot tell who the peer is; on AWS
    // the security groups admit only the load balancer to the app's port.)
    trustProxy: config.TRUST_PROXY > 0 ? (_address: string, hop: number) => hop < config.TRUST_PROXY : false,
    requestIdHeader: false,
    genReqId: requestIdFor,
    // One access line per request (http/access-log.ts) instead of Fastify's two.
    logController: accessLog,
    // While closing, a request that still arrives on an open connection is served, and its answer ends the
    // connection (the onSend hook below): Fastify's 503 instead reached the client, since neither an ALB nor a
    // client retries a 503 (the 2 -> 3 climb's shoppers saw one). close() waits for it as for any request in flight.
    return503OnClosing: false,
    // Keep-alive longer than the ALB's idle timeout, a 408 for a request not sent within REQUEST_TIMEOUT_MS.
    ...serverTimeouts(config.REQUEST_TIMEOUT_MS),
  });

  const router = deps.router ?? createDbRouter(config, logger);
  if (!deps.router) app.addHook("onClose", async () => router.close());
  // Redis (step 5 on): the product cache and, with SESSION_STORE=redis (step 7), the sessions. The app starts without
  // it; a bounded wait lets the first requests use it when it is there.
  let redis = deps.redis;
  if (!redis && config.REDIS_URL) {
    const own = createRedis({ url: config.REDIS_URL, logger, connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS });
    app.addHook("onClose", async () => own.close());
    if (!(await own.whenReady(config.DB_CONNECT_TIMEOUT_MS)))
      logger.warn({ address: own.address }, "redis not reachable at start; going on without it");
    redis = own;
  }
  const productCache =
    redis && config.CACHE_TTL_SECONDS > 0
      ? new ProductCache({
          cache: new Cache({ redis, logger, ttlSeconds: config.CACHE_TTL_SECONDS }),
          router,
          events: { hit: () => metrics.cacheHit(), miss: () => metrics.cacheMiss() },
        })
      : undefined;
  let sessionStore = deps.sessionStore;
  // Step 7: sessions in a Redis of their own (SESSION_REDIS_URL, `noeviction` on AWS and locally), which the cache's
  // traffic cannot evict them from (issue 14, finding 2); without one they share the cache's.
  let sessionRedis = deps.sessionRedis;
  if (!sessionStore && config.SESSION_STORE === "redis") {
    if (!sessionRedis && config.SESSION_REDIS_URL) {
      const own = createRedis({
        url: config.SESSION_REDIS_URL,
        name: "session-redis",
        logger,
        connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
      });
      app.addHook("onClose", async () => own.close());
      if (!(await own.whenReady(config.DB_CONNECT_TIMEOUT_MS)))
        logger.warn({ address: own.address }, "session redis not reachable at start; carts answer 503 until it is");
      sessionRedis = own;
    }
    if (!sessionRedis && redis) {
      logger.warn("sessions share REDIS_URL with the product cache: an evicting cache can empty carts");
      sessionRedis = redis;
    }
    if (sessionRedis) sessionStore = createRedisSessionStore({ redis: sessionRedis, logger });
  }
  if (!sessionStore) {
    const ownStore = new MemorySessionStore();
    app.addHook("onClose", async () => ownStore.close());
    sessionStore = ownStore;
  }
  // Whatever the store, a session id it misses may have been handed over by a process that was replaced; memory
  // sessions are handed over in turn when this one is (session/handoff.ts). A hit costs nothing more.
  const sessions = new HandoffSessionStore(sessionStore, { pool: router.primaryPool, logger });
  app.decorate("sessionHandoff", sessions);

  app.setValidatorCompiler(validatorCompiler);
  registerAccessLog(app, accessLog);
  registerErrorHandling(app);
  registerCacheControl(app);
  registerSecurityHeaders(app, { https: config.COOKIE_SECURE });
  registerTierHeaders(app, { region: config.AWS_REGION, process: config.PROCESS_NAME });
  app.decorate("productCache", productCache ?? null);
  app.addHook("onRequest", async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  // Draining: once close() has begun, every response still going out ends its keep-alive connection. Otherwise a
  // client (or load balancer) holding the connection open would keep close() waiting until the shutdown timeout.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply) => {
    if (closing) reply.header("connection", "close");
  });
  // The write fence (1 -> 2): before the routes, so that it finds the shop's writes as they are added. Once moved,
  // the listener is closed and every response ends its connection, as when closing.
  const fence = registerWriteFence(app, { maxHoldMs: deps.writeFenceMaxHoldMs });
  app.decorate("writeFence", fence);
  void fence.whenMoved.then(() => (closing = true));

  // Orders: their shards, the outbox relay (with the queue) and the business metrics. One onClose hook, added
  // after the router's, so it runs before it (Fastify runs onClose hooks last-added first): the relay's last run
  // and the last metrics record still have their pools.
  const opened = deps.shards
    ? { shards: deps.shards, stopRetrying: () => undefined }
    : await openOrderShards(config, router, logger);
  const shards = opened.shards;
  const sqs = config.ORDER_QUEUE_URL
    ? (deps.sqs ?? createSqsClient({ ...config, ORDER_QUEUE_URL: config.ORDER_QUEUE_URL }))
    : undefined;
  const relay =
    config.ORDER_QUEUE_URL && sqs
      ? new OutboxRelay({
          sources: shards.all().map((shard) => ({ name: shard.name, pool: shard.router.primaryPool })),
          sqs,
          queueUrl: config.ORDER_QUEUE_URL,
          logger,
          intervalMs: config.OUTBOX_RELAY_INTERVAL_MS,
        })
      : undefined;
  relay?.start();
  const publisher = startMetricsPublisher(config, {
    service: "shop-server",
    logger,
    publishes: ["OrdersPlaced", "Revenue", "ActiveShoppers", "CacheHits", "CacheMisses"],
  });
  app.addHook("onClose", async () => {
    await relay?.stop();
    await publisher?.stop();
    opened.stopRetrying();
    if (!deps.shards) await shards.close();
    if (sqs && !deps.sqs) sqs.destroy();
  });

  // Before the routes: it puts a limiter on the admin routes, cart writes and checkout as they are added. In Redis
  // when the sessions are (step 7), so that the fleet shares the counts; in the cache's, never the sessions' (see
  // http/rate-limit.ts: one counter per address, and addresses are plentiful, would fill a Redis that never evicts).
  await registerRateLimits(app, {
    perMinute: {
      admin: config.RATE_LIMIT_ADMIN_PER_MINUTE,
      cart: config.RATE_LIMIT_CART_PER_MINUTE,
      checkout: config.RATE_LIMIT_CHECKOUT_PER_MINUTE,
    },
    redis: config.SESSION_STORE === "redis" ? redis : undefined,
    logger,
  });
  // After the rate limits, so that it runs before them: a cross-site request is refused without being counted.
  registerCsrfProtection(app, { siteOrigins: config.SITE_ORIGINS });
  const pings = async (server: ShopRedis | undefined) =>
    server !== undefined &&
    server.isReady &&
    (await withTimeout(server.client.ping(), 200).then(
      () => true,
      () => false,
    ));
  const redisCheck = async () => ({ name: "redis", ok: await pings(redis) });
  const sessionRedisCheck = async () => ({ name: "session-redis", ok: await pings(sessionRedis) });
  const optionalChecks = [
    ...(redis ? [redisCheck] : []),
    ...(sessionRedis && sessionRedis !== redis ? [sessionRedisCheck] : []),
  ];
  const products = { prefix: "/api", router, adminToken: config.ADMIN_TOKEN, cache: productCache };
  // Routes that never read a session are registered outside the sessions' scope, so that their requests skip the
  // session plugin: it makes a session for every request that passes it, cookie or not (a random id, an HMAC, two
  // hashes), which cost ~5 % of a web process's CPU on the cached product read. With the cache on, the catalog reads
  // are the same for every reader; without it they honour the reader's last write (read-your-writes), so they need
  // the session.
  await app.register(healthRoutes, { router, optionalChecks });
  if (productCache) await app.register(productRoutes, products);
  await app.register(adminOrderRoutes, {
    prefix: "/api",
    shards,
    adminToken: config.ADMIN_TOKEN,
    shardTimeoutMs: config.SHARD_QUERY_TIMEOUT_MS,
  });
  await app.register(adminOperationRoutes, { adminToken: config.ADMIN_TOKEN, sessions, fence });
  await app.register(statsRoutes, { stats, adminToken: config.ADMIN_TOKEN });
  await app.register(storefrontRoutes, {
    staticDir: deps.staticDir ?? STATIC_DIR,
    staticBaseUrl: config.STATIC_BASE_URL,
  });
  await app.register(async (shop) => {
    await registerSessions(shop, { secret: config.SESSION_SECRET, secure: config.COOKIE_SECURE, store: sessions });
    // ActiveShoppers: every request that carries a shopper's session counts its shopper as active.
    shop.addHook("onResponse", async (request) => {
      const shopperId = request.session?.shopperId;
      if (typeof shopperId === "string") metrics.shopperSeen(shopperId);
    });
    if (!productCache) await shop.register(productRoutes, products);
    await shop.register(cartRoutes, { prefix: "/api", router });
    await shop.register(orderRoutes, { prefix: "/api", router, shards, relay });
  });
  await app.ready();
  return app;
}
