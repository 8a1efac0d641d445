/**
 * The in-process session store: the default until sessions move to Redis (step 7), after which any
 * connect-style store (`get` / `set` / `destroy` with callbacks) plugs in through `buildApp`'s `sessionStore`.
 *
 * Unlike @fastify/session's built-in MemoryStore it forgets expired sessions and holds at most `maxSessions`
 * (dropping the least recently written), so it cannot grow without bound. It stores sessions as JSON text, as a
 * networked store would, so code that works with it does not rely on sharing live objects with the store.
 */
import type { Session } from "fastify";

/** The callback-style store interface @fastify/session (and express-session) stores implement. */
export interface SessionStore {
  set(sessionId: string, session: Session, callback: (error?: unknown) => void): void;
  get(sessionId: string, callback: (error: unknown, session?: Session | null) => void): void;
  destroy(sessionId: string, callback: (error?: unknown) => void): void;
}

/** Options of {@link MemorySessionStore}. */
export interface MemorySessionStoreOptions {
  /**
   * Most sessions kept; past it the least recently written is dropped.
   * @default 100000
   */
  maxSessions?: number;
  /**
   * How often expired sessions are swept out.
   * @default 60000
   */
  sweepIntervalMs?: number;
  /** Milliseconds clock, for tests. */
  now?: () => number;
}

interface Entry {
  json: string;
  expiresAt: number;
}

/** Lifetime of a session whose cookie carries no expiry (the app always sets one; this is a safety net). */
const FALLBACK_TTL_MS = 24 * 60 * 60 * 1000;

/** See the module comment. */
export class MemorySessionStore implements SessionStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxSessions: number;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemorySessionStoreOptions = {}) {
    this.maxSessions = options.maxSessions ?? 100_000;
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    // The sweep alone must never keep a process alive.
    this.sweeper.unref();
  }

  /** Number of sessions held, expired ones not yet swept included. */
  get size(): number {
    return this.entries.size;
  }

  set(sessionId: string, session: Session, callback: (error?: unknown) => void): void {
    const json = JSON.stringify(session);
    const expires = session.cookie?.expires;
    const expiresAt = expires ? new Date(expires).getTime() : this.now() + FALLBACK_TTL_MS;
    // Re-inserting moves the key to the end of the Map's order, which is what eviction walks from.
    this.entries.delete(sessionId);
    this.entries.set(sessionId, { json, expiresAt });
    while (this.entries.size > this.maxSessions) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    callback();
  }

  get(sessionId: string, callback: (error: unknown, session?: Session | null) => void): void {
    const entry = this.entries.get(sessionId);
    if (!entry || entry.expiresAt <= this.now()) {
      if (entry) this.entries.delete(sessionId);
      callback(null, null);
      return;
    }
    callback(null, JSON.parse(entry.json) as Session);
  }

  destroy(sessionId: string, callback: (error?: unknown) => void): void {
    this.entries.delete(sessionId);
    callback();
  }

  /** Drops every expired session. */
  sweep(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(id);
  }

  /** Stops the sweep timer. */
  close(): void {
    clearInterval(this.sweeper);
  }
}
