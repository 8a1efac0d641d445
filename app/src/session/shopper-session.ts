/**
 * What the shop keeps in a session, and the session plugin that carries it: a signed, HttpOnly cookie names a
 * server-side session holding the shopper id, the cart and the WAL position of the shopper's last write.
 */
import { randomUUID } from "node:crypto";
import fastifyCookie from "@fastify/cookie";
import { normalizeIP } from "@fastify/rate-limit";
import fastifySession from "@fastify/session";
import type { FastifyInstance, FastifyRequest, Session } from "fastify";
import type { CartLine } from "../cart/cart";
import type { ReadOptions } from "../db/router";
import { servedBy } from "../http/access-log";
import { type Lsn, isLsn, laterLsn } from "../db/lsn";
import { type SessionStore, SessionStoreUnavailableError } from "./memory-store";
import { HttpError } from "../http/errors";
import { SESSION_ENDED, type Tombstone, tombstoneOf } from "./tombstone";

declare module "fastify" {
  interface Session {
    /** Made on first use of the cart or orders; every order belongs to it. */
    shopperId?: string;
    /** The cart's lines. */
    cart?: CartLine[];
    /** WAL position of this shopper's last database write, for read-your-writes (see db/router.ts). */
    writeLsn?: Lsn;
    /**
     * The client that made the session ({@link clientAddressOf}), for the memory store's per-client bound
     * (memory-store.ts). Kept with the session for its lifetime (at most 7 days), in whichever store holds it.
     */
    client?: string;
  }
}

/** Name of the session cookie when it is not `Secure` (plain HTTP: local mode, a stack without a domain). */
export const SESSION_COOKIE = "shop_session";
/**
 * Name of the session cookie when it is `Secure` (COOKIE_SECURE). Browsers accept a `__Host-` cookie only with
 * `Secure`, `Path=/` and no `Domain`, so neither a sibling subdomain nor a plain-HTTP response can plant or
 * overwrite it (session fixation through a cookie set for `.example.com`).
 */
export const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;

/** The session cookie's name: {@link SECURE_SESSION_COOKIE} when it is `Secure`, else {@link SESSION_COOKIE}. */
export function sessionCookieName(secure: boolean): string {
  return secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}
/** Lifetime of a session (and its cookie) from its creation. */
export const SESSION_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/** Options of {@link registerSessions}. */
export interface SessionOptions {
  /** Signs the cookie; at least 32 characters. */
  secret: string;
  /** Send the cookie with `Secure` (HTTPS only). */
  secure: boolean;
  store: SessionStore;
}

/**
 * Registers cookie parsing and sessions on `app`. A session is stored (and its cookie set) only once something
 * is written into it, so browsing the catalog creates none. Sessions are not rolling: one store write per change,
 * not per request, which matters once the store is Redis.
 */
export async function registerSessions(app: FastifyInstance, options: SessionOptions): Promise<void> {
  await app.register(fastifyCookie);
  const cookieName = sessionCookieName(options.secure);
  // A session the store refused to save (its id was retired meanwhile by a checkout: tombstone.ts) becomes what the
  // store holds, the tombstone, so that the 409's own response does not try to save it again (and fail again).
  // A session the store could not save at all (its Redis is down) becomes a new, unchanged one for the same reason:
  // the 503 is sent without a save, which would fail again and leave the answer to Fastify's fallback handler (its
  // own body shape instead of ours). The shopper keeps the cookie it had; nothing was written.
  app.addHook("onError", async (request, _reply, error) => {
    if (error instanceof HttpError && error.code === SESSION_ENDED)
      await request.session?.reload().catch(() => undefined);
    else if (error instanceof SessionStoreUnavailableError && request.session?.isModified()) startNewSession(request);
  });
  await app.register(fastifySession, {
    secret: options.secret,
    cookieName,
    store: options.store,
    saveUninitialized: false,
    rolling: false,
    // `Path=/` and no `Domain`: what the `__Host-` prefix requires, and the same without it.
    cookie: { httpOnly: true, secure: options.secure, sameSite: "lax", path: "/", maxAge: SESSION_MAX_AGE_MS },
  });
}

