/**
 * `npm run bench:console [-- --step N --port P --duration S --connections C --pages K]`: the ladder console's bars
 * on this machine (a benchmark, not a test: it prints figures and each bar's verdict, and exits 1 only when it cannot
 * measure).
 *
 *   1. first paint: `npm start` at step N (default 11) until launcher.json says ready, then the console opened in
 *      Chromium (started beforehand, as a developer's browser is): first-contentful-paint from the Performance API,
 *      and the wall time from "ready" to that paint                                               bar < 1 s
 *   2. refresh under load: the benchmark load (autocannon on the cached product read, as npm run bench) runs twice
 *      in the same topology, first with no console open, then with K console pages open (default 3); meanwhile each
 *      page's figures are sampled every 100 ms. The figures must refresh every second (gaps between refreshes, and
 *      the shared poll's count: one poll a second whatever K), and the load must fail no more requests with the
 *      console open than without it (closed before and after; nor any of the pages' own requests)
 *                                                                                       bar: every second, 0
 *
 * Chromium is Debian's (lib/browser/chromium.ts); nothing leaves 127.0.0.1. Ports: P (default 28000) to P+299.
 */
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, watchOffMachine } from "../lib/browser/chromium";
import { MAX_STEP, UsageError, integer, parseCommandLine } from "./local/options";
import { type SpawnedLauncher, spawnLauncher } from "./local/spawn";
import { autocannon, autocannonCommand } from "./autocannon-run";

const USAGE = `npm run bench:console [-- options]   the console's first paint and its refresh under the benchmark load

  --step N          the step to run (default ${MAX_STEP})
  --port P          entry port (default 28000; P to P+299 are used)
  --duration S      seconds of each load run (default 10)
  --connections C   autocannon connections (default 32)
  --pages K         console pages open during the second run (default 3)`;

interface Options {
  step: number;
  port: number;
  duration: number;
  connections: number;
  pages: number;
}

export function parse(argv: string[]): Options | "help" {
  const o: Options = { step: MAX_STEP, port: 28000, duration: 10, connections: 32, pages: 3 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--help" || flag === "-h") return "help";
    else if (flag === "--step") o.step = integer(flag, argv[++i], 1, MAX_STEP);
    else if (flag === "--port") o.port = integer(flag, argv[++i], 1024, 65000);
    else if (flag === "--duration") o.duration = integer(flag, argv[++i], 1, 600);
    else if (flag === "--connections") o.connections = integer(flag, argv[++i], 1, 1000);
    else if (flag === "--pages") o.pages = integer(flag, argv[++i], 1, 20);
    else
      throw new UsageError(
        `unknown option ${JSON.stringify(flag)}: --step, --port, --duration, --connections, --pages`,
      );
  }
  return o;
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  /** Connection errors and timeouts, and answers that were not 2xx. */
  failed: number;
}

async function load(url: string, o: Options): Promise<LoadResult> {
  const r = await autocannon(url, o.connections, o.duration);
  return { rps: r.rps, p50: r.p50, p99: r.p99, total: r.total, failed: r.errors + r.timeouts + r.non2xx };
}

const show = (r: LoadResult) =>
  `${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.total} requests, ${r.failed} failed`;

/** What one page showed while the load ran: when its figures changed, and its own failed requests. */
interface PageWatch {
  /** [ms since the watch began, the poll's seq, the poll's time (epoch ms)] at each change the page showed. */
  changes: Array<[number, number, number]>;
  failedRequests: string[];
  stop(): void;
}

