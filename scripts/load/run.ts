/**
 * The load profile against a running shop: autocannon replays {@link VISIT} on each connection, one connection being
 * one virtual shopper with a cookie jar of its own (the session cookie, and the load balancer's stickiness cookie
 * at steps 3-6), at a fixed overall rate; each time the list ends, the connection's context is reset and a new
 * shopper starts. Then the gate: the share of requests answered 2xx and the p99 latency against the thresholds.
 */
import autocannon from "autocannon";
import { Prng } from "../../lib/prng";
import { SEED_CATEGORIES } from "../../app/src/db/seed";
import {
  type AddressLimits,
  CLASS_OF,
  ROUTE_CLASSES,
  type RouteClass,
  TRAFFIC_MIX,
  VISIT,
  type VisitRequest,
  scenarioAt,
} from "./profile";
import { applySetCookies, cookieHeader } from "../../lib/cookie-jar";

/** What to run and what the step must hold. */
export interface LoadOptions {
  /** The site's origin, `http(s)://host[:port]`. */
  url: string;
  step: number;
  /** Requests per second over every shopper; `Infinity` sends as fast as the shoppers' answers come. */
  rate: number;
  /** Seconds. */
  duration: number;
  /** Virtual shoppers at once (autocannon connections; at most `rate`). */
  shoppers: number;
  /** The gate: the least share of requests answered 2xx. */
  minSuccess: number;
  /** The gate: the highest p99 latency, ms. */
  maxP99Ms: number;
  /** The per-address limits the rate was checked against (reported only). */
  limits: AddressLimits;
  /** Seed of the shoppers' choices (category, products). */
  seed: number;
  /**
   * The requests of one visit, in order; the capacity benchmark (scripts/bench-capacity.ts) sends one route class
   * at a time with it.
   * @default VISIT (the traffic mix)
   */
  visit?: readonly VisitRequest[];
}

/** What one run saw, and the gate's verdict. */
export interface LoadReport {
  url: string;
  step: number;
  rate: number;
  duration: number;
  shoppers: number;
  requests: number;
  ok: number;
  /** Connection errors and timeouts (no answer). */
  errors: number;
  successRate: number;
  p50Ms: number;
  p99Ms: number;
  requestsPerSecond: number;
  /** Answers per route class. */
  byClass: Record<RouteClass, number>;
  checkouts: { answered: Record<string, number>; expected: number };
  /** The visits' order reads: status → count. */
  orderReads: Record<string, number>;
  /** `<status> <method> <route> <error code>` → count, for every answer that was not 2xx. */
  failures: Record<string, number>;
  gate: { minSuccess: number; maxP99Ms: number; held: boolean; reasons: string[] };
}

/** One virtual shopper's state; autocannon clones it afresh for each visit. */
interface Shopper {
  jar: Map<string, string>;
  category: string;
  items: Array<{ id: number; stock: number }>;
  cursor: string | null;
  lastListPath: string;
  added: number[];
  orderId: string | null;
}

const ROUTES: Record<VisitRequest, [method: string, route: string]> = {
  list: ["GET", "/api/products"],
  category: ["GET", "/api/products"],
  "next-page": ["GET", "/api/products"],
  product: ["GET", "/api/products/:id"],
  add: ["POST", "/api/cart/items"],
  remove: ["DELETE", "/api/cart/items/:productId"],
  cart: ["GET", "/api/cart"],
  checkout: ["POST", "/api/checkout"],
  order: ["GET", "/api/orders/:id"],
};

const header = (headers: Record<string, string | string[]>, name: string) =>
  Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];

const parse = <T>(body: string): T | undefined => {
  try {
    return JSON.parse(body) as T;
  } catch {
    return undefined;
  }
};

