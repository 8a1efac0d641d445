/**
 * The demo catalog: `count` products spread over eight categories, the same rows for the same count on every run
 * (names, prices and stock are arithmetic on the row number), written by one INSERT ... SELECT over
 * generate_series, so 10,000 products take well under a second. Only an empty catalog is seeded.
 */
import type { PoolClient } from "pg";
import type { Logger } from "../logger";

/** The seed's categories, in the order rows cycle through them (row i gets CATEGORIES[(i - 1) % 8]). */
export const SEED_CATEGORIES = [
  "books",
  "electronics",
  "home",
  "garden",
  "toys",
  "sports",
  "grocery",
  "fashion",
] as const;

// Five nouns per category, in SEED_CATEGORIES order; SQL arrays are 1-based, hence the "1 +" below.
const SEED_SQL = `
  WITH words AS (
    SELECT
      $2::text[] AS categories,
      ARRAY['Classic','Compact','Deluxe','Eco','Essential','Pro','Smart','Sturdy','Travel','Vintage'] AS adjectives,
      ARRAY[
        ['Novel','Cookbook','Atlas','Biography','Anthology'],
        ['Headphones','Charger','Speaker','Keyboard','Webcam'],
        ['Lamp','Kettle','Blanket','Mug','Clock'],
        ['Trowel','Planter','Hose','Gloves','Seed Kit'],
        ['Puzzle','Robot','Kite','Board Game','Plush Bear'],
        ['Yoga Mat','Football','Water Bottle','Jump Rope','Tennis Racket'],
        ['Coffee','Tea','Olive Oil','Honey','Granola'],
        ['Scarf','Backpack','Sunglasses','Wallet','Beanie']
      ] AS nouns
  ),
  rows AS (
    SELECT
      i,
      w.categories[1 + (i - 1) % 8] AS category,
      w.adjectives[1 + (i * 7) % 10] AS adjective,
      w.nouns[1 + (i - 1) % 8][1 + ((i - 1) / 8) % 5] AS noun
    FROM generate_series(1, $1::integer) AS i, words AS w
  )
  INSERT INTO products (sku, name, description, category, price_cents, stock)
  SELECT
    'SKU-' || lpad(i::text, 7, '0'),
    adjective || ' ' || noun || ' ' || i,
    'A ' || lower(adjective) || ' ' || lower(noun) || ' from our ' || category || ' range.',
    category,
    199 + (i * 7919) % 49800,
    (i * 37) % 250
  FROM rows
  ORDER BY i`;

/**
 * Writes `count` demo products if the catalog is empty; returns how many it wrote (0 when it found products).
 * Callers hold the schema lock, so two servers starting together never both seed.
 */
export async function seedProducts(client: PoolClient, count: number, logger: Logger): Promise<number> {
  if (count === 0) return 0;
  const { rows } = await client.query<{ empty: boolean }>("SELECT NOT EXISTS (SELECT 1 FROM products) AS empty");
  if (!rows[0].empty) return 0;
  const result = await client.query(SEED_SQL, [count, SEED_CATEGORIES]);
  logger.info({ products: result.rowCount }, "catalog seeded");
  return result.rowCount ?? 0;
}
