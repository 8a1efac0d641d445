/**
 * End to end, step 11: two regions (web, workers, cache each) behind a geo router that reads X-Geo-Continent as
 * geolocation DNS would place the shopper. A European shopper is served by eu-west-1 from the first request to the
 * confirmed order; any other shopper by us-east-1.
 */
import { pollUntil } from "../../../lib/servers/poll";
import { BrowserShopper, journey } from "./support/journey";
import { type Topology, startTopology } from "./support/local-topology";
import { buyTwo, closeStorefront, openStorefront } from "./support/storefront";
import { launchChromium } from "../../../lib/browser/chromium";
import type { Browser } from "playwright-core";
import { startAll } from "../support/start-all";

jest.setTimeout(180_000);
const PORT = 22200;
let topology: Topology;
let browser: Browser;

beforeAll(async () => {
  [topology, browser] = await startAll([
    [startTopology(11, PORT), (t) => t.stop()],
    [launchChromium(), (b) => b.close()],
  ]);
});
afterAll(async () => {
  await browser?.close();
  await topology?.stop();
});

test("a shopper in Europe is served by eu-west-1, and the order is confirmed", async () => {
  const result = await journey(new BrowserShopper(topology.entryUrl, { "x-geo-continent": "EU" }));
  expect(result.placedAs).toBe("pending");
  expect([...result.regions]).toEqual(["eu-west-1"]);
});

test("a shopper in North America, and one the header does not place, are served by us-east-1", async () => {
  const na = await journey(new BrowserShopper(topology.entryUrl, { "x-geo-continent": "NA" }));
  expect([...na.regions]).toEqual(["us-east-1"]);
  const unknown = await journey(new BrowserShopper(topology.entryUrl), { productIndex: 1 });
  expect([...unknown.regions]).toEqual(["us-east-1"]);
});

test("every service of both regions runs, each region with its own web processes, worker and Redises", async () => {
  const services = await topology.status();
  for (const region of ["us-east-1", "eu-west-1"]) {
    const mine = services.filter((s) => s.region === region);
    expect(mine.filter((s) => s.kind === "web")).toHaveLength(2);
    expect(mine.filter((s) => s.kind === "worker")).toHaveLength(1);
    // The product cache's and the sessions' own (noeviction), as each region has two Valkey groups on AWS. The
    // primary region keeps the names it had before step 11 (its servers run on through the 10 → 11 climb).
    const suffix = region === "us-east-1" ? "" : `-${region}`;
    expect(
      mine
        .filter((s) => s.kind === "redis")
        .map((s) => s.name)
        .sort(),
    ).toEqual([`redis${suffix}`, `redis-sessions${suffix}`].sort());
  }
  expect(services.filter((s) => !s.running).map((s) => s.name)).toEqual([]);
});

// Issue 15, item 4: a shared dependency down in one region degrades that region's answers; it never takes the
// region out of rotation (the geo router checks each region's /readyz, as Route 53 counts the ALB's healthy hosts).
// Before /readyz stayed 200 for Redis (09b9d27), stopping us-east-1's Redis sent every shopper to eu-west-1.
test("us-east-1's Redises stopped: its carts answer 503, it stays in rotation for reads; back, it sells", async () => {
  const here = new BrowserShopper(topology.entryUrl);
  const europe = new BrowserShopper(topology.entryUrl, { "x-geo-continent": "EU" });
  for (const redis of ["redis-sessions", "redis"])
    expect(await topology.fault("redis-stop", redis)).toContain(`stopped ${redis}`);
  try {
    // Wait until us-east-1's servers see it (their /readyz, which the geo router checks, lists it as down).
    await pollUntil("us-east-1 to report its Redises down", async () => {
      const ready = await here.get("/readyz");
      const checks = ready.json<{ checks?: Array<{ name: string; ok: boolean }> }>().checks ?? [];
      return ready.status === 200 && checks.some((c) => c.name === "session-redis" && !c.ok);
    });
    // Several of the geo router's checks (every 1 s, out after 2 failures) while shoppers browse.
    const answers: string[] = [];
    const until = Date.now() + 4000;
    for (let i = 0; Date.now() < until; i++) {
      const page = await here.get(`/api/products/${1 + (i % 50)}`);
      answers.push(`${page.status} ${here.lastRegion}`);
    }
    expect(new Set(answers)).toEqual(new Set(["200 us-east-1"]));
    const cart = await here.post("/api/cart/items", { productId: 3, quantity: 1 });
    expect([cart.status, here.lastRegion]).toEqual([503, "us-east-1"]);
    // The other region's Redises are its own.
    expect((await europe.post("/api/cart/items", { productId: 3, quantity: 1 })).status).toBe(200);
    expect(europe.lastRegion).toBe("eu-west-1");
  } finally {
    for (const redis of ["redis-sessions", "redis"]) await topology.fault("redis-start", redis).catch(() => undefined);
  }
  await pollUntil("us-east-1 carts to work again", async () => {
    return (await here.post("/api/cart/items", { productId: 3, quantity: 1 })).status === 200;
  });
  expect(here.lastRegion).toBe("us-east-1");
});

test("in a real browser, a shopper in Europe buys two and sees the order pending, then confirmed", async () => {
  const visit = await openStorefront(browser, topology.entryUrl, { "x-geo-continent": "EU" });
  const purchase = await buyTwo(visit.page, "toys");
  // The queue (step 8 on): checkout answers pending, and the page reads the order until the worker confirms it.
  expect(purchase.checkoutStatus).toBe(202);
  expect(purchase.state).toBe("Confirmed: the order worker has confirmed your order.");
  expect(purchase.served).toMatchObject({ Region: "eu-west-1", Shard: expect.stringMatching(/^shard-\d$/) });
  expect(purchase.served.Process).toMatch(/^web-eu-west-1-\d$/);
  await closeStorefront(visit, "storefront-step-11");
});
