/**
 * The guard of the catalog's write routes: `Authorization: Bearer <ADMIN_TOKEN>`. Both sides are hashed before
 * `timingSafeEqual`, so the comparison takes the same time whatever the guess, its length included.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import { HttpError } from "./errors";

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** Marks the hooks {@link requireAdminToken} makes, so that the rate limits find every admin route by its guard. */
const ADMIN_GUARD = Symbol("admin guard");

/** True for a hook made by {@link requireAdminToken}: its route is an admin route. */
export function isAdminGuard(hook: unknown): boolean {
  return typeof hook === "function" && ADMIN_GUARD in hook;
}

/** The hook {@link requireAdminToken} makes; `accepts` tells whether a request carries the token. */
export type AdminGuard = onRequestAsyncHookHandler & { accepts(request: FastifyRequest): boolean };

/** An onRequest hook that lets a request through only with the admin bearer token; 401 otherwise. */
export function requireAdminToken(adminToken: string): AdminGuard {
  const expected = digest(adminToken);
  const accepts = (request: FastifyRequest): boolean => {
    const header = request.headers.authorization;
    const match = typeof header === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    return match !== null && timingSafeEqual(digest(match[1]), expected);
  };
  const guard: onRequestAsyncHookHandler = async (request) => {
    if (!accepts(request)) {
      throw new HttpError(401, "unauthorized", "This route needs a valid admin bearer token", null, {
        "www-authenticate": 'Bearer realm="shop-admin"',
      });
    }
  };
  return Object.assign(guard, { [ADMIN_GUARD]: true, accepts });
}
