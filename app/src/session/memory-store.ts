/**
 * The in-process session store: the default until sessions move to Redis (step 7), after which any
 * connect-style store (`get` / `set` / `destroy` with callbacks) plugs in through `buildApp`'s `sessionStore`.
 *
 * Unlike @fastify/session's built-in MemoryStore it forgets expired sessions and is bounded twice, so that no client
 * can push out anyone else's cart (issue 14: 100,000 anonymous sessions used to push out every real one):
 *
 * - **Per client**: a client holds at most `maxSessionsPerClient` sessions. Its next one drops its own least recently
 *   written session, never another client's. The client is the session's `client` (shopper-session.ts records
 *   it when the session is made): the address the app sees, Fastify's `request.ip` (the socket's peer, or with
 *   TRUST_PROXY the load balancer's X-Forwarded-For), IPv6 addresses per /64, as the rate limits count them. A
 *   session with no recorded client counts only towards the total.
 * - **In total**: at most `maxSessions`. Past it, the client holding the most sessions loses its least recently
 *   written one, so a flood from few addresses empties itself before it reaches shoppers with one cart each.
 *
 * It stores sessions as JSON text, as a networked store would, so code that works with it does not rely on sharing
 * live objects with the store. A retired session id holds a tombstone (tombstone.ts) until it expires, counted
 * against the client that held the session; no session is ever written over it.
 */
import type { Session } from "fastify";
import { HttpError } from "../http/errors";
import { type Tombstone, TOMBSTONE_TTL_MS, sessionEnded, tombstoneJson } from "./tombstone";

/**
 * The callback-style store interface @fastify/session (and express-session) stores implement, and what the shop
 * adds to it for retired session ids (tombstone.ts).
 */
export interface SessionStore {
  /** Stores `session` under `sessionId`; refuses with `session_ended` (409) when `sessionId` holds a tombstone. */
  set(sessionId: string, session: Session, callback: (error?: unknown) => void): void;
  /** The session or tombstone stored under `sessionId`, or null. */
  get(sessionId: string, callback: (error: unknown, session?: Session | null) => void): void;
  destroy(sessionId: string, callback: (error?: unknown) => void): void;
  /** Replaces whatever `sessionId` holds with `tombstone`, which the store drops after its lifetime. */
  retire(sessionId: string, tombstone: Tombstone, callback: (error?: unknown) => void): void;
}

/**
 * What a store that cannot reach its backend (the sessions' Redis) fails a read or a write with: the request's 503.
 * Its own class, so that the session plugin's hook can tell it from a route's errors and not try the save again while
 * the 503 is being sent (shopper-session.ts).
 */
export class SessionStoreUnavailableError extends HttpError {
  constructor() {
    super(503, "service_unavailable", "Sessions are not reachable; try again shortly", null, { "retry-after": "1" });
  }
}

/** Options of {@link MemorySessionStore}. */
export interface MemorySessionStoreOptions {
  /**
   * Most sessions kept; past it the client with the most sessions loses its least recently written one.
   * @default 100000
   */
  maxSessions?: number;
  /**
   * Most sessions one client (address; IPv6 per /64) holds; past it its own least recently written one is dropped.
   * Room for a household or an office behind one NAT, each person with a cart or two.
   * @default 100
   */
  maxSessionsPerClient?: number;
  /**
   * How often expired sessions are swept out.
   * @default 60000
   */
  sweepIntervalMs?: number;
  /**
   * How long a tombstone lasts.
   * @default TOMBSTONE_TTL_MS (5 minutes)
   */
  tombstoneTtlMs?: number;
  /** Milliseconds clock, for tests. */
  now?: () => number;
}

/** What the store keeps under a session id, as {@link MemorySessionStore.peek} shows it. */
export interface StoredSession {
  /** The session (or tombstone) as JSON text. */
  json: string;
  /** Epoch milliseconds after which it is gone. */
  expiresAt: number;
  /** It is a retired id's tombstone (tombstone.ts): no session may be written over it. */
  tombstone: boolean;
}

interface Entry extends StoredSession {
  /** Whose session it is (see the module comment); the session id itself when none was recorded. */
  client: string;
}

/** Lifetime of a session whose cookie carries no expiry (the app always sets one; this is a safety net). */
const FALLBACK_TTL_MS = 24 * 60 * 60 * 1000;

