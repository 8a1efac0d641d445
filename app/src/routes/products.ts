/**
 * The catalog API: anyone may browse; creating and changing products needs the admin bearer token.
 *
 *   GET   /api/products?category=&limit=&cursor=   one page, keyset-paginated; `nextCursor` fetches the next
 *   GET   /api/products/:id
 *   POST  /api/products                            admin: create (201, Location)
 *   PATCH /api/products/:id                        admin: change price and/or stock
 *
 * With a {@link ProductCache} (REDIS_URL set), the two reads are served cache-aside from Redis and every write
 * invalidates what it changed; the reads are then the same for everyone, and app.ts registers these routes
 * outside the sessions' scope (without the cache, reads honour the reader's own last write). Successful reads say
 * `Cache-Control: public, max-age=30` either way, for the CDN and browsers.
 */
import type { FastifyPluginAsync } from "fastify";
import { decodeCursor, pageBody } from "../catalog/cursor";
import type { ProductCache } from "../catalog/product-cache";
import {
  type NewProduct,
  type ProductChanges,
  createProduct,
  getProduct,
  listProducts,
  updateProduct,
} from "../catalog/products";
import type { DbRouter } from "../db/router";
import { servedBy } from "../http/access-log";
import { requireAdminToken } from "../http/admin-auth";
import { PUBLIC_PRODUCT_READ } from "../http/cache-control";
import { badRequest, conflict, notFound } from "../http/errors";
import { INT4_MAX, categorySchema, productIdParams } from "../http/schemas";
import { readOptionsFor, rememberWrite } from "../session/shopper-session";

/** Options of {@link productRoutes}. */
export interface ProductRoutesOptions {
  router: DbRouter;
  /** Token of the write routes. */
  adminToken: string;
  /** Serves the reads from Redis when given; unset, every read goes to the database. */
  cache?: ProductCache;
}

/** Content type of the cached bodies, which are sent as the JSON text Redis holds. */
const JSON_TYPE = "application/json; charset=utf-8";

/** Products per page unless `limit` says otherwise, and the most `limit` may ask for. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** SQLSTATE unique_violation: the SKU is taken. */
const UNIQUE_VIOLATION = "23505";

const priceCents = { type: "integer", minimum: 0, maximum: INT4_MAX } as const;
const stock = { type: "integer", minimum: 0, maximum: INT4_MAX } as const;

/** The products plugin; see the module comment. */
export const productRoutes: FastifyPluginAsync<ProductRoutesOptions> = async (app, { router, adminToken, cache }) => {
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
    async (request, reply) => {
      const { category, limit, cursor } = request.query;
      const afterId = cursor === undefined ? 0 : decodeCursor(cursor);
      if (afterId === undefined) throw badRequest("invalid_cursor", "cursor is not one this API returned", { cursor });
      if (cache) {
        const body = await cache.pageJson({ category, afterId, limit }, servedBy(request));
        return reply.header("cache-control", PUBLIC_PRODUCT_READ).type(JSON_TYPE).send(body);
      }
      const page = await listProducts(router, { category, afterId, limit }, readOptionsFor(request));
      reply.header("cache-control", PUBLIC_PRODUCT_READ);
      return pageBody(page);
    },
  );

  app.get<{ Params: { id: number } }>(
    "/products/:id",
    { schema: { params: productIdParams } },
    async (request, reply) => {
      const { id } = request.params;
      const missing = () => notFound("product_not_found", `Product ${id} does not exist`);
      if (cache) {
        const body = await cache.productJson(id, servedBy(request));
        if (body === "null") throw missing();
        return reply.header("cache-control", PUBLIC_PRODUCT_READ).type(JSON_TYPE).send(body);
      }
      const product = await getProduct(router, id, readOptionsFor(request));
      if (!product) throw missing();
      reply.header("cache-control", PUBLIC_PRODUCT_READ);
      return product;
    },
  );

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
        // The new id may have been asked for (and cached as missing) before; and every list page may now hold it.
        await cache?.productsWritten([result.id], lsn);
        rememberWrite(request, lsn);
        return reply.code(201).header("location", `/api/products/${result.id}`).send(result);
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
          throw conflict("sku_taken", `A product with SKU ${request.body.sku} already exists`, {
            sku: request.body.sku,
          });
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
      await cache?.productsWritten([result.id], lsn);
      rememberWrite(request, lsn);
      return result;
    },
  );
};
