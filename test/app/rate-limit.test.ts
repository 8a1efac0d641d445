/**
 * Rate limits (app/src/http/rate-limit.ts): past its limit a client address gets 429 with Retry-After on checkout,
 * cart writes and the admin routes (wrong tokens included), and nothing else is limited; each rejected request
 * (429, and 401 for a wrong token) logs one line without a stack; with sessions in Redis the fleet shares the
 * counts, and a Redis that is down lets requests through.
 */
import { Writable } from "node:stream";
import pino from "pino";
import { pollUntil } from "../../lib/servers/poll";
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { Shopper } from "./support/shopper";
import { ADMIN_TOKEN } from "./support/test-app";

type Line = Record<string, unknown>;

/** A logger at info whose lines land, parsed, in `lines`. */
function capture() {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split("\n")) if (text.trim() !== "") lines.push(JSON.parse(text));
      done();
    },
  });
  return { lines, logger: pino({ level: "info", formatters: { level: (label) => ({ level: label }) } }, sink) };
}

const LIMITS = {
  RATE_LIMIT_CHECKOUT_PER_MINUTE: "3",
  RATE_LIMIT_CART_PER_MINUTE: "4",
  RATE_LIMIT_ADMIN_PER_MINUTE: "5",
};

let suite: Suite;
let redis: RedisServer | undefined;
const shops: ShopInstance[] = [];
beforeAll(async () => {
  suite = await openSuite("rate_limit");
});
afterAll(async () => {
  for (const shop of shops) await shop.close();
  await redis?.stop();
  await suite?.close();
});

async function shop(env: Record<string, string>, logger = capture().logger) {
  // Behind a (pretend) load balancer: each test speaks for its own client addresses through X-Forwarded-For.
  const instance = await startShop(suite, { ...LIMITS, TRUST_PROXY: "true", ...env }, { logger });
  shops.push(instance);
  return instance;
}

/** Request headers of a client at `address`, as the load balancer forwards them. */
const from = (address: string, headers: Record<string, string> = {}) => ({ "x-forwarded-for": address, ...headers });

test("the 4th checkout in a minute from one address is a 429 with Retry-After; another address is served", async () => {
  const app = await shop({});
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    statuses.push((await app.request({ method: "POST", path: "/api/checkout", headers: from("203.0.113.1") })).status);
  }
  // An empty cart is a 409, and still a checkout: the limit counts attempts, not orders.
  expect(statuses).toEqual([409, 409, 409, 429]);
  const limited = await app.request({ method: "POST", path: "/api/checkout", headers: from("203.0.113.1") });
  expect(limited.status).toBe(429);
  const retryAfter = Number(limited.headers["retry-after"]);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(limited.json()).toMatchObject({ error: "rate_limited", details: { limit: "checkout", max: 3 } });
  // Another client's checkouts are its own.
  const other = await app.request({ method: "POST", path: "/api/checkout", headers: from("203.0.113.2") });
  expect(other.status).toBe(409);
});

test.each([
  ["behind the ALB (TRUST_PROXY=true)", "true", (forged: string) => `${forged}, 203.0.113.77`],
  ["behind CloudFront and the ALB (TRUST_PROXY=2)", "2", (forged: string) => `${forged}, 203.0.113.78, 130.176.0.1`],
])(
  "%s a client's own X-Forwarded-For entries do not make it someone else",
  async (_where, hops, forwardedFor: (forged: string) => string) => {
    const app = await shop({ TRUST_PROXY: hops });
    const statuses: number[] = [];
    for (let i = 1; i <= 4; i++) {
      // The client writes an address of its own choosing; each proxy appends the address it saw.
      const headers = { "x-forwarded-for": forwardedFor(`10.9.8.${i}`) };
      statuses.push((await app.request({ method: "POST", path: "/api/checkout", headers })).status);
    }
    expect(statuses).toEqual([409, 409, 409, 429]);
  },
);

test("cart writes count together (add and remove), per address; reads are never limited", async () => {
  const app = await shop({});
  const shopper = new Shopper(app);
  const headers = from("198.51.100.7");
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++)
    statuses.push((await shopper.send("POST", "/api/cart/items", { productId: 10 + i, quantity: 1 }, headers)).status);
  statuses.push((await shopper.send("DELETE", "/api/cart/items/10", undefined, headers)).status);
  statuses.push((await shopper.send("DELETE", "/api/cart/items/11", undefined, headers)).status);
  expect(statuses).toEqual([200, 200, 200, 200, 429]);
  for (let i = 0; i < 10; i++) {
    const read = await shopper.send("GET", "/api/products/1", undefined, headers);
    expect(read.status).toBe(200);
    expect(read.headers["retry-after"]).toBeUndefined();
  }
  expect((await shopper.send("GET", "/api/cart", undefined, headers)).status).toBe(200);
});

