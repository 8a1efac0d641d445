/**
 * The climb's steady load: K shoppers, each a browser of its own (cookie jar, think time between requests), looping
 * over what the storefront does (app/static/app.js, app/README.md's HTTP API): list pages, product pages, add 1–3
 * items, view the cart, sometimes change a quantity, sometimes check out, view the order history; and an admin who
 * changes a price now and then. Every answer the API documents as normal (a 409 `price_changed` at checkout, out of
 * stock, a full cart) is counted as expected and handled as a shopper would; any other non-2xx answer, or no answer,
 * is a failure. Each acknowledged cart write and order goes to the {@link Ledger}. Every third shopper browses from
 * Europe (`X-Geo-Continent: EU`, the header local mode's geo router reads for geolocation DNS): nothing changes for
 * it until the 10 → 11 climb, which moves it, mid-visit, to the second region, as Route 53 moves European users.
 *
 * Rate limits (app/src/http/rate-limit.ts). A shopper waits at least `think.minMs` between two requests, so the run
 * sends at most shoppers × 60,000 / think.minMs requests a minute of any kind: 6 shoppers at 100 ms, 3,600 a minute.
 * The app's defaults (120 cart writes and 20 checkouts per address and minute) would stop that, as they should stop
 * a script; local mode's web processes run with LOCAL_RATE_LIMITS instead (stacks/app-environment.ts: every local
 * client is 127.0.0.1), and {@link assertUnderRateLimits} refuses a load that could reach them. The admin sends one
 * request every 2–4 s, 30 a minute at most: under even the default admin limit of 60.
 */
import { LOCAL_RATE_LIMITS } from "../../stacks/app-environment";
import { UsageError } from "../local/options";
import { GEO_HEADER, SECONDARY_CONTINENTS } from "../local/plan";
import { Browser, type BrowserResponse, NetworkError } from "./browser";
import { type CartChange, type CartLine, type Ledger, type ServedCart, adding, removing } from "./ledger";
import { type Row, count } from "./report";

/** How long a shopper waits between two requests, ms. */
export interface ThinkTime {
  minMs: number;
  maxMs: number;
}

/** Think time of the climb's shoppers: a few requests a second each, as a quick human clicks. */
export const THINK_TIME: ThinkTime = { minMs: 100, maxMs: 400 };

/** How often the admin changes a price: one request every 2–4 s. */
export const ADMIN_INTERVAL_MS = { min: 2000, max: 4000 };

/** Order history pages hold a shopper's 50 newest orders (app/src/orders/orders.ts). */
const HISTORY_PAGE = 50;

/**
 * Throws a UsageError when `shoppers` shoppers with `think` could send more requests a minute than a local rate
 * limit allows (see the module comment): the climb must measure the shop, not its limiter.
 */
export function assertUnderRateLimits(
  shoppers: number,
  think: ThinkTime = THINK_TIME,
  limits: Readonly<Record<string, string>> = LOCAL_RATE_LIMITS,
): void {
  const perMinute = Math.ceil((shoppers * 60_000) / think.minMs);
  for (const [name, value] of Object.entries(limits)) {
    const limit = Number(value);
    if (limit > 0 && perMinute > limit)
      throw new UsageError(
        `${shoppers} shoppers may send ${perMinute} requests a minute, over ${name}=${value}: use fewer shoppers`,
      );
  }
}

/** A product as the list pages show it. */
interface Listed {
  id: number;
  category: string;
  priceCents: number;
  stock: number;
}

/** What {@link Load} needs. */
export interface LoadOptions {
  /** The shop's entry URL. */
  entryUrl: string;
  /** Concurrent shoppers. */
  shoppers: number;
  /** Bearer token of the admin routes (the data directory's secrets.json). */
  adminToken: string;
  ledger: Ledger;
  /** The report row requests are counted into now (the runner moves it at each climb). */
  row: () => Row;
  /** @default THINK_TIME */
  think?: ThinkTime;
  /** @default Math.random */
  random?: () => number;
}

/** The answer is one the API documents as normal for this request: counted as expected, not as a failure. */
type Judge = (r: BrowserResponse) => "ok" | "expected" | "failure";

/** Whether an answer is one of the API's normal refusals of a write (nothing changed). */
type IsRefusal = (r: BrowserResponse) => boolean;

const only =
  (...ok: number[]): Judge =>
  (r) =>
    ok.includes(r.status) ? "ok" : "failure";

function errorCode(r: BrowserResponse): string | undefined {
  try {
    return r.json<{ error?: string }>().error;
  } catch {
    return undefined;
  }
}

