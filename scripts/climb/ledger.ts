/**
 * What the shop acknowledged to the climb's shoppers, as the shoppers saw it: every order it said yes to (id,
 * shopper, lines, total) and every cart's expected content (the client's model, moved forward by each acknowledged
 * cart write). A cart is *lost* when the shop shows a shopper a cart that differs from the model with no checkout
 * in between; the ledger records each such sighting. The orders are checked against the databases and the
 * shoppers' histories by verify.ts and the shoppers themselves.
 */

/** One line of a cart: what the shopper holds and the unit price it was last shown. */
export interface CartLine {
  productId: number;
  quantity: number;
  priceCents: number;
}

/** A cart as `GET /api/cart` and the cart writes answer it. */
export interface ServedCart {
  items: Array<{ productId: number; quantity: number; priceCents: number }>;
  totalCents: number;
}

/** An order the shop acknowledged (`201`/`202`, or `200` naming the first order of the same cart). */
export interface AckedOrder {
  orderId: string;
  /** Index of the shopper that placed it. */
  shopper: number;
  /** What the cart held at checkout, at the prices it showed: what the order must hold. */
  lines: CartLine[];
  totalCents: number;
  /** The row of the report it belongs to (the climb during or after which it was acknowledged). */
  window: number;
  /** `true` once found in the databases with these lines and this total; `false` when looked for and not found. */
  present?: boolean;
  /** What the database check found wrong, when `present` is false. */
  presentProblem?: string;
  /** `true` once seen in the shopper's order history at a checkpoint; `false` when missing at the last one. */
  visible?: boolean;
}

/** A sighting of a lost cart: the shop showed `found` where the shopper expected `expected`. */
export interface CartLoss {
  shopper: number;
  window: number;
  /** Where it was seen: a cart view, a cart write's answer, a checkout that found no cart, a checkpoint. */
  where: string;
  expected: string;
  found: string;
}

/** A cart write as a function of the cart it applies to. */
export type CartChange = (lines: readonly CartLine[]) => CartLine[];

/** `productId×quantity, …` in product order: the part of a cart the shopper chose (prices follow the catalog). */
export function cartContent(lines: ReadonlyArray<{ productId: number; quantity: number }>): string {
  return (
    [...lines]
      .sort((a, b) => a.productId - b.productId)
      .map((l) => `${l.productId}×${l.quantity}`)
      .join(", ") || "empty"
  );
}

/**
 * Adding `quantity` units of `productId`. A new line's price is unknown until the shop answers (the served cart
 * replaces the model), and prices never count in a cart's content.
 */
export function adding(productId: number, quantity: number): CartChange {
  return (lines) =>
    lines.some((l) => l.productId === productId)
      ? lines.map((l) => (l.productId === productId ? { ...l, quantity: l.quantity + quantity } : l))
      : [...lines, { productId, quantity, priceCents: 0 }];
}

/** Removing `productId`'s line. */
export function removing(productId: number): CartChange {
  return (lines) => lines.filter((l) => l.productId !== productId);
}

/** The cart's lines as the shop served them. */
export function servedLines(cart: ServedCart): CartLine[] {
  return cart.items.map(({ productId, quantity, priceCents }) => ({ productId, quantity, priceCents }));
}

/** Sum of quantity × unit price. */
export function linesTotal(lines: readonly CartLine[]): number {
  return lines.reduce((sum, l) => sum + l.quantity * l.priceCents, 0);
}

/** The ledger of one climb run. */
export class Ledger {
  readonly orders = new Map<string, AckedOrder>();
  readonly cartLosses: CartLoss[] = [];
  /** Each shopper's cart model; `alternatives` are the other contents a write whose outcome is unknown allows. */
  private readonly carts = new Map<number, { lines: CartLine[]; alternatives: CartLine[][] }>();
  /** The report row that acknowledgements and sightings belong to now (the runner moves it). */
  window = 0;

  /** The shopper's expected cart. */
  cart(shopper: number): CartLine[] {
    return this.model(shopper).lines;
  }