test("admin requests count before the token is checked: guesses are limited, and then so is the admin", async () => {
  const { lines, logger } = capture();
  const app = await shop({}, logger);
  const wrong = from("192.0.2.9", { authorization: "Bearer not-the-admin-token-at-all-0123456789" });
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++)
    statuses.push((await app.request({ path: "/api/admin/orders/recent", headers: wrong })).status);
  const guess = await app.request({
    method: "PATCH",
    path: "/api/products/1",
    headers: wrong,
    body: { stock: 1 },
  });
  const right = await app.request({
    path: "/api/admin/orders/recent",
    headers: from("192.0.2.9", { authorization: `Bearer ${ADMIN_TOKEN}` }),
  });
  expect(statuses).toEqual([401, 401, 401, 401, 401]);
  expect(guess.status).toBe(429);
  expect(right.status).toBe(429);
  expect(Number(right.headers["retry-after"])).toBeGreaterThanOrEqual(1);
  // The admin at another address is served.
  const admin = from("192.0.2.10", { authorization: `Bearer ${ADMIN_TOKEN}` });
  expect((await app.request({ path: "/api/admin/orders/recent", headers: admin })).status).toBe(200);

  // One line per rejected request, at info, with the code and no stack.
  await pollUntil("the access lines", async () => lines.filter((line) => line.msg === "request completed").length >= 8);
  const rejected = lines.filter((line) => line.status === 401 || line.status === 429);
  expect(rejected).toHaveLength(7);
  for (const line of rejected) {
    expect(line).toMatchObject({
      level: "info",
      msg: "request completed",
      error: line.status === 401 ? "unauthorized" : "rate_limited",
    });
    expect(line).not.toHaveProperty("err");
    expect(JSON.stringify(line)).not.toMatch(/\n\s+at /);
  }
  const ids = rejected.map((line) => line.requestId);
  for (const id of ids) expect(lines.filter((line) => line.requestId === id)).toHaveLength(1);
});

test("with sessions in Redis the fleet shares the counts, and a Redis that is down lets requests through", async () => {
  redis = await startRedisServer();
  const env = { REDIS_URL: redis.url, SESSION_STORE: "redis" };
  const { lines, logger } = capture();
  const a = await shop(env, logger);
  const b = await shop(env);
  const checkout = (app: ShopInstance) =>
    app.request({ method: "POST", path: "/api/checkout", headers: from("203.0.113.50") });
  const statuses = [await checkout(a), await checkout(b), await checkout(a), await checkout(b)].map((r) => r.status);
  expect(statuses).toEqual([409, 409, 409, 429]);
  const keys = (await redis.command("KEYS", "shop:ratelimit:*")).trim();
  expect(keys).toContain("checkout:203.0.113.50");

  await redis.kill();
  // Uncounted, not refused: an outage of the limiter is not an outage of checkout.
  for (let i = 0; i < 5; i++) expect((await checkout(a)).status).toBe(409);
  const warnings = lines.filter((line) => line.msg === "rate limit not counted: redis unavailable");
  expect(warnings).toHaveLength(1);
});

test("with the sessions in a Redis of their own, the counts live in the cache's, never in the sessions'", async () => {
  const cache = await startRedisServer();
  const sessions = await startRedisServer();
  try {
    const app = await shop({ REDIS_URL: cache.url, SESSION_REDIS_URL: sessions.url, SESSION_STORE: "redis" });
    expect((await app.request({ method: "POST", path: "/api/checkout", headers: from("203.0.113.70") })).status).toBe(
      409,
    );
    // The sessions' Redis never evicts: counters for every address an attacker makes up would fill it.
    expect(await cache.command("KEYS", "shop:ratelimit:*")).toContain("checkout:203.0.113.70");
    expect(await sessions.command("KEYS", "shop:ratelimit:*")).not.toContain("203.0.113.70");
  } finally {
    await cache.stop();
    await sessions.stop();
  }
});

test("a Redis that stops answering lets limited requests through (after the store's 100 ms wait)", async () => {
  const stalled = await startRedisServer();
  try {
    const app = await shop({ REDIS_URL: stalled.url, SESSION_STORE: "redis" });
    const checkout = () => app.request({ method: "POST", path: "/api/checkout", headers: from("203.0.113.60") });
    expect((await checkout()).status).toBe(409);
    stalled.pause();
    // Past the limit of 3, yet each is served: the count could not be taken.
    for (let i = 0; i < 5; i++) expect((await checkout()).status).toBe(409);
  } finally {
    stalled.resume();
    await stalled.stop();
  }
});
