/**
 * The names the telemetry tier, the app's environment and local mode share: metric namespaces and the agent's
 * endpoint. Plain constants without the Pulumi SDK, so that what only needs a name (local mode's launcher, through
 * stacks/app-environment.ts) does not load @pulumi/aws for it (seconds per start); telemetry.ts re-exports them.
 */

/** Namespace of the app's business metrics (embedded metric format). */
export const BUSINESS_NAMESPACE = "ScaleLadder/Shop";
/** Business metrics the app emits, as the dashboard and the tests name them. */
export const BUSINESS_METRICS = [
  "OrdersPlaced",
  "Revenue",
  "ActiveShoppers",
  "CacheHits",
  "CacheMisses",
  "QueueLagSeconds",
] as const;
/** Namespace of the CloudWatch agent's host metrics. */
export const AGENT_NAMESPACE = "CWAgent";
/** Where the agent listens for embedded-metric-format records (its default). */
export const EMF_AGENT_ENDPOINT = "tcp://127.0.0.1:25888";
