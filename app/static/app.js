// The storefront's only script: plain DOM calls against the shop's JSON API (same origin, session cookie). Views are
// sections of index.html shown by the address's hash (#/, #/products/7, #/cart, #/orders, #/orders/<id>), so the
// back button and bookmarks work without a server route. Every answer's tier headers (app/src/http/tier-headers.ts)
// fill the "Served by" strip: which region, process, cache, database and shard served the last answer.
"use strict";

const $ = (id) => document.getElementById(id);
const money = (cents) => `$${(cents / 100).toFixed(2)}`;
const PAGE_SIZE = 12;
/** How often a pending order (step 8: the worker confirms it) is read again, and for how long. */
const ORDER_POLL_MS = 500;
const ORDER_POLL_LIMIT_MS = 120_000;
const TIERS = ["region", "process", "cache", "db", "shard"];

/** The product list's place: its category and the cursor of each page seen (keyset paging only goes forward). */
const list = { category: "", cursors: [null], page: 0 };
/** The cart as last answered: what the cart form compares its quantities with. */
let cart = { items: [], totalCents: 0 };
/** Bumped at each view change: a poll or a late answer of an earlier view leaves the page alone. */
let viewToken = 0;

/** Shows which tiers served `response` (the headers are absent when a tier took no part). */
function servedBy(method, url, response) {
  $("served-request").textContent = `${method} ${url.split("?")[0]}: ${response.status}`;
  for (const tier of TIERS) $(`served-${tier}`).textContent = response.headers.get(`x-shop-${tier}`) || "–";
}

/** One API call; resolves with the JSON body, rejects with an Error carrying the API's `{ error, details }`. */
async function api(method, url, body) {
  const token = viewToken;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (cause) {
    throw Object.assign(new Error("the shop could not be reached (network error)"), { code: "network", cause });
  }
  // The strip describes the current view's answers: a late one of a view already left does not overwrite them.
  if (token === viewToken) servedBy(method, url, response);
  // A load balancer's own error page is not JSON: its status still says what happened.
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw Object.assign(new Error(data.message || `HTTP ${response.status}`), {
      status: response.status,
      code: data.error,
      details: data.details,
      retryAfter: response.headers.get("retry-after"),
    });
  }
  return data;
}

/** What went wrong, in words: never a color alone, never only a code. */
function explain(error) {
  const d = error.details || {};
  switch (error.code) {
    case "insufficient_stock":
      return `only ${d.available} of ${d.name} left; you asked for ${d.requested}`;
    case "quantity_limit":
      return "at most 100 units of one product fit in a cart";
    case "cart_full":
      return "the cart holds 50 different products at most";
    case "cart_empty":
      return "your cart is empty";
    case "session_ended":
      return "a checkout just ended this cart; the cart below is the one you have now";
    case "checkout_in_progress":
      return "this cart's order is still being written; try again in a second";
    case "shard_unavailable":
      return `the order database (${d.shard}) cannot be reached; your cart is kept, try again in a moment`;
  }
  if (error.status === 429)
    return `too many requests from this address; wait ${error.retryAfter || "a few"} seconds and try again`;
  if (error.status === 503 || error.status === 502)
    return `the shop is unavailable for a moment (${error.message}); nothing was lost, try again shortly`;
  if (error.status >= 500) return `the shop failed (${error.message}); try again`;
  return error.message;
}

function say(text) {
  $("error").textContent = "";
  $("message").textContent = text;
}