/** See the module comment. */
export class MemorySessionStore implements SessionStore {
  private readonly entries = new Map<string, Entry>();
  /** Client → its session ids, least recently written first. */
  private readonly byClient = new Map<string, Set<string>>();
  /** Session count → the clients holding that many (to find the largest holder in O(1)). */
  private readonly clientsWith = new Map<number, Set<string>>();
  private largestHolding = 0;
  private readonly maxSessions: number;
  private readonly maxSessionsPerClient: number;
  private readonly tombstoneTtlMs: number;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemorySessionStoreOptions = {}) {
    this.maxSessions = options.maxSessions ?? 100_000;
    this.maxSessionsPerClient = options.maxSessionsPerClient ?? 100;
    this.tombstoneTtlMs = options.tombstoneTtlMs ?? TOMBSTONE_TTL_MS;
    for (const [name, value] of Object.entries({
      maxSessions: this.maxSessions,
      maxSessionsPerClient: this.maxSessionsPerClient,
      tombstoneTtlMs: this.tombstoneTtlMs,
    }))
      if (!Number.isInteger(value) || value < 1)
        throw new Error(`MemorySessionStore: ${name} must be a whole number of at least 1, got ${value}`);
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    // The sweep alone must never keep a process alive.
    this.sweeper.unref();
  }

  /** Number of sessions held, expired ones not yet swept included. */
  get size(): number {
    return this.entries.size;
  }

  /** Sessions held by `client` (an address as the module comment defines it). */
  sessionsOf(client: string): number {
    return this.byClient.get(client)?.size ?? 0;
  }

  set(sessionId: string, session: Session, callback: (error?: unknown) => void): void {
    const held = this.entries.get(sessionId);
    if (held?.tombstone && held.expiresAt > this.now()) {
      callback(sessionEnded());
      return;
    }
    const expires = session.cookie?.expires;
    this.insert(sessionId, {
      json: JSON.stringify(session),
      expiresAt: expires ? new Date(expires).getTime() : this.now() + FALLBACK_TTL_MS,
      client: typeof session.client === "string" ? session.client : sessionId,
      tombstone: false,
    });
    callback();
  }

  retire(sessionId: string, tombstone: Tombstone, callback: (error?: unknown) => void): void {
    this.insert(sessionId, {
      json: tombstoneJson(tombstone),
      expiresAt: this.now() + this.tombstoneTtlMs,
      // Counted against the client that held the session, so that its checkouts cannot grow anyone else's share.
      client: this.entries.get(sessionId)?.client ?? sessionId,
      tombstone: true,
    });
    callback();
  }

  /** Stores `entry` under `sessionId` and enforces both bounds. */
  private insert(sessionId: string, entry: Entry): void {
    const { client } = entry;
    // Re-inserting moves the id to the end of its client's order, which eviction walks from.
    this.remove(sessionId);
    this.entries.set(sessionId, entry);
    this.holdingChanges(client, (ids) => ids.add(sessionId));
    const own = this.byClient.get(client)!;
    if (own.size > this.maxSessionsPerClient) this.remove(own.values().next().value as string);
    while (this.entries.size > this.maxSessions) {
      const largest = this.clientsWith.get(this.largestHolding)!.values().next().value as string;
      this.remove(this.byClient.get(largest)!.values().next().value as string);
    }
  }

  get(sessionId: string, callback: (error: unknown, session?: Session | null) => void): void {
    const entry = this.entries.get(sessionId);
    if (!entry || entry.expiresAt <= this.now()) {
      if (entry) this.remove(sessionId);
      callback(null, null);
      return;
    }
    callback(null, JSON.parse(entry.json) as Session);
  }

  destroy(sessionId: string, callback: (error?: unknown) => void): void {
    this.remove(sessionId);
    callback();
  }

  /**
   * What `sessionId` holds now, as stored (its JSON text, expiry and whether it is a tombstone); undefined when it
   * holds nothing live. The handoff (handoff.ts) copies it out as it is.
   */
  peek(sessionId: string): Readonly<StoredSession> | undefined {
    const entry = this.entries.get(sessionId);
    if (!entry || entry.expiresAt <= this.now()) return undefined;
    return { json: entry.json, expiresAt: entry.expiresAt, tombstone: entry.tombstone };
  }

  /** The ids of every live session and tombstone, in no particular order. */
  liveIds(): string[] {
    const now = this.now();
    const ids: string[] = [];
    for (const [id, entry] of this.entries) if (entry.expiresAt > now) ids.push(id);
    return ids;
  }

  /** Drops every expired session. */
  sweep(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.remove(id);
  }

  private remove(sessionId: string): void {
    const entry = this.entries.get(sessionId);
    if (!entry) return;
    this.entries.delete(sessionId);
    this.holdingChanges(entry.client, (ids) => ids.delete(sessionId));
  }

  /** Applies `change` to `client`'s ids and keeps the count index (and the largest holding) in step. */
  private holdingChanges(client: string, change: (ids: Set<string>) => void): void {
    const ids = this.byClient.get(client) ?? new Set<string>();
    const before = ids.size;
    change(ids);
    const after = ids.size;
    if (after === before) return;
    if (before > 0) {
      const group = this.clientsWith.get(before)!;
      group.delete(client);
      if (group.size === 0) this.clientsWith.delete(before);
    }
    if (after > 0) {
      this.byClient.set(client, ids);
      const group = this.clientsWith.get(after) ?? new Set<string>();
      group.add(client);
      this.clientsWith.set(after, group);
    } else this.byClient.delete(client);
    // Counts move by one, so the largest holding is the new count or, when the largest shrank away, one less.
    if (after > this.largestHolding) this.largestHolding = after;
    else if (before === this.largestHolding && !this.clientsWith.has(before)) this.largestHolding = before - 1;
  }

  /** Stops the sweep timer. */
  close(): void {
    clearInterval(this.sweeper);
  }
}
