/**
 * End to end, step 7: sessions in a Redis of their own (noeviction) and a round-robin load balancer. A shopper's
 * journey; a web process killed under load (its cart survives, fewer than 1% of requests fail); the cache's Redis
 * stopped (catalog reads keep succeeding, carts untouched); where the sessions live.
 */
import { sendCommand } from "../../../lib/servers/redis-server";
import { pollUntil } from "../../../lib/servers/poll";
import { BrowserShopper, journey } from "./support/journey";
import { type Topology, startTopology } from "./support/local-topology";
import { buyTwo, closeStorefront, openStorefront } from "./support/storefront";
import { launchChromium } from "../../../lib/browser/chromium";
import type { Browser } from "playwright-core";
import { startAll } from "../support/start-all";

jest.setTimeout(180_000);
const PORT = 21600;
let topology: Topology;
let browser: Browser;

beforeAll(async () => {
  [topology, browser] = await startAll([
    [startTopology(7, PORT), (t) => t.stop()],
    [launchChromium(), (b) => b.close()],
  ]);
});
afterAll(async () => {
  await browser?.close();
  await topology?.stop();
});

test("a shopper browses, buys and sees the order placed, served by any web process", async () => {
  const result = await journey(new BrowserShopper(topology.entryUrl));
  expect(result.placedAs).toBe("placed");
});

test("a web process killed under load: the cart survives and fewer than 1% of requests fail", async () => {
  const keeper = new BrowserShopper(topology.entryUrl);
  expect((await keeper.post("/api/cart/items", { productId: 3, quantity: 2 })).status).toBe(200);

  // Eight shoppers browse and fill carts without pause; the kill lands once 300 requests are done, and the load
  // goes on until 900 more have been answered after it (the killed process is back by then).
  const shoppers = Array.from({ length: 8 }, () => new BrowserShopper(topology.entryUrl));
  let total = 0;
  let failed = 0;
  const failures: string[] = [];
  let killedAt: number | undefined;
  let kill: Promise<string> | undefined;
  const done = () => killedAt !== undefined && total >= killedAt + 900;
  await Promise.all(
    shoppers.map(async (shopper, n) => {
      for (let i = 0; !done(); i++) {
        const request =
          i % 4 === 3
            ? shopper.post("/api/cart/items", { productId: 1 + ((n + i) % 20), quantity: 1 })
            : i % 4 === 2
              ? shopper.get("/api/cart")
              : shopper.get(`/api/products/${1 + ((n * 7 + i) % 100)}`);
        const response = await request.catch((error: Error) => ({ status: 0, text: error.message }));
        total++;
        // A full cart (409) is the shop's answer, not a failure.
        if (response.status !== 200 && response.status !== 409) {
          failed++;
          if (failures.length < 10) failures.push(`${response.status} ${response.text.slice(0, 120)}`);
        }
        if (killedAt === undefined && total >= 300) {
          killedAt = total;
          kill = topology.fault("web-kill", "web-1");
        }
      }
    }),
  );
  expect(await kill).toContain("killed web-1");
  if (failed / total >= 0.01)
    throw new Error(`${failed} of ${total} requests failed; the first: ${failures.join(" | ")}`);
  expect(failed / total).toBeLessThan(0.01);

  // The cart lives in Redis: whichever process answers (round-robin over both), it is intact.
  for (let i = 0; i < 4; i++) {
    const cart = await keeper.get("/api/cart");
    expect(cart.status).toBe(200);
    expect(cart.json<{ items: Array<{ productId: number; quantity: number }> }>().items).toEqual([
      expect.objectContaining({ productId: 3, quantity: 2 }),
    ]);
  }
  // The supervisor brings the killed process back; wait for the restart to be counted rather than racing it.
  await pollUntil(
    "web-1 to be restarted by the supervisor",
    async () => ((await topology.status()).find((s) => s.name === "web-1")?.restarts ?? 0) >= 1,
  );
  const killed = (await topology.status()).find((s) => s.name === "web-1")!;
  expect(killed.restarts).toBeGreaterThanOrEqual(1);
});

test("the cache's Redis stopped: catalog reads keep succeeding, carts are untouched; back, shoppers buy", async () => {
  const browser = new BrowserShopper(topology.entryUrl);
  const keeper = new BrowserShopper(topology.entryUrl);
  expect((await keeper.post("/api/cart/items", { productId: 5, quantity: 1 })).status).toBe(200);
  expect(await topology.fault("redis-stop")).toContain("stopped redis");
  // The sessions live in their own Redis: the cart is still there while the cache is down.
  expect((await keeper.get("/api/cart")).json<{ items: unknown[] }>().items).toEqual([
    expect.objectContaining({ productId: 5, quantity: 1 }),
  ]);
  const statuses: number[] = [];
  for (let i = 0; i < 40; i++) {
    statuses.push((await browser.get(`/api/products/${1 + i}`)).status);
    statuses.push((await browser.get("/api/products?category=books&limit=10")).status);
  }
  statuses.push((await browser.get("/")).status);
  expect(statuses.filter((s) => s !== 200)).toEqual([]);

  await topology.fault("redis-start");
  // The app reconnects to the restarted (empty) cache on its own.
  let result;
  for (let attempt = 0; !result; attempt++) {
    result = await journey(new BrowserShopper(topology.entryUrl)).catch((error: Error) => {
      if (attempt > 25) throw error;
      return new Promise<undefined>((r) => setTimeout(() => r(undefined), 200));
    });
  }
  expect(result.placedAs).toBe("placed");
});

test("sessions live in their own redis-server under noeviction; the cache's holds none", async () => {
  const shopper = new BrowserShopper(topology.entryUrl);
  expect((await shopper.post("/api/cart/items", { productId: 7, quantity: 1 })).status).toBe(200);
  const redis = async (name: string, ...command: string[]) => {
    const service = (await topology.status()).find((s) => s.name === name);
    if (!service) throw new Error(`no service ${name}`);
    return sendCommand(Number(new URL(service.url).port), command, topology.secrets.redisPassword);
  };
  expect(await redis("redis-sessions", "CONFIG", "GET", "maxmemory-policy")).toContain("noeviction");
  expect(await redis("redis", "CONFIG", "GET", "maxmemory-policy")).toContain("allkeys-lru");
  const count = (name: string, pattern: string) =>
    redis(name, "EVAL", `return #redis.call('KEYS', '${pattern}')`, "0").then((reply) => Number(reply.slice(1)));
  expect(await count("redis-sessions", "shop:sess:*")).toBeGreaterThan(0);
  expect(await count("redis-sessions", "shop:cache:*")).toBe(0);
  expect(await count("redis", "shop:sess:*")).toBe(0);
});

test("in a real browser, a shopper finds a product, adds two, checks out and sees the order placed", async () => {
  const visit = await openStorefront(browser, topology.entryUrl);
  const purchase = await buyTwo(visit.page, "electronics");
  expect(purchase.checkoutStatus).toBe(201);
  expect(purchase.state).toBe("Placed: your order is confirmed.");
  // Round robin over the fleet: any web process may answer; the history is read from a replica.
  expect(purchase.served).toMatchObject({ Region: "us-east-1", Shard: "main" });
  expect(purchase.served.Process).toMatch(/^web-\d$/);
  await closeStorefront(visit, "storefront-step-07");
});
