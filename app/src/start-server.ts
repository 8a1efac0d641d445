/** Starts the shop's HTTP server the way production runs it: migrate and seed, then build the app and listen. */
import type { Server as HttpServer } from "node:http";
import { type ListenOptions, Server as NetServer } from "node:net";
import type { FastifyInstance, FastifyListenOptions } from "fastify";
import { buildApp } from "./app";
import type { AppConfig } from "./config";
import { prepareOrServeReads } from "./db/prepare";
import { createDbRouter } from "./db/router";
import type { Logger } from "./logger";
import { MIGRATIONS_DIR } from "./paths";

/** A listening server. */
export interface RunningServer {
  app: FastifyInstance;
  /** `http://host:port` it listens on. */
  address: string;
  /**
   * Hands memory sessions over (session/handoff.ts), then stops listening, lets in-flight requests finish and
   * closes the database pools.
   */
  close(): Promise<void>;
}

/** While a server stops, how often the connections that have fallen idle since the close began are ended, ms. */
const IDLE_SWEEP_MS = 50;

/** Closes the listening socket of `server` and nothing else (node:http's close() closes idle connections first). */
export function stopListening(server: HttpServer): void {
  if (server.listening) NetServer.prototype.close.call(server);
}

/**
 * Applies migrations and the seed (under the schema lock, so a fleet can start at once), then listens on
 * HOST:PORT. The server is only reachable once the database is ready for it: migrated, or, with the primary
 * unreachable, a replica at this release's schema (then it serves reads and refuses writes; db/prepare.ts).
 */
export async function startServer(config: AppConfig, logger: Logger): Promise<RunningServer> {
  const router = createDbRouter(config, logger);
  let app: FastifyInstance | undefined;
  try {
    // A primary that cannot be reached, with a replica at this release's schema, is a start that serves reads.
    await prepareOrServeReads(router, {
      migrationsDir: MIGRATIONS_DIR,
      seedProducts: config.SEED_PRODUCTS,
      logger,
    });
    const built = await buildApp(config, { router, logger });
    app = built;
    // Fastify hands its options to node:net's listen, whose reusePort its types do not list (Node >= 22.12,
    // checked by loadConfig).
    const listen: FastifyListenOptions & Pick<ListenOptions, "reusePort"> = { host: config.HOST, port: config.PORT };
    if (config.LISTEN_REUSE_PORT) listen.reusePort = true;
    const address = await built.listen(listen);
    logger.info({ address }, "server ready");
    return {
      app: built,
      address,
      close: async () => {
        // Memory sessions first, while the server still listens: a shopper whose next request goes elsewhere finds
        // their session there. A handover that fails is logged, and the stop goes on.
        await built.sessionHandoff
          .handOver()
          .catch((error: unknown) => logger.error({ err: error }, "sessions not handed over at shutdown"));
        // The listener closes first, and idle keep-alive connections only a turn later: node:http's close() does
        // it the other way round, and a client whose idle connection is closed retries on a new one at once, which
        // could still reach this listener's backlog and be reset with it (a replacement shares the port).
        stopListening(built.server);
        await new Promise((resolve) => setImmediate(resolve));
        // Fastify closes idle keep-alive connections and waits for in-flight requests; only then may the pools
        // those requests use be closed. Fastify and node:http end only the connections idle when the close begins:
        // one whose answer is sent later (a cart write waiting for the handover's write-through) would stay open
        // until its keepAliveTimeout (65 s), past SHUTDOWN_TIMEOUT_MS. Each is ended as it falls idle instead.
        const sweep = setInterval(() => built.server.closeIdleConnections(), IDLE_SWEEP_MS);
        try {
          await built.close();
        } finally {
          clearInterval(sweep);
        }
        await router.close();
      },
    };
  } catch (error) {
    // A port already taken (EADDRINUSE) fails the listen after the app was built: its Redis connections and
    // timers go with it.
    await app?.close();
    await router.close();
    throw error;
  }
}
