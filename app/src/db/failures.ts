/**
 * Which database errors mean "this server cannot be reached or is not serving" (try another one, and tell the
 * load balancer), as opposed to errors about the query itself (a bug or bad input: retrying elsewhere is pointless).
 */

/** Socket-level error codes from Node's net module. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs of a server that is going away or not taking connections: admin_shutdown, crash_shutdown,
 * cannot_connect_now (starting up, shutting down, in recovery without hot standby), too_many_connections.
 * Class 08 (connection exception) is matched as a class.
 */
const UNAVAILABLE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);

/** pg's own errors carry no code, only these messages (pg 8: client.js, pg-pool). */
const PG_CLIENT_MESSAGES = [
  "Connection terminated",
  // client.js: a connection not open within its connectionTimeoutMillis (db/pool.ts sets it on each client).
  "timeout expired",
  "timeout exceeded when trying to connect",
  "Query read timeout",
  "Client has encountered a connection error and is not queryable",
  "Client was closed and is not queryable",
];

/**
 * True when `error` says the database server is unreachable, slow to answer, or shutting down. Errors are read by
 * their fields, not by `instanceof`: socket errors come from Node's own realm, which differs from the app's under
 * test runners that sandbox modules.
 */
export function isUnavailableError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  if (
    typeof code === "string" &&
    (SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith("08"))
  ) {
    return true;
  }
  // Connecting to a name with several addresses fails with an AggregateError of one error per address.
  if (Array.isArray(errors) && errors.some(isUnavailableError)) return true;
  return typeof message === "string" && PG_CLIENT_MESSAGES.some((known) => message.includes(known));
}