/**
 * The request's shopper id, made (and so the session saved, and its cookie set) on first use. Only writes call it:
 * a read calls {@link existingShopperIdOf}, so that an anonymous read stores nothing (issue 14, finding 2).
 * On a retired id (a tombstone) the write goes to a new session with a new id: the old id is never revived.
 */
export function shopperIdOf(request: FastifyRequest): string {
  if (tombstoneOf(request.session)) startNewSession(request);
  const session = request.session;
  if (typeof session.shopperId !== "string") {
    session.shopperId = randomUUID();
    session.client = clientAddressOf(request);
  }
  return session.shopperId;
}

/**
 * Makes `request.session` a new, empty session with a new id, which is stored (and its cookie set) once something is
 * written into it. @fastify/session makes one when a cookie's signature does not verify, without asking the store;
 * its public `decryptSession` is that path, given a value that is no signed id. It answers synchronously then.
 */
function startNewSession(request: FastifyRequest): void {
  const before = request.session;
  request.server.decryptSession("", request, () => undefined);
  if (request.session === before) throw new Error("@fastify/session did not start a new session synchronously");
}

/**
 * Rotates the request's session id after checkout: a new session holding the `keep` keys of the current one is
 * stored, then the current id is replaced by `tombstone` (tombstone.ts), and the response sets the new id's cookie.
 * The new session is stored first, so that a store failing half-way leaves the old session as it was (its cart
 * with it, so that a retry replays the order) and never a tombstone without the session it was rotated to.
 */
export async function rotateSession(
  request: FastifyRequest,
  keep: readonly (keyof Session)[],
  tombstone: Tombstone,
): Promise<void> {
  const retired = request.session;
  startNewSession(request);
  for (const key of keep) {
    const value = retired.get(key);
    if (value !== undefined) request.session.set(key, value);
  }
  try {
    await request.session.save();
    // registerSessions hands @fastify/session a SessionStore of ours, so the store it holds is one.
    const store = request.sessionStore as unknown as SessionStore;
    await new Promise<void>((resolve, reject) =>
      store.retire(retired.sessionId, tombstone, (error) => (error ? reject(error) : resolve())),
    );
  } catch (error) {
    request.session = retired;
    throw error;
  }
}

/**
 * The client a request comes from, as the session bounds count it: Fastify's `request.ip` (the socket's peer or,
 * with TRUST_PROXY, the address in X-Forwarded-For), an IPv6 address reduced to its /64 (one host usually holds a
 * whole /64), the same key as the rate limits' (http/rate-limit.ts).
 */
export function clientAddressOf(request: FastifyRequest): string {
  return normalizeIP(request.ip);
}

/**
 * The request's shopper id if its session already has one; `undefined` for a visitor without a session (no cookie,
 * or one whose session expired). Reads use it and answer such a visitor as an empty shopper, without creating a
 * session: a cookie-less client reading `/api/orders` in a loop must not fill the session store.
 */
export function existingShopperIdOf(request: FastifyRequest): string | undefined {
  const shopperId = request.session?.shopperId;
  return typeof shopperId === "string" ? shopperId : undefined;
}

/** The cart of the request's session (empty if none). */
export function cartOf(request: FastifyRequest): CartLine[] {
  const cart = request.session?.cart;
  return Array.isArray(cart) ? cart : [];
}

/**
 * Read options that make the router honour this session's last write (read-your-writes), and record which
 * database answered in the request's access line.
 */
export function readOptionsFor(request: FastifyRequest): ReadOptions {
  const lsn = request.session?.writeLsn;
  const served = servedBy(request);
  return isLsn(lsn) ? { after: lsn, served } : { served };
}

/**
 * Records that the request's shopper has written up to `lsn`, so that their next reads wait for it. Only a shopper
 * session carries the position: a cookie-less API client (an admin script) gets no session made for it, and reads
 * its write from the response instead.
 */
export function rememberWrite(request: FastifyRequest, lsn: Lsn): void {
  const session = request.session;
  if (typeof session?.shopperId !== "string") return;
  session.writeLsn = laterLsn(isLsn(session.writeLsn) ? session.writeLsn : undefined, lsn);
}
