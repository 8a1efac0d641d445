/**
 * Business metrics. Count with `metrics.orderPlaced(cents)`, `metrics.shopperSeen(id)`, `metrics.cacheHit()`,
 * `metrics.cacheMiss()`, `metrics.queueLag(seconds)`; the server and the worker publish them (see
 * business-metrics.ts).
 */
export {
  ACTIVE_SHOPPER_WINDOW_MS,
  BusinessMetrics,
  METRIC_NAMES,
  type MetricName,
  type MetricsPublisher,
  type MetricsSettings,
  type BusinessTotals,
  type MetricsSnapshot,
  metrics,
  startMetricsPublisher,
} from "./business-metrics";
