/**
 * Request ids: the caller's `x-request-id` when it looks like an id (so a trace spans the load balancer, this
 * server and the logs), a fresh UUID otherwise. Anything longer or stranger is replaced rather than logged.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** The header read and echoed. */
export const REQUEST_ID_HEADER = "x-request-id";

/** Letters, digits and `. _ : = -`: UUIDs, ULIDs and AWS trace ids (`Root=1-...`) pass; log-breaking text does not. */
const ACCEPTED = /^[A-Za-z0-9._:=-]{1,128}$/;

/** Fastify `genReqId`: the incoming id if acceptable, else a new UUID. */
export function requestIdFor(request: IncomingMessage): string {
  const incoming = request.headers[REQUEST_ID_HEADER];
  return typeof incoming === "string" && ACCEPTED.test(incoming) ? incoming : randomUUID();
}
