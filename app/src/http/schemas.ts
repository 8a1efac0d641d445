/** JSON-schema pieces shared by several routes. */

/** Largest value of a PostgreSQL `integer`: product ids, prices and stock all fit in one. */
export const INT4_MAX = 2147483647;

/** A product id as it appears in a path or a body. Bounded on both sides, as every integer here (see validation.ts). */
export const productIdSchema = { type: "integer", minimum: 1, maximum: INT4_MAX } as const;

/** A lower-case category slug, e.g. `garden` or `home-office`. */
export const categorySchema = { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,39}$" } as const;

/** Path parameters `{ id }` of a product. */
export const productIdParams = {
  type: "object",
  properties: { id: productIdSchema },
  required: ["id"],
  additionalProperties: false,
} as const;
