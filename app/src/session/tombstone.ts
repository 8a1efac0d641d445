/**
 * What a session id holds once checkout has rotated it away: a tombstone, for {@link TOMBSTONE_TTL_MS}.
 *
 * Checkout gives the shopper a new session id (the old one may have been seen by someone else) and used to delete
 * the old session. Two things went wrong with a deleted one: a checkout retried with the old cookie (its answer,
 * which carried the new cookie, was lost; or a double submit arrived after the first answer) found an empty cart
 * and answered `409 cart_empty` instead of the order; and a request that had loaded the old session before the
 * rotation (a cart add racing the checkout) saved it again afterwards, bringing the old id back to life.
 *
 * So the old id is replaced by a tombstone. It holds no shopper id, no cart, no write position, only what a replayed
 * checkout answers with: the order, the shard to read its status from, and the cart (id, version) it settled.
 * - A checkout on a tombstoned id answers that order (200, as any replayed checkout) and sets no cookie: the holder
 *   of an old id must not be handed the new one, nor lose the new one the browser may already hold.
 * - Any other request sees an anonymous visitor: reads are empty; a write starts a session with a new id
 *   (shopper-session.ts).
 * - The stores never write a session over a tombstone (that would revive the id): such a write is refused with
 *   `409 session_ended`, and the tombstone leaves the store only when it expires.
 */
import { HttpError } from "../http/errors";

/** What a retired session id still answers; see the module comment. */
export interface Tombstone {
  /** The order the session's last checkout placed (or replayed). */
  orderId: string;
  /** The order shard it lives on (`main` when orders live on the catalog database), to read its status now. */
  shard: string;
  /** The cart, id and version, that this order settled. */
  cartId: string;
  cartVersion: number;
}

declare module "fastify" {
  interface Session {
    /** Set only on a retired session id; such a session has nothing else. See tombstone.ts. */
    tombstone?: Tombstone;
  }
}

/**
 * How long a retired session id keeps answering its checkout with the order. Long enough for what it is for: a
 * browser's retry of a request whose answer was lost (a timeout, then a reload or a second click) comes within
 * seconds to a minute or two, and a double submit within milliseconds. Short enough that the tombstones of a busy
 * shop stay few (one per checkout, about 200 bytes each) and that an old cookie found later (a shared computer)
 * names nothing at all after a few minutes.
 */
export const TOMBSTONE_TTL_MS = 5 * 60 * 1000;

/**
 * Start of every stored tombstone's JSON text: the Redis store recognises a tombstone by it in the script that
 * refuses to write a session over one, without parsing the value.
 */
export const TOMBSTONE_JSON_PREFIX = '{"tombstone":';

/** The text a store keeps for `tombstone` (it begins with {@link TOMBSTONE_JSON_PREFIX}). */
export function tombstoneJson(tombstone: Tombstone): string {
  return JSON.stringify({ tombstone });
}

/** The tombstone a loaded session is, if it is one. */
export function tombstoneOf(session: { tombstone?: unknown } | null | undefined): Tombstone | undefined {
  const tombstone = session?.tombstone;
  return typeof tombstone === "object" && tombstone !== null ? (tombstone as Tombstone) : undefined;
}

/** The error code of {@link sessionEnded}. */
export const SESSION_ENDED = "session_ended";

/** The 409 a store's refusal to write a session over a tombstone becomes. */
export function sessionEnded(): HttpError {
  return new HttpError(
    409,
    SESSION_ENDED,
    "This session ended with a checkout while the request ran, so the change was not kept; try again",
  );
}
