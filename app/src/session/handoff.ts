/**
 * Carrying sessions over when a web process is replaced (issue 15). At steps 1–6 a shopper's session, and so their
 * cart, lives in the memory of one process (a sticky load balancer keeps them there from step 3); a climb's roll,
 * an instance refresh or any SIGTERM ends that process. So, before it goes, it hands its sessions over through the
 * catalog database's `session_handoff` table (migrations/0006_session_handoff.sql):
 *
 * - **Hand over** ({@link HandoffSessionStore.handOver}: `POST /admin/sessions/handoff`, and SIGTERM before the
 *   server stops listening): every live session and tombstone of the memory store is written to the table
 *   (upsert), and from then on every change (a save, a checkout's retirement, a destroy) is written through before
 *   the request that made it is answered, until the process exits. A shopper moved elsewhere at any moment of the
 *   drain finds what they last saw. Calling it again writes everything again: it is idempotent.
 * - **Claim**: any store (memory or Redis) that misses a signed session id takes it out of the table with one
 *   `DELETE … RETURNING` on the primary and keeps it in its own store. Two processes missing the same id at once:
 *   the row lock lets one delete it, the other finds nothing, so a session is never served by two processes. A hit
 *   costs nothing more (the store answered; no query). A miss costs one query, the primary being unreachable is a
 *   miss (logged once per interval), and a store that cannot keep the claimed session puts it back.
 * - A tombstone (tombstone.ts) travels as a tombstone and is retired again where it lands: a checkout's rotation is
 *   not undone by the move, and the old id still answers its replayed checkout.
 *
 * Writes through are batched: one flush at a time, each writing what the store holds *at that moment* for every id
 * changed since the previous flush, so the table never goes back to an older version of a session whatever the
 * order queries finish in. Sessions the memory store evicts for its bounds are not deleted from the table (they
 * expire there); a session changed on the old process after another one claimed it (two requests of one shopper
 * in flight across the switch) keeps the claimer's copy.
 */
import type { Session } from "fastify";
import type { Pool } from "pg";
import type { Logger } from "../logger";
import { ThrottledLog } from "../redis/throttled-log";
import { MemorySessionStore, type SessionStore } from "./memory-store";
import { type Tombstone, tombstoneOf } from "./tombstone";

/** Options of {@link HandoffSessionStore}. */
export interface HandoffOptions {
  /** The catalog primary's pool: `session_handoff` lives there. */
  pool: Pool;
  logger: Logger;
  /**
   * Most sessions one write query carries.
   * @default 1000
   */
  batchSize?: number;
  /**
   * How often a failed claim or write-through is logged at most.
   * @default 30000
   */
  logIntervalMs?: number;
}

/** Takes a live session out of the table: the statement that decides which process gets it. */
const CLAIM = "DELETE FROM session_handoff WHERE sid = $1 AND expires_at > now() RETURNING data, expires_at";

/** Writes sessions ($1-$3: ids, JSON texts, expiry in epoch ms) and deletes ids ($4), in one statement. */
const WRITE = `
WITH gone AS (DELETE FROM session_handoff WHERE sid = ANY($4::text[]))
INSERT INTO session_handoff (sid, data, expires_at)
SELECT sid, data::jsonb, to_timestamp(expires_ms / 1000.0)
FROM unnest($1::text[], $2::text[], $3::float8[]) AS session(sid, data, expires_ms)
ON CONFLICT (sid) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`;

/** Puts a claimed session back when the claimer could not keep it (a newer row, if any, wins). */
const PUT_BACK = "INSERT INTO session_handoff (sid, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (sid) DO NOTHING";

/** One flush of written-through ids and the requests that wait for it. */
interface Flush {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function newFlush(): Flush {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((yes, no) => ((resolve = yes), (reject = no)));
  // A flush nobody waits for any more (its requests went away) must not become an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** A {@link SessionStore} that claims what it misses from `session_handoff` and, on memory, can hand over. */
export class HandoffSessionStore implements SessionStore {
  private readonly memory: MemorySessionStore | undefined;
  private readonly pool: Pool;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly failures: ThrottledLog;
  /** Set by the first handover: every change is written through from then on. */
  private writingThrough = false;
  /** Ids changed since the flush in progress began, and the flush that will carry them. */
  private readonly dirty = new Set<string>();
  private next: Flush | undefined;
  private flushing = false;
  /** Claims in progress in this process, by id: a second request for the same id waits for the first. */
  private readonly claiming = new Map<string, Promise<void>>();

  constructor(
    /** The store that holds this process's sessions. */
    readonly inner: SessionStore,
    options: HandoffOptions,
  ) {
    this.memory = inner instanceof MemorySessionStore ? inner : undefined;
    this.pool = options.pool;
    this.logger = options.logger;
    this.batchSize = options.batchSize ?? 1000;
    this.failures = new ThrottledLog(options.logIntervalMs ?? 30_000);
  }

  /** Whether this process's sessions live in its memory, and so have to be handed over when it stops. */
  get holdsSessions(): boolean {
    return this.memory !== undefined;
  }

