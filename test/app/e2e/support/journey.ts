/**
 * A shopper through the entry URL, as a browser behind the load balancer: keeps every cookie it is given (the
 * shop's session and, at steps 3–6, the load balancer's stickiness cookie), and sends fixed extra headers (the
 * geo header at step 11). `journey` is the walk every e2e test takes: browse, add to the cart, check out, and see
 * the order confirmed.
 */
import { type HttpResponse, httpRequest } from "../../support/http-client";
import { pollUntil } from "../../../../lib/servers/poll";

export class BrowserShopper {
  readonly cookies = new Map<string, string>();
  /** The X-Shop-Region of the last answer (the app sets it under /api at every step; step 11's routers too). */
  lastRegion?: string;

  constructor(
    private readonly baseUrl: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  async send(method: string, path: string, body?: unknown): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...this.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const response = await httpRequest(this.baseUrl, { method, path, body: body as object | undefined, headers });
    for (const line of response.headers["set-cookie"] ?? []) {
      const [pair] = line.split(";", 1);
      this.cookies.set(pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1));
    }
    this.lastRegion = response.headers["x-shop-region"] as string | undefined;
    return response;
  }

  get(path: string) {
    return this.send("GET", path);
  }

  post(path: string, body?: unknown) {
    return this.send("POST", path, body);
  }
}

/** What a journey saw. */
export interface JourneyResult {
  orderId: string;
  /** The status checkout answered: `placed` (synchronous) or `pending` (through the queue). */
  placedAs: string;
  productId: number;
  /** Regions that answered, from X-Shop-Region. */
  regions: Set<string>;
}

function expectStatus(response: HttpResponse, expected: number[], what: string): void {
  if (!expected.includes(response.status))
    throw new Error(`${what}: HTTP ${response.status} ${response.text.slice(0, 300)}`);
}

/**
 * Browse (storefront, a category, a product), add one unit to the cart, check out, and wait until the order reads
 * as confirmed: `placed` at once without a queue, `pending` then `confirmed` with one.
 */
export async function journey(
  shopper: BrowserShopper,
  options: { productIndex?: number } = {},
): Promise<JourneyResult> {
  const regions = new Set<string>();
  const seen = () => shopper.lastRegion && regions.add(shopper.lastRegion);
  const home = await shopper.get("/");
  expectStatus(home, [200], "GET /");
  seen();
  const page = await shopper.get("/api/products?limit=20");
  expectStatus(page, [200], "GET /api/products");
  const items = page.json<{ items: Array<{ id: number; category: string; stock: number }> }>().items;
  const product = items.filter((p) => p.stock > 0)[options.productIndex ?? 0];
  if (!product) throw new Error("no product in stock on the first page");
  expectStatus(await shopper.get(`/api/products?category=${product.category}&limit=10`), [200], "GET a category");
  expectStatus(await shopper.get(`/api/products/${product.id}`), [200], "GET a product");
  seen();

  expectStatus(
    await shopper.post("/api/cart/items", { productId: product.id, quantity: 1 }),
    [200],
    "POST /api/cart/items",
  );
  const cart = await shopper.get("/api/cart");
  expectStatus(cart, [200], "GET /api/cart");
  const lines = cart.json<{ items: Array<{ productId: number; quantity: number }> }>().items;
  if (!lines.some((l) => l.productId === product.id && l.quantity >= 1))
    throw new Error(`the cart lost the product: ${cart.text}`);

  const checkout = await shopper.post("/api/checkout");
  expectStatus(checkout, [201, 202], "POST /api/checkout");
  const { orderId, status: placedAs } = checkout.json<{ orderId: string; status: string }>();
  seen();
  await waitForOrderStatus(shopper, orderId, placedAs === "pending" ? "confirmed" : placedAs);
  return { orderId, placedAs, productId: product.id, regions };
}

/** Polls the shopper's order until it has `status` (a worker confirms queued orders). */
export async function waitForOrderStatus(
  shopper: BrowserShopper,
  orderId: string,
  status: string,
  timeoutMs = 60_000,
): Promise<void> {
  let last = "";
  await pollUntil(
    `order ${orderId} to be ${status}`,
    async () => {
      const response = await shopper.get(`/api/orders/${orderId}`);
      last = `${response.status} ${response.text.slice(0, 200)}`;
      return response.status === 200 && response.json<{ status: string }>().status === status;
    },
    { timeoutMs, intervalMs: 200, detail: async () => `last answer: ${last}` },
  );
}
