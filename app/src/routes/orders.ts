/**
 * Checkout and the shopper's orders.
 *
 *   POST /api/checkout      the cart becomes an order: 201 { orderId, status: "placed" } without the queue,
 *                           202 { orderId, status: "pending" } with it (the worker confirms later); 200 with the
 *                           first order when this cart (id and version) was checked out already; 409 naming a
 *                           product short of stock, or `price_changed` with the new prices (the cart takes them);
 *                           503 `shard_unavailable` naming the shopper's shard
 *   GET  /api/orders        the shopper's newest orders
 *   GET  /api/orders/:id    one of the shopper's orders (`pending` -> `confirmed`); anyone else's id is a 404,
 *                           exactly like an unknown one
 *
 * Every order route of a shopper touches their one shard (shards/order-shards.ts). After checkout the session
 * remembers the write's WAL positions (the catalog's, and the shard's when sharded), so the shopper's next reads
 * (their order, the new stock) are served by a replica only once it has replayed that far, else by the primary.
 * The stock it took is dropped from the product cache, and the session id is rotated: the old id becomes a tombstone
 * (session/tombstone.ts) that, for a few minutes, answers a checkout with the order and anything else as a stranger.
 */
import type { FastifyPluginAsync, FastifyRequest, Session } from "fastify";
import { cartRefOf, storeCart } from "../cart/cart-session";
import type { DbRouter, ReadOptions } from "../db/router";
import { type Lsn, isLsn } from "../db/lsn";
import { servedBy } from "../http/access-log";
import { conflict, notFound } from "../http/errors";
import { metrics } from "../metrics";
import {
  CheckoutRejected,
  type PlacedOrder,
  type PreShardRead,
  getOrder,
  listOrders,
  orderStatus,
  placeOrder,
} from "../orders/orders";
import type { PriceChangedDetails } from "../orders/stock";
import type { OutboxRelay } from "../queue/outbox-relay";
import type { Logger } from "../logger";
import type { OrderShard, OrderShards } from "../shards/order-shards";
import {
  cartOf,
  existingShopperIdOf,
  readOptionsFor,
  rememberWrite,
  rotateSession,
  shopperIdOf,
} from "../session/shopper-session";
import { tombstoneOf } from "../session/tombstone";

declare module "fastify" {
  interface Session {
    /** Sharded: the shard and WAL position of the shopper's last order write, for read-your-writes there. */
    orderWrite?: { shard: string; lsn: Lsn };
  }
}

/** Options of {@link orderRoutes}. */
export interface OrderRoutesOptions {
  /** The catalog database (stock). */
  router: DbRouter;
  /** Where orders live. */
  shards: OrderShards;
  /** Present with the queue (ORDER_QUEUE_URL): checkout answers 202 `pending` and nudges the relay. */
  relay?: OutboxRelay;
}

const UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/** Read options for the shopper's orders on `shard`: the catalog's position when orders live there. */
function orderReadOptions(request: FastifyRequest, shard: OrderShard): ReadOptions {
  if (shard.isCatalog) return readOptionsFor(request);
  const write = request.session?.orderWrite;
  const served = servedBy(request);
  return write && write.shard === shard.name && isLsn(write.lsn) ? { after: write.lsn, served } : { served };
}

/**
 * What a session keeps across the id rotation after checkout: who the shopper is, the positions of their writes
 * (so their next reads see the order) and the client that made it (the memory store's per-client bound counts the
 * new id against the same client). The emptied cart starts afresh.
 */
const KEPT_ACROSS_ROTATION: (keyof Session)[] = ["shopperId", "writeLsn", "orderWrite", "client"];