/** The running load. */
export class Load {
  private readonly shoppers: Shopper[];
  private readonly running: Promise<void>[] = [];
  private stopping = false;
  private park?: { epoch: number; arrived: number; allArrived: () => void; release: Promise<void>; go: () => void };
  private epoch = 0;
  /** Products seen on list pages, in stock: what shoppers pick from and the admin reprices. */
  readonly catalog = new Map<number, Listed>();
  readonly think: ThinkTime;
  readonly random: () => number;
  private admin: Browser;
  private adminTimer?: NodeJS.Timeout;
  private adminBusy?: Promise<void>;

  constructor(readonly options: LoadOptions) {
    this.think = options.think ?? THINK_TIME;
    this.random = options.random ?? Math.random;
    this.shoppers = Array.from({ length: options.shoppers }, (_, i) => new Shopper(i, this));
    this.admin = new Browser(options.entryUrl, { authorization: `Bearer ${options.adminToken}` });
  }

  get ledger(): Ledger {
    return this.options.ledger;
  }

  /** Starts every shopper and the admin. */
  start(): void {
    for (const s of this.shoppers) this.running.push(s.run());
    this.scheduleAdmin();
  }

  /**
   * A checkpoint: each shopper, at the end of what it is doing, checks its cart against the ledger and its history
   * for every order acknowledged to it, then waits. Resolves once all wait: no checkout is in flight, so the stock
   * adds up exactly. {@link resume} lets them go on.
   */
  async checkpoint(): Promise<void> {
    this.epoch++;
    let allArrived!: () => void;
    let go!: () => void;
    const arrived = new Promise<void>((r) => (allArrived = r));
    const release = new Promise<void>((r) => (go = r));
    this.park = { epoch: this.epoch, arrived: 0, allArrived, release, go };
    if (this.shoppers.length === 0) allArrived();
    await arrived;
    await this.adminBusy;
  }

  /** Ends a checkpoint. */
  resume(): void {
    const park = this.park;
    this.park = undefined;
    park?.go();
  }

  /** Stops the load: each shopper finishes its request, the loops end. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.adminTimer);
    this.resume();
    await Promise.all(this.running);
    await this.adminBusy;
  }

  /** Every shopper's checkpoint look at once (after {@link stop}: nothing else is in flight). */
  async checkEveryShopper(): Promise<void> {
    await Promise.all(this.shoppers.map((s) => s.check()));
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Called by a shopper between two visits: takes part in a pending checkpoint. */
  async atSafePoint(shopper: Shopper): Promise<void> {
    const park = this.park;
    if (!park || shopper.checkedEpoch >= park.epoch) return;
    shopper.checkedEpoch = park.epoch;
    // Arrives whatever the look found: a checkpoint waits for every shopper.
    await shopper
      .check()
      .catch((error: Error) =>
        count(this.options.row(), 0, { failure: `shopper ${shopper.index}'s check: ${error.message}` }),
      );
    if (++park.arrived === this.shoppers.length) park.allArrived();
    await park.release;
  }

  /** Sends one request, times it and counts it into the current row; undefined when it failed. */
  async call(
    browser: Browser,
    method: string,
    path: string,
    body: unknown,
    judge: Judge,
    onNetworkError?: (error: NetworkError) => void,
  ): Promise<BrowserResponse | undefined> {
    const label = `${method} ${path.replace(/\/[0-9a-f-]{36}$|\/\d+$/, "/:id").replace(/\?.*$/, "")}`;
    const t0 = performance.now();
    try {
      const r = await browser.send(method, path, body);
      const verdict = judge(r);
      if (verdict === "failure") {
        count(this.options.row(), r.ms, { failure: `${label}: ${r.status} ${r.text.slice(0, 160)}` });
        return undefined;
      }
      count(this.options.row(), r.ms, verdict);
      return r;
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      count(this.options.row(), performance.now() - t0, { failure: `${label}: ${error.message}` });
      onNetworkError?.(error);
      return undefined;
    }
  }

  /** Waits a think time (returns at once when stopping). */
  async pause(): Promise<void> {
    if (this.stopping) return;
    const { minMs, maxMs } = this.think;
    await new Promise((r) => setTimeout(r, minMs + this.random() * (maxMs - minMs)));
  }

  /** A product in stock from the list pages, preferably not one of `avoid`. */
  pick(avoid: ReadonlySet<number> = new Set()): Listed | undefined {
    const candidates = [...this.catalog.values()].filter((p) => p.stock >= 5 && !avoid.has(p.id));
    return candidates[Math.floor(this.random() * candidates.length)];
  }

  private scheduleAdmin(): void {
    if (this.stopping) return;
    const { min, max } = ADMIN_INTERVAL_MS;
    this.adminTimer = setTimeout(
      () => {
        this.adminBusy = this.changePrice().finally(() => this.scheduleAdmin());
      },
      min + this.random() * (max - min),
    );
  }

  /** The admin changes a listed product's price by up to ±10 %: shoppers holding it get `price_changed`. */
  private async changePrice(): Promise<void> {
    const product = this.pick();
    if (!product || this.stopping) return;
    const priceCents = Math.max(99, Math.round(product.priceCents * (0.9 + 0.2 * this.random())));
    const r = await this.call(this.admin, "PATCH", `/api/products/${product.id}`, { priceCents }, only(200));
    if (r) product.priceCents = priceCents;
  }
}

/** One shopper. */
export class Shopper {
  readonly browser: Browser;
  /** The last checkpoint this shopper took part in. */
  checkedEpoch = 0;

