/**
 * `npm run bench [-- --duration S --connections C --port P --rounds R]`: the local topology's figures on this
 * machine, as ratios (a benchmark, not a test: it asserts nothing and prints each goal's verdict).
 *
 *   1. the physical limit: a bare node:http server answering one JSON product (scripts/local/bare-server.mjs) vs
 *      the app's cached `GET /api/products/:id` through the load balancer at step 5, alternated `--rounds` times
 *      (default 3) while step 5 runs; the figure is the median of the rounds' ratios            goal ≥ 0.3×
 *   2. a category page through the same entry, step 5 (cache-aside in Redis) vs step 4 (replicas)   goal ≥ 3×
 *   3. topology start time at step 11, `npm start` to every /readyz green, from an empty data directory
 *      (cold) and again on the data it left (warm)                                             goal ≤ 20 s
 *
 * The load generator is autocannon (npm), one process, keep-alive connections, 127.0.0.1 only; every run is
 * bounded by its duration. Each command is printed so that a figure can be reproduced by hand. The topologies run
 * at local mode's default LOG_LEVEL (info), as `npm start` does: the access log is part of what is measured.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { httpGet } from "./local/checks";
import { PROJECT_DIR } from "./local/options";
import { spawnLauncher } from "./local/spawn";
import { autocannon, autocannonCommand } from "./autocannon-run";

interface Options {
  duration: number;
  connections: number;
  port: number;
  seedProducts: number;
  /** Alternated rounds of the bare server and the app's cached product. */
  rounds: number;
}

function parse(argv: string[]): Options {
  const options: Options = { duration: 10, connections: 32, port: 23000, seedProducts: 2000, rounds: 3 };
  for (let i = 0; i < argv.length; i++) {
    const value = Number(argv[i + 1]);
    const flag = argv[i];
    if (
      !["--duration", "--connections", "--port", "--seed-products", "--rounds"].includes(flag) ||
      !Number.isInteger(value) ||
      value <= 0
    ) {
      throw new Error(
        `usage: npm run bench [-- --duration S (10) --connections C (32) --port P (23000) --seed-products N ` +
          `(2000) --rounds R (3)]; got ${flag} ${argv[i + 1] ?? ""}`,
      );
    }
    if (flag === "--duration") options.duration = value;
    if (flag === "--connections") options.connections = value;
    if (flag === "--port") options.port = value;
    if (flag === "--seed-products") options.seedProducts = value;
    if (flag === "--rounds") options.rounds = value;
    i++;
  }
  return options;
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
}

/** One bounded autocannon run against `url`; prints its command line and figures. */
async function load(label: string, url: string, o: Options, duration = o.duration): Promise<LoadResult> {
  if (duration === o.duration) process.stdout.write(`  $ ${autocannonCommand(url, o.connections, duration)}\n`);
  const r = await autocannon(url, o.connections, duration);
  const result = { rps: r.rps, p50: r.p50, p99: r.p99, errors: r.errors, non2xx: r.non2xx, total: r.total };
  if (duration === o.duration) {
    process.stdout.write(
      `    ${label}: ${Math.round(result.rps)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ` +
        `${result.total} requests, ${result.errors} errors, ${result.non2xx} non-2xx\n`,
    );
  }
  return result;
}

/** A short run first: connections opened, caches filled, code paths warm. */
async function warmAndLoad(label: string, url: string, o: Options): Promise<LoadResult> {
  await load(label, url, o, 3);
  return load(label, url, o);
}

const verdict = (ok: boolean) => (ok ? "meets the goal" : "MISSES the goal");

