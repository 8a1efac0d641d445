/**
 * `npm run screenshots [-- --steps 1,4,11] [--readme]`: the console and the storefront of each step, as a learner
 * sees them, saved as `.local/screenshots/console-step-NN.png` and `storefront-step-NN.png`.
 *
 * Each step runs as `npm start` runs it (scripts/local/spawn.ts) on a data directory of its own, with the climb's
 * shoppers (scripts/climb/shoppers.ts) browsing, filling carts and checking out for a few seconds, so the console's
 * figures and event log have something to show. Chromium is Debian's (lib/browser/chromium.ts); nothing leaves
 * 127.0.0.1, and the script says so or fails. `--readme` also copies the step-11 console into docs/images/, where
 * the README shows it.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { SCREENSHOT_DIR, launchChromium, saveScreenshot, watchOffMachine } from "../lib/browser/chromium";
import { Ledger } from "./climb/ledger";
import { emptyRow } from "./climb/report";
import { Load } from "./climb/shoppers";
import { MAX_STEP, PROJECT_DIR, UsageError, integer, parseCommandLine } from "./local/options";
import type { LocalSecrets } from "./local/plan";
import { spawnLauncher } from "./local/spawn";

const USAGE = `npm run screenshots [-- options]   the console and the storefront of each step, as PNGs

  --steps LIST   steps to show: 1,4,11 or 3-7 (default 1-${MAX_STEP})
  --port N       entry port of the local topologies (default 29000; the next 300 ports are used too)
  --readme       also copy the step-${MAX_STEP} console to docs/images/console-step-${MAX_STEP}.png (the README's)

Writes ${path.relative(PROJECT_DIR, SCREENSHOT_DIR)}/console-step-NN.png and storefront-step-NN.png.`;

/** Where the README's screenshot lives (committed). */
export const README_SCREENSHOT = path.join(PROJECT_DIR, "docs", "images", `console-step-${MAX_STEP}.png`);

/** How long the shoppers shop before the pictures are taken: a few console refreshes. */
const SHOPPING_MS = 6000;

interface Options {
  steps: number[];
  port: number;
  readme: boolean;
}

/** `1,4,11` or `3-7` or a mix; every step from 1 to MAX_STEP, once, in order. */
export function parseSteps(text: string): number[] {
  const steps = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    const from = Number(m?.[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (!m || from < 1 || to > MAX_STEP || from > to)
      throw new UsageError(`--steps takes steps from 1 to ${MAX_STEP} like 1,4,11 or 3-7, got ${JSON.stringify(text)}`);
    for (let s = from; s <= to; s++) steps.add(s);
  }
  return [...steps].sort((a, b) => a - b);
}

function parse(argv: string[]): Options | "help" {
  const options: Options = { steps: parseSteps(`1-${MAX_STEP}`), port: 29000, readme: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--help" || flag === "-h") return "help";
    else if (flag === "--steps") options.steps = parseSteps(argv[++i] ?? "");
    else if (flag === "--port") options.port = integer(flag, argv[++i], 1024, 65000);
    else if (flag === "--readme") options.readme = true;
    else throw new UsageError(`unknown option ${JSON.stringify(flag)}`);
  }
  if (options.readme && !options.steps.includes(MAX_STEP))
    throw new UsageError(`--readme needs step ${MAX_STEP} in --steps`);
  return options;
}

const pad = (step: number) => String(step).padStart(2, "0");

/** Waits until the page has drawn what it is about, then a beat for the console's next refresh. */
async function settle(page: Page, selector: string): Promise<void> {
  await page.waitForSelector(selector, { timeout: 15_000 });
  await page.waitForLoadState("networkidle", { timeout: 15_000 }).catch(() => undefined);
}

async function shoot(step: number, port: number): Promise<string[]> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `scale-ladder-screenshots-${step}-`));
  const spawned = await spawnLauncher([
    ...["--step", String(step), "--port", String(port), "--data-dir", dataDir],
    ...["--seed-products", "120", "--log-level", "warn"],
  ]);
  const browser = await launchChromium();
  let load: Load | undefined;
  try {
    const secrets = JSON.parse(readFileSync(path.join(dataDir, "secrets.json"), "utf8")) as LocalSecrets;
    const row = emptyRow(`step ${step}`);
    load = new Load({
      entryUrl: spawned.launcher.entryUrl,
      shoppers: 3,
      adminToken: secrets.adminToken,
      ledger: new Ledger(),
      row: () => row,
    });
    load.start();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const watch = await watchOffMachine(context);
    const consolePage = await context.newPage();
    await consolePage.goto(spawned.launcher.controlUrl);
    const storefront = await context.newPage();
    await storefront.goto(spawned.launcher.entryUrl);
    await new Promise((resolve) => setTimeout(resolve, SHOPPING_MS));
    await settle(storefront, "main");
    await settle(consolePage, "main");
    const files = [
      await saveScreenshot(consolePage, `console-step-${pad(step)}`),
      await saveScreenshot(storefront, `storefront-step-${pad(step)}`),
    ];
    if (watch.requests.length > 0 || watch.errors.length > 0)
      throw new Error(
        `step ${step}: the pages asked for something off this machine or broke their policy:\n` +
          [...watch.requests, ...watch.errors].join("\n"),
      );
    if (row.failures > 0) throw new Error(`step ${step}: ${row.failures} shopper requests failed`);
    return files;
  } finally {
    await load?.stop();
    await browser.close();
    await spawned.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv, parse, USAGE);
  if ("exit" in parsed) return parsed.exit;
  const options = parsed.options;
  for (const step of options.steps) {
    const files = await shoot(step, options.port);
    process.stdout.write(`step ${step}: ${files.map((f) => path.relative(PROJECT_DIR, f)).join(", ")}\n`);
  }
  if (options.readme) {
    mkdirSync(path.dirname(README_SCREENSHOT), { recursive: true });
    copyFileSync(path.join(SCREENSHOT_DIR, `console-step-${pad(MAX_STEP)}.png`), README_SCREENSHOT);
    process.stdout.write(`README: ${path.relative(PROJECT_DIR, README_SCREENSHOT)}\n`);
  }
  return 0;
}
