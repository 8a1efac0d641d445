/**
 * This process's figures since it started, for the ladder console (scripts/local/console/) and anyone who wants to
 * watch one process: `GET /admin/stats` (admin token on a web process; see {@link statsRoutes}).
 *
 * The counts are cumulative, never reset: a reader takes two polls and subtracts, so any number of readers can poll
 * at any pace without disturbing each other, and a missed poll loses nothing. They are counted in one place, where
 * the access line is written (http/access-log.ts calls {@link ProcessStats.request}), so the figures and the logs
 * count the same requests: every request but the health checks and this route itself (routes whose access line is
 * `debug`). The latency histogram has fixed buckets, so a percentile over any window comes from the buckets'
 * deltas ({@link percentileFromBuckets}).
 *
 * The cost on the hot path is a few increments and a walk over 13 bucket bounds: no allocation, no await.
 */
import type { FastifyPluginAsync } from "fastify";
import type { BusinessTotals } from "../metrics/business-metrics";
import type { ServedBy } from "../served-by";
import { requireAdminToken } from "./admin-auth";

/**
 * Upper bounds (ms, inclusive) of the latency buckets; one more bucket past the last counts everything slower.
 * Fine where the shop's reads are (1-10 ms), coarse where only outliers are.
 */
export const LATENCY_BUCKETS_MS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/** The status classes a response is counted in; `aborted`: the client went away before the response. */
export type StatusClass = "2xx" | "3xx" | "4xx" | "5xx" | "aborted";

/** What `GET /admin/stats` answers. */
export interface ProcessStatsBody {
  /** The process's stable short name (`SHOP_PROCESS_NAME` locally; else the host name and pid). */
  process: string;
  /** `AWS_REGION`, when set. */
  region?: string;
  kind: "web" | "worker";
  /** When the process started counting (ISO 8601). */
  startedAt: string;
  requests: {
    total: number;
    byStatusClass: Record<StatusClass, number>;
    /**
     * `counts[i]` requests took at most `buckets[i]` ms (and more than `buckets[i-1]`); `counts` has one entry more
     * than `buckets`: the requests slower than the last bound.
     */
    latencyMs: { buckets: readonly number[]; counts: number[] };
  };
  /** Catalog reads by how the cache served them (ServedBy.cache). */
  cache: { hit: number; miss: number; bypass: number };
  /** Requests by the database target that answered their reads (ServedBy.db, each target of a request once). */
  db: Record<string, number>;
  /** Requests by their shopper's order shard (ServedBy.shard). */
  shard: Record<string, number>;
  /** The business metrics, cumulative (metrics/business-metrics.ts). */
  business: BusinessTotals;
}

/** The counters behind {@link ProcessStatsBody}; one per process (the server's app, the worker's health listener). */
export class ProcessStats {
  private total = 0;
  private readonly byStatusClass: Record<StatusClass, number> = { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, aborted: 0 };
  private readonly latency: number[] = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  private readonly cache = { hit: 0, miss: 0, bypass: 0 };
  private readonly db: Record<string, number> = {};
  private readonly shard: Record<string, number> = {};
  private readonly startedAt = new Date().toISOString();

  /**
   * @param identity.process the process's name in the answer.
   * @param identity.kind `web` (server.js) or `worker` (worker.js).
   * @param identity.region `AWS_REGION`; none if unset.
   * @param business the cumulative business metrics, read at each poll.
   */
  constructor(
    private readonly identity: { process: string; kind: "web" | "worker"; region?: string },
    private readonly business: () => BusinessTotals,
  ) {}

  /** One response sent: its status, how long it took, and the tiers that served it. */
  request(status: number, elapsedMs: number, served: ServedBy | null): void {
    this.total++;
    this.byStatusClass[status >= 500 ? "5xx" : status >= 400 ? "4xx" : status >= 300 ? "3xx" : "2xx"]++;
    this.count(elapsedMs, served);
  }

  /** One request whose client went away before its response. */
  aborted(elapsedMs: number, served: ServedBy | null): void {
    this.total++;
    this.byStatusClass.aborted++;
    this.count(elapsedMs, served);
  }

  private count(elapsedMs: number, served: ServedBy | null): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && elapsedMs > LATENCY_BUCKETS_MS[i]) i++;
    this.latency[i]++;
    if (served === null) return;
    if (served.cache !== undefined) this.cache[served.cache]++;
    if (served.shard !== undefined) this.shard[served.shard] = (this.shard[served.shard] ?? 0) + 1;
    const db = served.db;
    if (db === undefined) return;
    // Usually one target; a read-your-writes fallback lists two ("replica-1,primary"), each counted once.
    if (!db.includes(",")) this.db[db] = (this.db[db] ?? 0) + 1;
    else for (const target of db.split(",")) this.db[target] = (this.db[target] ?? 0) + 1;
  }

  /** The figures as `GET /admin/stats` answers them (copies: later counts do not change a snapshot). */
  snapshot(): ProcessStatsBody {
    return {
      process: this.identity.process,
      region: this.identity.region,
      kind: this.identity.kind,
      startedAt: this.startedAt,
      requests: {
        total: this.total,
        byStatusClass: { ...this.byStatusClass },
        latencyMs: { buckets: LATENCY_BUCKETS_MS, counts: [...this.latency] },
      },
      cache: { ...this.cache },
      db: { ...this.db },
      shard: { ...this.shard },
      business: this.business(),
    };
  }
}

/**
 * The `q` quantile (0 < q ≤ 1) of the requests counted in `counts` (a window: the difference of two polls'
 * counts), in ms: interpolated linearly inside the bucket where it falls, so it is an estimate within that bucket's
 * bounds. Undefined for an empty window; the last bound for requests past it.
 */
export function percentileFromBuckets(
  buckets: readonly number[],
  counts: readonly number[],
  q: number,
): number | undefined {
  if (!(q > 0 && q <= 1)) throw new RangeError(`q must be in (0, 1], got ${q}`);
  if (counts.length !== buckets.length + 1)
    throw new RangeError(`counts must have ${buckets.length + 1} entries (one per bucket and one past the last)`);
  const total = counts.reduce((sum, n) => sum + n, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0 && below + counts[i] >= rank) {
      if (i === buckets.length) return buckets[buckets.length - 1];
      const low = i === 0 ? 0 : buckets[i - 1];
      return low + ((buckets[i] - low) * (rank - below)) / counts[i];
    }
    below += counts[i];
  }
  return buckets[buckets.length - 1];
}

/** Options of {@link statsRoutes}. */
export interface StatsRoutesOptions {
  stats: ProcessStats;
  /**
   * The admin token a reader must send; none on the worker, whose health listener no security group admits (on
   * AWS only the box reaches it) and which never gets the app's secrets (stacks/app-environment.ts).
   */
  adminToken?: string;
}

/**
 * `GET /admin/stats`. Its access line is `debug`, like the health checks', so a poll every second neither fills the
 * log nor counts in the figures it reads. Behind the admin token, only wrong tokens count in the admin rate limit:
 * the console polls each process every second, which would use up the 60 a minute that a climb's own admin calls
 * (session handoff, write fence) need.
 */
export const statsRoutes: FastifyPluginAsync<StatsRoutesOptions> = async (app, { stats, adminToken }) => {
  app.get(
    "/admin/stats",
    {
      config: { accessLog: "debug", adminRateLimit: "refused" },
      ...(adminToken === undefined ? {} : { onRequest: requireAdminToken(adminToken) }),
    },
    async () => stats.snapshot(),
  );
};
