/**
 * The admin's cross-shard view of orders (Bearer ADMIN_TOKEN).
 *
 *   GET /api/admin/orders/recent?limit=   the newest `limit` (1-100, default 20) orders of the whole shop, newest
 *                                         first: 200 { items, partial, details: { shards, unavailableShards } }.
 *                                         Every shard is asked at once and waited for at most
 *                                         SHARD_QUERY_TIMEOUT_MS; a shard that does not answer in time is named in
 *                                         `details.unavailableShards` and `partial` is true. 503 when none answers.
 */
import type { FastifyPluginAsync } from "fastify";
import { requireAdminToken } from "../http/admin-auth";
import { HttpError } from "../http/errors";
import type { Logger } from "../logger";
import { recentOrders } from "../orders/orders";
import type { OrderShards } from "../shards/order-shards";

/** Options of {@link adminOrderRoutes}. */
export interface AdminOrderRoutesOptions {
  shards: OrderShards;
  adminToken: string;
  /** Per-shard wait. */
  shardTimeoutMs: number;
}

/** Orders per page unless `limit` says otherwise, and the most it may ask for. */
export const DEFAULT_RECENT = 20;
export const MAX_RECENT = 100;

/** The admin orders plugin; see the module comment. */
export const adminOrderRoutes: FastifyPluginAsync<AdminOrderRoutesOptions> = async (
  app,
  { shards, adminToken, shardTimeoutMs },
) => {
  app.get<{ Querystring: { limit: number } }>(
    "/admin/orders/recent",
    {
      onRequest: requireAdminToken(adminToken),
      schema: {
        querystring: {
          type: "object",
          properties: { limit: { type: "integer", minimum: 1, maximum: MAX_RECENT, default: DEFAULT_RECENT } },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const { items, unavailableShards } = await recentOrders(
        shards,
        request.query.limit,
        shardTimeoutMs,
        request.log as Logger,
      );
      const names = shards.all().map((shard) => shard.name);
      if (unavailableShards.length === names.length) {
        throw new HttpError(503, "shard_unavailable", `No orders shard answered: ${unavailableShards.join(", ")}`, {
          unavailableShards,
        });
      }
      return { items, partial: unavailableShards.length > 0, details: { shards: names, unavailableShards } };
    },
  );
};
