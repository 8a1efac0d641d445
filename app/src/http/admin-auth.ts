/**
 * The guard of the catalog's write routes: `Authorization: Bearer <ADMIN_TOKEN>`. Both sides are hashed before
 * `timingSafeEqual`, so the comparison takes the same time whatever the guess, its length included.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { onRequestAsyncHookHandler } from "fastify";
import { HttpError } from "./errors";

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** An onRequest hook that lets a request through only with the admin bearer token; 401 otherwise. */
export function requireAdminToken(adminToken: string): onRequestAsyncHookHandler {
  const expected = digest(adminToken);
  return async (request) => {
    const header = request.headers.authorization;
    const match = typeof header === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match || !timingSafeEqual(digest(match[1]), expected)) {
      throw new HttpError(401, "unauthorized", "This route needs a valid admin bearer token", null, {
        "www-authenticate": 'Bearer realm="shop-admin"',
      });
    }
  };
}
