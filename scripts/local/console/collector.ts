/**
 * The console's figures: one shared poll, at most once a second, however many pages are open. Each page asks
 * `GET /console/state` with the poll it drew last and gets the next one's figures as soon as that poll ends
 * ({@link FiguresCollector.whenNewer}); its asking is what keeps the poll running ({@link FiguresCollector.demand}),
 * and the poll stops {@link IDLE_STOP_MS} after the last page went quiet, so a launcher nobody watches polls nothing.
 *
 * One poll asks, all at once and each within {@link SOURCE_TIMEOUT_MS} (a slow or dead process is "no answer", never a
 * stalled poll):
 * - every app process's `GET /admin/stats` (app/src/http/process-stats.ts): requests/s, p50/p99 and 5xx/s per web
 *   process from the difference with the previous poll, cache hits and misses, reads per database target, the
 *   business metrics, and per worker the queue messages/s and their mean lag;
 * - every service's health (`Service.health()`), and a health event when it changes between two polls;
 * - each replica's lag behind the primary: the primary's WAL position minus the replica's replay position, in bytes,
 *   and the age of its last replayed transaction while it is behind;
 * - each region's queue and dead-letter queue depth (fauxqs through the SQS API, explicit local endpoint);
 * - the orders in each order database (the catalog before step 9, each shard from then on).
 */
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import pg from "pg";
import { LATENCY_BUCKETS_MS, type ProcessStatsBody, percentileFromBuckets } from "../../../app/src/http/process-stats";
import { httpGet } from "../checks";
import type { ServiceStatus } from "../services/service";
import type { EventLog } from "./events";

/** Shortest time between the starts of two polls. */
export const POLL_INTERVAL_MS = 1000;
/** How long one source (a process's stats, a health check, a query) may take before it counts as no answer. */
export const SOURCE_TIMEOUT_MS = 700;
/** The poll stops this long after the last `demand()`. */
export const IDLE_STOP_MS = 10_000;

/** A PostgreSQL server the console reads, as role `shop` (no superuser needed: the WAL positions are public). */
export interface PgTarget {
  name: string;
  port: number;
  database: string;
  user: string;
  /** Read at each connection: the password rotates (scripts/local/README.md, "Data"). */
  password: () => string;
}

/** What the console reads from the running launcher; launcher.ts implements it. */
export interface ConsoleSource {
  /** The step that runs now. */
  step(): number;
  /** The table's rows, in the table's order, each with the health check of the service it belongs to. */
  services(): Array<{ row: ServiceStatus; health: () => Promise<boolean> }>;
  /** The app processes that run: their stats at `${url}/admin/stats`. */
  apps(): Array<{ name: string; kind: "web" | "worker"; region: string; url: string }>;
  /** The admin bearer token of the web processes. */
  adminToken(): string;
  /** The catalog primary now (a promoted replica after a failover) and the replicas following it. */
  catalog(): { primary: PgTarget; replicas: Array<PgTarget & { region: string }> };
  /** Where orders live: the catalog (`main`) before step 9, each shard from then on. */
  orderDatabases(): Array<PgTarget & { shard: string }>;
  /** Each region's queue and dead-letter queue, with the emulator's endpoint (step 8 on). */
  queues(): Array<{ region: string; endpoint: string; url: string; deadLetterUrl: string }>;
}

/** One web process's figures over the last poll interval; null where there is no previous poll to compare. */
export interface WebFigures {
  name: string;
  region: string;
  answered: boolean;
  requestsPerSecond: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  errorsPerSecond: number | null;
}

export interface WorkerFigures {
  name: string;
  region: string;
  answered: boolean;
  messagesPerSecond: number | null;
  meanLagSeconds: number | null;
}

/** Everything a poll measured. */
export interface Figures {
  /** Increasing from 1 with each poll: a page sees the figures refresh when it changes. */
  seq: number;
  at: string;
  /** Milliseconds since the previous poll: the window of the rates. */
  windowMs: number | null;
  web: WebFigures[];
  workers: WorkerFigures[];
  /** Catalog reads in the window, by how the cache served them; `hitRatio` null when there was none. */
  cache: { hits: number; misses: number; bypass: number; hitRatio: number | null } | null;
  /** Reads per second by database target (`primary`, `replica-1`, `shard-1-reader`…), all web processes. */
  readsPerSecond: Record<string, number>;
  replicas: Array<{ name: string; region: string; lagBytes: number | null; lagSeconds: number | null }>;
  queues: Array<{ region: string; depth: number | null; inFlight: number | null; deadLetters: number | null }>;
  orders: Array<{ shard: string; total: number | null; perSecond: number | null }>;
  business: {
    ordersPerSecond: number | null;
    revenuePerSecond: number | null;
    /** Distinct shoppers of the last 5 minutes, added up over the web processes (a shopper may count twice). */
    activeShoppers: number | null;
    meanQueueLagSeconds: number | null;
  };
}