/** autocannon's request list for one visit, counting what it sees into `report`. */
function visitRequests(o: LoadOptions, report: LoadReport): Array<autocannon.Requests<Shopper>> {
  const random = new Prng(o.seed);
  const withCookies = (request: autocannon.Request, shopper: Shopper, extra: Record<string, string> = {}) => {
    const cookie = cookieHeader(shopper.jar);
    return { ...request, headers: { ...extra, ...(cookie ? { cookie } : {}) } };
  };
  const pickItem = (shopper: Shopper, withStock: boolean) => {
    const pool = withStock ? shopper.items.filter((i) => i.stock >= 5) : shopper.items;
    return pool.length > 0 ? random.pick(pool) : undefined;
  };
  // Each kind's request; undefined when the visit cannot make it (an earlier answer failed): the shopper leaves
  // and a new visit starts.
  const build: Record<VisitRequest, (r: autocannon.Request, s: Shopper) => autocannon.Request | undefined> = {
    list: (r, s) => {
      s.category = random.pick(SEED_CATEGORIES);
      s.lastListPath = "/api/products?limit=20";
      return withCookies({ ...r, method: "GET", path: s.lastListPath }, s);
    },
    category: (r, s) => {
      s.lastListPath = `/api/products?category=${s.category}&limit=20`;
      return withCookies({ ...r, method: "GET", path: s.lastListPath }, s);
    },
    "next-page": (r, s) => {
      const path = s.cursor
        ? `${s.lastListPath}&cursor=${encodeURIComponent(s.cursor)}`
        : s.lastListPath.replace(/&cursor=[^&]*/, "");
      return withCookies({ ...r, method: "GET", path }, s);
    },
    product: (r, s) => {
      const item = pickItem(s, false);
      return item && withCookies({ ...r, method: "GET", path: `/api/products/${item.id}` }, s);
    },
    add: (r, s) => {
      const item = pickItem(s, true);
      if (!item) return undefined;
      s.added.push(item.id);
      return withCookies(
        { ...r, method: "POST", path: "/api/cart/items", body: JSON.stringify({ productId: item.id, quantity: 1 }) },
        s,
        { "content-type": "application/json" },
      );
    },
    remove: (r, s) => {
      const id = s.added.shift();
      return id === undefined ? undefined : withCookies({ ...r, method: "DELETE", path: `/api/cart/items/${id}` }, s);
    },
    cart: (r, s) => withCookies({ ...r, method: "GET", path: "/api/cart" }, s),
    checkout: (r, s) => withCookies({ ...r, method: "POST", path: "/api/checkout" }, s),
    order: (r, s) =>
      s.orderId ? withCookies({ ...r, method: "GET", path: `/api/orders/${s.orderId}` }, s) : undefined,
  };

  return (o.visit ?? VISIT).map((kind) => ({
    setupRequest: (request, shopper) => {
      const built = build[kind](request, shopper);
      // A request whose body is not set keeps none from the previous one of this slot.
      return built && { ...built, body: built.body ?? "" };
    },
    onResponse: (status, body, shopper, headers) => {
      applySetCookies(shopper.jar, header(headers, "set-cookie"));
      report.byClass[CLASS_OF[kind]]++;
      if (status < 200 || status > 299) {
        const code = parse<{ error?: string }>(body)?.error ?? "";
        const [method, route] = ROUTES[kind];
        const key = `${status} ${method} ${route}${code ? ` ${code}` : ""}`;
        report.failures[key] = (report.failures[key] ?? 0) + 1;
      }
      if (kind === "list" || kind === "category" || kind === "next-page") {
        const page = parse<{ items: Array<{ id: number; stock: number }>; nextCursor: string | null }>(body);
        if (page?.items?.length) {
          shopper.items = page.items.map((i) => ({ id: i.id, stock: i.stock }));
          shopper.cursor = page.nextCursor;
        }
      }
      if (kind === "checkout") {
        report.checkouts.answered[status] = (report.checkouts.answered[status] ?? 0) + 1;
        shopper.orderId = status < 300 ? (parse<{ orderId?: string }>(body)?.orderId ?? null) : null;
      }
      if (kind === "order" && status === 200) {
        const state = parse<{ status?: string }>(body)?.status ?? "unknown";
        report.orderReads[state] = (report.orderReads[state] ?? 0) + 1;
      }
    },
  }));
}

