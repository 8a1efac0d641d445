/**
 * End to end, step 11: two regions (web, workers, cache each) behind a geo router that reads X-Geo-Continent as
 * geolocation DNS would place the shopper. A European shopper is served by eu-west-1 from the first request to the
 * confirmed order; any other shopper by us-east-1.
 */
import { BrowserShopper, journey } from "./support/journey";
import { type Topology, startTopology } from "./support/local-topology";

jest.setTimeout(180_000);
const PORT = 22200;
let topology: Topology;

beforeAll(async () => {
  topology = await startTopology(11, PORT);
});
afterAll(async () => {
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
