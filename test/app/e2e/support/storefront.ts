/**
 * The storefront (app/static) in Debian's Chromium, driven as a shopper drives it: by labels, roles and the
 * keyboard. (The page's CSP refuses string evaluation, so waits are on locators, never `waitForFunction`.) Every
 * visit watches that nothing leaves 127.0.0.1 and that the page's CSP refuses nothing
 * (lib/browser/chromium.ts), and ends with a screenshot under .local/screenshots/.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { type OffMachineWatch, saveScreenshot, watchOffMachine } from "../../../../lib/browser/chromium";
import { pollUntil } from "../../../../lib/servers/poll";

/** Generous: a step-8+ order waits for the worker, on a machine the whole suite shares. */
const WAIT_MS = 60_000;

/** One shopper's browser on the storefront. */
export interface StorefrontVisit {
  context: BrowserContext;
  page: Page;
  watch: OffMachineWatch;
}

/**
 * Opens the storefront at `entryUrl` in a context of its own (its own cookies) and waits for the first products.
 * @param headers sent with every request (step 11's `x-geo-continent`, standing in for geolocation DNS).
 */
export async function openStorefront(
  browser: Browser,
  entryUrl: string,
  headers: Record<string, string> = {},
): Promise<StorefrontVisit> {
  const context = await browser.newContext({ extraHTTPHeaders: headers, viewport: { width: 1100, height: 800 } });
  const watch = await watchOffMachine(context);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.goto(entryUrl);
  await page.locator("#products").getByRole("link").first().waitFor();
  return { context, page, watch };
}

/** The "Served by" strip, tier by tier (`–` for a tier that took no part in the last answer). */
export async function servedBy(page: Page): Promise<Record<string, string>> {
  const strip = page.getByRole("region", { name: "Served by" });
  const names = await strip.locator("dt").allTextContents();
  const values = await strip.locator("dd").allTextContents();
  return Object.fromEntries(names.map((name, i) => [name, values[i]]));
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Waits until the strip describes the answer to `request` (`GET /api/products/7`). */
export async function waitForServed(page: Page, request: string): Promise<Record<string, string>> {
  const label = page.getByRole("region", { name: "Served by" }).locator("p");
  await label.filter({ hasText: new RegExp(`^${escapeRegExp(request)}: \\d+$`) }).waitFor();
  expect(await label.textContent()).toMatch(/: 2\d\d$/);
  return servedBy(page);
}

/** Opens the first product of `category` with at least five units in stock from the list; resolves with its name. */
export async function openProduct(page: Page, category: string): Promise<{ name: string; id: string }> {
  await page.getByLabel("Category").selectOption(category);
  await pollUntil(`the ${category} list`, async () => {
    const facts = await page.locator("#products li p.muted").allTextContents();
    return facts.length > 0 && facts.every((text) => text.startsWith(`${category} ·`));
  });
  const card = page
    .locator("#products li")
    .filter({ hasText: /\b([5-9]|\d{2,}) left/ })
    .first();
  const link = card.getByRole("link");
  const name = (await link.textContent()) ?? "";
  const id = ((await link.getAttribute("href")) ?? "").split("/").pop() ?? "";
  await link.click();
  await page.getByRole("heading", { level: 1, name, exact: true }).waitFor();
  return { name, id };
}

/** What a shopper's purchase showed. */
export interface Purchase {
  /** The checkout's answer: 201 placed at once, 202 pending (the queue, step 8 on). */
  checkoutStatus: number;
  /** The order page's last state line. */
  state: string;
  /** The strip after the order was read. */
  served: Record<string, string>;
}

/**
 * A shopper finds a product of `category`, types a quantity of 2 and presses Enter, checks the cart, checks out
 * and waits until the order page says the order is placed or confirmed; then finds it in the order history and
 * opens it again from there.
 */
export async function buyTwo(page: Page, category: string): Promise<Purchase> {
  const product = await openProduct(page, category);
  const quantity = page.getByLabel("Quantity", { exact: true });
  await quantity.fill("2");
  await quantity.press("Enter");
  await page.getByRole("status").getByText(`Added 2 × ${product.name} to your cart.`).waitFor();

  await page.getByRole("link", { name: /^Cart/ }).click();
  await page.getByRole("heading", { level: 1, name: "Cart" }).waitFor();
  await page.getByLabel(`Quantity of ${product.name}`).waitFor();
  expect(await page.getByLabel(`Quantity of ${product.name}`).inputValue()).toBe("2");
  expect(await page.getByRole("navigation", { name: "Shop" }).textContent()).toContain("Cart (2)");

  const answered = page.waitForResponse((r) => r.url().endsWith("/api/checkout") && r.request().method() === "POST");
  await page.getByRole("button", { name: "Check out" }).click();
  const checkout = await answered;
  const checkoutStatus = checkout.status();
  const { orderId } = (await checkout.json()) as { orderId: string };
  const state = page.locator("#order-state");
  await state.filter({ hasText: /^(Placed|Confirmed):/ }).waitFor();
  const stateText = (await state.textContent()) ?? "";
  expect(await page.locator("#order-items").textContent()).toContain(`2 × ${product.name}`);
  expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(`Order ${orderId.slice(0, 8)}`);
  const served = await waitForServed(page, `GET /api/orders/${orderId}`);

  await page.getByRole("link", { name: "Orders", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Your orders" }).waitFor();
  await page.locator("#orders").getByRole("link").first().waitFor();
  const history = (await page.locator("#orders").textContent()) ?? "";
  expect(history).toMatch(/placed|confirmed/);
  // Back to the order from the history, by keyboard: the page a screenshot shows.
  await page.locator("#orders").getByRole("link").first().press("Enter");
  await page.getByRole("heading", { level: 1, name: `Order ${orderId.slice(0, 8)}` }).waitFor();
  await state.filter({ hasText: stateText }).waitFor();
  return { checkoutStatus, state: stateText, served };
}

/**
 * Saves the page as `.local/screenshots/<name>.png`, closes the context, and fails if anything was asked of a host
 * other than 127.0.0.1 or the page logged an error (a CSP refusal among them).
 */
export async function closeStorefront(visit: StorefrontVisit, name: string): Promise<void> {
  await saveScreenshot(visit.page, name);
  await visit.context.close();
  expect(visit.watch.requests).toEqual([]);
  expect(visit.watch.errors).toEqual([]);
}
