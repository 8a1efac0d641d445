/**
 * The one way the app talks to Redis (ElastiCache for Valkey/Redis on AWS, `redis-server` in tests): a node-redis
 * client for REDIS_URL, made so that Redis can never take the shop down with it.
 *
 * - `redis://` or `rediss://` (TLS, as ElastiCache's in-transit encryption needs), with the AUTH token as the URL's
 *   password: `rediss://:<token>@host:6379`. node-redis reads both from the URL.
 * - It connects in the background and reconnects for ever with a capped, jittered back-off. Nothing waits for it:
 *   {@link ShopRedis.whenReady} lets a caller wait a bounded time if it wants to.
 * - No offline queue: while the connection is down every command fails at once instead of piling up, and the
 *   in-flight queue is bounded, so a hung server cannot make the process hoard commands.
 * - {@link withTimeout} bounds a command's wait: node-redis's own command timeout stops counting once a command
 *   is on the wire, which is exactly when a stalled server hurts.
 * - Connection errors are logged at most once per interval (with how many were not), never with the URL.
 * - A stuck connection is started over. node-redis 5 awaits the handshake (HELLO, CLIENT SETINFO) of a new
 *   connection with no timeout, and a socket error before the connection was ever ready does not restart its
 *   reconnect loop (5.9.0 socket.js `#onSocketError` returns when it was not ready; redis/node-redis#3346):
 *   - a server that accepts and never answers leaves the client open, not ready and silent for ever. While open and
 *     not ready, each attempt emits an event at least every connect timeout plus the longest back-off: a longer
 *     silence means the loop is stuck;
 *   - a reset during the handshake (a server killed or restarted while the client reconnects) fails the ignored
 *     CLIENT SETINFO, so the client declares itself ready on a dead socket and every command waits for ever. The
 *     reset's `error` event comes between `connect` and `ready`: such a `ready` is refused and the client reconnects
 *     at once. As a safety net for any other dead socket, while ready a PING a second checks it; two missed in a
 *     row mean the socket is dead.
 *   Either way the client is destroyed and reconnected.
 */
// The client alone: the `redis` package is this plus the Bloom, JSON, Search and TimeSeries modules, which the shop
// never uses and which every web server would load at start (the worker has no Redis; `redis` stays a dependency:
// connect-redis names it as its peer). Measured on Node 22, 5 fresh processes each: `require` took 200 ms of CPU
// (median) for `@redis/client` against 252 ms for `redis`; a release's server.js start 0.47 → 0.44 s; server.js
// 5.17 → 4.93 MB.
import { type RedisClientType, createClient } from "@redis/client";
import type { Logger } from "../logger";
import { ThrottledLog } from "./throttled-log";

/** The node-redis client type the app uses (no modules, RESP2). */
export type RedisClient = RedisClientType;

/** Options of {@link createRedis}. */
export interface RedisOptions {
  /** `redis://[:password@]host[:port][/db]` or `rediss://...` for TLS. */
  url: string;
  logger: Logger;
  /**
   * Names this connection in logs, e.g. `cache`.
   * @default "redis"
   */
  name?: string;
  /**
   * How long a new connection (TCP, TLS, AUTH) may take before it counts as failed.
   * @default 1000
   */
  connectTimeoutMs?: number;
  /**
   * Longest wait between two reconnection attempts.
   * @default 2000
   */
  maxReconnectDelayMs?: number;
  /**
   * Most commands queued or awaiting a reply; past it commands fail at once.
   * @default 1000
   */
  maxQueuedCommands?: number;
  /**
   * How often a failing connection is logged at most.
   * @default 30000
   */
  logIntervalMs?: number;
  /**
   * How long the client may stay open, not ready and silent (no error, connect or reconnecting event) before the
   * attempt counts as stuck and starts over. Longer than any healthy gap between two attempts.
   * @default 2 × (connectTimeoutMs + maxReconnectDelayMs)
   */
  stalledConnectMs?: number;
  /** Extra TLS settings for `rediss://` (tests pass the CA of their own server); ElastiCache needs none. */
  tls?: { ca?: string | Buffer };
}

/** A Redis connection owned by the app: the client, its state, and how to close it. */
export interface ShopRedis {
  client: RedisClient;
  /** `host:port` of the server, for logs (never the password). */
  readonly address: string;
  /** True while the connection is up and commands can be sent. */
  readonly isReady: boolean;
  /** Resolves true once the connection is ready, or false after `timeoutMs`; never rejects. */
  whenReady(timeoutMs: number): Promise<boolean>;
  /** Closes the connection; commands in flight fail. Safe to call twice. */
  close(): Promise<void>;
}

/** Thrown by {@link withTimeout} when Redis does not answer in time. */
export class RedisTimeoutError extends Error {
  constructor(public readonly timeoutMs: number) {
    super(`Redis did not answer within ${timeoutMs} ms`);
    this.name = "RedisTimeoutError";
  }
}

/**
 * `promise`, or a {@link RedisTimeoutError} after `timeoutMs`. A reply that comes later is dropped (and a late
 * failure swallowed), so a slow server costs the caller at most `timeoutMs`.
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    // The event loop runs due timers before it reads sockets: on a busy process the reply may already be waiting
    // unread when the timer fires. setImmediate runs after that read, so only a reply that really is late fails.
    timer = setTimeout(() => setImmediate(() => reject(new RedisTimeoutError(timeoutMs))), timeoutMs);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `host:port` of a Redis URL, for logs; the URL itself may carry the AUTH token. */
