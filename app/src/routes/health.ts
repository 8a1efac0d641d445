/**
 * Health endpoints for the load balancer and for people:
 *
 *   GET /healthz   200 while the process can answer at all (liveness; no dependency is asked)
 *   GET /readyz    200 while at least one configured database (the primary or a replica) answers `SELECT 1`:
 *                  `ready` when all of them do, `degraded` (still 200) when some do not, each listed with
 *                  `ok: false`. 503 naming them all only when none answers. Optional dependencies (Redis: the
 *                  cache is an optimisation) are listed with `optional: true` and never fail it either.
 *
 * Why a database that is down does not fail readiness while another answers: it is shared, so it fails on every
 * server at once, and the load balancer (the ALB, HAProxy locally) takes servers out one check at a time and puts
 * them back one at a time. In between, a shopper whose server is out while another is in is moved to that other
 * one, and at steps 3–6 sessions live in each server's memory: the shopper loses their cart and, with their shopper
 * id, the view of every order they placed (a stopped replica or a primary failover did this to the step-4 e2e
 * test). Nothing is gained in return, since every server would answer alike; and the auto-scaling group, which
 * counts these checks, would replace the whole fleet. The router already serves reads around a failed replica and
 * a primary's outage is a 503 on writes only. When no database answers the process cannot tell a network of its
 * own that is broken from a shared outage, and it can serve nothing but errors: out of rotation, another server may
 * do better (when none can, the load balancer fails open), and a build whose database settings are wrong never
 * turns healthy.
 *
 * The load balancer asks both every few seconds, so their access lines are `debug` (http/access-log.ts). What
 * matters is logged when it changes: `degraded` or `not ready` (warn, with each failing database's reason) when a
 * database starts failing or the set of failing databases changes, and `ready again` (info) when all answer again.
 */
import type { FastifyPluginAsync } from "fastify";
import type { DbRouter } from "../db/router";
import type { ErrorBody } from "../http/errors";
import type {} from "../http/access-log";

/** Options of {@link healthRoutes}. */
export interface HealthRoutesOptions {
  router: DbRouter;
  /** Checks of dependencies the app works without (reported, never a 503). */
  optionalChecks?: Array<() => Promise<{ name: string; ok: boolean }>>;
}

/** The health plugin; see the module comment. */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { router, optionalChecks = [] }) => {
  const quiet = { config: { accessLog: "debug" as const } };
  /** The failing databases' names at the last /readyz, comma-separated; "" while ready. */
  let lastFailing = "";

  app.get("/healthz", quiet, async () => ({ status: "ok" }));

  app.get("/readyz", quiet, async (request, reply) => {
    const [checks, optional] = await Promise.all([router.probe(), Promise.all(optionalChecks.map((check) => check()))]);
    const failing = checks.filter((check) => !check.ok);
    const names = failing.map((check) => check.name).join(",");
    const serving = failing.length < checks.length;
    if (names !== lastFailing) {
      // The reasons (addresses, ports) go to the log only: /readyz is reachable through the public load balancer.
      if (names !== "")
        request.log.warn({ failing, before: lastFailing || undefined }, serving ? "degraded" : "not ready");
      else request.log.info({ before: lastFailing }, "ready again");
      lastFailing = names;
    }
    if (serving) {
      return {
        status: failing.length === 0 && optional.every((check) => check.ok) ? "ready" : "degraded",
        checks: [
          ...checks.map(({ name, ok }) => ({ name, ok })),
          ...optional.map(({ name, ok }) => ({ name, ok, optional: true })),
        ],
      };
    }
    const body: ErrorBody = {
      error: "not_ready",
      message: `Not reachable: ${failing.map((check) => check.name).join(", ")}`,
      details: { failing: failing.map((check) => check.name) },
    };
    return reply.code(503).send(body);
  });
};
