/**
 * End to end, live climbs from step 1 to 3 (`POST /climb`), under a steady load of shoppers with cookie jars.
 *
 * 1 → 2 moves the catalog from the web server's own PostgreSQL (`server`) into the new database (`primary`) with
 * moveDatabase, fences writes on the old server for the cutover and starts the step-2 server on the same port:
 * every order and product arrives (counts and checksums of each table, equal on both sides), a write held by the
 * fence is answered with a 307 to its own URL and, repeated, is served by the new server, once; no shopper sees a
 * failure (the browser follows the 307) and no cart is lost (the old server hands its sessions over).
 *
 * 2 → 3 starts HAProxy on the same entry port beside the step-2 server (SO_REUSEPORT on both) and a fleet behind
 * it: no request fails, no cart is lost.
 */
import http from "node:http";
import { BrowserShopper, journey } from "./support/journey";
import { moreRequests, startLoad, stopLoads } from "./support/load";
import { type Topology, catalogFingerprint, startTopology } from "./support/local-topology";

jest.setTimeout(240_000);
const PORT = 23700;
let topology: Topology;

beforeAll(async () => {
  topology = await startTopology(1, PORT);
});
afterEach(() => stopLoads());
afterAll(async () => {
  await topology?.stop();
});

/**
 * One shopper who writes to the cart in a loop (one more unit of a product, or the line removed once it holds ten,
 * so stock is never the limit), on a new connection each time, and never follows a redirect itself: it sees the
 * fence's 307, checks it names the same URL, and repeats the request there. `quantity` is what the cart must hold.
 */
function writeProbe(entryUrl: string) {
  let running = true;
  let cookie = "";
  const seen = { writes: 0, redirected: 0, quantity: 0, failures: [] as string[] };
  const send = (method: string, path: string) =>
    new Promise<{ status: number; location?: string; body: string }>((resolve) => {
      const payload = method === "POST" ? JSON.stringify({ productId: 90, quantity: 1 }) : "";
      const req = http.request(
        `${entryUrl}${path}`,
        {
          method,
          agent: false,
          headers: {
            ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
            origin: entryUrl,
            "sec-fetch-site": "same-origin",
            ...(cookie ? { cookie } : {}),
          },
        },
        (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => {
            const set = res.headers["set-cookie"]?.[0];
            if (set) cookie = set.split(";", 1)[0];
            resolve({ status: res.statusCode ?? 0, location: res.headers.location, body });
          });
        },
      );
      req.on("error", (e) => resolve({ status: 0, body: e.message }));
      req.end(payload);
    });
  const loop = (async () => {
    while (running) {
      const [method, path] = seen.quantity >= 10 ? ["DELETE", "/api/cart/items/90"] : ["POST", "/api/cart/items"];
      let answer = await send(method, path);
      if (answer.status === 307) {
        seen.redirected++;
        if (answer.location !== `${entryUrl}${path}` && answer.location !== path)
          seen.failures.push(`307 to ${answer.location}`);
        answer = await send(method, path);
      }
      if (answer.status !== 200) seen.failures.push(`${answer.status} ${method} ${answer.body.slice(0, 160)}`);
      else {
        seen.writes++;
        seen.quantity = method === "POST" ? seen.quantity + 1 : 0;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    cookie: () => cookie,
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

test("1 → 2 keeps every order and product, and a write held by the fence is answered after the cutover", async () => {
  for (let i = 0; i < 3; i++) await journey(new BrowserShopper(topology.entryUrl), { productIndex: i });
  const before = await catalogFingerprint(await topology.db("server"));
  expect(before.orders).toMatch(/^3 rows/);

  const load = startLoad(topology.entryUrl, 3);
  await moreRequests(load, 60);
  const probe = writeProbe(topology.entryUrl);
  const report = await topology.climb(2);
  const seen = await probe.stop();
  await moreRequests(load, 60);
  const result = await load.stop();

  expect(report).toMatchObject({ from: 1, to: 2, seamless: false });
  expect(report.phases.map((p) => p.name)).toEqual(
    expect.arrayContaining(["move database (bulk)", "write fence", "move database (catch-up)", "cutover"]),
  );
  expect(await catalogFingerprint(await topology.db("primary"))).toEqual(before);
  expect(seen.failures).toEqual([]);
  expect(seen.redirected).toBeGreaterThan(0);
  // Each write ran once: the held ones on the new server only.
  const cart = await new Promise<string>((resolve, reject) =>
    http
      .get(`${topology.entryUrl}/api/cart`, { agent: false, headers: { cookie: probe.cookie() } }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve(body));
      })
      .on("error", reject),
  );
  expect(JSON.parse(cart).items).toEqual(
    seen.quantity === 0 ? [] : [expect.objectContaining({ productId: 90, quantity: seen.quantity })],
  );
  expect(seen.writes).toBeGreaterThan(seen.redirected);
  expect(result.failures).toEqual([]);
  expect(result.lostCarts).toEqual([]);

  const services = await topology.status();
  expect(services.find((s) => s.name === "server")).toBeUndefined();
  expect(services.find((s) => s.name === "primary")).toMatchObject({ kind: "postgres primary", running: true });
});

test("2 → 3 on the same entry port: HAProxy in front, no request fails and no cart is lost", async () => {
  const load = startLoad(topology.entryUrl, 4);
  await moreRequests(load, 100);
  const report = await topology.climb(3);
  await moreRequests(load, 100);
  const result = await load.stop();
  expect(result.failures).toEqual([]);
  expect(result.lostCarts).toEqual([]);
  expect(report).toMatchObject({ from: 2, to: 3, seamless: true });
  const services = await topology.status();
  expect(services.find((s) => s.name === "haproxy")).toMatchObject({ url: topology.entryUrl, running: true });
  expect(services.filter((s) => s.kind === "web" && s.running).map((s) => s.name)).toEqual(["web-1", "web-2"]);
});
