/**
 * The tier headers: every answer under `/api` says which parts of the ladder served it, so that a learner (and the
 * storefront's "served by" strip, app/static/app.js) sees step 5's cache hits and step 4's replica reads:
 *
 * - `x-shop-region`: the region this process stands for (`AWS_REGION`); HAProxy's geo router sets the same value at
 *   step 11 (scripts/local/haproxy.ts);
 * - `x-shop-process`: which process answered (`PROCESS_NAME`: the instance id on AWS, `web-1` in local mode);
 * - `x-shop-cache`: `hit`, `miss` or `bypass`, when the product cache was asked (step 5 on);
 * - `x-shop-db`: the database targets that answered the reads (`replica-1`, `primary`, `shard-1-reader`, ...);
 * - `x-shop-shard`: the shopper's order shard (`main` before step 9, `shard-<i>` from it).
 *
 * The last three come from the request's {@link ServedBy} record (served-by.ts), the same the access line writes, and
 * are absent when that tier was not involved. Region and process are computed once, at start-up; the hook takes a
 * callback, so the cached product read gains no await. The storefront is same-origin: no
 * Access-Control-Expose-Headers is needed for its script to read them.
 */
import type { FastifyInstance } from "fastify";

/** The header names, by tier. */
export const TIER_HEADERS = {
  region: "x-shop-region",
  process: "x-shop-process",
  cache: "x-shop-cache",
  db: "x-shop-db",
  shard: "x-shop-shard",
} as const;

/** Options of {@link registerTierHeaders}. */
export interface TierHeadersOptions {
  /** `AWS_REGION`; unset, no `x-shop-region`. */
  region?: string;
  /** `PROCESS_NAME`; unset, no `x-shop-process`. */
  process?: string;
}

/** Adds the tier headers to every answer under `/api`; see the module comment. */
export function registerTierHeaders(app: FastifyInstance, options: TierHeadersOptions): void {
  const fixed: Record<string, string> = {};
  if (options.region) fixed[TIER_HEADERS.region] = options.region;
  if (options.process) fixed[TIER_HEADERS.process] = options.process;
  app.addHook("onSend", (request, reply, payload, done) => {
    if (request.url.startsWith("/api/")) {
      reply.headers(fixed);
      const served = request.served;
      if (served !== null) {
        if (served.cache !== undefined) reply.header(TIER_HEADERS.cache, served.cache);
        if (served.db !== undefined) reply.header(TIER_HEADERS.db, served.db);
        if (served.shard !== undefined) reply.header(TIER_HEADERS.shard, served.shard);
      }
    }
    done(null, payload);
  });
}
