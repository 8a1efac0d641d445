/**
 * Debian's Chromium, headless, driven by playwright-core: the one way the tests and scripts open a real browser.
 * Nothing is downloaded: the browser is the machine's (`apt-get install chromium`, which `.ci/run` does), found at
 * `CHROMIUM_PATH` (default `/usr/bin/chromium`).
 *
 * The flags keep Chromium on this machine: without `--disable-background-networking` and its siblings it opens
 * connections to Google's hosts at every start (updates, sync, field trials), which a closed network refuses many at
 * a time. The sandbox needs user namespaces that a root process in a container does not get, so it is off only when
 * we run as root (CI does).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";

/** Where Chromium is: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Where screenshots go: `.local/screenshots/` in the project (git-ignored with the rest of `.local/`). */
export const SCREENSHOT_DIR = path.resolve(__dirname, "..", "..", ".local", "screenshots");

const QUIET_FLAGS = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-domain-reliability",
  "--metrics-recording-only",
  "--no-pings",
];

/** Starts headless Chromium; the caller closes it. A missing browser is a clear error saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...QUIET_FLAGS, ...(process.getuid?.() === 0 ? ["--no-sandbox"] : [])],
    });
  } catch (error) {
    throw new Error(
      `Chromium did not start from ${CHROMIUM_PATH} (set CHROMIUM_PATH, or 'apt-get install chromium'): ` +
        (error as Error).message,
      { cause: error },
    );
  }
}

/** What a page asked for that a local-only page must not: requests that leave 127.0.0.1, and CSP violations. */
export interface OffMachineWatch {
  /** URLs requested whose host is not 127.0.0.1 (blocked: they never leave the machine). */
  readonly requests: string[];
  /** Content-security-policy violations and page errors, as the console printed them. */
  readonly errors: string[];
}

/**
 * Watches every request of `context`'s pages: one whose host is not 127.0.0.1 (nor a `data:`/`blob:` URL) is
 * recorded and aborted, so a test can say "nothing left the machine" and mean it. Console errors and uncaught page
 * errors are recorded too (a CSP violation is reported there).
 */
export async function watchOffMachine(context: BrowserContext): Promise<OffMachineWatch> {
  const watch = { requests: [] as string[], errors: [] as string[] };
  await context.route(
    (url) => url.protocol !== "data:" && url.protocol !== "blob:" && url.hostname !== "127.0.0.1",
    (route) => {
      watch.requests.push(route.request().url());
      return route.abort("blockedbyclient");
    },
  );
  const onPage = (page: Page): void => {
    page.on("console", (message) => {
      if (message.type() === "error") watch.errors.push(message.text());
    });
    page.on("pageerror", (error) => watch.errors.push(`page error: ${error.message}`));
  };
  context.pages().forEach(onPage);
  context.on("page", onPage);
  return watch;
}

/** Saves a full-page PNG of `page` as `.local/screenshots/<name>.png`; resolves with its path. */
export async function saveScreenshot(page: Page, name: string, dir = SCREENSHOT_DIR): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
