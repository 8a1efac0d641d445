/**
 * End to end, step 1: `npm start -- --step 1` runs one web server and its PostgreSQL; a shopper browses, buys and
 * sees the order placed, through the entry URL. The fault CLI talks to the running launcher.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { BrowserShopper, journey } from "./support/journey";
import { type Topology, startTopology } from "./support/local-topology";

jest.setTimeout(180_000);
const PORT = 21000;
let topology: Topology;

beforeAll(async () => {
  topology = await startTopology(1, PORT);
});
afterAll(async () => {
  await topology?.stop();
});

test("the entry URL is the single server, and a shopper's order is placed", async () => {
  expect(topology.entryUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const result = await journey(new BrowserShopper(topology.entryUrl));
  expect(result.placedAs).toBe("placed");
  // No load balancer at step 1: nothing adds the region header.
  expect(result.regions.size).toBe(0);
});

test("npm run local:fault reaches the launcher: status lists what runs; a fault the step lacks: refused", async () => {
  const scripts = path.resolve(__dirname, "..", "..", "..", "scripts");
  const [runner, cli] = [path.join(scripts, "run.mjs"), path.join(scripts, "local", "fault.ts")];
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, [runner, cli, "status", "--data-dir", topology.dataDir]);
  expect(stdout).toContain(topology.entryUrl);
  expect(stdout).toMatch(/web-1\s+web\s+http:\/\/127\.0\.0\.1:\d+/);
  // Step 1's own PostgreSQL, on the web server's host (the 1 → 2 climb moves it into `primary`).
  expect(stdout).toMatch(/server\s+postgres primary\s+postgres:\/\/127\.0\.0\.1:\d+\/shop/);
  expect(stdout).not.toMatch(/^primary\s/m);
  await expect(
    run(process.execPath, [runner, cli, "primary-failover", "--data-dir", topology.dataDir]),
  ).rejects.toMatchObject({
    stderr: expect.stringContaining("no replica to promote"),
  });
});