/** Runs the profile against `o.url` and judges it; rejects only when autocannon cannot run. */
export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const report: LoadReport = {
    url: o.url,
    step: o.step,
    rate: o.rate,
    duration: o.duration,
    shoppers: Math.min(o.shoppers, o.rate),
    requests: 0,
    ok: 0,
    errors: 0,
    successRate: 0,
    p50Ms: 0,
    p99Ms: 0,
    requestsPerSecond: 0,
    byClass: Object.fromEntries(ROUTE_CLASSES.map((c) => [c, 0])) as Record<RouteClass, number>,
    checkouts: { answered: {}, expected: scenarioAt(o.step).checkoutStatus },
    orderReads: {},
    failures: {},
    gate: { minSuccess: o.minSuccess, maxP99Ms: o.maxP99Ms, held: false, reasons: [] },
  };
  const initialContext: Shopper = {
    jar: new Map(),
    category: SEED_CATEGORIES[0],
    items: [],
    cursor: null,
    lastListPath: "/api/products?limit=20",
    added: [],
    orderId: null,
  };
  const result = await autocannon<Shopper>({
    url: o.url,
    connections: o.shoppers,
    duration: o.duration,
    overallRate: Number.isFinite(o.rate) ? o.rate : undefined,
    // A request unanswered after 10 s counts as an error (the app's own request timeout is 10 s too).
    timeout: 10,
    initialContext,
    requests: visitRequests(o, report),
  });
  report.ok = result["2xx"];
  report.errors = result.errors;
  report.requests = result["2xx"] + result.non2xx + result.errors;
  if (result.errors > 0) report.failures["no answer (connection error or timeout)"] = result.errors;
  report.successRate = report.requests > 0 ? report.ok / report.requests : 0;
  report.p50Ms = result.latency.p50;
  report.p99Ms = result.latency.p99;
  report.requestsPerSecond = result.requests.average;
  const g = report.gate;
  if (report.requests === 0) g.reasons.push("no request was answered");
  if (report.successRate < o.minSuccess)
    g.reasons.push(`success ${percent(report.successRate)} is under --min-success ${percent(o.minSuccess)}`);
  if (report.p99Ms > o.maxP99Ms) g.reasons.push(`p99 ${report.p99Ms} ms is over --max-p99-ms ${o.maxP99Ms}`);
  g.held = g.reasons.length === 0;
  return report;
}

const percent = (x: number) => `${(x * 100).toFixed(x === 1 || x === 0 ? 0 : 2)} %`;

/** The report as the lines `npm run load` prints. */
export function renderReport(r: LoadReport): string {
  const mix = ROUTE_CLASSES.map((c) => `${c} ${(TRAFFIC_MIX[c] * 100).toFixed(1)} %`).join(", ");
  const seen = ROUTE_CLASSES.map((c) => `${c} ${r.byClass[c]}`).join(", ");
  const checkouts = Object.entries(r.checkouts.answered)
    .map(([s, n]) => `${s} × ${n}`)
    .join(", ");
  const unexpected = Object.keys(r.checkouts.answered).filter(
    (s) => Number(s) !== r.checkouts.expected && Number(s) < 300,
  );
  const out = [
    `step ${r.step} at ${r.url}: ${r.rate} req/s for ${r.duration} s, ${r.shoppers} shoppers at once ` +
      `(visits of ${VISIT.length} requests: ${mix})`,
    `  ${r.requests} requests, ${r.ok} answered 2xx (${percent(r.successRate)}), ${r.errors} unanswered; ` +
      `p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms; ${r.requestsPerSecond.toFixed(1)} req/s`,
    `  answers by class: ${seen}`,
    `  checkouts: ${checkouts || "none"} (a fresh one answers ${r.checkouts.expected} at step ${r.step}); ` +
      `order reads: ${
        Object.entries(r.orderReads)
          .map(([s, n]) => `${s} ${n}`)
          .join(", ") || "none"
      }`,
  ];
  if (unexpected.length > 0)
    out.push(
      `  note: checkouts answered ${unexpected.join(", ")}, which step ${r.step} does not: is --step the ` +
        "deployed step?",
    );
  const failures = Object.entries(r.failures).sort((a, b) => b[1] - a[1]);
  for (const [what, n] of failures) out.push(`  failed: ${what} × ${n}`);
  out.push(
    r.gate.held
      ? `gate: success ${percent(r.successRate)} ≥ ${percent(r.gate.minSuccess)} and p99 ${r.p99Ms} ms ≤ ` +
          `${r.gate.maxP99Ms} ms: step ${r.step} holds ${r.rate} req/s`
      : `gate: step ${r.step} does not hold ${r.rate} req/s: ${r.gate.reasons.join("; ")}`,
  );
  return out.join("\n");
}