/** The orders plugin; see the module comment. */
export const orderRoutes: FastifyPluginAsync<OrderRoutesOptions> = async (app, { router, shards, relay }) => {
  // Sharded: the orders of steps 1-8 are on the catalog database until the backfill has copied them (read both).
  const preShard = shards.preShard;
  const preShardRead = (request: FastifyRequest): PreShardRead | undefined =>
    preShard && { orders: preShard, options: readOptionsFor(request) };
  app.post(
    "/checkout",
    {
      // Checkout takes its input from the session; a body, if any, must be empty.
      schema: { body: { type: ["object", "null"], additionalProperties: false, maxProperties: 0 } },
    },
    async (request, reply) => {
      const tombstone = tombstoneOf(request.session);
      if (tombstone) {
        // A retired id (its checkout rotated it away; this is a retry or a late double submit): that order, as a
        // replay answers it, and no cookie. The shard is the tombstone's, as the shopper id is not there.
        // A step-8 checkout's tombstone names the catalog (`main`), which a sharded app knows as preShard's.
        const shard =
          shards.all().find((candidate) => candidate.name === tombstone.shard) ??
          (tombstone.shard === preShard?.shard.name ? preShard.shard : undefined);
        const status = shard && (await orderStatus(shard, tombstone.orderId));
        if (!shard || !status) throw conflict("cart_empty", "The cart is empty");
        servedBy(request).shard = shard.name;
        return reply
          .code(200)
          .header("location", `/api/orders/${tombstone.orderId}`)
          .send({ orderId: tombstone.orderId, status });
      }
      const lines = cartOf(request);
      if (lines.length === 0) throw conflict("cart_empty", "The cart is empty");
      const shopperId = shopperIdOf(request);
      const cart = cartRefOf(request);
      const shard = shards.forShopper(shopperId, servedBy(request));
      let placed: PlacedOrder;
      try {
        placed = await placeOrder(router, shard, shopperId, cart, lines, {
          queued: relay !== undefined,
          logger: request.log as Logger,
        });
      } catch (error) {
        if (!(error instanceof CheckoutRejected)) throw error;
        if (error.code === "price_changed") {
          // The answer shows the shopper the new prices: the cart takes them, so checking out again pays them, and
          // their next reads (the cart) wait for a replica that has the change.
          const { items } = error.details as PriceChangedDetails;
          if (error.lsn) rememberWrite(request, error.lsn);
          storeCart(
            request,
            lines.map((line) => ({
              ...line,
              priceCents: items.find((item) => item.productId === line.productId)?.priceCents,
            })),
          );
        }
        // The same cart's first checkout is still writing its order (sharded): it is done in milliseconds.
        if (error.code === "checkout_in_progress") reply.header("retry-after", "1");
        throw conflict(error.code, error.message, error.details);
      }
      if (!placed.replayed) {
        metrics.orderPlaced(placed.totalCents);
        relay?.nudge();
        // The products' stock changed: cached reads of them, and the list pages showing them, go.
        await app.productCache?.productsWritten(
          lines.map((line) => line.productId),
          placed.catalogLsn,
        );
      }
      // The session id is the shopper's only credential: one seen before checkout (a shared computer, a leaked
      // header) must not open their orders afterwards. The new session has the shopper but not the cart (emptied:
      // the next line starts a new one); the old id keeps only this order, for a retry whose answer was lost.
      rememberWrite(request, placed.catalogLsn);
      if (!shard.isCatalog && placed.orderLsn) request.session.orderWrite = { shard: shard.name, lsn: placed.orderLsn };
      await rotateSession(request, KEPT_ACROSS_ROTATION, {
        orderId: placed.orderId,
        shard: shard.name,
        cartId: cart.id,
        cartVersion: cart.version,
      });
      return reply
        .code(placed.replayed ? 200 : relay ? 202 : 201)
        .header("location", `/api/orders/${placed.orderId}`)
        .send({ orderId: placed.orderId, status: placed.status });
    },
  );

  app.get("/orders", async (request) => {
    // A visitor without a session has no orders; answering that creates no session (issue 14, finding 2).
    const shopperId = existingShopperIdOf(request);
    if (shopperId === undefined) return { items: [] };
    const shard = shards.forShopper(shopperId, servedBy(request));
    return {
      items: await listOrders(shard, shopperId, orderReadOptions(request, shard), preShardRead(request)),
    };
  });

  app.get<{ Params: { id: string } }>(
    "/orders/:id",
    {
      schema: {
        params: {
          type: "object",
          properties: { id: { type: "string", pattern: UUID_PATTERN } },
          required: ["id"],
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const shopperId = existingShopperIdOf(request);
      if (shopperId === undefined) throw notFound("order_not_found", `Order ${request.params.id} does not exist`);
      const shard = shards.forShopper(shopperId, servedBy(request));
      const order = await getOrder(
        shard,
        shopperId,
        request.params.id.toLowerCase(),
        orderReadOptions(request, shard),
        preShardRead(request),
      );
      if (!order) throw notFound("order_not_found", `Order ${request.params.id} does not exist`);
      return order;
    },
  );
};
