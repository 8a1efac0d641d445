/**
 * The write fence of the 1 -> 2 climb (http/write-fence.ts; issue 15): while fenced, reads run and shop writes are
 * held; opened, the held writes run; moved, the old server stops listening and sends each held write, by a 307 that a
 * real client (undici's fetch) follows with its body, to the server that took the port with LISTEN_REUSE_PORT; past
 * the cap a held write gets 503 maintenance. And the fence costs the reads nothing: its hold is on the writes only.
 */
import http from "node:http";
import { ConfigError, loadConfig } from "../../app/src/config";
import { type RunningServer, startServer } from "../../app/src/start-server";
import { pollUntil } from "../../lib/servers/poll";
import type { HttpResponse } from "./support/http-client";
import { routeHooks } from "./support/route-table";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { Shopper } from "./support/shopper";
import { ADMIN_TOKEN, testEnv, testLogger } from "./support/test-app";
import { startAll } from "./support/start-all";

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
/** How long the `capped` shop holds a write. */
const CAP_MS = 300;

let suite: Suite;
let shop: ShopInstance;
let capped: ShopInstance;
const servers: RunningServer[] = [];

beforeAll(async () => {
  suite = await openSuite("write_fence");
  [shop, capped] = await startAll([
    [startShop(suite), (s) => s.close()],
    [startShop(suite, {}, { writeFenceMaxHoldMs: CAP_MS }), (s) => s.close()],
  ]);
});
afterAll(async () => {
  for (const server of servers) await server.close();
  await shop?.close();
  await capped?.close();
  await suite?.close();
});

function setWrites(target: ShopInstance, writes: string): Promise<HttpResponse> {
  return target.request({ method: "POST", path: "/admin/maintenance", headers: admin, body: { writes } });
}

async function priceOf(productId: number): Promise<number> {
  const { rows } = await shop.router.primaryPool.query("SELECT price_cents FROM products WHERE id = $1", [productId]);
  return rows[0].price_cents as number;
}

test("while fenced, reads run and writes wait; opened, the held writes run", async () => {
  const before = await priceOf(81);
  expect((await setWrites(shop, "fenced")).json()).toEqual({ writes: "fenced", held: 0, pid: process.pid });

  const shopper = new Shopper(shop);
  const cartWrite = shopper.post("/api/cart/items", { productId: 80, quantity: 2 });
  const priceWrite = shop.request({
    method: "PATCH",
    path: "/api/products/81",
    headers: admin,
    body: { priceCents: 1234 },
  });
  await pollUntil("both writes to be held", async () => shop.app.writeFence.held === 2);

  const product = await shop.request({ path: "/api/products/81" });
  expect([product.status, product.json().priceCents]).toEqual([200, before]);
  expect((await shop.request({ path: "/api/products?limit=5" })).status).toBe(200);
  expect((await shop.request({ path: "/readyz" })).status).toBe(200);
  expect(await priceOf(81)).toBe(before);
  // Fencing again changes nothing and says how many wait.
  expect((await setWrites(shop, "fenced")).json()).toMatchObject({ writes: "fenced", held: 2 });

  expect((await setWrites(shop, "open")).json()).toMatchObject({ writes: "open", held: 2 });
  const [cart, price] = await Promise.all([cartWrite, priceWrite]);
  expect([cart.status, cart.json().items]).toEqual([200, [expect.objectContaining({ productId: 80, quantity: 2 })]]);
  expect([price.status, price.json().priceCents]).toEqual([200, 1234]);
  expect(await priceOf(81)).toBe(1234);
  expect(shop.app.writeFence.held).toBe(0);
  // Open again: writes run at once.
  expect((await shopper.post("/api/cart/items", { productId: 80, quantity: 1 })).status).toBe(200);
});

