/** The catalog's queries. Reads go through the router (replicas when fresh enough); writes go to the primary. */
import type { DbRouter, ReadOptions, Written } from "../db/router";

/** A product as the API shows it. */
export interface Product {
  id: number;
  sku: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
  stock: number;
}

/** Fields of a new product. */
export interface NewProduct {
  sku: string;
  name: string;
  description?: string;
  category: string;
  priceCents: number;
  stock: number;
}

/** Fields an admin may change on an existing product. */
export interface ProductChanges {
  priceCents?: number;
  stock?: number;
}

interface ProductRow {
  id: number;
  sku: string;
  name: string;
  description: string;
  category: string;
  price_cents: number;
  stock: number;
}

const COLUMNS = "id, sku, name, description, category, price_cents, stock";

function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    category: row.category,
    priceCents: row.price_cents,
    stock: row.stock,
  };
}

/** One page of the catalog. */
export interface ProductPage {
  items: Product[];
  /** True when more products follow the last one of `items`. */
  hasMore: boolean;
}

/**
 * Up to `limit` products with an id above `afterId`, in id order, optionally of one category: keyset pagination,
 * served by the primary key or by the (category, id) index, equally fast on page 1 and page 500.
 */
export async function listProducts(
  router: DbRouter,
  query: { category?: string; afterId: number; limit: number },
  options: ReadOptions,
): Promise<ProductPage> {
  // One row more than asked tells whether another page exists.
  const { rows } =
    query.category === undefined
      ? await router.read<ProductRow>(
          `SELECT ${COLUMNS} FROM products WHERE id > $1 ORDER BY id LIMIT $2`,
          [query.afterId, query.limit + 1],
          options,
        )
      : await router.read<ProductRow>(
          `SELECT ${COLUMNS} FROM products WHERE category = $1 AND id > $2 ORDER BY id LIMIT $3`,
          [query.category, query.afterId, query.limit + 1],
          options,
        );
  return { items: rows.slice(0, query.limit).map(toProduct), hasMore: rows.length > query.limit };
}

/** The product `id`, or `undefined`. */
export async function getProduct(router: DbRouter, id: number, options: ReadOptions): Promise<Product | undefined> {
  const { rows } = await router.read<ProductRow>(`SELECT ${COLUMNS} FROM products WHERE id = $1`, [id], options);
  return rows[0] && toProduct(rows[0]);
}

/** The products among `ids` that exist, by id. */
export async function getProducts(
  router: DbRouter,
  ids: number[],
  options: ReadOptions,
): Promise<Map<number, Product>> {
  if (ids.length === 0) return new Map();
  const { rows } = await router.read<ProductRow>(
    `SELECT ${COLUMNS} FROM products WHERE id = ANY($1::integer[])`,
    [ids],
    options,
  );
  return new Map(rows.map((row) => [row.id, toProduct(row)]));
}

/** Inserts a product. A taken SKU fails with PostgreSQL's unique_violation (23505). */
export async function createProduct(router: DbRouter, product: NewProduct): Promise<Written<Product>> {
  const written = await router.transaction((client) =>
    client.query<ProductRow>(
      `INSERT INTO products (sku, name, description, category, price_cents, stock)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [product.sku, product.name, product.description ?? "", product.category, product.priceCents, product.stock],
    ),
  );
  return { result: toProduct(written.result.rows[0]), lsn: written.lsn };
}

/** Applies `changes` to product `id`; the result is `undefined` when there is no such product. */
export async function updateProduct(
  router: DbRouter,
  id: number,
  changes: ProductChanges,
): Promise<Written<Product | undefined>> {
  const written = await router.transaction((client) =>
    client.query<ProductRow>(
      `UPDATE products
          SET price_cents = COALESCE($2, price_cents), stock = COALESCE($3, stock), updated_at = now()
        WHERE id = $1
        RETURNING ${COLUMNS}`,
      [id, changes.priceCents ?? null, changes.stock ?? null],
    ),
  );
  const row = written.result.rows[0];
  return { result: row && toProduct(row), lsn: written.lsn };
}
