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
  "timeout exceeded when trying to connect",
  "Query read timeout",
  "Client has encountered a connection error and is not queryable",
  "Client was closed and is not queryable",
];

/** True when `error` says the database server is unreachable, slow to answer, or shutting down. */
export function isUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith("08")) return true;
  }
  if (error instanceof AggregateError) return error.errors.some(isUnavailableError);
  return PG_CLIENT_MESSAGES.some((message) => error.message.includes(message));
}
