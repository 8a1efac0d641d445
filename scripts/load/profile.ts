/**
 * The ladder's load profile: what a shopper does, request by request, and what a day of orders looks like. One
 * place for the traffic mix: the load test (`npm run load`, scripts/load/run.ts) replays {@link VISIT}, the
 * shard-key measurement (`npm run shard-keys`, scripts/load/shard-keys.ts) simulates {@link ORDER_DAY}, and the
 * capacity model reads {@link TRAFFIC_MIX}.
 *
 * Where the figures come from: a shopper's visit of about forty API requests (list pages, a category walked a page
 * or two deep, a dozen product pages, a few cart changes, one checkout) is the shape the storefront page produces
 * (app/static); one checkout per visit is a load test's choice, not a conversion rate: it is the write path that a
 * step must hold, so every visit ends in one. Nothing here is measured on a real shop; it is a stated assumption
 * that the tests and the docs repeat.
 */
import { SEED_CATEGORIES } from "../../app/src/db/seed";
import { configSchema } from "../../app/src/config";
import { RATE_WINDOW_SECONDS } from "../../components/web-acl";
import { featuresAt } from "../../stacks/steps";

/** The four route classes of the mix, as the capacity model prices them. */
export const ROUTE_CLASSES = ["browse", "product", "cart", "checkout"] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];

/**
 * Share of requests per route class, the same at every step:
 * - `browse`: list pages (`GET /api/products`), category pages and their next pages (keyset cursor);
 * - `product`: product pages (`GET /api/products/:id`), of products seen on those pages;
 * - `cart`: cart writes (add, remove) and the cart view (`GET /api/cart`);
 * - `checkout`: `POST /api/checkout` and the order read that follows it (the confirmation page; from step 8 the
 *   poll of the pending order).
 */
export const TRAFFIC_MIX: Readonly<Record<RouteClass, number>> = {
  browse: 0.5,
  product: 0.325,
  cart: 0.125,
  checkout: 0.05,
};

/** One request of a visit. */
export type VisitRequest =
  | "list" // GET /api/products?limit=20: the shop's front page
  | "category" // GET /api/products?category=<the visit's category>&limit=20
  | "next-page" // the last list's nextCursor (the first page again when there was none)
  | "product" // GET /api/products/:id, a product of the last list
  | "add" // POST /api/cart/items { productId, quantity: 1 }, a product of the last list with stock
  | "remove" // DELETE /api/cart/items/:productId, the first line added
  | "cart" // GET /api/cart
  | "checkout" // POST /api/checkout
  | "order"; // GET /api/orders/:id, the order the checkout answered

/** The route class of each request kind. */
export const CLASS_OF: Readonly<Record<VisitRequest, RouteClass>> = {
  list: "browse",
  category: "browse",
  "next-page": "browse",
  product: "product",
  add: "cart",
  remove: "cart",
  cart: "cart",
  checkout: "checkout",
  order: "checkout",
};

/**
 * One shopper's visit, in order: 40 requests whose classes are {@link TRAFFIC_MIX} exactly (a test checks it).
 * Three adds and one remove leave two lines in the cart, which checkout buys. The order read comes last, after
 * seven more requests, so that from step 8 the worker has had the time a shopper gives it before the poll.
 */
export const VISIT: readonly VisitRequest[] = [
  ...["list", "product", "category", "product", "next-page", "product", "product", "add"],
  ...["category", "product", "next-page", "product", "next-page", "add", "list", "product"],
  ...["category", "product", "next-page", "product", "add", "list", "category", "product"],
  ...["next-page", "remove", "list", "product", "category", "next-page", "cart", "checkout"],
  ...["list", "category", "product", "next-page", "list", "product", "category", "order"],
] as const satisfies readonly VisitRequest[];

/**
 * One visit per route class alone, walking the catalog as {@link VISIT} does (the front page picks a category, whose
 * pages are walked; products, cart lines and checkouts come from those pages), so that each class reads the rows,
 * cache keys and pages the mix reads: a product class drawn from the front page alone would hit the cache on every
 * read and cost half what the mix's product reads cost. The capacity benchmark (scripts/bench-capacity.ts) sends
 * each and subtracts the list pages a class's visit needs; browse needs none, and the e2e capacity test
 * (test/app/e2e/capacity-model.test.ts) sends it as its same-run baseline.
 */
export const ROUTE_CLASS_VISITS: Readonly<Record<RouteClass, readonly VisitRequest[]>> = {
  browse: ["list", "category", "next-page", "next-page", "list", "category", "next-page"],
  product: [
    ...(["list", "category", "next-page"] as const),
    ...products(6),
    "next-page",
    ...products(6),
    "category",
    ...products(6),
  ],
  cart: ["list", "category", "add", "next-page", "add", "cart", "remove", "cart", "add", "cart"],
  checkout: ["list", "category", "add", "next-page", "add", "checkout", "order"],
};

function products(n: number): VisitRequest[] {
  return Array<VisitRequest>(n).fill("product");
}

/** Writes per visit that each app rate limit counts (app/src/http/rate-limit.ts). */
export const LIMITED_PER_VISIT = {
  cart: VISIT.filter((r) => r === "add" || r === "remove").length,
  checkout: VISIT.filter((r) => r === "checkout").length,
} as const;

/** What a load test sees of a step that changes what it sends or expects. */
export interface StepScenario {
  step: number;
  /** The status a fresh checkout answers: 201 `placed`, or 202 `pending` once the queue exists. */
  checkoutStatus: 201 | 202;
  /** What the visit's order read expects. */
  orderRead: string;
  /** Whether AWS WAF limits each client address in front of the site (the fleet's ALB, later CloudFront too). */
  waf: boolean;
  /** Notes a person running the load against this step needs. */
  notes: string[];
}

