/**
 * A steady shopper load for the climb tests: a few shoppers, each a browser with its own cookie jar (scripts/climb's
 * Browser: it follows a 307 and resends a request whose reused keep-alive connection closed before any answer, as
 * browsers do), looping without pause over product pages, a list page, cart writes (one more unit, or the line
 * removed) and cart reads. Every answer that is not the shop's success is a failure; each shopper also remembers what
 * it put in its cart, and a cart read that shows anything else is a lost cart.
 */
import { Browser } from "../../../../scripts/climb/browser";
import { pollUntil } from "../../../../lib/servers/poll";

/** What a load saw. */
export interface LoadResult {
  requests: number;
  /** `<status> <method> <path>: <body>` of each failed request (the first 20). */
  failures: string[];
  failed: number;
  /** Cart reads that did not show what the shopper had put in. */
  lostCarts: string[];
}

/** A running load; `stop` ends every shopper's loop after its current request. */
export interface Load {
  /** Requests answered so far. */
  readonly requests: number;
  stop(): Promise<LoadResult>;
}

/** Loads not stopped yet: a test that failed half-way leaves its load running, and afterEach ends it. */
const running = new Set<Load>();

/** Stops every load still running (for afterEach). */
export async function stopLoads(): Promise<void> {
  await Promise.all([...running].map((l) => l.stop()));
}

/**
 * Starts `shoppers` shoppers on `entryUrl`, numbered from `options.first` (default 0), each sending
 * `options.headers` too (the geo header of a European shopper); shopper n adds products from its own range (1 unit
 * at a time), so that no two carts, of this load or of another one numbered after it, compete for the same stock.
 */
export function startLoad(
  entryUrl: string,
  shoppers = 4,
  options: { headers?: Record<string, string>; first?: number } = {},
): Load {
  let going = true;
  const result: LoadResult = { requests: 0, failures: [], failed: 0, lostCarts: [] };
  const fail = (what: string) => {
    result.failed++;
    if (result.failures.length < 20) result.failures.push(what);
  };
  const loops = Array.from({ length: shoppers }, async (_, k) => {
    const n = (options.first ?? 0) + k;
    const browser = new Browser(entryUrl, options.headers ?? {});
    const cart = new Map<number, number>();
    for (let i = 0; going; i++) {
      const productId = 1 + ((n * 10 + (i % 10)) % 100);
      // Cart writes: one more unit, or the line removed once it holds two (stock is never the limit).
      const remove = (cart.get(productId) ?? 0) >= 2;
      const kind = i % 4;
      const [method, path] =
        kind === 0
          ? ["GET", `/api/products/${productId}`]
          : kind === 1
            ? ["GET", i % 8 === 1 ? "/api/products?limit=10" : "/api/products?category=books&limit=10"]
            : kind === 2
              ? remove
                ? ["DELETE", `/api/cart/items/${productId}`]
                : ["POST", "/api/cart/items"]
              : ["GET", "/api/cart"];
      try {
        const body = method === "POST" ? { productId, quantity: 1 } : undefined;
        const res = await browser.send(method, path, body);
        result.requests++;
        if (res.status !== 200) {
          fail(`${res.status} ${method} ${path}: ${res.text.slice(0, 160)}`);
          continue;
        }
        if (method === "POST") cart.set(productId, (cart.get(productId) ?? 0) + 1);
        if (method === "DELETE") cart.delete(productId);
        if (kind === 3) {
          const shown = res.json<{ items: Array<{ productId: number; quantity: number }> }>().items;
          const expected = [...cart]
            .map(([p, q]) => `${p}x${q}`)
            .sort()
            .join(",");
          const got = shown
            .map((l) => `${l.productId}x${l.quantity}`)
            .sort()
            .join(",");
          if (got !== expected) result.lostCarts.push(`shopper ${n}: expected ${expected}, shown ${got}`);
        }
      } catch (error) {
        result.requests++;
        fail(`no answer ${method} ${path}: ${(error as Error).message}`);
      }
    }
  });
  const load: Load = {
    get requests() {
      return result.requests;
    },
    async stop() {
      going = false;
      running.delete(load);
      await Promise.all(loops);
      return result;
    },
  };
  running.add(load);
  return load;
}

/** Waits until `load` has answered `more` requests beyond what it had answered when called. */
export async function moreRequests(load: { requests: number }, more: number): Promise<void> {
  const target = load.requests + more;
  await pollUntil(`${more} more requests of the load`, async () => load.requests >= target, { timeoutMs: 60_000 });
}