async function bench(argv: string[]): Promise<void> {
  const o = parse(argv);
  const cpus = os.cpus();
  process.stdout.write(
    `npm run bench: ${cpus.length} × ${cpus[0]?.model ?? "cpu"}, node ${process.version}; autocannon ` +
      `${o.connections} connections, ${o.duration} s per figure\n\n`,
  );
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "scale-ladder-bench-"));
  const common = ["--port", String(o.port), "--data-dir", dataDir, "--seed-products", String(o.seedProducts)];
  const entry = `http://127.0.0.1:${o.port}`;
  const productUrl = `${entry}/api/products/42`;
  const categoryUrl = `${entry}/api/products?category=books&limit=20`;
  try {
    // 1. The physical limit.
    process.stdout.write("1. bare node:http JSON server (the physical limit)\n");
    const barePort = o.port + 299;
    const bare: ChildProcess = spawn(
      process.execPath,
      [path.join(PROJECT_DIR, "scripts", "local", "bare-server.mjs"), String(barePort)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => bare.stdout!.once("data", () => resolve()));
    const bareUrl = `http://127.0.0.1:${barePort}/api/products/42`;
    await load("bare node:http (warm-up)", bareUrl, o, 3);

    // Step 4 first (it makes the data directory), then step 5 on the same data.
    process.stdout.write("\n   step 4 (load balancer, 2 web processes, primary + 2 replicas)\n");
    const step4 = await spawnLauncher(["--step", "4", ...common, "--reset"]);
    process.stdout.write(`  $ npm start -- --step 4 ${common.join(" ")}\n`);
    const category4 = await warmAndLoad("step 4 category page", categoryUrl, o);
    await step4.stop();

    process.stdout.write("\n   step 5 (+ Redis cache-aside)\n");
    const step5 = await spawnLauncher(["--step", "5", ...common]);
    process.stdout.write(`  $ npm start -- --step 5 ${common.join(" ")}\n`);
    if ((await httpGet(productUrl)).status !== 200) throw new Error(`${productUrl} does not answer 200`);
    const category5 = await warmAndLoad("step 5 category page", categoryUrl, o);
    // The machine may be shared: the limit and the app alternate, each round one after the other, with the
    // topology up for both; the figure is the median of the rounds' ratios.
    await load("step 5 cached product (warm-up)", productUrl, o, 3);
    const rounds: { bare: LoadResult; product: LoadResult }[] = [];
    for (let i = 0; i < o.rounds; i++) {
      process.stdout.write(`   round ${i + 1} of ${o.rounds}\n`);
      const bareRun = await load("bare node:http", bareUrl, o);
      rounds.push({ bare: bareRun, product: await load("step 5 cached product", productUrl, o) });
    }
    await step5.stop();
    bare.kill("SIGTERM");
    const ratios = rounds.map((r) => r.product.rps / r.bare.rps);

    // 3. Start time at step 11: cold (empty data directory), then warm (the data it left).
    process.stdout.write("\n3. step 11 start time, npm start to every /readyz green\n");
    const coldDir = mkdtempSync(path.join(os.tmpdir(), "scale-ladder-bench-11-"));
    const args11 = [
      "--step",
      "11",
      "--port",
      String(o.port),
      "--data-dir",
      coldDir,
      "--seed-products",
      String(o.seedProducts),
    ];
    process.stdout.write(`  $ npm start -- ${args11.join(" ")}\n`);
    const cold = await spawnLauncher(args11);
    await cold.stop();
    const warm = await spawnLauncher(args11);
    await warm.stop();
    await rm(coldDir, { recursive: true, force: true });
    process.stdout.write(
      `    cold (initdb, replicas, migrations, seed of ${o.seedProducts} products): ` +
        `${(cold.startMs / 1000).toFixed(1)} s; warm: ${(warm.startMs / 1000).toFixed(1)} s\n`,
    );
    // Where the time went, from the launcher's own progress lines (a rebuild of a stale release shows as "built").
    for (const [name, s] of [
      ["cold", cold],
      ["warm", warm],
    ] as const) {
      const phases = s
        .output()
        .split("\n")
        .filter((l) => /^\s+✓ /.test(l))
        .map((l) => l.replace(/^\s+✓ (\S+(?: \S+)*?)\s{2,}.*\((\d+\.\d) s\)$/, "$1 $2s"));
      process.stdout.write(`    ${name}: ${phases.join(", ")}\n`);
    }
    process.stdout.write(
      `    load average while measuring: ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")} (other processes on this machine count)\n`,
    );

    const r1 = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)];
    const r2 = category5.rps / category4.rps;
    process.stdout.write(
      `\n    cached product ÷ bare node:http by round: ${ratios.map((r) => `${r.toFixed(2)}×`).join(", ")} ` +
        `(${rounds.map((r) => `${Math.round(r.product.rps)} ÷ ${Math.round(r.bare.rps)}`).join(", ")} req/s)\n`,
    );
    const measured = [category4, category5, ...rounds.flatMap((r) => [r.bare, r.product])];
    const errors = measured.reduce((n, r) => n + r.errors + r.non2xx, 0);
    process.stdout.write(
      [
        "",
        "figure                                                            ratio / time   goal     verdict",
        `cached GET /api/products/:id via LB at step 5 ÷ bare, median     ${r1.toFixed(2).padStart(6)}× ` +
          `       ≥ 0.3×   ${verdict(r1 >= 0.3)}`,
        `category page, step 5 ÷ step 4 (same entry, same data)           ${r2.toFixed(2).padStart(6)}× ` +
          `       ≥ 3×     ${verdict(r2 >= 3)}`,
        `step 11 start to all /readyz green, cold ` +
          `                         ${(cold.startMs / 1000).toFixed(1).padStart(6)} s       ≤ 20 s ` +
          `  ${verdict(cold.startMs <= 20_000)}`,
        `step 11 start to all /readyz green, warm ` +
          `                         ${(warm.startMs / 1000).toFixed(1).padStart(6)} s       ≤ 20 s ` +
          `  ${verdict(warm.startMs <= 20_000)}`,
        `failed requests in the measured runs: ${errors}`,
        "",
      ].join("\n"),
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** `npm run bench` (through scripts/run.mjs): a failure is its message on stderr and exit code 1. */
export async function main(argv: string[]): Promise<void> {
  await bench(argv).catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
}
