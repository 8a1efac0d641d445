/**
 * `buildApp` assembles the shop's HTTP application: one Fastify plugin per feature (health, products, cart,
 * orders, storefront), sessions, validation and the error shape. It neither migrates nor listens: server.ts does
 * that for production, and tests call `inject` or `listen({ host: "127.0.0.1", port: 0 })` on the result.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { AppConfig } from "./config";
import { type DbRouter, createDbRouter } from "./db/router";
import { registerErrorHandling } from "./http/errors";
import { REQUEST_ID_HEADER, requestIdFor } from "./http/request-id";
import { validatorCompiler } from "./http/validation";
import { type Logger, createLogger } from "./logger";
import { STATIC_DIR } from "./paths";
import { cartRoutes } from "./routes/cart";
import { healthRoutes } from "./routes/health";
import { orderRoutes } from "./routes/orders";
import { productRoutes } from "./routes/products";
import { storefrontRoutes } from "./routes/storefront";
import { MemorySessionStore, type SessionStore } from "./session/memory-store";
import { registerSessions } from "./session/shopper-session";

/**
 * What `buildApp` can be handed instead of building it from the configuration. Whatever is handed in belongs to
 * the caller, who closes it; whatever `buildApp` builds, the app closes in `app.close()`.
 */
export interface AppDeps {
  /** The database router; default: pools for DATABASE_URL and DATABASE_REPLICA_URLS. */
  router?: DbRouter;
  /** Any connect-style session store; default: a {@link MemorySessionStore}. */
  sessionStore?: SessionStore;
  /** The logger; default: JSON on stdout at LOG_LEVEL. */
  logger?: Logger;
  /** Directory of the storefront's files; default: the app's static directory. */
  staticDir?: string;
}

/** Largest request body accepted; bigger ones get a 413 before any parsing. The API's bodies are a few hundred bytes. */
export const BODY_LIMIT_BYTES = 16 * 1024;

/** Builds the shop's Fastify app, ready to `inject` or `listen`. */
export async function buildApp(config: AppConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const logger = deps.logger ?? createLogger("shop-server", config.LOG_LEVEL);
  const app = Fastify({
    // Typed as Fastify's logger interface, which pino implements, so the app keeps the default FastifyInstance type.
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    requestIdHeader: false,
    genReqId: requestIdFor,
    logController: new LogController({ requestIdLogLabel: "requestId" }),
    // While closing, requests that still arrive on open connections get a 503, so the load balancer moves on.
    return503OnClosing: true,
  });

  const router = deps.router ?? createDbRouter(config, logger);
  if (!deps.router) app.addHook("onClose", async () => router.close());
  let sessionStore = deps.sessionStore;
  if (!sessionStore) {
    const ownStore = new MemorySessionStore();
    app.addHook("onClose", async () => ownStore.close());
    sessionStore = ownStore;
  }

  app.setValidatorCompiler(validatorCompiler);
  registerErrorHandling(app);
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

  await registerSessions(app, { secret: config.SESSION_SECRET, secure: config.COOKIE_SECURE, store: sessionStore });
  await app.register(healthRoutes, { router });
  await app.register(productRoutes, { prefix: "/api", router, adminToken: config.ADMIN_TOKEN });
  await app.register(cartRoutes, { prefix: "/api", router });
  await app.register(orderRoutes, { prefix: "/api", router });
  await app.register(storefrontRoutes, { staticDir: deps.staticDir ?? STATIC_DIR });
  await app.ready();
  return app;
}
