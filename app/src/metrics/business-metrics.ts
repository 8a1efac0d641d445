/**
 * Business metrics (step 10), in CloudWatch's embedded metric format through `aws-embedded-metrics`.
 *
 * Code anywhere in the process counts through the {@link metrics} singleton, which only adds numbers in memory
 * (no I/O, never throws, cheap enough for every request):
 *
 *   metrics.orderPlaced(totalCents)   OrdersPlaced (Count) and Revenue (None: currency units, cents / 100)
 *   metrics.shopperSeen(shopperId)    ActiveShoppers (Count): distinct shoppers seen in the last 5 minutes
 *   metrics.cacheHit() / cacheMiss()  CacheHits / CacheMisses (Count), for the catalog cache
 *   metrics.queueLag(seconds)         QueueLagSeconds (Seconds): now - SentTimestamp of each message the worker gets
 *
 * A {@link MetricsPublisher} (started by the server and the worker when AWS_EMF_ENVIRONMENT is set) turns what
 * was counted into one EMF record per interval, in AWS_EMF_NAMESPACE with no dimensions — exactly the metric
 * identities the dashboard of components/monitoring.ts plots (namespace + name, no dimension) — and sends it to
 * the CloudWatch agent (`Agent`, AWS_EMF_AGENT_ENDPOINT) or to stdout (`Local`). Counters are sums per interval,
 * so the dashboard's Sum over a minute adds up the fleet. ActiveShoppers is per process (Maximum on the dashboard).
 */
import type * as Emf from "aws-embedded-metrics";
import type { IConfiguration } from "aws-embedded-metrics/lib/config/IConfiguration";
import { BUSINESS_METRICS } from "../../../components/telemetry-names";
import type { Logger } from "../logger";

/**
 * The metric names: the ones the dashboard and the alarms read (components/telemetry-names.ts, a plain constants
 * module the release bundles; no Pulumi SDK comes with it).
 */
export const METRIC_NAMES = BUSINESS_METRICS;
/** One metric name. */
export type MetricName = (typeof METRIC_NAMES)[number];

/** Window of ActiveShoppers. */
export const ACTIVE_SHOPPER_WINDOW_MS = 5 * 60 * 1000;
/** Most shoppers tracked for ActiveShoppers; past it the longest-idle are forgotten first. */
const MAX_TRACKED_SHOPPERS = 200_000;
/** Most lag samples kept between two flushes; later ones replace random earlier ones (a fair sample). */
const MAX_LAG_SAMPLES = 1000;

/** What was counted since the last {@link BusinessMetrics.take}. */
export interface MetricsSnapshot {
  ordersPlaced: number;
  revenueCents: number;
  activeShoppers: number;
  cacheHits: number;
  cacheMisses: number;
  queueLagSeconds: number[];
}

/**
 * What was counted since the process started ({@link BusinessMetrics.totals}): GET /admin/stats answers it, and a
 * reader subtracts two polls. ActiveShoppers is the window as of now, like the published metric.
 */
export interface BusinessTotals {
  ordersPlaced: number;
  revenueCents: number;
  activeShoppers: number;
  cacheHits: number;
  cacheMisses: number;
  /** Queue messages received (the worker), and the sum of their lags: a window's mean lag is Δsum / Δcount. */
  queueMessages: number;
  queueLagSecondsSum: number;
}

/** The in-memory counters; see the module comment. */
export class BusinessMetrics {
  private ordersPlaced = 0;
  private revenueCents = 0;
  private cacheHits = 0;
  private cacheMisses = 0;
  private lags: number[] = [];
  private lagCount = 0;
  /** What earlier takes reset, so that {@link totals} counts from the start whatever the publisher took. */
  private readonly taken = { ordersPlaced: 0, revenueCents: 0, cacheHits: 0, cacheMisses: 0 };
  private queueMessages = 0;
  private queueLagSecondsSum = 0;
  /** Shopper id -> last seen (epoch ms), oldest first (a Map keeps insertion order; a re-seen shopper moves last). */
  private readonly shoppers = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** One order placed, for `totalCents`. */
  orderPlaced(totalCents: number): void {
    this.ordersPlaced += 1;
    this.revenueCents += totalCents;
  }

