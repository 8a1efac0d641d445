/**
 * REDIS_URL as AWS writes it: `rediss://:<token>@host:6379`, TLS in transit and an AUTH token. The client factory
 * must speak TLS for `rediss://` and authenticate with the URL's password; a wrong token or an untrusted
 * certificate leaves the shop serving from the database, and the token never reaches the log.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { createRedis, redisAddress } from "../../app/src/redis/client";
import { type RedisServer, makeTlsFiles, startRedisServer } from "../../lib/servers/redis-server";
import { type ShopInstance, type Suite, databaseReads, openSuite, startShop } from "./support/shop-instances";

const TOKEN = "tls-auth-token-0123456789abcdef";
let dir: string;
let tls: ReturnType<typeof makeTlsFiles>;
let server: RedisServer;
let suite: Suite;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "shop-redis-tls-"));
  tls = makeTlsFiles(dir);
  server = await startRedisServer({ password: TOKEN, tls });
  suite = await openSuite("cache_tls");
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await suite?.close();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A logger whose lines are kept, to look for what must never be logged. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

test("rediss:// with the token in the URL: TLS and AUTH, and the app caches through it", async () => {
  expect(server.url).toBe(`rediss://:${TOKEN}@127.0.0.1:${server.port}`);
  const { logger } = capturingLogger();
  const redis = createRedis({ url: server.url, logger, tls: { ca: readFileSync(tls.caFile) } });
  cleanups.push(() => redis.close());
  expect(await redis.whenReady(5000)).toBe(true);
  expect(await redis.client.ping()).toBe("PONG");

  const shop: ShopInstance = await startShop(suite, { REDIS_URL: server.url }, { redis });
  cleanups.push(() => shop.close());
  await shop.request({ path: "/api/products/3" });
  const before = databaseReads(shop.router);
  expect((await shop.request({ path: "/api/products/3" })).json().id).toBe(3);
  expect(databaseReads(shop.router)).toBe(before);
  expect(await redis.client.exists("shop:cache:v1:product:3")).toBe(1);
});

test.each([
  ["a wrong token", (url: string) => url.replace(TOKEN, "not-the-token"), true],
  ["no token", (url: string) => url.replace(`:${TOKEN}@`, ""), true],
  ["plain TCP to a TLS port", (url: string) => url.replace("rediss:", "redis:"), true],
  ["a certificate it does not trust", (url: string) => url, false],
])(
  "%s: no command gets through, the shop serves from the database, the token is not logged",
  async (_what, urlFor, trustCa) => {
    const { logger, lines } = capturingLogger();
    const redis = createRedis({
      url: urlFor(server.url),
      logger,
      tls: trustCa ? { ca: readFileSync(tls.caFile) } : undefined,
      connectTimeoutMs: 500,
    });
    cleanups.push(() => redis.close());
    // Without a token the connection itself may come up; every command is refused (NOAUTH).
    await redis.whenReady(700);
    await expect(redis.client.ping()).rejects.toThrow();
    const shop = await startShop(suite, { REDIS_URL: server.url }, { redis, logger });
    cleanups.push(() => shop.close());
    for (let i = 0; i < 3; i += 1) expect((await shop.request({ path: "/api/products/4" })).json().id).toBe(4);
    const ready = await shop.request({ path: "/readyz" });
    expect(ready.status).toBe(200);
    expect(ready.json().checks).toContainEqual({ name: "redis", ok: false, optional: true });
    await redis.close();
    expect(lines.some((line) => /redis unreachable|cache unavailable/.test(line))).toBe(true);
    expect(lines.every((line) => !line.includes(TOKEN) && !line.includes("not-the-token"))).toBe(true);
  },
);

test("logs name the server as host:port, never the URL", () => {
  expect(redisAddress(`rediss://:${TOKEN}@cache.example.internal:6380`)).toBe("cache.example.internal:6380");
  expect(redisAddress("redis://127.0.0.1")).toBe("127.0.0.1:6379");
});
