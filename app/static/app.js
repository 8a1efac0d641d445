// The storefront's only script: plain DOM calls against the shop's JSON API (same origin, session cookie).
"use strict";

const $ = (id) => document.getElementById(id);
const money = (cents) => `$${(cents / 100).toFixed(2)}`;
let nextCursor = null;

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) {
    // The API's error shape: { error, message, details }; callers look at the code and details.
    throw Object.assign(new Error(data.message || `HTTP ${response.status}`), {
      code: data.error,
      details: data.details,
    });
  }
  return data;
}

function item(text, buttonLabel, onClick) {
  const li = document.createElement("li");
  const span = document.createElement("span");
  span.textContent = text;
  li.append(span);
  if (buttonLabel) {
    const button = document.createElement("button");
    button.textContent = buttonLabel;
    button.addEventListener("click", onClick);
    li.append(button);
  }
  return li;
}

function report(error) {
  $("message").textContent = error ? error.message : "";
}

async function loadProducts(reset) {
  const params = new URLSearchParams({ limit: "20" });
  if ($("category").value) params.set("category", $("category").value);
  if (!reset && nextCursor) params.set("cursor", nextCursor);
  const page = await api("GET", `/api/products?${params}`);
  if (reset) $("products").replaceChildren();
  for (const p of page.items) {
    $("products").append(
      item(`${p.name} (${p.category}) ${money(p.priceCents)}, ${p.stock} left`, "Add", () =>
        api("POST", "/api/cart/items", { productId: p.id, quantity: 1 })
          .then(showCart)
          .then(() => report(), report),
      ),
    );
  }
  nextCursor = page.nextCursor;
  $("more").hidden = !nextCursor;
}

function showCart(cart) {
  $("cart").replaceChildren(
    ...cart.items.map((line) =>
      item(`${line.quantity} x ${line.name} ${money(line.lineTotalCents)}`, "Remove", () =>
        api("DELETE", `/api/cart/items/${line.productId}`)
          .then(showCart)
          .then(() => report(), report),
      ),
    ),
  );
  $("total").textContent = `Total ${money(cart.totalCents)}`;
}

async function loadOrders() {
  const orders = await api("GET", "/api/orders");
  $("orders").replaceChildren(
    ...orders.items.map((o) => item(`${o.createdAt.slice(0, 16)} ${o.status} ${money(o.totalCents)}`)),
  );
}

$("category").addEventListener("change", () => loadProducts(true).catch(report));
$("more").addEventListener("click", () => loadProducts(false).catch(report));
// A price changed since the cart was shown: the answer carries the new total, which the shopper sees (the cart
// shows the new prices) before checking out again pays it.
function priceChanged(error) {
  if (error.code !== "price_changed") throw error;
  return api("GET", "/api/cart")
    .then(showCart)
    .then(() => {
      $("message").textContent =
        `Prices changed since you added these items: the new total is ${money(error.details.totalCents)}. ` +
        "Check out again to pay it.";
    });
}

// One checkout at a time from this page: a double click would otherwise send the old session id after the first
// answer rotated it (the server would place one order either way).
$("checkout").addEventListener("click", () => {
  $("checkout").disabled = true;
  api("POST", "/api/checkout")
    .then(() => Promise.all([api("GET", "/api/cart").then(showCart), loadOrders(), loadProducts(true)]))
    .then(() => report(), priceChanged)
    .catch(report)
    .finally(() => {
      $("checkout").disabled = false;
    });
});

Promise.all([loadProducts(true), api("GET", "/api/cart").then(showCart), loadOrders()]).catch(report);
