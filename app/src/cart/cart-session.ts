/**
 * The cart as the session holds it: its lines, and its identity for checkout, an id and a version.
 *
 * Every change of the lines goes through {@link storeCart}, which bumps the version, so (shopper, cart id, cart
 * version) names one exact content of the cart. Checkout claims that triple in the database (orders/checkouts.ts):
 * checking the same content out twice, at once or later, gives the first order back, while a cart changed after a
 * checkout (a new version) is a new order. Checkout empties the cart by rotating the session (the new session keeps
 * the shopper, not the cart: session/shopper-session.ts); the next line starts a cart with a new id.
 */
import { randomUUID } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { cartOf, shopperIdOf } from "../session/shopper-session";
import type { CartLine } from "./cart";

declare module "fastify" {
  interface Session {
    /** The id of the cart in `cart`, made with its first line; a new one after each checkout. */
    cartId?: string;
    /** Bumped at every change of `cart`'s lines (including the prices shown), from 1. */
    cartVersion?: number;
  }
}

/** Which content of which cart a checkout is for; see the module comment. */
export interface CartRef {
  id: string;
  version: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Stores `lines` as the request's cart, as a new version of it (a new cart, with a new id, if it had none). */
export function storeCart(request: FastifyRequest, lines: CartLine[]): void {
  shopperIdOf(request);
  const session = request.session;
  if (typeof session.cartId !== "string" || !UUID.test(session.cartId)) {
    session.cartId = randomUUID();
    session.cartVersion = 0;
  }
  session.cartVersion = (Number.isSafeInteger(session.cartVersion) ? (session.cartVersion as number) : 0) + 1;
  session.cart = lines;
}

/**
 * The id and version of the request's (non-empty) cart. A cart stored before carts had ids gets one here, stored
 * with the session like any change.
 */
export function cartRefOf(request: FastifyRequest): CartRef {
  const session = request.session;
  if (typeof session.cartId !== "string" || !UUID.test(session.cartId) || !Number.isSafeInteger(session.cartVersion))
    storeCart(request, cartOf(request));
  return { id: session.cartId as string, version: session.cartVersion as number };
}
