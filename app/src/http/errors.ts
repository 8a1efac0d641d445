/**
 * Every error response of the API has one shape, `{ error, message, details }`: `error` is a stable snake_case
 * code for programs, `message` a sentence for people, `details` structured context or null. Client mistakes get
 * the matching 4xx; an unreachable database is a 503; anything else is a 500 whose cause is logged, not sent.
 * Neither handler logs: each records the failure on the request, and the request's one access line
 * (http/access-log.ts) carries it: the code and message of a 4xx, the error itself with a 5xx.
 */
import { STATUS_CODES } from "node:http";
import type { FastifyError, FastifyInstance } from "fastify";
import { isUnavailableError } from "../db/failures";
import type { RequestFailure } from "./access-log";

/** The body of every error response. */
export interface ErrorBody {
  error: string;
  message: string;
  details: unknown;
}

/** An error that becomes a response as is: its status, code, message and details are meant for the client. */
export class HttpError extends Error {
  constructor(
    /** 4xx (or 503) status of the response. */
    public readonly statusCode: number,
    /** The `error` field: a stable snake_case code. */
    public readonly code: string,
    message: string,
    /** The `details` field. */
    public readonly details: unknown = null,
    /** Extra response headers, e.g. `WWW-Authenticate` on a 401. */
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** 400: the request is well-formed HTTP but its content is not acceptable. */
export const badRequest = (code: string, message: string, details: unknown = null) =>
  new HttpError(400, code, message, details);
/** 404: the thing named by the request does not exist (or is not the caller's to see). */
export const notFound = (code: string, message: string, details: unknown = null) =>
  new HttpError(404, code, message, details);
/** 409: the request is valid but conflicts with the current state (stock, cart contents, a unique SKU). */
export const conflict = (code: string, message: string, details: unknown = null) =>
  new HttpError(409, code, message, details);

/** Most validation issues listed in `details`; one is enough to fix a request, a few help. */
const MAX_ISSUES = 10;

/** Fastify's own client errors whose codes deserve a friendlier name than the status text. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "invalid_content_length",
};

/** `Not Found` -> `not_found`. */
function statusCode(status: number): string {
  return (STATUS_CODES[status] ?? "error").toLowerCase().replace(/[^a-z0-9]+/g, "_");
}

/** Turns any error thrown by a route, a hook or Fastify itself into a status and an {@link ErrorBody}. */
export function toErrorResponse(error: unknown, requestId: string): { status: number; body: ErrorBody } {
  if (error instanceof HttpError) {
    return { status: error.statusCode, body: { error: error.code, message: error.message, details: error.details } };
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) {
    const issues = fastifyError.validation.slice(0, MAX_ISSUES).map((issue) => ({
      path: issue.instancePath || "/",
      message: issue.message ?? "is invalid",
      ...(issue.keyword === "additionalProperties"
        ? { field: (issue.params as { additionalProperty?: string }).additionalProperty }
        : {}),
    }));
    return {
      status: 400,
      body: {
        error: "validation_failed",
        message: fastifyError.message ?? "The request is invalid",
        details: { in: fastifyError.validationContext ?? "request", issues },
      },
    };
  }
  const status = fastifyError.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const code = (fastifyError.code && FASTIFY_CODES[fastifyError.code]) || statusCode(status);
    return {
      status,
      body: { error: code, message: fastifyError.message ?? STATUS_CODES[status] ?? "", details: null },
    };
  }
  if (isUnavailableError(error)) {
    return {
      status: 503,
      body: {
        error: "service_unavailable",
        message: "The database is not reachable; try again shortly",
        details: { requestId },
      },
    };
  }
  return {
    status: 500,
    body: { error: "internal_error", message: "Something went wrong on our side", details: { requestId } },
  };
}

/** Installs the error handler and the 404 handler that answer in the {@link ErrorBody} shape. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toErrorResponse(error, request.id);
    if (error instanceof HttpError) reply.headers(error.headers);
    const failure: RequestFailure = { code: body.error, message: body.message, error };
    request.failure = failure;
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      error: "not_found",
      message: `No route for ${request.method} ${request.url.split("?", 1)[0].slice(0, 200)}`,
      details: null,
    };
    request.failure = { code: body.error, message: body.message };
    return reply.code(404).send(body);
  });
}
