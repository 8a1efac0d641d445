/**
 * End to end, step 4: a load balancer in front of two web servers, a primary and two streaming replicas. A shopper's
 * journey; then faults with nothing lost: a replica stopped (reads keep succeeding), and the primary stopped with a
 * replica promoted (writes resume through the stable primary endpoint, and every acknowledged order is there).
 */
import { BrowserShopper, journey } from "./support/journey";
import { type Topology, startTopology } from "./support/local-topology";

jest.setTimeout(180_000);
const PORT = 21300;
let topology: Topology;

beforeAll(async () => {
  topology = await startTopology(4, PORT);
});
afterAll(async () => {
  await topology?.stop();
});

test("a shopper browses, buys and sees the order placed through the load balancer", async () => {
  const result = await journey(new BrowserShopper(topology.entryUrl));
  expect(result.placedAs).toBe("placed");
});

test("a replica stopped: every read keeps succeeding", async () => {
  const shopper = new BrowserShopper(topology.entryUrl);
  expect(await topology.fault("replica-stop", "replica-1")).toContain("stopped replica-1");
  const statuses: number[] = [];
  for (let i = 0; i < 60; i++) {
    statuses.push((await shopper.get(`/api/products/${1 + (i % 50)}`)).status);
    statuses.push((await shopper.get(`/api/products?category=books&limit=5`)).status);
  }
  expect(statuses.filter((s) => s !== 200)).toEqual([]);
  await topology.fault("replica-start", "replica-1");
});

test("primary stopped, a replica promoted: writes resume and every acknowledged order is still there", async () => {
  const shopper = new BrowserShopper(topology.entryUrl);
  const acknowledged: string[] = [];
  const buy = async (productId: number): Promise<boolean> => {
    const added = await shopper.post("/api/cart/items", { productId, quantity: 1 });
    if (added.status !== 200) return false;
    const checkout = await shopper.post("/api/checkout");
    if (checkout.status !== 201) return false;
    acknowledged.push(checkout.json<{ orderId: string }>().orderId);
    return true;
  };
  for (let i = 0; i < 5; i++) expect(await buy(1 + i)).toBe(true);

  const done = await topology.fault("primary-failover");
  expect(done).toMatch(/promoted replica-\d/);

  // Writes resume: the first checkouts may meet connections the old primary took with it; one soon succeeds.
  let attempts = 0;
  while (!(await buy(10))) {
    attempts++;
    if (attempts > 50) throw new Error("no checkout succeeded after the failover");
    await new Promise((r) => setTimeout(r, 200));
  }
  for (let i = 0; i < 3; i++) expect(await buy(11 + i)).toBe(true);

  // Every acknowledged order, those before the failover included, is on the promoted server.
  const listed = (await shopper.get("/api/orders"))
    .json<{ items: Array<{ orderId: string }> }>()
    .items.map((o) => o.orderId);
  expect(listed.sort()).toEqual([...acknowledged].sort());
  const newPrimary = (await topology.status()).find((s) => s.kind === "postgres primary")!;
  expect(newPrimary.name).toMatch(/^replica-/);
  const db = await topology.db(newPrimary.name);
  try {
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM orders WHERE id = ANY($1::uuid[])", [
      acknowledged,
    ]);
    expect(rows[0].n).toBe(acknowledged.length);
  } finally {
    await db.end();
  }
});