  /** A request of shopper `shopperId`. */
  shopperSeen(shopperId: string): void {
    this.shoppers.delete(shopperId);
    this.shoppers.set(shopperId, this.now());
    if (this.shoppers.size > MAX_TRACKED_SHOPPERS) this.shoppers.delete(this.shoppers.keys().next().value as string);
  }

  /** A catalog read served from the cache. */
  cacheHit(): void {
    this.cacheHits += 1;
  }

  /** A catalog read the cache could not serve. */
  cacheMiss(): void {
    this.cacheMisses += 1;
  }

  /** A queue message received `seconds` after it was sent. */
  queueLag(seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    const value = Math.max(0, seconds);
    this.queueMessages += 1;
    this.queueLagSecondsSum += value;
    this.lagCount += 1;
    if (this.lags.length < MAX_LAG_SAMPLES) this.lags.push(value);
    else {
      const slot = Math.floor(Math.random() * this.lagCount);
      if (slot < MAX_LAG_SAMPLES) this.lags[slot] = value;
    }
  }

  /** Distinct shoppers seen within the window, as of now. */
  activeShoppers(): number {
    const cutoff = this.now() - ACTIVE_SHOPPER_WINDOW_MS;
    for (const [id, seen] of this.shoppers) {
      if (seen >= cutoff) break;
      this.shoppers.delete(id);
    }
    return this.shoppers.size;
  }

  /**
   * The counts since the last take (ActiveShoppers: the window as of now), and starts counting afresh — only the
   * metrics in `names` (default: all); the others keep counting for whoever publishes them.
   */
  take(names: readonly MetricName[] = METRIC_NAMES): MetricsSnapshot {
    const snapshot: MetricsSnapshot = {
      ordersPlaced: this.ordersPlaced,
      revenueCents: this.revenueCents,
      activeShoppers: this.activeShoppers(),
      cacheHits: this.cacheHits,
      cacheMisses: this.cacheMisses,
      queueLagSeconds: this.lags,
    };
    const taking = new Set(names);
    const taken = this.taken;
    if (taking.has("OrdersPlaced")) {
      taken.ordersPlaced += this.ordersPlaced;
      this.ordersPlaced = 0;
    }
    if (taking.has("Revenue")) {
      taken.revenueCents += this.revenueCents;
      this.revenueCents = 0;
    }
    if (taking.has("CacheHits")) {
      taken.cacheHits += this.cacheHits;
      this.cacheHits = 0;
    }
    if (taking.has("CacheMisses")) {
      taken.cacheMisses += this.cacheMisses;
      this.cacheMisses = 0;
    }
    if (taking.has("QueueLagSeconds")) {
      this.lags = [];
      this.lagCount = 0;
    }
    return snapshot;
  }

  /** Everything counted since the process started, whatever {@link take} reset since. */
  totals(): BusinessTotals {
    const taken = this.taken;
    return {
      ordersPlaced: taken.ordersPlaced + this.ordersPlaced,
      revenueCents: taken.revenueCents + this.revenueCents,
      activeShoppers: this.activeShoppers(),
      cacheHits: taken.cacheHits + this.cacheHits,
      cacheMisses: taken.cacheMisses + this.cacheMisses,
      queueMessages: this.queueMessages,
      queueLagSecondsSum: this.queueLagSecondsSum,
    };
  }
}

/** The process's counters. */
export const metrics = new BusinessMetrics();

/**
 * Loads aws-embedded-metrics configured from `settings`. The library must not be imported before this: when its
 * environment detector loads, it starts resolving the environment at once, and without an override it probes for
 * EC2 by calling the instance metadata address. So its configuration module is loaded (and overridden) first, and
 * the library itself only then, and only by a process that publishes metrics.
 */
