/**
 * One pg pool per database server. The connection string is handed to pg untouched, so whatever it carries
 * (`sslmode=verify-full&sslrootcert=...` on AWS, a password, an `application_name`) applies as written.
 */
import { Client, type ClientConfig, Pool, type PoolClient } from "pg";
import type { Logger } from "../logger";
import { type CredentialSource, isAuthenticationError } from "./credentials";

/** The pool settings the app takes from its configuration. */
export interface PoolSettings {
  /** Most connections this pool opens. */
  max: number;
  /**
   * Give up on opening a connection after this long. Waiting for one of `max` busy connections is not bounded by
   * it: that wait ends when a connection is handed back, and each is bounded by `queryTimeoutMs`.
   */
  connectTimeoutMs: number;
  /** Give up on a query's answer after this long; the connection is then thrown away. */
  queryTimeoutMs: number;
  /**
   * Where the password is read each time a connection opens (db/credentials.ts); unset, the URL's password is used.
   */
  credentials?: CredentialSource;
}

type ConnectCallback = (
  err: Error | undefined,
  client: PoolClient | undefined,
  done: (release?: Error | boolean) => void,
) => void;

/**
 * A pool whose new connections read the password from a {@link CredentialSource}, and that opens a connection
 * again, once, with the password read anew when the server refused the one it had: after the password has changed
 * (a rotation) the first connection that meets the change re-reads the secret, and the
 * request that needed it does not fail. `pool.query` goes through `connect` too (pg-pool), so both are covered.
 */
class CredentialedPool extends Pool {
  constructor(
    config: ConstructorParameters<typeof Pool>[0],
    private readonly credentials: CredentialSource,
    private readonly logger: Logger,
    private readonly target: string,
  ) {
    super(config);
  }

  // pg-pool's overloads: a promise without a callback, the callback otherwise.
  connect(): Promise<PoolClient>;
  connect(callback: ConnectCallback): void;
  connect(callback?: ConnectCallback): Promise<PoolClient> | void {
    const connected = super.connect().catch((error: unknown) => {
      if (!isAuthenticationError(error)) throw error;
      this.logger.warn({ target: this.target, err: error }, "database refused the password: reading it again");
      this.credentials.invalidate();
      return super.connect();
    });
    if (!callback) return connected;
    connected.then(
      (client) => callback(undefined, client, client.release),
      (error: Error) => callback(error, undefined, () => undefined),
    );
  }
}

/**
 * Opens (lazily) a pool to one server.
 * @param name the target's name in logs and in `pg_stat_activity.application_name` (`shop:<name>`), never the URL,
 *   which may hold a password.
 */
export function createPool(connectionString: string, name: string, settings: PoolSettings, logger: Logger): Pool {
  // pg-pool's own `connectionTimeoutMillis` would also bound the wait for a busy pool, and end it with "timeout
  // exceeded when trying to connect": a burst (100 checkouts on 20 connections) would read as an unreachable
  // database, a 503 and a replica out of rotation. The timeout goes to each connection the pool opens instead.
  class TimedClient extends Client {
    constructor(config?: ClientConfig) {
      super({ ...config, connectionTimeoutMillis: settings.connectTimeoutMs });
      // pg asks an async `password` for the password when it connects. Set on the client, after the connection
      // string has been read: given to the pool, a password in DATABASE_URL would override it (pg lets the
      // connection string's fields win over the config's).
      const credentials = settings.credentials;
      if (credentials)
        (this as { password: unknown }).password = () =>
          credentials.password().catch((error: unknown) => {
            // pg fails the connect with this error but leaves the socket open, and the server holds a backend
            // waiting for the password until its authentication_timeout (60 s): one per failed read of the
            // secret. Closed once pg has taken the error, so the connect fails with it, not "terminated".
            setImmediate(() =>
              (this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy(),
            );
            throw error;
          });
    }
  }
  const config = {
    connectionString,
    application_name: `shop:${name}`,
    max: settings.max,
    query_timeout: settings.queryTimeoutMs,
    Client: TimedClient,
  };
  const pool = settings.credentials
    ? new CredentialedPool(config, settings.credentials, logger, name)
    : new Pool(config);
  // An idle connection whose server goes away emits 'error' on the pool; without a listener that would crash the
  // process. The next query on this pool sees the failure itself and the router reacts to it there.
  pool.on("error", (error) => logger.warn({ target: name, err: error }, "idle database connection lost"));
  // A connection that is checked out (a transaction in flight, the outbox relay's lock) emits 'error' on its own
  // client when the server goes away, where the pool's listener does not hear it: the query in flight rejects with
  // the failure, and this listener only keeps the event from crashing the process.
  pool.on("connect", (client) => {
    client.on("error", (error) => logger.warn({ target: name, err: error }, "database connection lost"));
  });
  return pool;
}