/** Shows `error` as text in the alert region, prefixed with what failed. */
function fail(what) {
  return (error) => {
    $("message").textContent = "";
    $("error").textContent = `Error: ${what} failed: ${explain(error)}.`;
  };
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function link(href, text) {
  const a = element("a", text);
  a.href = href;
  return a;
}

/** A button whose visible text `label` is followed, for screen readers, by the product it acts on. */
function actionButton(label, product, onClick) {
  const button = element("button", label);
  button.type = "button";
  button.append(element("span", ` ${product}`, "visually-hidden"));
  button.addEventListener("click", onClick);
  return button;
}

// ---------------------------------------------------------------------------------------------------------------
// Products

async function loadProducts() {
  const token = viewToken;
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (list.category) params.set("category", list.category);
  const cursor = list.cursors[list.page];
  if (cursor) params.set("cursor", cursor);
  const page = await api("GET", `/api/products?${params}`);
  if (token !== viewToken) return;
  $("products").replaceChildren(
    ...page.items.map((p) => {
      const li = element("li");
      const name = element("h2");
      name.append(link(`#/products/${p.id}`, p.name));
      const facts = element("p", `${p.category} · ${p.stock > 0 ? `${p.stock} left` : "out of stock"}`, "muted");
      const price = element("p", money(p.priceCents), "price");
      li.append(name, facts, price);
      if (p.stock > 0) li.append(actionButton("Add", p.name, () => addToCart(p, 1)));
      return li;
    }),
  );
  if (page.items.length === 0) $("products").append(element("li", "No products in this category."));
  list.cursors[list.page + 1] = page.nextCursor;
  $("more").disabled = !page.nextCursor;
  $("prev").disabled = list.page === 0;
  $("page-number").textContent = `Page ${list.page + 1}`;
}

async function showProduct(id) {
  const token = viewToken;
  const p = await api("GET", `/api/products/${encodeURIComponent(id)}`);
  if (token !== viewToken) return;
  $("product-name").textContent = p.name;
  $("product-category").textContent = `Category: ${p.category} · SKU ${p.sku}`;
  $("product-description").textContent = p.description || "";
  $("product-price").textContent = money(p.priceCents);
  $("product-stock").textContent = p.stock > 0 ? `${p.stock} in stock` : "Out of stock";
  $("add-form").dataset.productId = String(p.id);
  $("add-form").dataset.productName = p.name;
  $("add-quantity").max = String(Math.max(1, Math.min(100, p.stock)));
  $("add-quantity").value = "1";
  $("add-form").querySelector("button").disabled = p.stock === 0;
}

async function addToCart(product, quantity) {
  const answer = await api("POST", "/api/cart/items", { productId: product.id, quantity }).catch(
    fail(`Adding ${product.name}`),
  );
  if (!answer) return;
  showCart(answer);
  say(`Added ${quantity} × ${product.name} to your cart.`);
}

// ---------------------------------------------------------------------------------------------------------------
// Cart

function showCart(answer) {
  cart = answer;
  const count = cart.items.reduce((sum, line) => sum + line.quantity, 0);
  $("cart-count").textContent = `(${count})`;
  $("cart").replaceChildren(
    ...cart.items.map((line) => {
      const row = element("tr");
      const name = element("th");
      name.scope = "row";
      name.append(link(`#/products/${line.productId}`, line.name));
      if (!line.inStock) name.append(element("span", " (not enough in stock)", "warning"));
      const quantity = element("td");
      const id = `quantity-${line.productId}`;
      const label = element("label", `Quantity of ${line.name}`, "visually-hidden");
      label.htmlFor = id;
      const input = element("input");
      Object.assign(input, { id, type: "number", min: "0", max: "100", required: true, name: String(line.productId) });
      input.value = String(line.quantity);
      quantity.append(label, input);
      const remove = element("td");
      remove.append(actionButton("Remove", line.name, () => changeCart([[line, 0]], `Removed ${line.name}.`)));
      row.append(name, element("td", money(line.priceCents)), quantity, element("td", money(line.lineTotalCents)));
      row.append(remove);
      return row;
    }),
  );
  const empty = cart.items.length === 0;
  $("cart-empty").hidden = !empty;
  $("update").disabled = empty;
  $("checkout").disabled = empty;
  $("total").textContent = `Total ${money(cart.totalCents)}`;
}

/**
 * Sets each `[line, quantity]` pair: the API adds units and removes lines, so fewer units is a removal and an add.
 * One change at a time, in order; the cart shown is the last answer.
 */
async function changeCart(changes, done) {
  try {
    for (const [line, quantity] of changes) {
      if (quantity === line.quantity) continue;
      let answer;
      if (quantity < line.quantity) answer = await api("DELETE", `/api/cart/items/${line.productId}`);
      if (quantity > 0) {
        const units = quantity - (quantity < line.quantity ? 0 : line.quantity);
        answer = await api("POST", "/api/cart/items", { productId: line.productId, quantity: units });
      }
      showCart(answer);
    }
    say(done);
  } catch (error) {
    fail("Updating the cart")(error);
    await api("GET", "/api/cart").then(showCart, () => undefined);
  }
}

$("cart-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const changes = cart.items.map((line) => [line, Number($(`quantity-${line.productId}`).value)]);
  void changeCart(changes, "Cart updated.");
});

// A price changed since the cart was shown: the answer carries the new total, which the shopper sees (the cart
// shows the new prices) before checking out again pays it.
async function priceChanged(error) {
  showCart(await api("GET", "/api/cart"));
  $("message").textContent = "";
  $("error").textContent =
    `Prices changed since you added these items: the new total is ${money(error.details.totalCents)}. ` +
    "Check out again to pay it.";
}

