/**
 * Security headers (app/src/http/security-headers.ts) on every kind of response: API reads and writes, errors, the
 * page, static files, health checks; HSTS only when the shop is reached over HTTPS; the page's CSP with form-action.
 */
import type { AddressInfo } from "node:net";
import { readdirSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../app/src/app";
import { loadConfig } from "../../app/src/config";
import { STATIC_DIR } from "../../app/src/paths";
import { type HttpResponse, httpRequest } from "./support/http-client";
import { type TestApp, startTestApp, testEnv, testLogger } from "./support/test-app";

let t: TestApp;
let https: FastifyInstance | undefined;
beforeAll(async () => {
  t = await startTestApp("security_headers");
});
afterAll(async () => {
  await https?.close();
  await t?.close();
});

const expectBaseHeaders = (response: HttpResponse) => {
  expect(response.headers).toMatchObject({
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
  });
};

const staticFile = readdirSync(STATIC_DIR).find((name) => name.endsWith(".css"))!;

test.each([
  ["a product read", { path: "/api/products/1" }, 200],
  ["a product list", { path: "/api/products?limit=2" }, 200],
  ["an unknown product", { path: "/api/products/999999" }, 404],
  ["a route that does not exist", { path: "/nowhere" }, 404],
  ["an admin write without a token", { method: "PATCH", path: "/api/products/1", body: { stock: 1 } }, 401],
  ["a bad body", { method: "POST", path: "/api/cart/items", body: { productId: "x" } }, 400],
  ["a cart write", { method: "POST", path: "/api/cart/items", body: { productId: 1, quantity: 1 } }, 200],
  ["a static file", { path: `/static/${staticFile}` }, 200],
  ["/healthz", { path: "/healthz" }, 200],
])("%s carries nosniff, Referrer-Policy, X-Frame-Options and a locked-down CSP", async (_what, request, status) => {
  const response = await t.request(request);
  expect(response.status).toBe(status);
  expectBaseHeaders(response);
  expect(response.headers["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
  // Plain HTTP here: HSTS would be ignored, and is not sent.
  expect(response.headers["strict-transport-security"]).toBeUndefined();
});

test("the page has its own CSP, with form-action limited to the shop", async () => {
  const page = await t.request({ path: "/" });
  expect(page.status).toBe(200);
  expectBaseHeaders(page);
  const csp = page.headers["content-security-policy"] as string;
  expect(csp.split("; ")).toEqual(
    expect.arrayContaining(["default-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"]),
  );
});

test("with COOKIE_SECURE (HTTPS) every response carries HSTS for two years, subdomains included", async () => {
  https = await buildApp(loadConfig(testEnv(t.db, { COOKIE_SECURE: "true", TRUST_PROXY: "true" })), {
    logger: testLogger(),
  });
  await https.listen({ host: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${(https.server.address() as AddressInfo).port}`;
  for (const path of ["/api/products/1", "/", "/nowhere"]) {
    const response = await httpRequest(url, { path, headers: { "x-forwarded-proto": "https" } });
    expectBaseHeaders(response);
    expect(response.headers["strict-transport-security"]).toBe("max-age=63072000; includeSubDomains");
  }
});