/** The scenario of `step`, read from the step table (stacks/steps.ts). */
export function scenarioAt(step: number): StepScenario {
  const f = featuresAt(step);
  const notes: string[] = [];
  if (f.fleet && !f.redisSessions)
    notes.push(
      "each virtual shopper keeps the load balancer's stickiness cookie with its session cookie: a shopper moved " +
        "to another server would find no cart",
    );
  if (f.cdn)
    notes.push(
      "product reads go through CloudFront, which may answer them from its cache (`Cache-Control: public, " +
        "max-age=30`): the figures are the site's, not the fleet's alone",
    );
  if (f.shards) notes.push("each order lands on its shopper's shard: one checkout touches one shard");
  if (f.multiRegion)
    notes.push(
      "geolocation DNS sends one machine's load to one region: run it from a machine on each continent the " +
        "stack routes (`geoRouting`) to load every region",
    );
  return {
    step,
    checkoutStatus: f.queue ? 202 : 201,
    orderRead: f.queue
      ? "polls the pending order seven requests after the checkout: `pending`, or `confirmed` once the worker has " +
        "taken it (the share confirmed by then is reported)"
      : "reads the order right after the checkout: `placed`",
    waf: f.fleet,
    notes,
  };
}

/** The per-address limits a load from one address must stay under (0: off). */
export interface AddressLimits {
  /** AWS WAF: requests per {@link RATE_WINDOW_SECONDS} from one address (step 3 on; `wafRateLimit`). */
  waf: number;
  /** Cart writes per minute (`RATE_LIMIT_CART_PER_MINUTE`). */
  cart: number;
  /** Checkouts per minute (`RATE_LIMIT_CHECKOUT_PER_MINUTE`). */
  checkout: number;
}

/**
 * The limits a deployed stack has at `step` with the defaults: the app's (app/src/config.ts) and, from the fleet,
 * the WAF's `wafRateLimit` default (`wafDefault`, from stacks/config.ts; passed in so that this module stays free
 * of the Pulumi program).
 */
export function defaultLimits(step: number, wafDefault: number): AddressLimits {
  // The schema's own defaults (a field parses an unset value to its default).
  const app = configSchema.shape;
  return {
    waf: scenarioAt(step).waf ? wafDefault : 0,
    cart: app.RATE_LIMIT_CART_PER_MINUTE.parse(undefined),
    checkout: app.RATE_LIMIT_CHECKOUT_PER_MINUTE.parse(undefined),
  };
}

/**
 * A rate is kept this far under a limit: the app counts in fixed one-minute windows and the WAF over a sliding
 * five minutes, and a load that sits exactly on a limit crosses it whenever its requests bunch up.
 */
export const LIMIT_MARGIN = 0.9;

/**
 * The most requests per second one client address may send with {@link VISIT} and `limits` (Infinity when every
 * limit is off), and the limit that sets it.
 */
export function addressCeiling(limits: AddressLimits): { rate: number; by: keyof AddressLimits | "none" } {
  const perSecond: Array<[keyof AddressLimits, number]> = [];
  if (limits.waf > 0) perSecond.push(["waf", limits.waf / RATE_WINDOW_SECONDS]);
  if (limits.cart > 0) perSecond.push(["cart", ((limits.cart / 60) * VISIT.length) / LIMITED_PER_VISIT.cart]);
  if (limits.checkout > 0)
    perSecond.push(["checkout", ((limits.checkout / 60) * VISIT.length) / LIMITED_PER_VISIT.checkout]);
  if (perSecond.length === 0) return { rate: Infinity, by: "none" };
  const [by, rate] = perSecond.reduce((a, b) => (b[1] < a[1] ? b : a));
  return { rate: Math.floor(rate * LIMIT_MARGIN * 10) / 10, by };
}

/** The shape of {@link ORDER_DAY}. */
export interface OrderDay {
  seed: number;
  date: string;
  orders: number;
  shoppers: number;
  products: number;
  categories: readonly string[];
  zipf: number;
  basketLines: Readonly<Record<number, number>>;
}

/**
 * A day of orders, for the shard-key measurement: the shop the seed makes (app/src/db/seed.ts: its default 10,000
 * products cycling through its eight categories) and a day's shoppers, drawn from a seeded PRNG so that the table
 * is the same on every run.
 */
export const ORDER_DAY: OrderDay = {
  /** The PRNG's seed (mulberry32). */
  seed: 20261202,
  /** The day the orders are placed, `YYYY-MM-DD` (a Wednesday): the day-of-week key's value. */
  date: "2026-12-02",
  /** Orders placed in the day. */
  orders: 30_000,
  /** Distinct shoppers the orders are drawn from, uniformly: some order twice or more. */
  shoppers: 20_000,
  /** Products of the catalog, numbered 1..products, with the seed's categories. */
  products: 10_000,
  categories: SEED_CATEGORIES,
  /**
   * Product popularity: the product of popularity rank r is bought with weight 1 / r^zipf (a few products sell
   * most), ranks dealt to products in a seeded random order.
   */
  zipf: 1,
  /** Distinct products per order, and how often each count occurs. */
  basketLines: { 1: 0.4, 2: 0.3, 3: 0.15, 4: 0.1, 5: 0.05 },
};

/** The seed's category of product `id` (app/src/db/seed.ts: row i gets CATEGORIES[(i - 1) % 8]). */
export const categoryOf = (id: number): string => SEED_CATEGORIES[(id - 1) % SEED_CATEGORIES.length];
