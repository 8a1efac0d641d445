/**
 * What the shop keeps in a session, and the session plugin that carries it: a signed, HttpOnly cookie names a
 * server-side session holding the shopper id, the cart and the WAL position of the shopper's last write.
 */
import { randomUUID } from "node:crypto";
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { CartLine } from "../cart/cart";
import type { ReadOptions } from "../db/router";
import { servedBy } from "../http/access-log";
import { type Lsn, isLsn, laterLsn } from "../db/lsn";
import type { SessionStore } from "./memory-store";

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * `false` on routes that never look at the session (public catalog reads with the cache on, the storefront):
     * the session cookie is ignored there, so the store is not asked. With sessions in Redis that saves a round
     * trip per request, and keeps those routes up while the session store is down.
     */
    session?: boolean;
  }
  interface Session {
    /** Made on first use of the cart or orders; every order belongs to it. */
    shopperId?: string;
    /** The cart's lines. */
    cart?: CartLine[];
    /** WAL position of this shopper's last database write, for read-your-writes (see db/router.ts). */
    writeLsn?: Lsn;
  }
}

/** Name of the session cookie. */
export const SESSION_COOKIE = "shop_session";
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
  // Between parsing the cookies and loading the session: routes that do not use it never load it.
  app.addHook("onRequest", async (request) => {
    if (request.routeOptions.config.session === false) delete request.cookies[SESSION_COOKIE];
  });
  await app.register(fastifySession, {
    secret: options.secret,
    cookieName: SESSION_COOKIE,
    store: options.store,
    saveUninitialized: false,
    rolling: false,
    cookie: { httpOnly: true, secure: options.secure, sameSite: "lax", path: "/", maxAge: SESSION_MAX_AGE_MS },
  });
}

/** The request's shopper id, made (and so the session saved) on first use. */
export function shopperIdOf(request: FastifyRequest): string {
  const session = request.session;
  if (typeof session.shopperId !== "string") session.shopperId = randomUUID();
  return session.shopperId;
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
