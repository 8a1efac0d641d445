/**
 * Checkout and the shopper's orders.
 *
 *   POST /api/checkout      the cart becomes an order: 201 { orderId, status }; 409 naming a product short of stock
 *   GET  /api/orders        the shopper's newest orders
 *   GET  /api/orders/:id    one of the shopper's orders; anyone else's id is a 404, exactly like an unknown one
 *
 * After checkout the session remembers the write's WAL position, so the shopper's next reads (their order, the
 * new stock) are served by a replica only once it has replayed that far, else by the primary.
 */
import type { FastifyPluginAsync } from "fastify";
import type { DbRouter } from "../db/router";
import { conflict, notFound } from "../http/errors";
import { CheckoutRejected, getOrder, listOrders, placeOrder } from "../orders/orders";
import { cartOf, readOptionsFor, rememberWrite, shopperIdOf } from "../session/shopper-session";

/** Options of {@link orderRoutes}. */
export interface OrderRoutesOptions {
  router: DbRouter;
}

const UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/** The orders plugin; see the module comment. */
export const orderRoutes: FastifyPluginAsync<OrderRoutesOptions> = async (app, { router }) => {
  app.post(
    "/checkout",
    {
      // Checkout takes its input from the session; a body, if any, must be empty.
      schema: { body: { type: ["object", "null"], additionalProperties: false, maxProperties: 0 } },
    },
    async (request, reply) => {
      const lines = cartOf(request);
      if (lines.length === 0) throw conflict("cart_empty", "The cart is empty");
      const shopperId = shopperIdOf(request);
      try {
        const { result, lsn } = await placeOrder(router, shopperId, lines);
        request.session.cart = [];
        rememberWrite(request, lsn);
        return reply.code(201).header("location", `/api/orders/${result.orderId}`).send(result);
      } catch (error) {
        if (error instanceof CheckoutRejected) throw conflict(error.code, error.message, error.details);
        throw error;
      }
    },
  );

  app.get("/orders", async (request) => ({
    items: await listOrders(router, shopperIdOf(request), readOptionsFor(request)),
  }));

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
      const order = await getOrder(router, shopperIdOf(request), request.params.id, readOptionsFor(request));
      if (!order) throw notFound("order_not_found", `Order ${request.params.id} does not exist`);
      return order;
    },
  );
};