  /**
   * Writes every live session (and tombstone) to `session_handoff` and writes every later change through. Resolves
   * with how many were written (0 when sessions are not in memory: a Redis store has nothing to hand over); rejects
   * when the primary cannot take them (call it again: it is idempotent).
   */
  async handOver(): Promise<number> {
    const memory = this.memory;
    if (!memory) return 0;
    const started = Date.now();
    this.writingThrough = true;
    await this.pool.query("DELETE FROM session_handoff WHERE expires_at <= now()");
    const ids = memory.liveIds();
    await this.sync(ids);
    this.logger.info({ sessions: ids.length, ms: Date.now() - started }, "sessions handed over");
    return ids.length;
  }

  get(sessionId: string, callback: (error: unknown, session?: Session | null) => void): void {
    this.inner.get(sessionId, (error, session) => {
      if (error || session) {
        callback(error, session);
        return;
      }
      const inProgress = this.claiming.get(sessionId);
      if (inProgress) {
        // Whatever the first request claimed is in the store once its claim ends.
        void inProgress.then(() => this.inner.get(sessionId, callback));
        return;
      }
      const claim = this.claim(sessionId);
      const settled = claim.then(
        () => undefined,
        () => undefined,
      );
      this.claiming.set(sessionId, settled);
      void settled.then(() => this.claiming.delete(sessionId));
      claim.then(
        (claimed) => callback(null, claimed ?? null),
        (claimError: unknown) => callback(claimError),
      );
    });
  }

  set(sessionId: string, session: Session, callback: (error?: unknown) => void): void {
    this.inner.set(sessionId, session, (error) => this.written(sessionId, error, callback));
  }

  retire(sessionId: string, tombstone: Tombstone, callback: (error?: unknown) => void): void {
    this.inner.retire(sessionId, tombstone, (error) => this.written(sessionId, error, callback));
  }

  destroy(sessionId: string, callback: (error?: unknown) => void): void {
    this.inner.destroy(sessionId, (error) => this.written(sessionId, error, callback));
  }

  /** After a change: once handed over, answers only when the change is in the table too. */
  private written(sessionId: string, error: unknown, callback: (error?: unknown) => void): void {
    if (error || !this.writingThrough) {
      callback(error ?? undefined);
      return;
    }
    this.sync([sessionId]).then(
      () => callback(),
      (syncError: unknown) => {
        // The session is kept in memory; only its copy in the table is behind, until the next change or handover.
        this.failures.record((suppressed) =>
          this.logger.warn({ err: syncError, suppressed }, "session handoff: a change was not written through"),
        );
        callback();
      },
    );
  }

  /** Takes `sessionId` out of the table into the inner store; undefined when it is not there (or unreachable). */
  private async claim(sessionId: string): Promise<Session | undefined> {
    let row: { data: Session; expires_at: Date } | undefined;
    try {
      row = (await this.pool.query<{ data: Session; expires_at: Date }>(CLAIM, [sessionId])).rows[0];
    } catch (error) {
      this.failures.record((suppressed) =>
        this.logger.warn({ err: error, suppressed }, "session handoff unreachable: a missed session was not claimed"),
      );
      return undefined;
    }
    if (!row) return undefined;
    const { data } = row;
    try {
      await new Promise<void>((resolve, reject) => {
        const done = (error?: unknown) => (error ? reject(error) : resolve());
        const tombstone = tombstoneOf(data);
        if (tombstone) this.inner.retire(sessionId, tombstone, done);
        else this.inner.set(sessionId, data, done);
      });
    } catch (error) {
      await this.pool
        .query(PUT_BACK, [sessionId, JSON.stringify(data), row.expires_at])
        .catch((putBackError) =>
          this.logger.error(
            { err: putBackError, sessionId },
            "session handoff: a claimed session could not be put back",
          ),
        );
      throw error;
    }
    this.logger.debug({ tombstone: tombstoneOf(data) !== undefined }, "session claimed from handoff");
    // A process that is itself being replaced passes on what it claims, like its own sessions.
    if (this.writingThrough) await new Promise<void>((resolve) => this.written(sessionId, undefined, () => resolve()));
    return data;
  }

  /** Resolves once a flush that began after this call has written `ids` as the store then held them. */
  private sync(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    for (const id of ids) this.dirty.add(id);
    this.next ??= newFlush();
    const waiting = this.next.promise;
    this.flush();
    return waiting;
  }

  /** Starts a flush of the dirty ids unless one is running (it starts the next when it ends). */
  private flush(): void {
    if (this.flushing || this.dirty.size === 0 || !this.next) return;
    this.flushing = true;
    const flush = this.next;
    this.next = undefined;
    const ids = [...this.dirty];
    this.dirty.clear();
    this.write(ids)
      .then(flush.resolve, flush.reject)
      .finally(() => {
        this.flushing = false;
        this.flush();
      });
  }

  /** Writes what the memory store holds now for each of `ids` (a row, or none when it holds nothing). */
  private async write(ids: string[]): Promise<void> {
    const memory = this.memory!;
    for (let start = 0; start < ids.length; start += this.batchSize) {
      const kept: string[] = [];
      const texts: string[] = [];
      const expiries: number[] = [];
      const gone: string[] = [];
      for (const id of ids.slice(start, start + this.batchSize)) {
        const stored = memory.peek(id);
        if (stored) {
          kept.push(id);
          texts.push(stored.json);
          expiries.push(stored.expiresAt);
        } else gone.push(id);
      }
      await this.pool.query(WRITE, [kept, texts, expiries, gone]);
    }
  }
}
