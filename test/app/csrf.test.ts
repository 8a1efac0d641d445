/**
 * Cross-site request forgery (app/src/http/csrf.ts): a state-changing request a browser sends for another site is a
 * 403 and changes nothing; the storefront's own requests, same-site pages, old browsers on the site's own origin and
 * API clients that send no browser headers are served.
 */
import { Shopper } from "./support/shopper";
import { ADMIN_TOKEN, type TestApp, startTestApp } from "./support/test-app";

/** A public origin of the site that the app cannot see in Host (the CDN's name, from step 6). */
const LISTED_ORIGIN = "https://shop.example.com";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp("csrf", { env: { SITE_ORIGINS: LISTED_ORIGIN } });
});
afterAll(async () => {
  await t?.close();
});

/** A shopper with one unit of `productId` in the cart. */
async function shopperWithCart(productId: number): Promise<Shopper> {
  const shopper = new Shopper(t);
  expect((await shopper.post("/api/cart/items", { productId, quantity: 1 })).status).toBe(200);
  return shopper;
}

const evil = "https://evil.example";

test("a cross-site checkout (Origin elsewhere, Sec-Fetch-Site: cross-site) is a 403 and places no order", async () => {
  const shopper = await shopperWithCart(20);
  const response = await shopper.send("POST", "/api/checkout", undefined, {
    origin: evil,
    "sec-fetch-site": "cross-site",
  });
  expect(response.status).toBe(403);
  expect(response.json()).toMatchObject({ error: "cross_site_request", details: null });
  expect(response.json().message).toContain("Sec-Fetch-Site: cross-site");
  expect((await shopper.get("/api/orders")).json().items).toEqual([]);
  expect((await shopper.get("/api/cart")).json().items).toHaveLength(1);
});

test.each([
  ["an Origin of another site and no Sec-Fetch-Site (an older browser)", { origin: evil }],
  ["Origin: null (a sandboxed frame, a data: page)", { origin: "null" }],
  [
    "Sec-Fetch-Site: cross-site even with this site's Origin",
    { origin: LISTED_ORIGIN, "sec-fetch-site": "cross-site" },
  ],
  ["an Origin that only starts like the site's", { origin: `${LISTED_ORIGIN}.evil.example` }],
])("refused with 403: %s", async (_what, headers: Record<string, string>) => {
  const shopper = await shopperWithCart(21);
  expect((await shopper.send("POST", "/api/checkout", undefined, headers)).status).toBe(403);
  expect((await shopper.send("DELETE", "/api/cart/items/21", undefined, headers)).status).toBe(403);
  expect((await shopper.send("POST", "/api/cart/items", { productId: 22, quantity: 1 }, headers)).status).toBe(403);
  expect((await shopper.get("/api/cart")).json().items).toEqual([expect.objectContaining({ productId: 21 })]);
});

test.each([
  ["the storefront's own fetch over HTTPS", () => ({ origin: LISTED_ORIGIN, "sec-fetch-site": "same-origin" })],
  ["a page of a sibling subdomain", () => ({ origin: "https://blog.example.com", "sec-fetch-site": "same-site" })],
  ["an older browser on the site's own host", () => ({ origin: t.url })],
  ["an older browser on a listed origin (SITE_ORIGINS)", () => ({ origin: LISTED_ORIGIN })],
  ["curl or an API client (no browser headers)", () => ({})],
])("served: %s", async (_what, headers: () => Record<string, string>) => {
  const shopper = await shopperWithCart(23);
  expect((await shopper.send("POST", "/api/cart/items", { productId: 24, quantity: 1 }, headers())).status).toBe(200);
  expect((await shopper.send("DELETE", "/api/cart/items/24", undefined, headers())).status).toBe(200);
  const checkout = await shopper.send("POST", "/api/checkout", undefined, headers());
  expect(checkout.status).toBe(201);
});

test("admin writes are guarded too; reads are never refused, whatever the headers", async () => {
  const crossSite = { origin: evil, "sec-fetch-site": "cross-site" };
  const patch = await t.request({
    method: "PATCH",
    path: "/api/products/25",
    headers: { ...crossSite, authorization: `Bearer ${ADMIN_TOKEN}` },
    body: { stock: 3 },
  });
  expect(patch.status).toBe(403);
  expect((await t.request({ path: "/api/products/25", headers: crossSite })).status).toBe(200);
  expect((await t.request({ path: "/api/cart", headers: crossSite })).status).toBe(200);
  expect((await t.request({ path: "/", headers: crossSite })).status).toBe(200);
});
