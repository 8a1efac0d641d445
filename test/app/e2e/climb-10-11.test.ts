/**
 * End to end, a live climb from step 10 to 11 (`POST /climb`): a second region and a geo router on the entry port.
 * European shoppers (X-Geo-Continent: EU), served by us-east-1 until then, are moved to eu-west-1 mid-visit, as
 * geolocation DNS moves them: no request fails (the new region's processes take no traffic before they run), and
 * the carts are there (the first region's sessions are copied into the new region's Redis just before they do).
 *
 * What the copy cannot carry: a cart write still in flight in us-east-1 at the instant of the copy (the shoppers of
 * the load below write without a pause, and one of them sometimes has a write in flight then). So the European cart
 * checked is the keeper's, which no request changes during the climb; the load's European shoppers are checked for
 * failed requests.
 */
import { Browser } from "../../../scripts/climb/browser";
import { moreRequests, startLoad, stopLoads } from "./support/load";
import { type Topology, startTopology } from "./support/local-topology";

jest.setTimeout(240_000);
const PORT = 24600;
const EU = { "x-geo-continent": "EU" };
let topology: Topology;

beforeAll(async () => {
  topology = await startTopology(10, PORT);
});
afterEach(() => stopLoads());
afterAll(async () => {
  await topology?.stop();
});

test("10 → 11 under load: European shoppers move to eu-west-1 with their carts, and no request fails", async () => {
  const keeper = new Browser(topology.entryUrl, EU);
  expect((await keeper.post("/api/cart/items", { productId: 55, quantity: 3 })).status).toBe(200);
  expect((await keeper.get("/api/cart")).headers["x-shop-region"]).toBe("us-east-1");
  const europe = startLoad(topology.entryUrl, 3, { headers: EU });
  const home = startLoad(topology.entryUrl, 2, { first: 3 });
  await moreRequests(europe, 60);
  const report = await topology.climb(11);
  await moreRequests(europe, 100);
  const [eu, us] = [await europe.stop(), await home.stop()];

  expect(eu.failures).toEqual([]);
  expect({ failures: us.failures, lostCarts: us.lostCarts }).toEqual({ failures: [], lostCarts: [] });
  expect(report).toMatchObject({ from: 10, to: 11, seamless: true });
  expect(report.phases.find((p) => p.name === "open eu-west-1")?.detail).toMatch(/^\d+ sessions copied/);
  const cart = await keeper.get("/api/cart");
  expect(cart.headers["x-shop-region"]).toBe("eu-west-1");
  expect(cart.json<{ items: unknown[] }>().items).toEqual([expect.objectContaining({ productId: 55, quantity: 3 })]);
  const services = await topology.status();
  expect(services.filter((s) => !s.running).map((s) => s.name)).toEqual([]);
  expect(services.filter((s) => s.region === "eu-west-1" && s.kind === "web").map((s) => s.name)).toEqual([
    "web-eu-west-1-1",
    "web-eu-west-1-2",
  ]);
});
