/**
 * The HTTP server's timeouts, set against the load balancer in front of it (steps 3-11; components/
 * load-balancer-timeouts.ts holds the ALB's idle timeout, which the ALB is created with):
 *
 * - `keepAliveTimeout`: an idle keep-alive connection stays open 5 s longer than the ALB's idle timeout (60 s), so
 *   the ALB always closes first and never sends a request on a connection the app has just closed (a 502).
 * - `connectionTimeout`: a socket with no traffic either way for 5 s more than that is destroyed. No healthy request
 *   is that quiet: the ALB answers the client 504 after its idle timeout anyway. It must exceed the keep-alive
 *   timeout, or it would close idle keep-alive connections first.
 * - `requestTimeout` and `headersTimeout`: a client gets `REQUEST_TIMEOUT_MS` (default 10 s) to send its whole
 *   request, headers and body, then a 408 and a closed connection. The API's bodies are at most 16 KiB, which even a
 *   slow phone sends in a second or two; a client sending a byte every few seconds only holds a connection.
 * - `connectionsCheckingInterval`: Node checks those two every 30 s by default, which would let a slow client keep its
 *   connection up to 30 s past the request timeout; a check every second (at most a quarter of the timeout) is one
 *   walk over the open connections, not per-request work.
 *
 * Node's own defaults are 5 s keep-alive (shorter than the ALB's: the 502s above), no connection timeout, and a 300 s
 * request timeout that Fastify 5 sets to none (a body trickled a byte every 10 s held a connection past 170 s).
 */
import type { ServerOptions } from "node:http";
import { ALB_IDLE_TIMEOUT_SECONDS } from "../../../components/load-balancer-timeouts";

/** How much longer than the ALB's idle timeout the app keeps an idle connection. */
const MARGIN_MS = 5000;
/** Idle keep-alive connections close after this long: longer than the ALB's idle timeout. */
export const KEEP_ALIVE_TIMEOUT_MS = ALB_IDLE_TIMEOUT_SECONDS * 1000 + MARGIN_MS;
/** A socket with no traffic either way for this long is destroyed: longer than the keep-alive timeout. */
export const CONNECTION_TIMEOUT_MS = KEEP_ALIVE_TIMEOUT_MS + MARGIN_MS;

/** The Fastify options that set the server's timeouts; see the module comment. */
export interface ServerTimeouts {
  requestTimeout: number;
  connectionTimeout: number;
  keepAliveTimeout: number;
  /** Options of node:http's server that Fastify does not have as its own. */
  http: ServerOptions;
}

/** The server's timeouts for a request timeout of `requestTimeoutMs` (REQUEST_TIMEOUT_MS). */
export function serverTimeouts(requestTimeoutMs: number): ServerTimeouts {
  return {
    requestTimeout: requestTimeoutMs,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    http: {
      requestTimeout: requestTimeoutMs,
      // Node requires headersTimeout <= requestTimeout; the headers get no more time than the whole request.
      headersTimeout: requestTimeoutMs,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(1000, Math.floor(requestTimeoutMs / 4)),
    },
  };
}