  constructor(
    readonly index: number,
    private readonly load: Load,
  ) {
    // Every third shopper is in Europe: from step 11 the geo router sends it to the second region.
    this.browser = new Browser(load.options.entryUrl, index % 3 === 2 ? { [GEO_HEADER]: SECONDARY_CONTINENTS[0] } : {});
  }

  private get ledger(): Ledger {
    return this.load.ledger;
  }

  async run(): Promise<void> {
    while (!this.load.stopped) {
      await this.load.atSafePoint(this);
      if (this.load.stopped) break;
      try {
        await this.visit();
      } catch (error) {
        // An answer that passed its status check but not its shape (a body that is not the API's JSON): a failure
        // of the shop's, counted, and the shopper goes on, as a person reloads the page.
        count(this.load.options.row(), 0, { failure: `shopper ${this.index}: ${(error as Error).message}` });
        await this.load.pause();
      }
    }
  }

  private call(
    method: string,
    path: string,
    body: unknown,
    judge: Judge,
    onNetworkError?: (error: NetworkError) => void,
  ) {
    return this.load.call(this.browser, method, path, body, judge, onNetworkError);
  }

  /** One visit: browse, fill the cart, maybe change it, maybe check out, look at the orders. */
  private async visit(): Promise<void> {
    const { random } = this.load;
    await this.browse();
    const adds = 1 + Math.floor(random() * 3);
    for (let i = 0; i < adds && !this.load.stopped; i++) {
      const held = new Set(this.ledger.cart(this.index).map((l) => l.productId));
      const product = this.load.pick(held);
      if (!product) break;
      await this.call("GET", `/api/products/${product.id}`, undefined, only(200));
      await this.load.pause();
      await this.add(product.id, 1 + Math.floor(random() * 2));
      await this.load.pause();
    }
    await this.viewCart();
    await this.load.pause();
    const lines = this.ledger.cart(this.index);
    if (lines.length > 0 && random() < 0.3) {
      const line = lines[Math.floor(random() * lines.length)];
      if (random() < 0.5) await this.add(line.productId, 1);
      else await this.remove(line.productId);
      await this.load.pause();
    }
    // Carts grow until a checkout: half the visits end with one, and a cart of 4 lines or more always does.
    if (this.ledger.cart(this.index).length > 0 && (random() < 0.5 || this.ledger.cart(this.index).length >= 4)) {
      await this.checkout();
      await this.load.pause();
    }
    await this.call("GET", "/api/orders", undefined, only(200));
    await this.load.pause();
  }

  /** The first list page, then another page or a category, as someone looking around. */
  private async browse(): Promise<void> {
    const { random } = this.load;
    if (random() < 0.2) await this.call("GET", "/", undefined, only(200));
    const first = await this.list("/api/products?limit=20");
    await this.load.pause();
    if (!first) return;
    const next =
      random() < 0.5 && first.nextCursor
        ? `/api/products?limit=20&cursor=${encodeURIComponent(first.nextCursor)}`
        : `/api/products?category=${encodeURIComponent(first.items[0]?.category ?? "books")}&limit=10`;
    await this.list(next);
    await this.load.pause();
  }

  private async list(path: string) {
    const r = await this.call("GET", path, undefined, only(200));
    if (!r) return undefined;
    const page = r.json<{ items: Listed[]; nextCursor: string | null }>();
    for (const p of page.items)
      this.load.catalog.set(p.id, { id: p.id, category: p.category, priceCents: p.priceCents, stock: p.stock });
    return page;
  }