test("a write held past the cap gets 503 maintenance with Retry-After: 1, and is not run", async () => {
  const before = await priceOf(82);
  await setWrites(capped, "fenced");
  try {
    const started = Date.now();
    const response = await capped.request({
      method: "PATCH",
      path: "/api/products/82",
      headers: admin,
      body: { priceCents: 999 },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(CAP_MS - 20);
    expect([response.status, response.json().error, response.headers["retry-after"]]).toEqual([
      503,
      "maintenance",
      "1",
    ]);
    expect(capped.app.writeFence.held).toBe(0);
  } finally {
    await setWrites(capped, "open");
  }
  expect(await priceOf(82)).toBe(before);
});

test("a server that stops while fenced answers its held writes 503 maintenance at once", async () => {
  const stopping = await startShop(suite);
  let closed = false;
  try {
    await setWrites(stopping, "fenced");
    const write = stopping.request({ method: "POST", path: "/api/cart/items", body: { productId: 83, quantity: 1 } });
    await pollUntil("the write to be held", async () => stopping.app.writeFence.held === 1);
    const started = Date.now();
    await stopping.close();
    closed = true;
    const response = await write;
    expect([response.status, response.json().error, response.headers["retry-after"]]).toEqual([
      503,
      "maintenance",
      "1",
    ]);
    // Well inside the 15 s cap (and the 10 s shutdown timeout it would otherwise outlast).
    expect(Date.now() - started).toBeLessThan(5000);
  } finally {
    if (!closed) await stopping.close();
  }
});

test("the admin route: a bad value is named with the allowed ones; moved needs a fence; no token, 401", async () => {
  const bad = await setWrites(shop, "closed");
  expect([bad.status, bad.json()]).toEqual([
    400,
    {
      error: "invalid_writes",
      message: "writes must be one of open, fenced, moved",
      details: { field: "writes", allowed: ["open", "fenced", "moved"] },
    },
  ]);
  const unfenced = await setWrites(shop, "moved");
  expect([unfenced.status, unfenced.json().error]).toEqual([409, "not_fenced"]);
  expect(shop.app.server.listening).toBe(true);
  const anonymous = await shop.request({ method: "POST", path: "/admin/maintenance", body: { writes: "fenced" } });
  expect(anonymous.status).toBe(401);
  expect(shop.app.writeFence.state).toBe("open");
});

test("reads carry no fence: only the shop's writes under /api hold", async () => {
  const routes = routeHooks(shop.app.printRoutes({ includeHooks: true, commonPrefix: false }));
  const fenced = [...routes]
    .filter(([, hooks]) => hooks.includes("preHandler:holdWhileFenced()"))
    .map(([route]) => route)
    .sort();
  expect(fenced).toEqual([
    "DELETE /api/cart/items/:productId",
    "PATCH /api/products/:id",
    "POST /api/cart/items",
    "POST /api/checkout",
    "POST /api/products",
  ]);
  // The product page's hooks, the hottest read, are the same whatever the fence's state.
  expect(routes.get("GET /api/products/:id")?.filter((hook) => hook.startsWith("preHandler"))).toEqual([]);
});

/**
 * One request through `agent`; by default on a connection of its own, as a client that has not talked to the
 * server before.
 */
function send(
  url: string,
  method: string,
  path: string,
  options: { body?: object; headers?: Record<string, string>; agent?: http.Agent } = {},
): Promise<HttpResponse> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (payload)
    Object.assign(headers, { "content-type": "application/json", "content-length": `${Buffer.byteLength(payload)}` });
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}${path}`, { method, agent: options.agent ?? false, headers }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json: () => JSON.parse(text) }),
      );
    });
    request.on("error", reject);
    request.end(payload);
  });
}

test("moved: held writes get 307 and Connection: close; fetch repeats them on the port's new server", async () => {
  const env = (port: string, extra: Record<string, string> = {}) =>
    loadConfig(testEnv(suite.db, { PORT: port, LISTEN_REUSE_PORT: "true", ...extra }));
  const old = await startServer(env("0"), testLogger());
  servers.push(old);
  const port = new URL(old.address).port;
  // The operator's connection to the old server, kept open: once two servers share the port, a new connection
  // may reach either.
  const operator = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const toOld = (writes: string) =>
    send(old.address, "POST", "/admin/maintenance", { body: { writes }, headers: admin, agent: operator });
  try {
    expect((await toOld("fenced")).json()).toMatchObject({ writes: "fenced", held: 0 });
    const raw = send(old.address, "POST", "/api/cart/items", { body: { productId: 90, quantity: 1 } });
    const fetched = fetch(`${old.address}/api/products/91`, {
      method: "PATCH",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ priceCents: 4321 }),
    });
    await pollUntil("both writes to be held", async () => old.app.writeFence.held === 2);

    // Without LISTEN_REUSE_PORT a second server cannot bind the port; with it, it can.
    await expect(startServer(loadConfig(testEnv(suite.db, { PORT: port })), testLogger())).rejects.toMatchObject({
      code: "EADDRINUSE",
    });
    const successor = await startServer(env(port), testLogger());
    servers.push(successor);

    const moved = await toOld("moved");
    expect([moved.status, moved.json(), moved.headers.connection]).toEqual([
      200,
      { writes: "moved", held: 2, pid: process.pid },
      "close",
    ]);
    expect(old.app.server.listening).toBe(false);
    const redirected = await raw;
    expect([redirected.status, redirected.headers.location, redirected.headers.connection]).toEqual([
      307,
      "/api/cart/items",
      "close",
    ]);
    const repeated = await fetched;
    expect([
      repeated.status,
      repeated.redirected,
      ((await repeated.json()) as { priceCents: number }).priceCents,
    ]).toEqual([200, true, 4321]);
    expect(await priceOf(91)).toBe(4321);
    // Only the successor listens now, and takes the shop's writes; the old server stays replaced.
    expect((await send(old.address, "GET", "/api/products/91")).status).toBe(200);
    expect(successor.app.writeFence.state).toBe("open");
    expect(() => old.app.writeFence.set("open")).toThrow("This server has been replaced");
  } finally {
    operator.destroy();
  }
});

test("LISTEN_REUSE_PORT is refused at start on a Node.js that would ignore it", () => {
  const env = testEnv(suite.db, { LISTEN_REUSE_PORT: "true" });
  for (const version of ["20.20.2", "22.11.0", "23.0.0"]) {
    let error: unknown;
    try {
      loadConfig(env, version);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      `LISTEN_REUSE_PORT: needs Node.js 22.12 or later (23.1 or later on 23); this is ${version}`,
    ]);
  }
  for (const version of ["22.12.0", "23.1.0", "24.0.0", process.versions.node])
    expect(loadConfig(env, version).LISTEN_REUSE_PORT).toBe(true);
  expect(loadConfig(testEnv(suite.db), "20.20.2").LISTEN_REUSE_PORT).toBe(false);
});
