/**
 * The messages of the orders queue. One kind for now: `order_placed`, written into the outbox by checkout and read
 * by the worker. A message is a pointer, not a copy: the order itself (its lines, its status) stays in the
 * database, so a message delivered twice or late can never carry stale data.
 */
import { z } from "zod";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The body of an `order_placed` message. */
export const orderPlacedSchema = z.object({
  type: z.literal("order_placed"),
  orderId: z.string().regex(UUID),
  shopperId: z.string().regex(UUID),
  totalCents: z.number().int().min(0),
  placedAt: z.string(),
});

/** A parsed `order_placed` message. */
export type OrderPlaced = z.infer<typeof orderPlacedSchema>;

/** The JSON body of a new `order_placed` message. */
export function orderPlacedMessage(
  order: { orderId: string; shopperId: string; totalCents: number },
  at = new Date(),
): string {
  const message: OrderPlaced = { type: "order_placed", ...order, placedAt: at.toISOString() };
  return JSON.stringify(message);
}

/** The message in `body`, or `undefined` when it is not one the worker knows (a poison message). */
export function parseOrderPlaced(body: string | undefined): OrderPlaced | undefined {
  try {
    const parsed = orderPlacedSchema.safeParse(JSON.parse(body ?? ""));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
