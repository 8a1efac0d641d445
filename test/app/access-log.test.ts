/**
 * The access log (app/src/http/access-log.ts): one line per request with the request id, method, route pattern,
 * status, duration, region and the tiers that served it; health checks only at debug, a readiness change logged
 * once with its reason; 4xx on one line without a stack, 5xx at error with the error.
 */
import { get as httpGet } from "node:http";
import { type Server, type Socket, connect, createServer } from "node:net";
import { Writable } from "node:stream";
import pino from "pino";
import { pollUntil } from "../../lib/servers/poll";
import { freePort } from "../../lib/servers/postgres-cluster";
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { Shopper } from "./support/shopper";

type Line = Record<string, unknown>;

/** A logger at `level` whose lines land, parsed, in `lines`. */
function capture(level: "info" | "debug") {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split("\n")) if (text.trim() !== "") lines.push(JSON.parse(text));
      done();
    },
  });
  return { lines, logger: pino({ level, formatters: { level: (label) => ({ level: label }) } }, sink) };
}

let suite: Suite;
let redis: RedisServer;
const shops: ShopInstance[] = [];
const proxies: Server[] = [];
const proxySockets = new Set<Socket>();

/** Keeps `server` to close after the apps, with every connection it accepted. */
function tracked(server: Server): Server {
  proxies.push(server);
  server.on("connection", (socket: Socket) => {
    proxySockets.add(socket);
    socket.on("close", () => proxySockets.delete(socket));
  });
  return server;
}

/** An app on the suite's database with `env` on top, logging into a fresh capture at `level`. */
async function shop(env: Record<string, string> = {}, level: "info" | "debug" = "info") {
  const { lines, logger } = capture(level);
  const instance = await startShop(suite, { AWS_REGION: "eu-west-1", ...env }, { logger });
  shops.push(instance);
  let next = 0;
  /** Sends a request with a fresh request id; resolves with the response and every line that carries the id. */
  const send = async (path: string, options: { method?: string; body?: object; cookie?: Shopper } = {}) => {
    const id = `access-log-test-${++next}-${Date.now()}`;
    const headers = { "x-request-id": id };
    const response = options.cookie
      ? await options.cookie.send(options.method ?? "GET", path, options.body, headers)
      : await instance.request({ method: options.method ?? "GET", path, body: options.body, headers });
    return { response, id, lines: () => lines.filter((line) => line.requestId === id) };
  };
  /** The one access line of request `id`, once written (the line follows the response's last byte). */
  const accessLine = async (id: string): Promise<Line> => {
    await pollUntil(`the access line of ${id}`, async () =>
      lines.some((line) => line.requestId === id && line.msg === "request completed"),
    );
    return lines.find((line) => line.requestId === id && line.msg === "request completed")!;
  };
  return { instance, lines, send, accessLine };
}

beforeAll(async () => {
  redis = await startRedisServer();
  suite = await openSuite("access-log");
});
afterAll(async () => {
  for (const instance of shops) await instance.close();
  for (const socket of proxySockets) socket.destroy();
  for (const proxy of proxies) await new Promise((resolve) => proxy.close(resolve));
  await suite?.close();
  await redis?.stop();
});

