/**
 * Health endpoints for the load balancer and for people:
 *
 *   GET /healthz   200 while the process can answer at all (liveness; no dependency is asked)
 *   GET /readyz    200 when every configured database (the primary and each replica) answers `SELECT 1`;
 *                  otherwise 503 naming each one that does not. Optional dependencies (Redis: the cache is an
 *                  optimisation) are listed with `optional: true` and never fail it; while one is down the
 *                  status is `degraded`, still 200.
 *
 * The load balancer asks both every few seconds, so their access lines are `debug` (http/access-log.ts). What
 * matters is logged when it changes: `not ready` (warn, with each failing database's reason) when /readyz starts
 * failing or the set of failing databases changes, and `ready again` (info) when it passes after failing.
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
    if (names !== lastFailing) {
      // The reasons (addresses, ports) go to the log only: /readyz is reachable through the public load balancer.
      if (names !== "") request.log.warn({ failing, before: lastFailing || undefined }, "not ready");
      else request.log.info({ before: lastFailing }, "ready again");
      lastFailing = names;
    }
    if (failing.length === 0) {
      return {
        status: optional.every((check) => check.ok) ? "ready" : "degraded",
        checks: [
          ...checks.map(({ name }) => ({ name, ok: true })),
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