/** A service's health as the last poll saw it: null when its check did not answer in time. */
export interface ServiceHealth extends ServiceStatus {
  healthy: boolean | null;
}

/** Resolves with `work`'s value, or `fallback` once `ms` have passed or when it fails. */
export function within<T, F>(ms: number, work: () => Promise<T>, fallback: F): Promise<T | F> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    let promise: Promise<T>;
    try {
      promise = work();
    } catch {
      promise = Promise.reject(new Error("threw"));
    }
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(fallback);
      },
    );
  });
}

const perSecond = (delta: number, ms: number) => (delta * 1000) / ms;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export class FiguresCollector {
  private latest: Figures | null = null;
  private health: ServiceHealth[] = [];
  private previous = new Map<string, { at: number; stats: ProcessStatsBody }>();
  private previousOrders = new Map<string, { at: number; total: number }>();
  private previousHealth = new Map<string, boolean>();
  private seq = 0;
  private lastDemand = 0;
  private running = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private readonly pools = new Map<string, pg.Pool>();
  private readonly sqsClients = new Map<string, SQSClient>();
  private polls = 0;
  /** Requests waiting for the next poll's figures ({@link whenNewer}). */
  private waiters: Array<() => void> = [];

  /**
   * @param source what runs, read at each poll (a climb or a failover changes it).
   * @param events where health transitions go.
   * @param options.now the clock of the rates. @default Date.now
   */
  constructor(
    private readonly source: ConsoleSource,
    private readonly events: EventLog,
    private readonly options: { now?: () => number } = {},
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** A page asked: keeps the shared poll running (starting it if it was idle). */
  demand(): void {
    this.lastDemand = this.now();
    if (this.running || this.stopped) return;
    this.running = true;
    void this.loop();
  }

  /**
   * Resolves once the figures are newer than poll `seq` (at once if they are), or after `timeoutMs`: a page that
   * asks with the seq it drew gets the next poll's figures as soon as that poll ends, so what it shows refreshes
   * with the poll, every second, however the page's and the poll's clocks fall.
   */
  whenNewer(seq: number, timeoutMs: number): Promise<void> {
    if ((this.latest?.seq ?? 0) > seq || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.push(done);
    });
  }

  /** The last poll's figures (null before the first poll ends). */
  figures(): Figures | null {
    return this.latest;
  }

  /** The services as the last poll saw them. */
  services(): ServiceHealth[] {
    return this.health;
  }

  /** How many polls ran: what the tests and the benchmark count against the pages' requests. */
  pollCount(): number {
    return this.polls;
  }

  /** Stops polling and closes the connections it holds. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const wake of [...this.waiters]) wake();
    for (const client of this.sqsClients.values()) client.destroy();
    this.sqsClients.clear();
    await Promise.all([...this.pools.values()].map((p) => p.end().catch(() => undefined)));
    this.pools.clear();
  }

  private async loop(): Promise<void> {
    while (!this.stopped && this.now() - this.lastDemand < IDLE_STOP_MS) {
      const started = this.now();
      await this.poll();
      const wait = Math.max(0, started + POLL_INTERVAL_MS - this.now());
      await new Promise<void>((resolve) => (this.timer = setTimeout(resolve, wait)));
    }
    this.running = false;
  }

  /** One poll of every source, at once. */
  async poll(): Promise<void> {
    this.polls++;
    const [stats, health, replicas, queues, orders] = await Promise.all([
      this.pollStats(),
      this.pollHealth(),
      this.pollReplicas(),
      this.pollQueues(),
      this.pollOrders(),
    ]);
    const at = this.now();
    this.health = health;
    this.latest = { ...this.figuresOf(stats, at), replicas, queues, orders, seq: ++this.seq };
    for (const wake of [...this.waiters]) wake();
  }

  private async pollStats() {
    const token = this.source.adminToken();
    return Promise.all(
      this.source.apps().map(async (app) => {
        const body = await within(
          SOURCE_TIMEOUT_MS,
          async () => {
            const res = await httpGet(
              `${app.url}/admin/stats`,
              { authorization: `Bearer ${token}` },
              SOURCE_TIMEOUT_MS,
            );
            if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
            return JSON.parse(res.body) as ProcessStatsBody;
          },
          undefined,
        );
        return { app, body };
      }),
    );
  }

  private figuresOf(
    polled: Awaited<ReturnType<FiguresCollector["pollStats"]>>,
    at: number,
  ): Omit<Figures, "replicas" | "queues" | "orders" | "seq"> {
    const web: WebFigures[] = [];
    const workers: WorkerFigures[] = [];
    const cache = { hits: 0, misses: 0, bypass: 0 };
    let cacheSeen = false;
    const reads: Record<string, number> = {};
    let orders = 0;
    let revenue = 0;
    let active = 0;
    let lagSum = 0;
    let lagCount = 0;
    let windowMs: number | null = null;
    let any = false;
    const next = new Map<string, { at: number; stats: ProcessStatsBody }>();
    for (const { app, body } of polled) {
      const before = this.previous.get(app.name);
      if (body) next.set(app.name, { at, stats: body });
      // A restarted process counts from 0 again: its first poll is a new baseline, not a negative rate.
      const comparable = body && before && before.stats.startedAt === body.startedAt ? before : undefined;
      const ms = comparable ? at - comparable.at : 0;
      if (comparable && ms > 0) windowMs = Math.max(windowMs ?? 0, ms);
      if (body) active += body.business.activeShoppers;
      if (app.kind === "worker") {
        const f: WorkerFigures = {
          name: app.name,
          region: app.region,
          answered: body !== undefined,
          messagesPerSecond: null,
          meanLagSeconds: null,
        };
        if (body && comparable && ms > 0) {
          const messages = body.business.queueMessages - comparable.stats.business.queueMessages;
          const lag = body.business.queueLagSecondsSum - comparable.stats.business.queueLagSecondsSum;
          f.messagesPerSecond = round(perSecond(messages, ms));
          f.meanLagSeconds = messages > 0 ? round(lag / messages, 2) : null;
          lagSum += lag;
          lagCount += messages;
        }
        workers.push(f);
        continue;
      }
      const f: WebFigures = {
        name: app.name,
        region: app.region,
        answered: body !== undefined,
        requestsPerSecond: null,
        p50Ms: null,
        p99Ms: null,
        errorsPerSecond: null,
      };
      if (body && comparable && ms > 0) {
        any = true;
        const a = comparable.stats;
        f.requestsPerSecond = round(perSecond(body.requests.total - a.requests.total, ms));
        f.errorsPerSecond = round(perSecond(body.requests.byStatusClass["5xx"] - a.requests.byStatusClass["5xx"], ms));
        const window = body.requests.latencyMs.counts.map((n, i) => n - (a.requests.latencyMs.counts[i] ?? 0));
        const p50 = percentileFromBuckets(LATENCY_BUCKETS_MS, window, 0.5);
        const p99 = percentileFromBuckets(LATENCY_BUCKETS_MS, window, 0.99);
        f.p50Ms = p50 === undefined ? null : round(p50);
        f.p99Ms = p99 === undefined ? null : round(p99);
        for (const k of ["hit", "miss", "bypass"] as const) {
          const d = body.cache[k] - a.cache[k];
          if (body.cache[k] > 0) cacheSeen = true;
          cache[k === "hit" ? "hits" : k === "miss" ? "misses" : "bypass"] += d;
        }
        for (const [target, n] of Object.entries(body.db))
          reads[target] = (reads[target] ?? 0) + perSecond(n - (a.db[target] ?? 0), ms);
        orders += body.business.ordersPlaced - a.business.ordersPlaced;
        revenue += body.business.revenueCents - a.business.revenueCents;
      }
      web.push(f);
    }
    this.previous = next;
    const window = windowMs;
    const cacheTotal = cache.hits + cache.misses + cache.bypass;
    return {
      at: new Date(at).toISOString(),
      windowMs: window,
      web,
      workers,
      cache: cacheSeen ? { ...cache, hitRatio: cacheTotal > 0 ? round(cache.hits / cacheTotal, 3) : null } : null,
      readsPerSecond: Object.fromEntries(Object.entries(reads).map(([k, v]) => [k, round(v)])),
      business: {
        ordersPerSecond: any && window ? round(perSecond(orders, window), 2) : null,
        revenuePerSecond: any && window ? round(perSecond(revenue, window) / 100, 2) : null,
        activeShoppers: polled.some((p) => p.body) ? active : null,
        meanQueueLagSeconds: lagCount > 0 ? round(lagSum / lagCount, 2) : null,
      },
    };
  }

  private async pollHealth(): Promise<ServiceHealth[]> {
    const rows = this.source.services();
    const checked = new Map<() => Promise<boolean>, Promise<boolean | null>>();
    const result = await Promise.all(
      rows.map(async ({ row, health }) => {
        // Several rows of one service (HAProxy's) share one check.
        let check = checked.get(health);
        if (!check) checked.set(health, (check = within(SOURCE_TIMEOUT_MS, health, null)));
        return { ...row, healthy: await check };
      }),
    );
    for (const s of result) {
      const was = this.previousHealth.get(s.name);
      const now = s.healthy === true;
      if (was !== undefined && was !== now)
        this.events.add(
          "health",
          now ? `${s.name} is healthy again` : `${s.name} ${s.healthy === null ? "does not answer" : "is down"}`,
        );
      this.previousHealth.set(s.name, now);
    }
    return result;
  }

  private pool(target: PgTarget): pg.Pool {
    const key = `${target.port}/${target.database}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new pg.Pool({
        host: "127.0.0.1",
        port: target.port,
        database: target.database,
        user: target.user,
        password: target.password,
        max: 1,
        connectionTimeoutMillis: SOURCE_TIMEOUT_MS,
        query_timeout: SOURCE_TIMEOUT_MS,
        idleTimeoutMillis: 30_000,
        application_name: "ladder-console",
      });
      // An idle connection whose server stopped (a fault) errors here; the next query opens another.
      pool.on("error", () => undefined);
      this.pools.set(key, pool);
    }
    return pool;
  }

  private async query<T extends pg.QueryResultRow>(
    target: PgTarget,
    text: string,
    values: unknown[] = [],
  ): Promise<T | undefined> {
    return within(SOURCE_TIMEOUT_MS, async () => (await this.pool(target).query<T>(text, values)).rows[0], undefined);
  }

  private async pollReplicas(): Promise<Figures["replicas"]> {
    const { primary, replicas } = this.source.catalog();
    if (replicas.length === 0) return [];
    const head = await this.query<{ lsn: string }>(primary, "SELECT pg_current_wal_lsn()::text AS lsn");
    return Promise.all(
      replicas.map(async (r) => {
        // The primary's WAL position, handed to the replica, which computes the distance (pg_wal_lsn_diff).
        const row = head
          ? await this.query<{ bytes: string | null; seconds: number | null }>(
              r,
              "SELECT pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::text AS bytes, " +
                "extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS seconds",
              [head.lsn],
            )
          : undefined;
        const bytes = row?.bytes == null ? null : Math.max(0, Number(row.bytes));
        return {
          name: r.name,
          region: r.region,
          lagBytes: bytes,
          // The age of the last replayed transaction means lag only while something is left to replay.
          lagSeconds: bytes === null || row?.seconds == null ? null : bytes === 0 ? 0 : round(row.seconds, 2),
        };
      }),
    );
  }

  private async pollQueues(): Promise<Figures["queues"]> {
    return Promise.all(
      this.source.queues().map(async (q) => {
        const key = `${q.region} ${q.endpoint}`;
        let sqs = this.sqsClients.get(key);
        if (!sqs) {
          sqs = new SQSClient({
            region: q.region,
            endpoint: q.endpoint,
            credentials: { accessKeyId: "local", secretAccessKey: "local" },
            maxAttempts: 1,
          });
          this.sqsClients.set(key, sqs);
        }
        const client = sqs;
        const attributes = (url: string) =>
          within(
            SOURCE_TIMEOUT_MS,
            async () =>
              (
                await client.send(
                  new GetQueueAttributesCommand({
                    QueueUrl: url,
                    AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
                  }),
                  { abortSignal: AbortSignal.timeout(SOURCE_TIMEOUT_MS) },
                )
              ).Attributes,
            undefined,
          );
        const [main, dead] = await Promise.all([attributes(q.url), attributes(q.deadLetterUrl)]);
        const n = (v: string | undefined) => (v === undefined ? null : Number(v));
        return {
          region: q.region,
          depth: n(main?.ApproximateNumberOfMessages),
          inFlight: n(main?.ApproximateNumberOfMessagesNotVisible),
          deadLetters:
            dead === undefined
              ? null
              : (n(dead.ApproximateNumberOfMessages) ?? 0) + (n(dead.ApproximateNumberOfMessagesNotVisible) ?? 0),
        };
      }),
    );
  }

  private async pollOrders(): Promise<Figures["orders"]> {
    const at = this.now();
    return Promise.all(
      this.source.orderDatabases().map(async (db) => {
        const row = await this.query<{ n: string }>(db, "SELECT count(*)::text AS n FROM orders");
        const total = row ? Number(row.n) : null;
        const before = this.previousOrders.get(db.shard);
        let rate: number | null = null;
        if (total !== null) {
          if (before && at > before.at) rate = round(perSecond(total - before.total, at - before.at), 2);
          this.previousOrders.set(db.shard, { at, total });
        }
        return { shard: db.shard, total, perSecond: rate };
      }),
    );
  }
}
