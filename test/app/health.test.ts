/** Health endpoints, request ids and logs, the storefront, and the error shape of routes that do not exist. */
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { buildApp } from "../../app/src/app";
import { loadConfig } from "../../app/src/config";
import { httpRequest } from "./support/http-client";
import { pollUntil } from "../../lib/servers/poll";
import { freePort } from "../../lib/servers/postgres-cluster";
import { Shopper } from "./support/shopper";
import { type TestApp, startTestApp, testEnv, testLogger } from "./support/test-app";

let t: TestApp;
const extraApps: FastifyInstance[] = [];
beforeAll(async () => {
  t = await startTestApp("health");
});
afterAll(async () => {
  for (const app of extraApps) await app.close();
  await t?.close();
});

/** Another app on the suite's database with `env` on top (it builds, and closes, its own router). */
async function appWith(env: Record<string, string>, logger = testLogger()): Promise<string> {
  const app = await buildApp(loadConfig(testEnv(t.db, env)), { logger });
  extraApps.push(app);
  await app.listen({ host: "127.0.0.1", port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/** A postgres:// URL of the suite's database on a port where nothing listens. */
async function unreachableUrl(): Promise<string> {
  return t.db.primaryUrl.replace(/:\d+\//, `:${await freePort()}/`);
}

test("/healthz answers while the process lives", async () => {
  const response = await t.request({ path: "/healthz" });
  expect(response.status).toBe(200);
  expect(response.json()).toEqual({ status: "ok" });
});

test("/readyz is 200 when the primary and every replica answer", async () => {
  const response = await t.request({ path: "/readyz" });
  expect(response.status).toBe(200);
  expect(response.json()).toEqual({
    status: "ready",
    checks: [
      { name: "primary", ok: true },
      { name: "replica-1", ok: true },
    ],
  });
});

// A database that is down is down for every server at once; failing readiness for it would only make the load
// balancer move sticky shoppers between servers, whose memory holds no session for them (routes/health.ts).
test("/readyz stays 200, degraded, naming each unreachable replica, and only those", async () => {
  const url = await appWith({ DATABASE_REPLICA_URLS: `${t.db.replicaUrl},${await unreachableUrl()}` });
  const response = await httpRequest(url, { path: "/readyz" });
  expect(response.status).toBe(200);
  expect(response.json()).toEqual({
    status: "degraded",
    checks: [
      { name: "primary", ok: true },
      { name: "replica-1", ok: true },
      { name: "replica-2", ok: false },
    ],
  });
  expect(response.text).not.toContain("127.0.0.1");
});

test("primary down: /readyz stays 200 naming it, reads still work from the replica, writes are 503s", async () => {
  const url = await appWith({ DATABASE_URL: await unreachableUrl() });
  const ready = await httpRequest(url, { path: "/readyz" });
  expect(ready.status).toBe(200);
  expect(ready.json()).toEqual({
    status: "degraded",
    checks: [
      { name: "primary", ok: false },
      { name: "replica-1", ok: true },
    ],
  });
  expect((await httpRequest(url, { path: "/healthz" })).status).toBe(200);
  expect((await httpRequest(url, { path: "/api/products/1" })).status).toBe(200);

  const shopper = new Shopper({ request: (request) => httpRequest(url, request) });
  await shopper.post("/api/cart/items", { productId: 1, quantity: 1 });
  const checkout = await shopper.post("/api/checkout");
  expect(checkout.status).toBe(503);
  // It names what is down (db/router.ts primaryUnavailable); secondary-region.test.ts times the next ones.
  expect(checkout.json()).toEqual({
    error: "primary_unavailable",
    message: "The primary database is not reachable: changes are refused until it answers again; browsing still works",
    details: { down: ["primary"] },
  });
});

test("/readyz is 503 naming every database when none answers, without their addresses", async () => {
  const url = await appWith({ DATABASE_URL: await unreachableUrl(), DATABASE_REPLICA_URLS: await unreachableUrl() });
  const response = await httpRequest(url, { path: "/readyz" });
  expect(response.status).toBe(503);
  expect(response.json()).toEqual({
    error: "not_ready",
    message: "Not reachable: primary, replica-1",
    details: { failing: ["primary", "replica-1"] },
  });
  expect(response.text).not.toContain("127.0.0.1");
});

describe("request ids", () => {
  test("a well-formed x-request-id is kept and echoed", async () => {
    const response = await t.request({ path: "/healthz", headers: { "x-request-id": "Root=1-abc.def:42" } });
    expect(response.headers["x-request-id"]).toBe("Root=1-abc.def:42");
  });

  test.each([
    ["missing", undefined],
    ["too long", "a".repeat(129)],
    ["with spaces", "id with spaces"],
    ["with a newline escape", "abc%0Ainjected"],
  ])("one that is %s is replaced by a fresh UUID", async (_, id) => {
    const response = await t.request({ path: "/healthz", headers: id === undefined ? {} : { "x-request-id": id } });
    expect(response.headers["x-request-id"]).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  test("log lines are JSON and carry the request id", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const url = await appWith({}, pino({ level: "info" }, sink));
    await httpRequest(url, { path: "/api/products/1", headers: { "x-request-id": "trace-me-123" } });
    // The access line follows the response's last byte (test/app/access-log.test.ts has the rest of its format).
    await pollUntil("the access line", async () => lines.some((line) => line.requestId === "trace-me-123"));
    const mine = lines.filter((line) => line.requestId === "trace-me-123");
    expect(mine.map((line) => line.msg)).toEqual(["request completed"]);
    expect(mine[0]).toMatchObject({ status: 200, route: "/api/products/:id" });
  });
});

test("a route that does not exist is a 404 in the error shape", async () => {
  for (const [method, path] of [
    ["GET", "/api/nope"],
    ["DELETE", "/api/products/1"],
    ["PUT", "/api/cart"],
  ]) {
    const response = await t.request({ method, path });
    expect(response.status).toBe(404);
    expect(response.json()).toEqual({ error: "not_found", message: `No route for ${method} ${path}`, details: null });
  }
});

describe("storefront", () => {
  test("GET / is the page, with a content security policy that allows only its own origin", async () => {
    const response = await t.request({ path: "/" });
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(response.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(response.text).toContain('<script src="/static/app.js" defer></script>');
  });

  test("its script and stylesheet are served; nothing else is", async () => {
    expect((await t.request({ path: "/static/app.js" })).headers["content-type"]).toBe(
      "text/javascript; charset=utf-8",
    );
    expect((await t.request({ path: "/static/style.css" })).headers["content-type"]).toBe("text/css; charset=utf-8");
    for (const path of [
      "/static/nope.js",
      "/static/..%2F..%2Fpackage.json",
      "/static/%2e%2e%2fserver.ts",
      "/static/",
    ]) {
      const response = await t.request({ path });
      expect(response.status).toBe(404);
      expect(response.json().error).toBe("not_found");
    }
  });
});
