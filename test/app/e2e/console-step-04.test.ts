/**
 * End to end, the ladder console (scripts/local/console/) at step 4, in Debian's Chromium: the page loads from the
 * launcher's control endpoint under a policy that forbids every other origin, draws the step doc's diagram with
 * Mermaid from node_modules, its figures move while shoppers shop, a primary failover injected from its button shows
 * in the event log and in the health view, and the shop keeps taking orders. Nothing the page asks for leaves
 * 127.0.0.1. The control endpoint refuses the cross-site POSTs any other page in the browser could send it.
 * Saves .local/screenshots/console-step-04.png.
 */
import type { Browser } from "playwright-core";
import { launchChromium, saveScreenshot, watchOffMachine } from "../../../lib/browser/chromium";
import { pollUntil } from "../../../lib/servers/poll";
import { httpRequest } from "../support/http-client";
import { BrowserShopper, journey } from "./support/journey";
import { type Load, startLoad, stopLoads } from "./support/load";
import { type Topology, startTopology } from "./support/local-topology";

jest.setTimeout(180_000);
const PORT = 25200;
let topology: Topology;
let control: string;
let browser: Browser;

beforeAll(async () => {
  topology = await startTopology(4, PORT);
  // The control endpoint is the entry port + 1 (scripts/local/plan.ts), wherever startTopology found free ports.
  control = `http://127.0.0.1:${Number(new URL(topology.entryUrl).port) + 1}`;
  browser = await launchChromium();
});
afterEach(stopLoads);
afterAll(async () => {
  await browser?.close();
  await topology?.stop();
});

const webProcess = async (name: string) => (await topology.status()).find((s) => s.name === name)!;

test("the control endpoint refuses cross-site requests: a form's text/plain, a foreign Origin or Host", async () => {
  const before = await webProcess("web-1");
  const foreign = { origin: "http://shop.example.com" };
  // What any page on the web can send without asking (a form, a "simple" fetch): text/plain, its own Origin.
  for (const path of ["/fault", "/stop"]) {
    const res = await httpRequest(control, {
      method: "POST",
      path,
      headers: { ...foreign, "content-type": "text/plain" },
      body: JSON.stringify({ kind: "web-kill", target: "web-1" }),
    });
    expect([path, res.status, res.json<{ error: string }>().error]).toEqual([
      path,
      403,
      'content-type must be application/json, got "text/plain"',
    ]);
  }
  const json = await httpRequest(control, {
    method: "POST",
    path: "/fault",
    headers: foreign,
    body: { kind: "web-kill", target: "web-1" },
  });
  expect(json.status).toBe(403);
  expect(json.json<{ error: string }>().error).toMatch(/^Origin must be http:\/\/127\.0\.0\.1:\d+ \(this console\)/);
  // A DNS-rebinding page reaches 127.0.0.1 under its own name: refused, reads included.
  const rebound = await httpRequest(control, { path: "/console/state", headers: { host: "shop.example.com" } });
  expect(rebound.status).toBe(403);
  // Nothing happened: web-1 runs with the same pid, the launcher answers.
  const after = await webProcess("web-1");
  expect([after.pid, after.restarts, after.running]).toEqual([before.pid, before.restarts, true]);
});

test("the console: figures move under load, a failover from its button shows in the log and health view", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const watch = await watchOffMachine(context);
  const page = await context.newPage();
  let load: Load | undefined;
  try {
    const response = await page.goto(`${control}/`);
    expect(response?.status()).toBe(200);
    const csp = response?.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    await page.getByRole("heading", { level: 1, name: /step 4: read-replicas/ }).waitFor({ timeout: 15_000 });
    // The step doc's diagram, drawn by Mermaid: its replicas are in the picture.
    await page.locator("#diagram svg").waitFor({ timeout: 30_000 });
    expect(await page.locator("#diagram svg").textContent()).toContain("read replica 1");

    // Figures refresh every second, and move with the load.
    const seq = async () => Number(await page.locator("body").getAttribute("data-seq"));
    await pollUntil("the first figures", async () => (await seq()) > 0, { timeoutMs: 20_000 });
    load = startLoad(topology.entryUrl, 2);
    const busy = async () => {
      const rates = await page.locator("#web tbody tr td:nth-child(3)").allTextContents();
      const reads = (await page.locator("#reads").textContent()) ?? "";
      return rates.some((r) => Number(r.replace(/,/g, "")) > 0) && /replica-\d/.test(reads);
    };
    const first = await seq();
    await pollUntil("requests/s above 0 and replica reads on the console", busy, { timeoutMs: 30_000 });
    expect(await seq()).toBeGreaterThan(first);
    const p50 = await page.locator("#web tbody tr td:nth-child(4)").allTextContents();
    expect(p50.some((v) => /^\d/.test(v))).toBe(true);
    const result = await load.stop();
    load = undefined;
    expect(result.failures).toEqual([]);

    // The failover, from its button.
    await page.getByRole("button", { name: "primary-failover" }).click();
    await pollUntil(
      "the fault's answer on the page",
      async () => /promoted replica-\d/.test((await page.locator("#fault-result").textContent()) ?? ""),
      { timeoutMs: 60_000 },
    );
    const log = page.locator("#events");
    await pollUntil(
      "the failover and the primary's health in the event log",
      async () => {
        const text = (await log.textContent()) ?? "";
        return (
          /failover.*primary-failover: stopped primary, promoted replica-\d/.test(text) && /primary is down/.test(text)
        );
      },
      { timeoutMs: 30_000 },
    );
    await pollUntil(
      "the health view showing the old primary down",
      async () => /✖/.test((await page.locator('td.health[data-service="primary"]').textContent()) ?? ""),
      { timeoutMs: 30_000 },
    );

    // The shop keeps taking orders.
    expect((await journey(new BrowserShopper(topology.entryUrl))).placedAs).toBe("placed");
    await saveScreenshot(page, "console-step-04");
    expect(watch.requests).toEqual([]);
    expect(watch.errors).toEqual([]);
  } finally {
    await load?.stop();
    await context.close();
  }
});
