/**
 * The storefront shows a changed price (issue 14, finding 3): the page's own script (app/static/app.js) runs in
 * jsdom against the real app, with the browser's fetch standing on a cookie-keeping shopper. An admin changes the
 * price of what is in the cart; "Check out" shows the new total instead of placing an order, and a second click
 * pays it. The page's other errors are sentences too (issue 16): too little stock (409) names what is left, and
 * the rate limit (429) says how long to wait. (The whole journey runs in Chromium: test/app/e2e/step-*.test.ts.)
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pollUntil } from "../../lib/servers/poll";
import { STATIC_DIR } from "../../app/src/paths";
import { Shopper } from "./support/shopper";
import { startShop } from "./support/shop-instances";
import { ADMIN_TOKEN, type TestApp, setStock, startTestApp } from "./support/test-app";
import { waitForReplica } from "./support/test-database";

/** What this test uses of a jsdom page (jsdom is a devDependency without type declarations; no DOM lib here). */
interface PageElement {
  textContent: string | null;
  value: string;
  click(): void;
  dispatchEvent(event: unknown): boolean;
}
interface PageWindow {
  document: { getElementById(id: string): PageElement | null; querySelector(selector: string): PageElement | null };
  Event: new (type: string) => unknown;
  fetch: unknown;
  location: { hash: string };
  eval(source: string): unknown;
}
const { JSDOM } = createRequire(__filename)("jsdom") as {
  JSDOM: new (html: string, options: { url: string; runScripts: "outside-only" }) => { window: PageWindow };
};

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp("storefront-price");
});
afterAll(() => t?.close());

/** The storefront page in jsdom, its fetch answered by the app at `url` for `shopper`. */
function openPage(shopper: Shopper, url = t.url): PageWindow {
  const html = readFileSync(path.join(STATIC_DIR, "index.html"), "utf8");
  const { window } = new JSDOM(html, { url, runScripts: "outside-only" });
  window.fetch = async (url: string, init: { method?: string; body?: string } = {}) => {
    const response = await shopper.send(init.method ?? "GET", url, init.body ? JSON.parse(init.body) : undefined);
    const headers = { get: (name: string) => response.headers[name.toLowerCase()] ?? null };
    return { ok: response.status < 400, status: response.status, headers, json: async () => response.json() };
  };
  window.eval(readFileSync(path.join(STATIC_DIR, "app.js"), "utf8"));
  return window;
}

const text = (window: PageWindow, id: string) => window.document.getElementById(id)?.textContent ?? "";
const money = (cents: number) => `$${(cents / 100).toFixed(2)}`;

test("a price changed since the cart was shown: the page shows the new total, and the next click pays it", async () => {
  const { rows } = await t.router.primaryPool.query(
    "SELECT id, price_cents FROM products WHERE category = 'garden' ORDER BY id LIMIT 1",
  );
  const [{ id: productId, price_cents: oldPrice }] = rows as Array<{ id: number; price_cents: number }>;
  await setStock(t, productId, 10);
  const shopper = new Shopper(t);
  const page = openPage(shopper);
  await pollUntil("the product list", async () => text(page, "products").length > 0);

  // The shopper picks the category and adds the first product with the page's own button.
  const select = page.document.getElementById("category") as PageElement;
  select.value = "garden";
  select.dispatchEvent(new page.Event("change"));
  await pollUntil(
    "the garden list",
    async () => page.document.querySelector("#products li p")?.textContent?.startsWith("garden ·") === true,
  );
  (page.document.querySelector("#products li button") as PageElement).click();
  await pollUntil("the cart's total", async () => text(page, "total") === `Total ${money(oldPrice)}`);

  const newPrice = oldPrice + 1234;
  const patch = await t.request({
    method: "PATCH",
    path: `/api/products/${productId}`,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    body: { priceCents: newPrice },
  });
  expect(patch.status).toBe(200);
  await waitForReplica(t.db.cluster);

  (page.document.getElementById("checkout") as PageElement).click();
  await pollUntil("the new total", async () => text(page, "error").includes(money(newPrice)));
  expect(text(page, "error")).toBe(
    `Prices changed since you added these items: the new total is ${money(newPrice)}. Check out again to pay it.`,
  );
  expect(text(page, "total")).toBe(`Total ${money(newPrice)}`);
  expect(text(page, "order-state")).toBe("");

  (page.document.getElementById("checkout") as PageElement).click();
  // The page shows the order it placed, at the new price, and the emptied cart.
  await pollUntil("the order", async () => text(page, "order-state") !== "");
  expect(text(page, "order-state")).toBe("Placed: your order is confirmed.");
  expect(text(page, "order-total")).toBe(`Total ${money(newPrice)}`);
  expect(text(page, "error")).toBe("");
  expect(text(page, "total")).toBe(`Total ${money(0)}`);
});

test("too little stock, then the rate limit: the page says in words what failed and what to do", async () => {
  const { rows } = await t.router.primaryPool.query("SELECT id, name FROM products WHERE category = 'toys' LIMIT 1");
  const [{ id: productId, name }] = rows as Array<{ id: number; name: string }>;
  await setStock(t, productId, 1);
  // A server of its own on the same database, allowing one cart write a minute to this address.
  const limited = await startShop({ db: t.db, close: async () => undefined }, { RATE_LIMIT_CART_PER_MINUTE: "1" });
  try {
    const page = openPage(new Shopper(limited), limited.url);
    page.location.hash = `#/products/${productId}`;
    await pollUntil("the product page", async () => text(page, "product-stock") === "1 in stock");
    const quantity = page.document.getElementById("add-quantity") as PageElement;
    const add = page.document.getElementById("add-form") as PageElement;
    quantity.value = "2";
    add.dispatchEvent(new page.Event("submit"));
    await pollUntil("the stock error", async () => text(page, "error") !== "");
    expect(text(page, "error")).toBe(`Error: Adding ${name} failed: only 1 of ${name} left; you asked for 2.`);

    quantity.value = "1";
    add.dispatchEvent(new page.Event("submit"));
    await pollUntil("the rate limit's error", async () => !text(page, "error").includes("left"));
    expect(text(page, "error")).toMatch(
      new RegExp(
        `^Error: Adding ${name} failed: too many requests from this address; wait \\d+ seconds and try again\\.$`,
      ),
    );
    expect(text(page, "message")).toBe("");
    expect(text(page, "cart-count")).toBe("(0)");
  } finally {
    await limited.close();
  }
});
