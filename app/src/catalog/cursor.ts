/**
 * Page cursors of the product list. Clients treat them as opaque strings; inside is the id of the last product
 * of the page (keyset pagination: the next page is `id > that`), as base64url JSON, so the format can grow
 * without breaking clients that only pass it back.
 */

/** The cursor that continues after product `lastId`. */
export function encodeCursor(lastId: number): string {
  return Buffer.from(JSON.stringify({ after: lastId }), "utf8").toString("base64url");
}

/** The product id a cursor continues after, or `undefined` if the text is not a cursor this server made. */
export function decodeCursor(cursor: string): number | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Object.keys(value).length !== 1) return undefined;
  const after = (value as { after?: unknown }).after;
  return Number.isSafeInteger(after) && (after as number) >= 0 && (after as number) <= 2147483647
    ? (after as number)
    : undefined;
}

/** The response body of a list page: its products and the cursor of the next page (`null` on the last one). */
export function pageBody<T extends { id: number }>(page: {
  items: T[];
  hasMore: boolean;
}): {
  items: T[];
  nextCursor: string | null;
} {
  const last = page.items[page.items.length - 1];
  return { items: page.items, nextCursor: page.hasMore && last ? encodeCursor(last.id) : null };
}
