/**
 * One shopper's visit, the unit of steady load in the tests that change something under a running shop: a product
 * (a replica), the cart, a checkout (the catalog primary and the shopper's shard) and the order history.
 */
import type { HttpResponse } from "./http-client";

/** A shopper client: {@link Shopper} in-process or over HTTP, or the e2e tests' BrowserShopper through local mode. */
export interface ShopperClient {
  get(path: string): Promise<HttpResponse>;
  post(path: string, body?: unknown): Promise<HttpResponse>;
}

/** Walks the visit for product `productId` with `shopper`; returns what went wrong (`"checkout: 500 …"`), if any. */
export async function shopperVisit(shopper: ShopperClient, productId: number): Promise<string[]> {
  const steps: Array<[string, () => Promise<HttpResponse>, number]> = [
    ["product", () => shopper.get(`/api/products/${productId}`), 200],
    ["cart", () => shopper.post("/api/cart/items", { productId, quantity: 1 }), 200],
    ["checkout", () => shopper.post("/api/checkout"), 201],
    ["history", () => shopper.get("/api/orders"), 200],
  ];
  for (const [name, send, expected] of steps) {
    const response = await send();
    if (response.status !== expected) return [`${name}: ${response.status} ${response.text.slice(0, 200)}`];
  }
  return [];
}