  /**
   * The shop acknowledged a cart write (`change` applied to the cart) and answered `served`: a content other than
   * `change` of what the shopper may hold is a lost cart (the write landed on a cart that was not the shopper's).
   * The model takes the served cart (its prices are the ones checkout will charge).
   */
  cartWritten(shopper: number, change: CartChange, served: ServedCart): void {
    this.compare(shopper, this.options(shopper).map(change), served, "cart write");
  }

  /** The shop showed the shopper its cart (`GET /api/cart`); `where` says when (a view, a checkpoint). */
  cartViewed(shopper: number, served: ServedCart, where = "cart view"): void {
    this.compare(shopper, this.options(shopper), served, where);
  }

  /**
   * A cart write or a checkout (`change`: to an empty cart) reached the shop but got no usable answer (a reset
   * connection, a 5xx): it may or may not have happened, so either outcome is the shopper's cart until the next look.
   */
  writeUncertain(shopper: number, change: CartChange): void {
    const model = this.model(shopper);
    const before = this.options(shopper);
    model.alternatives = [...before.slice(1), ...before.map(change)];
  }

  /** The shop said the cart's price changed: the cart now holds these prices (`details.items` of the 409). */
  repriced(shopper: number, items: ReadonlyArray<{ productId: number; priceCents: number }>): void {
    const model = this.model(shopper);
    model.lines = model.lines.map((l) => {
      const now = items.find((i) => i.productId === l.productId);
      return now ? { ...l, priceCents: now.priceCents } : l;
    });
  }

  /** Checkout said the cart is empty while the shopper expected a cart: a lost cart (nothing to order). */
  checkoutFoundNoCart(shopper: number): void {
    this.compare(shopper, this.options(shopper), { items: [], totalCents: 0 }, "checkout (409 cart_empty)");
  }

  /**
   * The shop acknowledged an order for the shopper's cart: recorded with the cart's lines and total, and the cart
   * is empty from now on. A second acknowledgement of the same id (a repeat of the same cart's checkout) adds
   * nothing.
   */
  orderAcked(shopper: number, orderId: string): AckedOrder {
    const lines = this.cart(shopper);
    const order = this.orders.get(orderId) ?? {
      orderId,
      shopper,
      lines,
      totalCents: linesTotal(lines),
      window: this.window,
    };
    this.orders.set(orderId, order);
    this.reset(shopper, []);
    return order;
  }

  /** The orders acknowledged to `shopper`. */
  ordersOf(shopper: number): AckedOrder[] {
    return [...this.orders.values()].filter((o) => o.shopper === shopper);
  }

  /** The orders of report row `window`. */
  ordersIn(window: number): AckedOrder[] {
    return [...this.orders.values()].filter((o) => o.window === window);
  }

  /** Carts lost in report row `window`. */
  lossesIn(window: number): CartLoss[] {
    return this.cartLosses.filter((l) => l.window === window);
  }

  /** Every content the shopper's cart may have now: the model first, then what unanswered writes allow. */
  private options(shopper: number): CartLine[][] {
    const model = this.model(shopper);
    return [model.lines, ...model.alternatives];
  }

  private model(shopper: number) {
    let model = this.carts.get(shopper);
    if (!model) {
      model = { lines: [], alternatives: [] };
      this.carts.set(shopper, model);
    }
    return model;
  }

  private reset(shopper: number, lines: CartLine[]): void {
    this.carts.set(shopper, { lines, alternatives: [] });
  }

  private compare(shopper: number, allowed: ReadonlyArray<readonly CartLine[]>, served: ServedCart, where: string) {
    const found = cartContent(served.items);
    if (!allowed.some((lines) => cartContent(lines) === found))
      this.cartLosses.push({ shopper, window: this.window, where, expected: cartContent(allowed[0]), found });
    // From here on the shopper holds what the shop showed: one loss is counted once, not at every later view.
    this.reset(shopper, servedLines(served));
  }
}