/** Lets the request's other lines, if any, arrive: a line is written after the response is sent. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

test("one line per request: id, method, route pattern (no query string), status, ms, region, database", async () => {
  const s = await shop();
  const { response, id, lines } = await s.send("/api/products?category=garden&limit=3");
  expect(response.status).toBe(200);
  const line = await s.accessLine(id);
  await settle();
  expect(lines()).toEqual([line]);
  expect(line).toMatchObject({
    level: "info",
    requestId: id,
    region: "eu-west-1",
    method: "GET",
    route: "/api/products",
    status: 200,
    db: "replica-1",
    msg: "request completed",
  });
  expect(typeof line.ms).toBe("number");
  expect(JSON.stringify(line)).not.toContain("garden");

  const product = await s.send("/api/products/5");
  expect(await s.accessLine(product.id)).toMatchObject({ route: "/api/products/:id", status: 200 });
});

test("the shard of a shopper's orders, and the replica that read them, are recorded", async () => {
  const s = await shop();
  const shopper = new Shopper(s.instance);
  // A shopper with a session (a cookie-less read answers an empty list without asking any database).
  expect((await shopper.post("/api/cart/items", { productId: 3, quantity: 1 })).status).toBe(200);
  const orders = await s.send("/api/orders", { cookie: shopper });
  expect(orders.response.status).toBe(200);
  expect(await s.accessLine(orders.id)).toMatchObject({ route: "/api/orders", shard: "main", db: "replica-1" });
  const checkout = await s.send("/api/checkout", { method: "POST", cookie: shopper });
  expect(checkout.response.status).toBe(201);
  expect(await s.accessLine(checkout.id)).toMatchObject({ route: "/api/checkout", status: 201, shard: "main" });
});

test("the product cache's answer is recorded: a miss read from the replica, then a hit", async () => {
  const s = await shop({ REDIS_URL: redis.url });
  const first = await s.send("/api/products/11");
  expect(first.response.status).toBe(200);
  expect(await s.accessLine(first.id)).toMatchObject({ route: "/api/products/:id", cache: "miss", db: "replica-1" });
  const again = await s.send("/api/products/11");
  const hit = await s.accessLine(again.id);
  expect(hit).toMatchObject({ cache: "hit", status: 200 });
  expect(hit).not.toHaveProperty("db");

  const page = await s.send("/api/products?category=books&limit=4");
  expect(await s.accessLine(page.id)).toMatchObject({ route: "/api/products", cache: "miss", db: "replica-1" });
  const pageAgain = await s.send("/api/products?category=books&limit=4");
  expect(await s.accessLine(pageAgain.id)).toMatchObject({ cache: "hit" });
});

test("health checks write no line at info, one at debug", async () => {
  const s = await shop();
  const healthz = await s.send("/healthz");
  const readyz = await s.send("/readyz");
  const product = await s.send("/api/products/2");
  expect([healthz.response.status, readyz.response.status]).toEqual([200, 200]);
  await s.accessLine(product.id);
  await settle();
  expect([...healthz.lines(), ...readyz.lines()]).toEqual([]);

  const verbose = await shop({}, "debug");
  const checked = await verbose.send("/readyz");
  const line = await verbose.accessLine(checked.id);
  expect(line).toMatchObject({ level: "debug", route: "/readyz", status: 200 });
  await settle();
  expect(checked.lines()).toEqual([line]);
});

test("a failing database is logged with its reason when the readiness state changes, not on every check", async () => {
  // The replica's address leads to a port where nothing listens yet; later a proxy to the real replica opens there.
  // The primary answers, so /readyz stays 200 (degraded) throughout: only the log tells the replica's story.
  const port = await freePort();
  const replica = new URL(suite.db.replicaUrl);
  const s = await shop({ DATABASE_REPLICA_URLS: `${suite.db.replicaUrl.replace(/:\d+\//, `:${port}/`)}` });
  const readiness = () =>
    s.lines.filter((line) => line.msg === "degraded" || line.msg === "not ready" || line.msg === "ready again");

  for (let i = 0; i < 3; i++) {
    const checked = await s.send("/readyz");
    expect([checked.response.status, checked.response.json().status]).toEqual([200, "degraded"]);
  }
  await settle();
  expect(readiness()).toHaveLength(1);
  const [degraded] = readiness();
  expect(degraded).toMatchObject({ level: "warn", msg: "degraded", failing: [{ name: "replica-1", ok: false }] });
  expect(String((degraded.failing as Array<{ error?: string }>)[0].error)).toMatch(/ECONNREFUSED|connect/);

  const proxy = createServer((client: Socket) => {
    const upstream = connect(Number(replica.port), replica.hostname);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  tracked(proxy);
  await new Promise<void>((resolve) => proxy.listen(port, "127.0.0.1", resolve));
  expect((await s.send("/readyz")).response.status).toBe(200);
  expect((await s.send("/readyz")).response.status).toBe(200);
  await settle();
  expect(readiness().map((line) => [line.level, line.msg])).toEqual([
    ["warn", "degraded"],
    ["info", "ready again"],
  ]);
});

test("a 4xx is one info line with the error code and no stack", async () => {
  const s = await shop();
  const missing = await s.send("/api/products/999999");
  expect(missing.response.status).toBe(404);
  const invalid = await s.send("/api/cart/items", { method: "POST", body: { productId: "two", quantity: 1 } });
  expect(invalid.response.status).toBe(400);
  const nowhere = await s.send("/api/nope?email=someone@example.com");
  expect(nowhere.response.status).toBe(404);
  const lines = [await s.accessLine(missing.id), await s.accessLine(invalid.id), await s.accessLine(nowhere.id)];
  await settle();
  for (const request of [missing, invalid, nowhere]) expect(request.lines()).toHaveLength(1);
  expect(lines).toEqual([
    expect.objectContaining({ level: "info", route: "/api/products/:id", status: 404, error: "product_not_found" }),
    expect.objectContaining({ level: "info", route: "/api/cart/items", status: 400, error: "validation_failed" }),
    expect.objectContaining({ level: "info", status: 404, error: "not_found", reason: "No route for GET /api/nope" }),
  ]);
  for (const line of lines) expect(line).not.toHaveProperty("err");
  expect(lines[2]).not.toHaveProperty("route");
  expect(JSON.stringify(lines)).not.toContain("someone@example.com");
});

test("a 5xx is one error line that carries the error", async () => {
  const port = await freePort();
  const s = await shop({ DATABASE_URL: suite.db.primaryUrl.replace(/:\d+\//, `:${port}/`) });
  const shopper = new Shopper(s.instance);
  expect((await shopper.post("/api/cart/items", { productId: 1, quantity: 1 })).status).toBe(200);
  const checkout = await s.send("/api/checkout", { method: "POST", cookie: shopper });
  expect(checkout.response.status).toBe(503);
  const line = await s.accessLine(checkout.id);
  await settle();
  expect(checkout.lines()).toEqual([line]);
  expect(line).toMatchObject({
    level: "error",
    route: "/api/checkout",
    status: 503,
    error: "primary_unavailable",
    shard: "main",
    err: { message: expect.stringMatching(/ECONNREFUSED|connect/), stack: expect.any(String) },
  });
});

test("a request its client abandons is one line, 'request aborted', with its route and its time so far", async () => {
  // A replica that accepts connections and never answers: the read waits until the client has gone.
  const silent = createServer((socket) => socket.on("error", () => undefined));
  tracked(silent);
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const port = (silent.address() as { port: number }).port;
  const s = await shop({
    DATABASE_REPLICA_URLS: suite.db.replicaUrl.replace(/:\d+\//, `:${port}/`),
    DB_CONNECT_TIMEOUT_MS: "1000",
  });
  const id = `access-log-abandoned-${Date.now()}`;
  const request = httpGet({
    host: "127.0.0.1",
    port: new URL(s.instance.url).port,
    path: "/api/products/4",
    headers: { "x-request-id": id },
  });
  request.on("error", () => undefined);
  await new Promise((resolve) => setTimeout(resolve, 300));
  request.destroy();
  await pollUntil("the aborted line", async () => s.lines.some((line) => line.requestId === id));
  // The read then fails over to the primary and the handler answers a socket that is gone: still one line.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const lines = s.lines.filter((line) => line.requestId === id);
  expect(lines).toEqual([
    expect.objectContaining({ level: "info", msg: "request aborted", aborted: true, route: "/api/products/:id" }),
  ]);
  expect(lines[0].ms).toBeGreaterThanOrEqual(250);
  expect(lines[0]).not.toHaveProperty("status");
});
