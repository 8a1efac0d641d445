/**
 * End to end, step 5, in a real browser: the storefront's "Served by" strip shows the product cache at work. The
 * first view of a product is read from a replica and fills the cache (miss); the second view, after going back to
 * the list with the keyboard, is answered by Redis (hit) with no database at all.
 */
import type { Browser } from "playwright-core";
import { launchChromium } from "../../../lib/browser/chromium";
import { closeStorefront, openProduct, openStorefront, waitForServed } from "./support/storefront";
import { type Topology, startTopology } from "./support/local-topology";
import { startAll } from "../support/start-all";

jest.setTimeout(180_000);
const PORT = 24900;
let topology: Topology;
let browser: Browser;

beforeAll(async () => {
  [topology, browser] = await startAll([
    [startTopology(5, PORT), (t) => t.stop()],
    [launchChromium(), (b) => b.close()],
  ]);
});
afterAll(async () => {
  await browser?.close();
  await topology?.stop();
});

test("the page shows a cache miss on the first view of a product and a hit on the second", async () => {
  const visit = await openStorefront(browser, topology.entryUrl);
  const { page } = visit;
  const product = await openProduct(page, "garden");
  const first = await waitForServed(page, `GET /api/products/${product.id}`);
  expect(first).toMatchObject({ Region: "us-east-1", Cache: "miss", Database: expect.stringMatching(/^replica-\d/) });
  expect(first.Process).toMatch(/^web-\d$/);

  // Back to the list by keyboard, then the same product again.
  await page.getByRole("link", { name: "Back to the products" }).press("Enter");
  await page.getByRole("heading", { level: 1, name: "Products" }).waitFor();
  await page.locator("#products").getByRole("link", { name: product.name, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: product.name, exact: true }).waitFor();
  const second = await waitForServed(page, `GET /api/products/${product.id}`);
  expect(second).toMatchObject({ Region: "us-east-1", Cache: "hit", Database: "–", Shard: "–" });
  await closeStorefront(visit, "storefront-step-05");
});