function watchPage(page: Page): PageWatch {
  const changes: Array<[number, number, number]> = [];
  const failedRequests: string[] = [];
  page.on("requestfailed", (r) => failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400) failedRequests.push(`${r.url()}: HTTP ${r.status()}`);
  });
  const t0 = Date.now();
  let going = true;
  void (async () => {
    while (going) {
      const [seq, at] = (await page
        .evaluate("[Number(document.body.dataset.seq || 0), Date.parse(document.body.dataset.at || '')]")
        .catch(() => [0, NaN])) as [number, number];
      if (changes.length === 0 || changes[changes.length - 1][1] !== seq) changes.push([Date.now() - t0, seq, at]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return { changes, failedRequests, stop: () => (going = false) };
}

/**
 * Waits until `expression` is true in `page`, asking every 20 ms for 30 s at most. (page.waitForFunction compiles a
 * string with `new Function` inside the page, which the console's policy refuses: no 'unsafe-eval'.)
 */
async function until(page: Page, expression: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; !(await page.evaluate(expression));) {
    if (Date.now() > deadline) throw new Error(`the console never showed ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function bench(o: Options): Promise<number> {
  const cpus = os.cpus();
  process.stdout.write(
    `npm run bench:console: ${cpus.length} × ${cpus[0]?.model ?? "cpu"}, node ${process.version}, step ${o.step}; ` +
      `autocannon ${o.connections} connections, ${o.duration} s per run; ${o.pages} console pages\n\n`,
  );
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "scale-ladder-bench-console-"));
  const args = ["--step", String(o.step), "--port", String(o.port), "--data-dir", dataDir, "--seed-products", "2000"];
  process.stdout.write(`  $ npm start -- ${args.join(" ")}\n`);
  let launcher: SpawnedLauncher | undefined;
  let browser: Browser | undefined;
  try {
    // The browser is up before the shop, as a developer's is.
    [browser, launcher] = await Promise.all([launchChromium(), spawnLauncher(args)]);
    const ready = Date.now();
    const control = launcher.launcher.controlUrl;
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const off = await watchOffMachine(context);
    const first = await context.newPage();
    await first.goto(`${control}/`);
    await until(first, "performance.getEntriesByName('first-contentful-paint').length > 0");
    const [fcp, navigationStart] = (await first.evaluate(
      "[performance.getEntriesByName('first-contentful-paint')[0].startTime, performance.timeOrigin]",
    )) as [number, number];
    const sinceReady = navigationStart + fcp - ready;
    process.stdout.write(
      `1. first paint: launcher ready after ${(launcher.startMs / 1000).toFixed(1)} s; the console's ` +
        `first-contentful-paint ${Math.round(fcp)} ms after its navigation began, ${Math.round(sinceReady)} ms ` +
        `after "ready": ${sinceReady < 1000 ? "meets" : "MISSES"} the bar (< 1 s)\n`,
    );
    await first.close();

    // 2. The same load, without then with the console open.
    const url = `${launcher.launcher.entryUrl}/api/products/42`;
    process.stdout.write(`\n2. refresh under load\n  $ ${autocannonCommand(url, o.connections, o.duration)}\n`);
    await load(url, { ...o, duration: 2 }); // connections opened, the cache filled
    const closed = await load(url, o);
    process.stdout.write(`    console closed: ${show(closed)}\n`);
    const open: Page[] = [];
    for (let k = 0; k < o.pages; k++) {
      const page = await context.newPage();
      await page.goto(`${control}/`);
      await until(page, "Number(document.body.dataset.seq || 0) > 0");
      await page.locator("#diagram svg").waitFor({ timeout: 30_000 });
      open.push(page);
    }
    // Watched from when every page is open and drawn: the load alone is what the figures must refresh under.
    const pages = open.map(watchPage);
    const opened = await load(url, o);
    for (const p of pages) p.stop();
    process.stdout.write(`    console open:   ${show(opened)}\n`);
    // Closed again: the machine is shared, and a drift between the runs is not the console's.
    await Promise.all(open.map((page) => page.close()));
    const closedAgain = await load(url, o);
    process.stdout.write(`    closed again:   ${show(closedAgain)}\n`);
    // Refreshes seen by the first page during the load, and the shared poll's pace from the polls' own times.
    const { changes } = pages[0];
    const gaps = changes.slice(1).map(([t], i) => t - changes[i][0]);
    const [, seq0, at0] = changes[0];
    const [, seqN, atN] = changes[changes.length - 1];
    const pollsPerSecond = ((seqN - seq0) * 1000) / (atN - at0);
    const maxGap = Math.max(...gaps);
    const pageFailures = pages.flatMap((p) => p.failedRequests);
    process.stdout.write(
      `    the first page's figures refreshed ${gaps.length} times in ${((atN - at0) / 1000).toFixed(1)} s: ` +
        `gaps median ${median(gaps)} ms, max ${maxGap} ms; the shared poll ran ${seqN - seq0} times ` +
        `(${pollsPerSecond.toFixed(2)}/s) for ${o.pages} pages\n` +
        `    the pages' own failed requests: ${pageFailures.length}` +
        `${pageFailures.length ? ` (${pageFailures[0]})` : ""}; ` +
        `off-machine requests or CSP errors: ${off.requests.length + off.errors.length}\n`,
    );
    // Every second: no second without a refresh, about one a second, and no more than one poll a second (2 %: the
    // times are the polls' ends, which vary with what each poll waited for).
    const refreshOk = maxGap < 2000 && Math.abs(median(gaps) - 1000) <= 150 && pollsPerSecond <= 1.02;
    const failOk = opened.failed <= Math.max(closed.failed, closedAgain.failed) && pageFailures.length === 0;
    process.stdout.write(
      `    refresh every second: ${refreshOk ? "meets" : "MISSES"} the bar; failed requests with the console ` +
        `open ${opened.failed} vs closed ${closed.failed} and ${closedAgain.failed}: ` +
        `${failOk ? "meets" : "MISSES"} the bar\n` +
        `    load average: ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(" ")} (other processes on this machine count)\n`,
    );
    await context.close();
    return 0;
  } finally {
    await browser?.close();
    await launcher?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv, parse, USAGE);
  if ("exit" in parsed) return parsed.exit;
  const options = parsed.options;
  return bench(options);
}