function loadEmf(settings: MetricsSettings, service: string): typeof Emf {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const configuration = (require("aws-embedded-metrics/lib/config/Configuration") as { default: IConfiguration })
    .default;
  configuration.environmentOverride = settings.AWS_EMF_ENVIRONMENT as IConfiguration["environmentOverride"];
  configuration.agentEndpoint = settings.AWS_EMF_AGENT_ENDPOINT;
  configuration.logGroupName = settings.AWS_EMF_LOG_GROUP_NAME;
  configuration.namespace = settings.AWS_EMF_NAMESPACE;
  configuration.serviceName = service;
  configuration.serviceType = "shop";
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("aws-embedded-metrics") as typeof Emf;
}

/** The configuration the publisher reads (config.ts, shared fields). */
export interface MetricsSettings {
  AWS_EMF_ENVIRONMENT?: "Agent" | "Local";
  AWS_EMF_AGENT_ENDPOINT: string;
  AWS_EMF_LOG_GROUP_NAME?: string;
  AWS_EMF_NAMESPACE: string;
}

/** Options of {@link startMetricsPublisher}. */
export interface PublisherOptions {
  /** `shop-server` or `shop-worker`: the record's `service` property (not a dimension). */
  service: string;
  logger: Logger;
  /**
   * The metrics this process publishes: the counters in every record (zeros included, so a quiet minute shows 0,
   * not a gap), QueueLagSeconds in the records that have samples.
   */
  publishes: readonly MetricName[];
  /**
   * Period of the records.
   * @default 60000
   */
  intervalMs?: number;
  /** The counters to publish; default {@link metrics}. */
  source?: BusinessMetrics;
}

/** A running publisher. */
export interface MetricsPublisher {
  /** Writes one record of what was counted since the last one. */
  flush(): Promise<void>;
  /** Stops the timer and writes a last record. */
  stop(): Promise<void>;
}

/**
 * Starts publishing when `settings.AWS_EMF_ENVIRONMENT` is set; returns `undefined` (and publishes nothing) when it
 * is not. The library's configuration is set from `settings` here, so it never probes its environment (an EC2
 * probe would call the instance metadata address) and reads nothing from `process.env` on its own.
 */
export function startMetricsPublisher(
  settings: MetricsSettings,
  options: PublisherOptions,
): MetricsPublisher | undefined {
  if (!settings.AWS_EMF_ENVIRONMENT) return undefined;
  const { createMetricsLogger } = loadEmf(settings, options.service);
  const source = options.source ?? metrics;
  const publishes = new Set(options.publishes);

  const flush = async () => {
    const taken = source.take(options.publishes);
    const values: Record<MetricName, { value: number | number[]; unit: "Count" | "None" | "Seconds" }> = {
      OrdersPlaced: { value: taken.ordersPlaced, unit: "Count" },
      Revenue: { value: taken.revenueCents / 100, unit: "None" },
      ActiveShoppers: { value: taken.activeShoppers, unit: "Count" },
      CacheHits: { value: taken.cacheHits, unit: "Count" },
      CacheMisses: { value: taken.cacheMisses, unit: "Count" },
      QueueLagSeconds: { value: taken.queueLagSeconds, unit: "Seconds" },
    };
    const record = createMetricsLogger();
    record.setNamespace(settings.AWS_EMF_NAMESPACE);
    // One empty dimension set: the metrics are published under their name alone, as the dashboard reads them.
    record.setDimensions({});
    record.setProperty("service", options.service);
    let any = false;
    for (const name of METRIC_NAMES.filter((n) => publishes.has(n))) {
      const { value, unit } = values[name];
      const list = Array.isArray(value) ? value : [value];
      for (const v of list) record.putMetric(name, v, unit);
      any ||= list.length > 0;
    }
    if (!any) return;
    try {
      await record.flush();
    } catch (error) {
      options.logger.warn({ reason: (error as Error).message }, "business metrics not delivered");
    }
  };

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const tick = () => {
    inFlight = flush().finally(() => {
      if (!stopped) {
        timer = setTimeout(tick, options.intervalMs ?? 60_000);
        timer.unref();
      }
    });
  };
  timer = setTimeout(tick, options.intervalMs ?? 60_000);
  timer.unref();
  return {
    flush: async () => {
      await inFlight;
      inFlight = flush();
      await inFlight;
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
      await flush();
    },
  };
}