  private async add(productId: number, quantity: number): Promise<void> {
    const r = await this.write(
      "POST",
      "/api/cart/items",
      { productId, quantity },
      adding(productId, quantity),
      (res) =>
        res.status === 409 && ["insufficient_stock", "quantity_limit", "cart_full"].includes(errorCode(res) ?? ""),
    );
    if (r?.status === 409 && errorCode(r) === "insufficient_stock") this.forget(productId);
  }

  private async remove(productId: number): Promise<void> {
    // 404 not_in_cart is the shop's normal answer for a line that is not there; if the model says it is, the next
    // cart view tells the loss.
    await this.write("DELETE", `/api/cart/items/${productId}`, undefined, removing(productId), (res) =>
      Boolean(res.status === 404 && errorCode(res) === "not_in_cart"),
    );
  }

  /**
   * A cart write: a 200's cart goes to the ledger (checked against `change`); `normal` says which other answers are
   * the API's normal refusals (nothing changed). A write that may have reached the shop without an answer it could
   * use leaves the cart uncertain; one refused before any connection (nothing listening) changed nothing.
   */
  private async write(method: string, path: string, body: unknown, change: CartChange, normal: IsRefusal) {
    let reached = true;
    const r = await this.call(
      method,
      path,
      body,
      (res) => (res.status === 200 ? "ok" : normal(res) ? "expected" : "failure"),
      (error) => (reached = error.reached),
    );
    if (r?.status === 200) this.ledger.cartWritten(this.index, change, r.json<ServedCart>());
    else if (!r && reached) this.ledger.writeUncertain(this.index, change);
    return r;
  }

  private async viewCart(where?: string): Promise<void> {
    const r = await this.call("GET", "/api/cart", undefined, only(200));
    if (r) this.ledger.cartViewed(this.index, r.json<ServedCart>(), where);
  }

  /** A product short of stock is not offered again until a list page shows it in stock. */
  private forget(productId: number): void {
    this.load.catalog.delete(productId);
  }

  /**
   * Checks out as the storefront does: on `price_changed` the cart is at the new prices and the shopper accepts
   * them and checks out again; a line out of stock is removed; `checkout_in_progress` waits its Retry-After.
   */
  private async checkout(): Promise<void> {
    const normal = ["price_changed", "insufficient_stock", "product_not_found", "checkout_in_progress", "cart_empty"];
    for (let attempt = 0; attempt < 5 && !this.load.stopped; attempt++) {
      let reached = true;
      const r = await this.call(
        "POST",
        "/api/checkout",
        undefined,
        (res) =>
          [200, 201, 202].includes(res.status)
            ? "ok"
            : res.status === 409 && normal.includes(errorCode(res) ?? "")
              ? "expected"
              : "failure",
        (error) => (reached = error.reached),
      );
      // Unanswered, it may have placed an order the ledger cannot know: the cart may be empty or not.
      if (!r) return reached ? this.ledger.writeUncertain(this.index, () => []) : undefined;
      if (r.status !== 409) {
        this.ledger.orderAcked(this.index, r.json<{ orderId: string }>().orderId);
        return;
      }
      const { error, details } = r.json<{ error: string; details: Record<string, unknown> | null }>();
      if (error === "cart_empty") return this.ledger.checkoutFoundNoCart(this.index);
      if (error === "price_changed") this.ledger.repriced(this.index, (details as { items: CartLine[] }).items);
      else if (error === "checkout_in_progress") await new Promise((res) => setTimeout(res, 1000));
      else {
        const productId = (details as { productId: number }).productId;
        this.forget(productId);
        await this.remove(productId);
        if (this.ledger.cart(this.index).length === 0) return;
      }
      await this.load.pause();
    }
  }

  /**
   * The checkpoint's look: the cart against the ledger, and every order acknowledged to this shopper in its
   * history (the list holds the 50 newest; an older one is looked up by id, as the history's links do).
   */
  async check(): Promise<void> {
    await this.viewCart("checkpoint");
    const mine = this.ledger.ordersOf(this.index);
    if (mine.length === 0) return;
    const r = await this.call("GET", "/api/orders", undefined, only(200));
    if (!r) {
      for (const o of mine) o.visible = false;
      return;
    }
    const listed = new Set(r.json<{ items: Array<{ orderId: string }> }>().items.map((o) => o.orderId));
    for (const o of mine) {
      if (listed.has(o.orderId)) o.visible = true;
      else if (listed.size < HISTORY_PAGE) o.visible = false;
      else {
        const one = await this.call("GET", `/api/orders/${o.orderId}`, undefined, (res) =>
          res.status === 200 || res.status === 404 ? "ok" : "failure",
        );
        o.visible = one?.status === 200;
      }
    }
  }
}
