/**
 * The cart API. The cart lives in the session, not in the database; prices and stock shown are read fresh from
 * the catalog each time, and the price shown for each line is recorded with it: checkout charges that price or
 * refuses with `price_changed` (orders/stock.ts). Every change is a new version of the cart (cart/cart-session.ts).
 *
 *   GET    /api/cart
 *   POST   /api/cart/items               { productId, quantity }  adds units (to an existing line, too)
 *   DELETE /api/cart/items/:productId    removes the line
 */
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { type CartLine, MAX_CART_LINES, MAX_LINE_QUANTITY, addLine, quantityOf, removeLine } from "../cart/cart";
import { getProduct, getProducts } from "../catalog/products";
import type { DbRouter } from "../db/router";
import { conflict, notFound } from "../http/errors";
import { productIdSchema } from "../http/schemas";
import { storeCart } from "../cart/cart-session";
import { cartOf, readOptionsFor } from "../session/shopper-session";

/** Options of {@link cartRoutes}. */
export interface CartRoutesOptions {
  router: DbRouter;
}

/** A cart as the API shows it. */
export interface CartView {
  items: Array<{
    productId: number;
    name: string;
    priceCents: number;
    quantity: number;
    lineTotalCents: number;
    /** False when the catalog no longer holds enough units: checkout would refuse this line. */
    inStock: boolean;
  }>;
  totalCents: number;
}

/**
 * The cart view of `lines` at today's prices. Those prices are what the shopper is now shown, so a line recorded
 * at another price takes it (a new cart version); `store` stores `lines` even when no price changed.
 */
async function show(
  router: DbRouter,
  request: FastifyRequest,
  lines: readonly CartLine[],
  store: boolean,
): Promise<CartView> {
  const products = await getProducts(
    router,
    lines.map((line) => line.productId),
    readOptionsFor(request),
  );
  const items: CartView["items"] = [];
  let repriced = false;
  const shown = lines.map((line) => {
    const priceCents = products.get(line.productId)?.priceCents;
    if (priceCents === undefined || priceCents === line.priceCents) return line;
    repriced = true;
    return { ...line, priceCents };
  });
  if (store || repriced) storeCart(request, shown);
  for (const line of lines) {
    // Products are never deleted through the API; a line whose product is gone (a reset catalog) is not shown,
    // and checkout names it.
    const product = products.get(line.productId);
    if (!product) continue;
    items.push({
      productId: product.id,
      name: product.name,
      priceCents: product.priceCents,
      quantity: line.quantity,
      lineTotalCents: product.priceCents * line.quantity,
      inStock: product.stock >= line.quantity,
    });
  }
  return { items, totalCents: items.reduce((sum, item) => sum + item.lineTotalCents, 0) };
}

/** The cart plugin; see the module comment. */
export const cartRoutes: FastifyPluginAsync<CartRoutesOptions> = async (app, { router }) => {
  app.get("/cart", async (request) => show(router, request, cartOf(request), false));

  app.post<{ Body: CartLine }>(
    "/cart/items",
    {
      schema: {
        body: {
          type: "object",
          properties: {
            productId: productIdSchema,
            quantity: { type: "integer", minimum: 1, maximum: MAX_LINE_QUANTITY },
          },
          required: ["productId", "quantity"],
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const { productId, quantity } = request.body;
      const product = await getProduct(router, productId, readOptionsFor(request));
      if (!product) throw notFound("product_not_found", `Product ${productId} does not exist`, { productId });
      const lines = cartOf(request);
      const wanted = quantityOf(lines, productId) + quantity;
      if (wanted > product.stock) {
        throw conflict("insufficient_stock", `Only ${product.stock} of "${product.name}" (product ${productId}) left`, {
          productId,
          name: product.name,
          requested: wanted,
          available: product.stock,
        });
      }
      const next = addLine(lines, productId, quantity, product.priceCents);
      if (next === "cart_full") {
        throw conflict("cart_full", `A cart holds at most ${MAX_CART_LINES} different products`, {
          max: MAX_CART_LINES,
        });
      }
      if (next === "quantity_limit") {
        throw conflict("quantity_limit", `A cart holds at most ${MAX_LINE_QUANTITY} units of one product`, {
          productId,
          max: MAX_LINE_QUANTITY,
        });
      }
      return show(router, request, next, true);
    },
  );

  app.delete<{ Params: { productId: number } }>(
    "/cart/items/:productId",
    {
      schema: {
        params: {
          type: "object",
          properties: { productId: productIdSchema },
          required: ["productId"],
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const { productId } = request.params;
      const next = removeLine(cartOf(request), productId);
      if (!next) throw notFound("not_in_cart", `Product ${productId} is not in the cart`, { productId });
      return show(router, request, next, true);
    },
  );
};
