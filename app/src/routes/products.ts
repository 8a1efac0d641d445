/**
 * The catalog API: anyone may browse; creating and changing products needs the admin bearer token.
 *
 *   GET   /api/products?category=&limit=&cursor=   one page, keyset-paginated; `nextCursor` fetches the next
 *   GET   /api/products/:id
 *   POST  /api/products                            admin: create (201, Location)
 *   PATCH /api/products/:id                        admin: change price and/or stock
 */
import type { FastifyPluginAsync } from "fastify";
import { decodeCursor, encodeCursor } from "../catalog/cursor";
import {
  type NewProduct,
  type ProductChanges,
  createProduct,
  getProduct,
  listProducts,
  updateProduct,
} from "../catalog/products";
import type { DbRouter } from "../db/router";
import { requireAdminToken } from "../http/admin-auth";
import { badRequest, conflict, notFound } from "../http/errors";
import { INT4_MAX, categorySchema, productIdParams } from "../http/schemas";
import { readOptionsFor, rememberWrite } from "../session/shopper-session";

/** Options of {@link productRoutes}. */
export interface ProductRoutesOptions {
  router: DbRouter;
  /** Token of the write routes. */
  adminToken: string;
}

/** Products per page unless `limit` says otherwise, and the most `limit` may ask for. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** SQLSTATE unique_violation: the SKU is taken. */
const UNIQUE_VIOLATION = "23505";

const priceCents = { type: "integer", minimum: 0, maximum: INT4_MAX } as const;
const stock = { type: "integer", minimum: 0, maximum: INT4_MAX } as const;

/** The products plugin; see the module comment. */
export const productRoutes: FastifyPluginAsync<ProductRoutesOptions> = async (app, { router, adminToken }) => {
  const adminOnly = requireAdminToken(adminToken);

  app.get<{ Querystring: { category?: string; limit: number; cursor?: string } }>(
    "/products",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            category: categorySchema,
            limit: { type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
            cursor: { type: "string", minLength: 1, maxLength: 200 },
          },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const { category, limit, cursor } = request.query;
      const afterId = cursor === undefined ? 0 : decodeCursor(cursor);
      if (afterId === undefined) throw badRequest("invalid_cursor", "cursor is not one this API returned", { cursor });
      const page = await listProducts(router, { category, afterId, limit }, readOptionsFor(request));
      const last = page.items[page.items.length - 1];
      return { items: page.items, nextCursor: page.hasMore && last ? encodeCursor(last.id) : null };
    },
  );

  app.get<{ Params: { id: number } }>("/products/:id", { schema: { params: productIdParams } }, async (request) => {
    const product = await getProduct(router, request.params.id, readOptionsFor(request));
    if (!product) throw notFound("product_not_found", `Product ${request.params.id} does not exist`);
    return product;
  });

  app.post<{ Body: NewProduct }>(
    "/products",
    {
      onRequest: adminOnly,
      schema: {
        body: {
          type: "object",
          properties: {
            sku: { type: "string", pattern: "^[A-Z0-9][A-Z0-9-]{2,31}$" },
            name: { type: "string", minLength: 1, maxLength: 200, pattern: "\\S" },
            description: { type: "string", maxLength: 2000 },
            category: categorySchema,
            priceCents,
            stock,
          },
          required: ["sku", "name", "category", "priceCents", "stock"],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      try {
        const { result, lsn } = await createProduct(router, request.body);
        rememberWrite(request, lsn);
        return reply.code(201).header("location", `/api/products/${result.id}`).send(result);
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
          throw conflict("sku_taken", `A product with SKU ${request.body.sku} already exists`, { sku: request.body.sku });
        }
        throw error;
      }
    },
  );

  app.patch<{ Params: { id: number }; Body: ProductChanges }>(
    "/products/:id",
    {
      onRequest: adminOnly,
      schema: {
        params: productIdParams,
        body: {
          type: "object",
          properties: { priceCents, stock },
          minProperties: 1,
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const { result, lsn } = await updateProduct(router, request.params.id, request.body);
      if (!result) throw notFound("product_not_found", `Product ${request.params.id} does not exist`);
      rememberWrite(request, lsn);
      return result;
    },
  );
};
