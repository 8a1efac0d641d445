/**
 * The access log: exactly one line per request, written when the response has gone out, in place of Fastify's two
 * ("incoming request" and "request completed"). app/README.md ("Logs") documents the line and its levels:
 *
 *   {"level":"info","time":"…","service":"shop-server","requestId":"…","region":"us-east-1","method":"GET",
 *    "route":"/api/products/:id","status":200,"ms":0.8,"cache":"hit","msg":"request completed"}
 *
 * - `route` is the route's pattern, never the URL: no ids, and no query string (which may hold personal data).
 * - `cache`, `db` and `shard` say which tiers served the request (served-by.ts); the data-access modules record
 *   them on {@link servedBy}'s object, which the routes hand down.
 * - 2xx, 3xx and 4xx are `info`; a 4xx adds the error code and its message (`error`, `reason`), never a stack.
 *   5xx are `error` and carry the error itself (`err`: type, message, stack, causes).
 * - Routes that say `config: { accessLog: "debug" }` (the health checks, which the load balancer asks every few
 *   seconds) are logged at `debug`, whatever their status; /readyz logs its own state changes (routes/health.ts).
 * - A request whose client goes away before the response (a load balancer's timeout, a closed tab) gets its one
 *   line then, as `request aborted` with `aborted: true` and no status: how long it had run, and what served it.
 *
 * - The same place counts the process's figures (http/process-stats.ts, GET /admin/stats): every request but those
 *   of the routes logged at `debug` (the health checks, the stats route itself), whatever level is logged.
 *
 * Fastify's other internal lines (a failing serializer, a stream that broke after its headers went out) stay.
 */
import { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from "fastify";
import type { Logger } from "../logger";
import type { ServedBy } from "../served-by";
import type { ProcessStats } from "./process-stats";

declare module "fastify" {
  interface FastifyRequest {
    /** The tiers that served this request, once something recorded one; see {@link servedBy}. */
    served: ServedBy | null;
    /** Why the request failed, for its access line: set by the error and not-found handlers (http/errors.ts). */
    failure: RequestFailure | null;
    /** The request's reply, for the line of a request aborted by its client (which Fastify hands no reply). */
    accessReply: FastifyReply | null;
  }
  interface FastifyContextConfig {
    /** Level of this route's access line: `debug` for the health checks. @default "info" (5xx: "error") */
    accessLog?: "debug" | "info";
  }
}

/** What the access line says about a request that failed. */
export interface RequestFailure {
  /** The `error` field of the response body: `product_not_found`, `internal_error`, ... */
  code: string;
  /** The `message` field of the response body. */
  message: string;
  /** The error that was thrown, if one was: logged with its stack on a 5xx only. */
  error?: unknown;
}

/** The fields of an access line after the logger's own (`level`, `time`, `service`, `requestId`). */
export interface AccessLine extends ServedBy {
  region?: string;
  method: string;
  /** The matched route's pattern; absent when no route matched (a 404, whose `reason` names the path). */
  route?: string;
  /** The response's status; absent on an aborted request's line. */
  status?: number;
  /**
   * From the request's arrival to the response's last byte handed to the socket (aborted: to the client going
   * away), in ms (0.1 ms steps).
   */
  ms: number;
  /** True on the line of a request whose client went away before its response. */
  aborted?: boolean;
  /** The response's error code, 4xx and 5xx. */
  error?: string;
  /** The response's error message, 4xx and 5xx. */
  reason?: string;
  /** The thrown error (5xx). */
  err?: unknown;
}

/** The message of every access line: what Fastify's own completion line said, so searches keep working. */
export const ACCESS_MESSAGE = "request completed";
/** The message of the line of a request whose client went away before the response. */
export const ABORTED_MESSAGE = "request aborted";

/**
 * Fastify's log controller with the request lines replaced by the one access line. Give it to Fastify as
 * `logController`, and call {@link registerAccessLog} on the app.
 */
export class AccessLog extends LogController {
  private readonly region?: string;
  private readonly stats?: ProcessStats;

  /**
   * @param options.region the AWS region this process serves (`AWS_REGION`), in every line; none if unset.
   * @param options.stats the process's figures (GET /admin/stats), counted here for every request of a route not
   *   logged at `debug`, whatever the level that is logged; none: nothing is counted.
   */
  constructor(options: { region?: string; stats?: ProcessStats } = {}) {
    super({ requestIdLogLabel: "requestId" });
    this.region = options.region;
    this.stats = options.stats;
  }

  /** No line on arrival: the access line says all of it when the response is done (or the client gone). */
  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    request.accessReply = reply;
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    // Its client went away first: the aborted line was its one line.
    if (request.raw.aborted) return;
    const status = reply.statusCode;
    const failure = request.failure;
    const route = request.routeOptions;
    const quiet = route.config?.accessLog === "debug";
    // A health check's 503 is its answer, not a failure of the app (routes/health.ts logs the change); a thrown 5xx is.
    const failed = status >= 500 && (!quiet || failure?.error !== undefined);
    const level = error || failed ? "error" : quiet ? "debug" : "info";
    // Counted before the level check: the figures do not depend on what is logged.
    if (!quiet) this.stats?.request(status, reply.elapsedTime, request.served);
    const log = request.log as Logger;
    if (!log.isLevelEnabled(level)) return;
    const line = this.line(request, route.url, reply.elapsedTime);
    line.status = status;
    if (failure !== null) {
      line.error = failure.code;
      line.reason = failure.message;
      if (status >= 500 && failure.error !== undefined) line.err = failure.error;
    }
    // An error here is the response stream's own (the client went away mid-body): it is what matters.
    if (error) line.err = error;
    log[level](line, ACCESS_MESSAGE);
  }

  /** The line of a request whose client went away before its response (Fastify's onRequestAbort). */
  requestAborted(request: FastifyRequest): void {
    const route = request.routeOptions;
    const level = route.config?.accessLog === "debug" ? "debug" : "info";
    const elapsedMs = request.accessReply?.elapsedTime ?? 0;
    if (level === "info") this.stats?.aborted(elapsedMs, request.served);
    const log = request.log as Logger;
    if (!log.isLevelEnabled(level)) return;
    const line = this.line(request, route.url, elapsedMs);
    line.aborted = true;
    log[level](line, ABORTED_MESSAGE);
  }

  /** The fields every line of a request has, and the tiers recorded so far. */
  private line(request: FastifyRequest, route: string | undefined, elapsedMs: number): AccessLine {
    const line: AccessLine = {
      region: this.region,
      method: request.method,
      route,
      status: undefined,
      ms: Math.round(elapsedMs * 10) / 10,
    };
    const served = request.served;
    if (served !== null) {
      if (served.cache !== undefined) line.cache = served.cache;
      if (served.db !== undefined) line.db = served.db;
      if (served.shard !== undefined) line.shard = served.shard;
    }
    return line;
  }
}

/**
 * Declares the request fields the access line reads, and writes the line of requests their clients abandon; once
 * per app whose logController is `accessLog`.
 */
export function registerAccessLog(app: FastifyInstance, accessLog: AccessLog): void {
  app.decorateRequest("served", null);
  app.decorateRequest("failure", null);
  app.decorateRequest("accessReply", null);
  app.addHook("onRequestAbort", (request, done) => {
    accessLog.requestAborted(request);
    done();
  });
}

/** The request's {@link ServedBy} record, made on first use: hand it to the data-access modules. */
export function servedBy(request: FastifyRequest): ServedBy {
  return (request.served ??= {});
}
