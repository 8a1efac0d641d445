/**
 * The write fence (issue 15), for the one climb that moves the data under a running shop: 1 → 2, where the single
 * server's own PostgreSQL is copied to the new database and a new server takes its port. The old server stops
 * writing while the data are copied one last time, and its held writes end on the new server:
 *
 * - `fenced` (`POST /admin/maintenance {"writes": "fenced"}`): every state-changing shop request (POST, PUT, PATCH,
 *   DELETE under `/api/`; the admin routes under `/admin` are not shop requests) is HELD, not run, once it is
 *   authorised and validated. Reads run throughout.
 * - `open`: the held requests run, in the order they came, and new ones are no longer held.
 * - `moved` (only from `fenced`: a process that was never fenced is not the one being replaced, so a `moved` sent to
 *   the new server by mistake is refused): the server stops listening (its listener closes; keep-alive connections
 *   close after their current response), and each held request, and any write that still arrives on an open
 *   connection, is answered `307 Temporary Redirect` with `Location:` its own URL and `Connection: close`. The client
 *   repeats it, same method and body (RFC 9110 §15.4.8), on a new connection, which only the server that now owns the
 *   port accepts (both listen with `LISTEN_REUSE_PORT`). The entry point then shuts the process down (server.ts).
 * - A request is held at most {@link DEFAULT_MAX_HOLD_MS}: then `503 maintenance` with `Retry-After: 1`; so is every
 *   held request when the server stops while fenced (SIGTERM), rather than keep the shutdown waiting.
 *
 * The hold is a preHandler added only to the fenced routes as they are registered (like the rate limits and the
 * CSRF check), so reads, the product page first of all, pay nothing; on a fenced route, while open, it is one
 * comparison.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions, preHandlerHookHandler } from "fastify";
import { STATE_CHANGING_METHODS } from "./csrf";
import { HttpError } from "./errors";

/** What the fence lets through: see the module comment. */
export const WRITE_STATES = ["open", "fenced", "moved"] as const;
export type WritesState = (typeof WRITE_STATES)[number];

/** How long a write is held before it is answered 503 `maintenance`. */
export const DEFAULT_MAX_HOLD_MS = 15_000;

/** Options of {@link registerWriteFence}. */
export interface WriteFenceOptions {
  /**
   * How long a write is held at most.
   * @default DEFAULT_MAX_HOLD_MS (15 s)
   */
  maxHoldMs?: number;
}

/** What `POST /admin/maintenance` answers. */
export interface FenceAnswer {
  writes: WritesState;
  /** Requests held when the call came: released (`open`), redirected (`moved`) or still held (`fenced`). */
  held: number;
  /** This process, so that an operator can tell which of two servers on one port answered. */
  pid: number;
}

interface Held {
  /** Runs the write (`open`), redirects it (`moved`) or answers it 503 (`stopping`: the app is closing). */
  release(to: "open" | "moved" | "stopping"): void;
}

/** The fence of one app: see the module comment. */
export class WriteFence {
  private current: WritesState = "open";
  private readonly holding = new Set<Held>();
  private movedNow!: () => void;
  /** Resolves when the fence moves: the process has been replaced and may shut down. */
  readonly whenMoved = new Promise<void>((resolve) => (this.movedNow = resolve));

  constructor(
    private readonly app: FastifyInstance,
    private readonly maxHoldMs: number,
  ) {}

  get state(): WritesState {
    return this.current;
  }

  /** Requests held now. */
  get held(): number {
    return this.holding.size;
  }

  /**
   * Changes the state. The same state again changes nothing. Throws a 409 `already_moved` for any change after
   * `moved`, and `not_fenced` for `moved` while open.
   */
  set(to: WritesState): FenceAnswer {
    const from = this.current;
    const answer = { writes: to, held: this.holding.size, pid: process.pid };
    if (to === from) return answer;
    if (from === "moved")
      throw new HttpError(409, "already_moved", "This server has been replaced: its writes went to its successor", {
        writes: from,
      });
    if (to === "moved" && from === "open")
      throw new HttpError(409, "not_fenced", "Only a fenced server can be told it has been replaced", { writes: from });
    this.current = to;
    if (to === "moved") {
      // Stop listening first: the redirected clients reconnect, and only the new server may accept them.
      if (this.app.server.listening) this.app.server.close();
      this.movedNow();
    }
    if (to !== "fenced") for (const held of [...this.holding]) held.release(to);
    return answer;
  }

  /** The preHandler of the fenced routes. */
  readonly holdWhileFenced: preHandlerHookHandler = (request, reply, done) => {
    if (this.current === "open") {
      done();
      return;
    }
    if (this.current === "moved") {
      redirect(request, reply);
      return;
    }
    const held: Held = {
      release: (to) => {
        clearTimeout(timer);
        this.holding.delete(held);
        if (to === "open") done();
        else if (to === "moved") redirect(request, reply);
        else done(maintenance());
      },
    };
    const timer = setTimeout(() => held.release("stopping"), this.maxHoldMs);
    this.holding.add(held);
  };

  /** The app is closing (SIGTERM while fenced): the held writes are answered now, not after the cap. */
  stopping(): void {
    for (const held of [...this.holding]) held.release("stopping");
  }
}

/** The answer to a write held too long, or still held when the server stops. */
function maintenance(): HttpError {
  return new HttpError(503, "maintenance", "Writes are paused for maintenance; try again shortly", null, {
    "retry-after": "1",
  });
}

/** Answers a held write: repeat it, same method and body, at the same URL, on a new connection. */
function redirect(request: FastifyRequest, reply: FastifyReply): void {
  void reply
    .code(307)
    .header("location", request.url)
    .header("connection", "close")
    .send({ error: "moved", message: "This server has been replaced; repeat the request", details: null });
}

/** A route whose requests the fence holds: a state-changing method under /api/. */
function isFenced(route: RouteOptions): boolean {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  return route.url.startsWith("/api/") && methods.some((method) => STATE_CHANGING_METHODS.has(method));
}

/**
 * Adds the fence's hold to every fenced route registered from now on (call it before the routes), and returns the
 * fence.
 */
export function registerWriteFence(app: FastifyInstance, options: WriteFenceOptions = {}): WriteFence {
  const maxHoldMs = options.maxHoldMs ?? DEFAULT_MAX_HOLD_MS;
  if (!Number.isInteger(maxHoldMs) || maxHoldMs < 1)
    throw new Error(`registerWriteFence: maxHoldMs must be a whole number of at least 1, got ${maxHoldMs}`);
  const fence = new WriteFence(app, maxHoldMs);
  // Closing waits for in-flight requests: the held ones would keep it waiting until the cap, past the shutdown's.
  app.addHook("preClose", async () => fence.stopping());
  app.addHook("onRoute", (route) => {
    if (!isFenced(route)) return;
    const own = route.preHandler === undefined ? [] : [route.preHandler].flat();
    if (!own.includes(fence.holdWhileFenced)) route.preHandler = [fence.holdWhileFenced, ...own];
  });
  return fence;
}
