/**
 * The throughput limits of the managed services in the request path that the capacity model (lib/capacity/model.ts)
 * checks, and why neither binds at the ladder's scale. Read on 2026-12-02.
 */

/** A limit, where it is written, and what it means for the ladder. */
export interface ServiceLimit {
  /** What the service allows, in AWS's words. */
  limit: string;
  source: string;
  /** Why the capacity model gives the tier no ceiling. */
  why: string;
}

/**
 * SQS standard queues (the orders queue, step 8 on). Source: Amazon SQS Developer Guide, "Amazon SQS standard
 * queues" (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues.html) and
 * "Amazon SQS message quotas"
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
 */
export const SQS_STANDARD: ServiceLimit = {
  limit:
    "standard queues support a nearly unlimited number of API calls per second per action; at most about " +
    "120,000 in-flight messages per queue",
  source: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html",
  why:
    "one message per order; the messages in flight are the workers' batches (at most 10 per receive, the " +
    "ReceiveMessage maximum, per worker), far under 120,000",
};

/**
 * Application Load Balancer (step 3 on). Source: Elastic Load Balancing, "Quotas for your Application Load
 * Balancers" (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html): the
 * quotas are counts (targets, rules, certificates), none is a request rate; "Elastic Load Balancing scales your load
 * balancer as your incoming traffic changes over time" (User Guide, "How Elastic Load Balancing works").
 */
export const ALB: ServiceLimit = {
  limit: "no request-rate quota: it scales with the traffic (billed in LCUs)",
  source: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html",
  why: "a sudden step far above its current traffic can see 503s while it scales; a sustained rate is not capped",
};