// One checkout at a time from this page: a double click would otherwise send the old session id after the first
// answer rotated it (the server would place one order either way).
$("checkout").addEventListener("click", async () => {
  $("checkout").disabled = true;
  say("Placing your order…");
  try {
    const order = await api("POST", "/api/checkout");
    showCart({ items: [], totalCents: 0 });
    location.hash = `#/orders/${order.orderId}`;
  } catch (error) {
    if (error.code === "price_changed") await priceChanged(error).catch(fail("Reading the cart"));
    else fail("Checkout")(error);
  } finally {
    $("checkout").disabled = cart.items.length === 0;
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Orders

const STATES = {
  placed: "Placed: your order is confirmed.",
  pending: "Pending: the order is queued; waiting for the order worker to confirm it…",
  confirmed: "Confirmed: the order worker has confirmed your order.",
};
const stateText = (status) => STATES[status] || `Status: ${status}.`;

async function loadOrders() {
  const token = viewToken;
  const orders = await api("GET", "/api/orders");
  if (token !== viewToken) return;
  $("orders-empty").hidden = orders.items.length > 0;
  $("orders").replaceChildren(
    ...orders.items.map((o) => {
      const li = element("li");
      li.append(link(`#/orders/${o.orderId}`, `${o.createdAt.slice(0, 16).replace("T", " ")} UTC`));
      li.append(element("span", `${o.status} · ${money(o.totalCents)}`));
      return li;
    }),
  );
}

/** Shows an order, and reads it again while it is pending (step 8 on: the worker confirms it). */
async function showOrder(id) {
  const token = viewToken;
  const started = Date.now();
  for (;;) {
    const order = await api("GET", `/api/orders/${encodeURIComponent(id)}`);
    if (token !== viewToken) return;
    $("order-title").textContent = `Order ${order.orderId.slice(0, 8)}`;
    // A status region of its own: read aloud when the state changes (pending, then confirmed).
    if ($("order-state").dataset.status !== order.status) $("order-state").textContent = stateText(order.status);
    $("order-state").dataset.status = order.status;
    $("order-items").replaceChildren(
      ...order.items.map((line) => element("li", `${line.quantity} × ${line.name} at ${money(line.unitPriceCents)}`)),
    );
    $("order-total").textContent = `Total ${money(order.totalCents)}`;
    if (order.status !== "pending") return;
    if (Date.now() - started > ORDER_POLL_LIMIT_MS) {
      say("The order is still pending: the worker has not confirmed it yet. Reload this page to look again.");
      return;
    }
    await new Promise((resolve) => window.setTimeout(resolve, ORDER_POLL_MS));
    if (token !== viewToken) return;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Views

const VIEWS = ["products-view", "product-view", "cart-view", "orders-view", "order-view"];

/** Shows the section of `location.hash`, loads what it shows, and moves focus to its heading after a navigation. */
function route(focus) {
  const hash = location.hash || "#/";
  const [, first, second] = hash.split("/");
  const token = ++viewToken;
  let view = "products-view";
  let load = () => loadProducts().catch(fail("Loading the products"));
  if (first === "products" && second) {
    view = "product-view";
    $("product-name").textContent = "Loading…";
    load = () =>
      showProduct(second).catch((error) => {
        $("product-name").textContent = "Product unavailable";
        fail("Loading the product")(error);
      });
  } else if (first === "cart") {
    view = "cart-view";
    load = () => api("GET", "/api/cart").then(showCart, fail("Loading the cart"));
  } else if (first === "orders" && second) {
    view = "order-view";
    $("order-state").textContent = "";
    delete $("order-state").dataset.status;
    load = () => showOrder(second).catch(fail("Loading the order"));
  } else if (first === "orders") {
    view = "orders-view";
    load = () => loadOrders().catch(fail("Loading your orders"));
  }
  for (const id of VIEWS) $(id).hidden = id !== view;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.getAttribute("href") === `#/${first || ""}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (focus) {
    const heading = $(view).querySelector("h1");
    heading.tabIndex = -1;
    heading.focus();
  }
  return token === viewToken ? load() : undefined;
}

$("category").addEventListener("change", () => {
  Object.assign(list, { category: $("category").value, cursors: [null], page: 0 });
  loadProducts().catch(fail("Loading the products"));
});
$("more").addEventListener("click", () => {
  list.page++;
  loadProducts().catch(fail("Loading the products"));
});
$("prev").addEventListener("click", () => {
  list.page = Math.max(0, list.page - 1);
  loadProducts().catch(fail("Loading the products"));
});
$("add-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = $("add-form");
  const quantity = Number($("add-quantity").value);
  void addToCart({ id: Number(form.dataset.productId), name: form.dataset.productName }, quantity);
});
// A new view starts with no message: what the last one said was about it.
window.addEventListener("hashchange", () => {
  say("");
  route(true);
});

route(false);
// The cart's count in the header, whatever the first view.
if (!location.hash.startsWith("#/cart")) api("GET", "/api/cart").then(showCart, fail("Loading the cart"));
