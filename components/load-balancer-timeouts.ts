/**
 * The load balancer's idle timeout, in one place: the ALB (components/web-fleet.ts) is created with it, and the app
 * (app/src/http/timeouts.ts) keeps its own keep-alive connections open longer. Plain constants without the Pulumi
 * SDK, so that the app bundles them without the SDK.
 *
 * The ALB reuses its connections to a target for many requests. If the app closed an idle one first, a request the
 * ALB sent on it at that moment would be lost and the shopper would see a 502; so the app's keep-alive timeout must
 * outlive the ALB's idle timeout, and the ALB is always the side that closes.
 */

/** Seconds the ALB keeps an idle connection open, to clients and to targets alike (the ALB's default, 60). */
export const ALB_IDLE_TIMEOUT_SECONDS = 60;
