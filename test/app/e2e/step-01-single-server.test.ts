/**
 * End to end, step 1: `npm start -- --step 1` runs one web server and its PostgreSQL; a shopper browses, buys and
 * sees the order placed, through the entry URL. The fault CLI talks to the running launcher.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { BrowserShopper, journey } from "./support/journey";
import { type Topology, startTopology } from "./support/local-topology";
import { buyTwo, closeStorefront, openStorefront } from "./support/storefront";
import { launchChromium } from "../../../lib/browser/chromium";
import type { Browser } from "playwright-core";
import { startAll } from "../support/start-all";

jest.setTimeout(180_000);
const PORT = 21000;
let topology: Topology;
let browser: Browser;

beforeAll(async () => {
  [topology, browser] = await startAll([
    [startTopology(1, PORT), (t) => t.stop()],
    [launchChromium(), (b) => b.close()],
  ]);
});
afterAll(async () => {
  await browser?.close();
  await topology?.stop();
});

test("the entry URL is the single server, and a shopper's order is placed", async () => {
  expect(topology.entryUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const result = await journey(new BrowserShopper(topology.entryUrl));
  expect(result.placedAs).toBe("placed");
  // No load balancer at step 1, but the app names the region it stands for itself (x-shop-region).
  expect([...result.regions]).toEqual(["us-east-1"]);
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

test("in a real browser, a shopper finds a product, adds two, checks out and sees the order placed", async () => {
  const visit = await openStorefront(browser, topology.entryUrl);
  const purchase = await buyTwo(visit.page, "books");
  expect(purchase.checkoutStatus).toBe(201);
  expect(purchase.state).toBe("Placed: your order is confirmed.");
  // The single server names itself; its one database is the primary, and every order lives in the catalog.
  expect(purchase.served).toEqual({
    Region: "us-east-1",
    Process: "web-1",
    Cache: "–",
    Database: "primary",
    Shard: "main",
  });
  await closeStorefront(visit, "storefront-step-01");
});
