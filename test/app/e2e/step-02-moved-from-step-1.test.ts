/**
 * End to end, `npm start -- --step 2` on a data directory that a step-1 shop left: the catalog still lives in step
 * 1's own PostgreSQL (`server`) and there is no primary yet, so the launcher moves it there with moveDatabase
 * (verified) before the app starts, and keeps the old data aside: every product, order and order line arrives.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { BrowserShopper, journey } from "./support/journey";
import { type Topology, catalogFingerprint, startTopology } from "./support/local-topology";

jest.setTimeout(240_000);
const PORT = 24300;
let topology: Topology | undefined;

afterAll(async () => {
  await topology?.stop();
});

test("step 2 on a step-1 data directory: the catalog moves into primary, every row with it", async () => {
  const step1 = await startTopology(1, PORT);
  topology = step1;
  await journey(new BrowserShopper(step1.entryUrl));
  await journey(new BrowserShopper(step1.entryUrl), { productIndex: 1 });
  const before = await catalogFingerprint(await step1.db("server"));
  expect(before.orders).toMatch(/^2 rows/);
  await step1.stop({ keepData: true });
  topology = undefined;

  const step2 = await startTopology(2, PORT, [], step1.dataDir);
  topology = step2;
  expect(step2.output()).toMatch(/move database \(server → primary\)\s+\d+ tables verified/);
  expect(await catalogFingerprint(await step2.db("primary"))).toEqual(before);
  expect(existsSync(path.join(step1.dataDir, "pg", "server"))).toBe(false);
  expect(existsSync(path.join(step1.dataDir, "pg", "server.moved", "PG_VERSION"))).toBe(true);
  expect((await step2.status()).map((s) => s.name)).not.toContain("server");
});