export function redisAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "6379"}`;
  } catch {
    return "(invalid url)";
  }
}

/** Creates the client for `options.url` and starts connecting; see the module comment. */
export function createRedis(options: RedisOptions): ShopRedis {
  const name = options.name ?? "redis";
  const address = redisAddress(options.url);
  const logger = options.logger.child({ redis: name, address });
  const maxDelay = options.maxReconnectDelayMs ?? 2000;
  const tls = options.url.startsWith("rediss:") ? { tls: true as const, ...(options.tls ?? {}) } : {};
  const client: RedisClient = createClient({
    url: options.url,
    socket: {
      ...tls,
      connectTimeout: options.connectTimeoutMs ?? 1000,
      // 50, 100, 200, ... ms up to maxDelay, plus up to 100 ms of jitter so a fleet does not reconnect in step.
      reconnectStrategy: (retries) =>
        Math.min(50 * 2 ** Math.min(retries, 10), maxDelay) + Math.floor(Math.random() * 100),
    },
    disableOfflineQueue: true,
    commandsQueueMaxLength: options.maxQueuedCommands ?? 1000,
    // ElastiCache is not Redis Enterprise: no maintenance-notification handshake.
    maintNotifications: "disabled",
  });

  const errors = new ThrottledLog(options.logIntervalMs ?? 30_000);
  let wasReady = false;
  let closed = false;
  client.on("error", (error: Error) => {
    errors.record((suppressed) =>
      logger.warn({ reason: error.message, suppressed }, wasReady ? "redis connection lost" : "redis unreachable"),
    );
  });
  // An error between `connect` and `ready` is a reset during the handshake: node-redis ignores the CLIENT SETINFO it
  // failed and declares itself ready on the dead socket (see the module comment). The reconnect node-redis makes at
  // once after a kill reaches the dying server's listener about one time in six, and the watchdog's two PINGs took
  // 7-8 s to notice (test/app/redis-reconnect.test.ts), so such a `ready` is refused here and the client reconnects.
  let erredSinceConnect = false;
  client.on("connect", () => (erredSinceConnect = false));
  client.on("error", () => (erredSinceConnect = true));
  client.on("ready", () => {
    if (erredSinceConnect && !closed && client.isOpen) {
      reconnectAfterReset();
      return;
    }
    wasReady = true;
    logger.info("redis connected");
  });
  // Never awaited: the app works without Redis, and the client keeps trying in the background.
  const connect = () =>
    client.connect().catch((error: Error) => {
      if (!closed) logger.warn({ reason: error.message }, "redis client gave up");
    });
  void connect();

  // See the module comment: a connection that is stuck (connecting in silence, or "ready" on a dead socket) is
  // destroyed and started over.
  const connectTimeout = options.connectTimeoutMs ?? 1000;
  const stalledMs = options.stalledConnectMs ?? 2 * (connectTimeout + maxDelay);
  let lastSign = Date.now();
  let restarting = false;
  let probing = false;
  let failedProbes = 0;
  for (const event of ["error", "connect", "reconnecting", "ready", "end"])
    client.on(event, () => (lastSign = Date.now()));
  const startOver = (reason: string) => {
    logger.warn({ reason }, "redis connection stuck; starting over");
    restarting = true;
    failedProbes = 0;
    client.destroy();
    // destroy() flushes a stuck handshake. Its attempt then either fails and runs its loop once more after a
    // back-off (at most maxDelay + 100 ms), or (node-redis ignores CLIENT SETINFO errors) believes it is ready and
    // emits `ready` on a closed client. Reopening only after that keeps a single loop, and `isReady` below requires
    // the client to be open.
    setTimeout(() => {
      restarting = false;
      lastSign = Date.now();
      if (!closed && !client.isOpen) void connect();
    }, maxDelay + 200).unref();
  };
  const reconnectAfterReset = () => {
    errors.record((suppressed) =>
      logger.warn({ reason: "connection reset during the handshake", suppressed }, "redis unreachable"),
    );
    // Within node-redis's `ready` emit: destroyed now, its attempt's loop sees a closed client and ends, so the new
    // loop below is the only one. Its first back-off step, as node-redis would wait after a failed attempt.
    client.destroy();
    setTimeout(() => {
      lastSign = Date.now();
      if (!closed && !restarting && !client.isOpen) void connect();
    }, 50).unref();
  };
  const watchdog = setInterval(
    () => {
      if (closed || restarting || !client.isOpen) return;
      if (!client.isReady) {
        if (Date.now() - lastSign >= stalledMs) startOver(`no connection event for ${Date.now() - lastSign} ms`);
        return;
      }
      // Ready: a reset during the handshake leaves node-redis "ready" on a dead socket, where every command waits for
      // ever. A PING a second tells; two missed in a row start over.
      if (probing) return;
      probing = true;
      withTimeout(client.ping(), connectTimeout).then(
        () => {
          probing = false;
          failedProbes = 0;
        },
        (error: Error) => {
          probing = false;
          if (closed || restarting || !client.isOpen) return;
          if (++failedProbes >= 2) startOver(`PING failed twice: ${error.message}`);
        },
      );
    },
    Math.max(100, Math.min(1000, stalledMs / 4)),
  );
  watchdog.unref();

  return {
    client,
    address,
    // Open as well as ready: after a destroy, node-redis's abandoned attempt can still report (and emit) ready.
    get isReady() {
      return client.isReady && client.isOpen;
    },
    async whenReady(timeoutMs) {
      if (client.isReady && client.isOpen) return true;
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          client.off("ready", onReady);
          resolve(false);
        }, timeoutMs);
        const onReady = () => {
          if (!client.isOpen) return;
          clearTimeout(timer);
          client.off("ready", onReady);
          resolve(true);
        };
        client.on("ready", onReady);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(watchdog);
      // destroy, not quit: quit would wait for replies a stalled server may never send.
      if (client.isOpen) client.destroy();
    },
  };
}
