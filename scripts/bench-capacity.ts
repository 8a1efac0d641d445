/**
 * `npm run bench:capacity [-- --duration S --rounds R --shoppers N --port P --steps 3,4,5,7,8,9 --out FILE]`: what
 * one request of the traffic mix (scripts/load/profile.ts), and of each of its route classes, costs each tier in
 * CPU seconds and in busy database connections, on this machine: the capacity model's measured input
 * (lib/capacity/measurements.json, read by lib/capacity/model.ts).
 *
 * For each step it starts local mode (`npm start` with one web process, one worker, one replica), measures every
 * service's idle CPU for a few seconds and warms each kind of load up for 2 s (not counted). Then, round after
 * round, it sends each route class alone and the mix itself (the load test's visit), each as fast as the one web
 * process answers (`runLoad` from scripts/load/run.ts, --shoppers connections), alternated so that a slow moment of
 * this shared machine falls on all of them. Each run reads the CPU time of every service's process tree from /proc
 * before and after (the idle CPU over the run subtracted), samples the busy connections of each database, and reads
 * the web process's GET /admin/stats (cache hits and misses, catalog reads by database). A visit of one class needs
 * list pages (products to pick) and a checkout needs cart lines: those requests' costs, measured in their own runs,
 * are subtracted. The figures are medians over the rounds; `spread` is the web tier's (max - min) / median.
 *
 * Costs per request, not requests per second, are what it keeps: when a neighbour takes the CPU, a run answers
 * fewer requests but each costs about the same. The topologies run at local mode's default LOG_LEVEL (info), as on
 * AWS: the access log is part of the cost.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  type ClassMeasurement,
  MEASUREMENTS_FILE,
  MEASURED_TIERS,
  type MeasuredTier,
  type Measurements,
  type StepMeasurement,
} from "../lib/capacity/measurements";
import { Client } from "pg";
import { cpuByTier, tierOf } from "../lib/capacity/cpu";
import { httpGet } from "./local/checks";
import type { ServiceStatus } from "./local/launcher";
import { integer } from "./local/options";
import { spawnLauncher } from "./local/spawn";
import {
  ROUTE_CLASSES,
  ROUTE_CLASS_VISITS,
  type RouteClass,
  TRAFFIC_MIX,
  VISIT,
  type VisitRequest,
} from "./load/profile";
import { runLoad } from "./load/run";

interface Options {
  duration: number;
  rounds: number;
  shoppers: number;
  port: number;
  steps: number[];
  out: string;
}

const SEED_PRODUCTS = 2000;
const IDLE_SECONDS = 3;
const WARM_UP_SECONDS = 2;

/** What the benchmark sends: each route class alone, and the mix itself (the load test's visit). */
const KINDS = [...ROUTE_CLASSES, "mix"] as const;
type Kind = (typeof KINDS)[number];
const CLASS_VISITS: Record<Kind, readonly VisitRequest[]> = { ...ROUTE_CLASS_VISITS, mix: VISIT };

function parse(argv: string[]): Options {
  const o: Options = { duration: 4, rounds: 3, shoppers: 32, port: 25800, steps: [3, 4, 5, 7, 8, 9], out: "" };
  o.out = MEASUREMENTS_FILE;
  const usage =
    "usage: npm run bench:capacity [-- --duration S (4) --rounds R (3) --shoppers N (32) --port P (25800) " +
    "--steps 3,4,5,7,8,9 --out FILE (lib/capacity/measurements.json)]";
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--duration") o.duration = integer(flag, value, 1, 600);
    else if (flag === "--rounds") o.rounds = integer(flag, value, 1, 20);
    else if (flag === "--shoppers") o.shoppers = integer(flag, value, 1, 256);
    else if (flag === "--port") o.port = integer(flag, value, 1024, 64000);
    else if (flag === "--out" && value) o.out = path.resolve(value);
    else if (flag === "--steps" && value && /^\d+(,\d+)*$/.test(value))
      o.steps = value.split(",").map((s) => integer("--steps", s, 3, 11));
    else throw new Error(`${flag === "--help" ? "" : `unknown or bad argument ${flag} ${value ?? ""}\n`}${usage}`);
  }
  return o;
}

interface StatsTotals {
  hit: number;
  miss: number;
  db: Record<string, number>;
}

/** The web processes' cache and database counts, summed (GET /admin/stats). */
async function webStats(services: ServiceStatus[], token: string): Promise<StatsTotals> {
  const totals: StatsTotals = { hit: 0, miss: 0, db: {} };
  for (const s of services.filter((x) => tierOf(x) === "web")) {
    const res = await httpGet(`${s.url}/admin/stats`, { authorization: `Bearer ${token}` });
    if (res.status !== 200) throw new Error(`GET ${s.url}/admin/stats answered ${res.status}: ${res.body}`);
    const body = JSON.parse(res.body) as { cache: { hit: number; miss: number }; db: Record<string, number> };
    totals.hit += body.cache.hit;
    totals.miss += body.cache.miss;
    for (const [target, n] of Object.entries(body.db)) {
      const kind = target.startsWith("replica") ? "replica" : target;
      totals.db[kind] = (totals.db[kind] ?? 0) + n;
    }
  }
  return totals;
}

/** The databases whose connections the model counts, by tier. */
const DB_TIERS = ["primary", "replicas", "shards"] as const;
type DbTier = (typeof DB_TIERS)[number];
const SAMPLE_MS = 20;

/**
 * Samples, every {@link SAMPLE_MS} ms until stopped, how many of the app's connections to each database are busy
 * (in a statement or a transaction: `pg_stat_activity.state` not `idle`), and resolves with the connection
 * seconds each tier's databases were busy: by Little's law, ÷ requests = how long a request holds one.
 */
async function sampleBusyConnections(
  services: ServiceStatus[],
  password: string,
): Promise<() => Promise<Record<DbTier, number>>> {
  const clients: Array<{ tier: DbTier; client: Client }> = [];
  for (const s of services) {
    const tier = tierOf(s);
    if (tier !== "primary" && tier !== "replicas" && tier !== "shards") continue;
    const url = new URL(s.url);
    const client = new Client({
      host: "127.0.0.1",
      port: Number(url.port),
      user: "shop",
      password,
      database: url.pathname.slice(1),
    });
    await client.connect();
    clients.push({ tier, client });
  }
  const busy: Record<DbTier, number> = { primary: 0, replicas: 0, shards: 0 };
  let going = true;
  let last = performance.now();
  const loop = (async () => {
    while (going) {
      const counts = await Promise.all(
        clients.map(async ({ tier, client }) => {
          const { rows } = await client.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = 'shop' AND state <> 'idle' " +
              "AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
          );
          return [tier, rows[0].n] as const;
        }),
      );
      const now = performance.now();
      for (const [tier, n] of counts) busy[tier] += (n * (now - last)) / 1000;
      last = now;
      await sleep(SAMPLE_MS);
    }
  })();
  return async () => {
    going = false;
    await loop;
    await Promise.all(clients.map(({ client }) => client.end()));
    return busy;
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One run of a class: what it sent, by class, and what each tier spent beyond its idle rate. */
interface Run {
  sent: Record<RouteClass, number>;
  seconds: number;
  cpu: Record<MeasuredTier, number>;
  /** Connection seconds the app's connections to each database were busy. */
  held: Record<DbTier, number>;
  stats: StatsTotals;
  ok: number;
  requests: number;
}

async function measureStep(step: number, o: Options): Promise<StepMeasurement> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `scale-ladder-capacity-${step}-`));
  const args = ["--step", String(step), "--port", String(o.port), "--data-dir", dataDir, "--reset"];
  args.push("--web", "1", "--workers", "1", "--replicas", "1", "--seed-products", String(SEED_PRODUCTS));
  process.stdout.write(`step ${step}: npm start -- ${args.join(" ")}\n`);
  const spawned = await spawnLauncher(args);
  try {
    const control = spawned.launcher.controlUrl;
    const services = (JSON.parse((await httpGet(`${control}/status`)).body) as { services: ServiceStatus[] }).services;
    const secrets = JSON.parse(readFileSync(path.join(dataDir, "secrets.json"), "utf8")) as {
      adminToken: string;
      shopPassword: string;
    };
    const token = secrets.adminToken;
    // The idle CPU of each tier (pollers, background writers), per second, subtracted from every run.
    await sleep(1000);
    const idle0 = cpuByTier(services);
    await sleep(IDLE_SECONDS * 1000);
    const idle1 = cpuByTier(services);
    const idle = Object.fromEntries(
      MEASURED_TIERS.map((t) => [t, t === "loadgen" ? 0 : (idle1[t] - idle0[t]) / IDLE_SECONDS]),
    ) as Record<MeasuredTier, number>;

    /** One class alone, as fast as the shop answers; local mode has no WAF and its app limits are out of reach. */
    const load = (c: Kind, round: number) => ({
      url: spawned.launcher.entryUrl,
      step,
      rate: Infinity,
      duration: o.duration,
      shoppers: o.shoppers,
      minSuccess: 0,
      maxP99Ms: Infinity,
      limits: { waf: 0, cart: 0, checkout: 0 },
      seed: 1000 * step + round,
      visit: CLASS_VISITS[c],
    });
    const runs: Record<Kind, Run[]> = { browse: [], product: [], cart: [], checkout: [], mix: [] };
    // A warm-up of each class, not counted: the first requests of a process compile its code and fill its caches.
    for (const c of KINDS) await runLoad({ ...load(c, 0), duration: WARM_UP_SECONDS });
    for (let round = 0; round < o.rounds; round++) {
      for (const c of KINDS) {
        const cpu0 = cpuByTier(services);
        const stats0 = await webStats(services, token);
        const stopSampling = await sampleBusyConnections(services, secrets.shopPassword);
        const t0 = performance.now();
        const report = await runLoad(load(c, round + 1));
        // The worker confirms queued orders after their checkout answered: its work is the checkout's.
        if (c === "checkout") await sleep(1000);
        const seconds = (performance.now() - t0) / 1000;
        const held = await stopSampling();
        const cpu1 = cpuByTier(services);
        const stats1 = await webStats(services, token);
        const cpu = Object.fromEntries(
          MEASURED_TIERS.map((t) => [t, Math.max(0, cpu1[t] - cpu0[t] - idle[t] * seconds)]),
        ) as Record<MeasuredTier, number>;
        const db = Object.fromEntries(Object.entries(stats1.db).map(([k, n]) => [k, n - (stats0.db[k] ?? 0)] as const));
        runs[c].push({
          sent: report.byClass,
          seconds: o.duration,
          cpu,
          held,
          stats: { hit: stats1.hit - stats0.hit, miss: stats1.miss - stats0.miss, db },
          ok: report.ok,
          requests: report.requests,
        });
        process.stdout.write(
          `  round ${round + 1} ${c.padEnd(8)} ${report.requests} requests (${report.ok} 2xx) in ${o.duration} s; ` +
            `web ${cpu.web.toFixed(2)} s CPU, primary ${cpu.primary.toFixed(2)}, replicas ` +
            `${cpu.replicas.toFixed(2)}, shards ${cpu.shards.toFixed(2)}, cache ${cpu.cache.toFixed(2)}, sessions ` +
            `${cpu.sessions.toFixed(2)}, worker ${cpu.worker.toFixed(2)}, balancer ${cpu.balancer.toFixed(2)}, ` +
            `loadgen ${cpu.loadgen.toFixed(2)}\n`,
        );
      }
    }
    return perClass(step, runs, services);
  } finally {
    await spawned.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * Per-request costs of each class from one figure of each run (its CPU of a tier, or its busy connection seconds
 * on a tier's databases): the run's figure less what its other classes' requests cost (the list page of every
 * visit, the cart line of a checkout), in the order browse, product, cart, checkout, round by round; then the
 * median over the rounds, and every round's value.
 */
function perRequest(
  step: number,
  runs: Record<Kind, Run[]>,
  figure: (run: Run) => number,
): Record<Kind, { median: number; rounds: number[] }> {
  const perRound: Array<Record<Kind, number>> = [];
  for (let r = 0; r < runs.browse.length; r++) {
    const cost = { mix: figure(runs.mix[r]) / runs.mix[r].requests } as Record<Kind, number>;
    for (const c of ROUTE_CLASSES) {
      const run = runs[c][r];
      const own = run.sent[c];
      if (own === 0) throw new Error(`step ${step}: the ${c} run answered no ${c} request`);
      let total = figure(run);
      for (const other of ROUTE_CLASSES) if (other !== c && run.sent[other] > 0) total -= run.sent[other] * cost[other];
      cost[c] = Math.max(0, total / own);
    }
    perRound.push(cost);
  }
  return Object.fromEntries(
    KINDS.map((c) => [c, { median: median(perRound.map((p) => p[c])), rounds: perRound.map((p) => p[c]) }]),
  ) as Record<Kind, { median: number; rounds: number[] }>;
}

/** The step's measurement from its runs. */
function perClass(step: number, runs: Record<Kind, Run[]>, services: ServiceStatus[]): StepMeasurement {
  const running = new Set(services.map(tierOf).filter((t): t is MeasuredTier => t !== undefined));
  running.add("loadgen");
  const tiers = MEASURED_TIERS.filter((t) => running.has(t));
  const cpu = Object.fromEntries(tiers.map((t) => [t, perRequest(step, runs, (run) => run.cpu[t])]));
  const dbs = DB_TIERS.filter((t) => running.has(t));
  const held = Object.fromEntries(dbs.map((t) => [t, perRequest(step, runs, (run) => run.held[t])]));
  const out = {} as StepMeasurement;
  for (const c of KINDS) {
    const webs = cpu.web[c].rounds;
    const hits = runs[c].reduce((n, r) => n + r.stats.hit, 0);
    const misses = runs[c].reduce((n, r) => n + r.stats.miss, 0);
    const requests = runs[c].reduce((n, r) => n + r.requests, 0);
    const db: Record<string, number> = {};
    for (const r of runs[c]) for (const [k, n] of Object.entries(r.stats.db)) db[k] = (db[k] ?? 0) + n;
    const m: ClassMeasurement = {
      cpuSeconds: Object.fromEntries(tiers.map((t) => [t, round6(cpu[t][c].median)])),
      connectionSeconds: Object.fromEntries(dbs.map((t) => [t, round6(held[t][c].median)])),
      requestsPerSecond: Math.round(median(runs[c].map((r) => r.requests / r.seconds))),
      spread: round3((Math.max(...webs) - Math.min(...webs)) / median(webs)),
      dbReadsPerRequest: Object.fromEntries(Object.entries(db).map(([k, n]) => [k, round3(n / requests)])),
    };
    if (hits + misses > 0) m.cacheHitRatio = round3(hits / (hits + misses));
    out[c] = m;
  }
  return out;
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
const round3 = (x: number) => Math.round(x * 1e3) / 1e3;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const o = parse(args);
  const result: Measurements = {
    command: ["npm run bench:capacity", ...(args.length > 0 ? ["--", ...args] : [])].join(" "),
    date: new Date().toISOString().slice(0, 10),
    machine: { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, os: `${os.type()} ${os.release()}` },
    node: process.version,
    method: {
      durationSeconds: o.duration,
      shoppers: o.shoppers,
      rounds: o.rounds,
      seedProducts: SEED_PRODUCTS,
      logLevel: "info",
    },
    steps: {},
  };
  for (const step of o.steps) result.steps[String(step)] = await measureStep(step, o);
  writeFileSync(o.out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`wrote ${path.relative(process.cwd(), o.out)}\n`);
  // How far the classes' costs, weighted by the mix, are from the mix measured as a whole (lib/capacity/model.ts
  // uses the whole).
  for (const [step, classes] of Object.entries(result.steps)) {
    const ratios = MEASURED_TIERS.flatMap((t) => {
      const whole = classes.mix.cpuSeconds[t] ?? 0;
      const composed = ROUTE_CLASSES.reduce((sum, c) => sum + TRAFFIC_MIX[c] * (classes[c].cpuSeconds[t] ?? 0), 0);
      return whole > 1e-5 ? [`${t} ${(composed / whole).toFixed(2)}`] : [];
    });
    process.stdout.write(`step ${step}: the classes weighted by the mix ÷ the mix: ${ratios.join(", ")}\n`);
  }
  for (const [step, classes] of Object.entries(result.steps))
    for (const c of KINDS) {
      const m = classes[c];
      const cpu = Object.entries(m.cpuSeconds)
        .map(([t, s]) => `${t} ${(s * 1000).toFixed(3)}`)
        .join(", ");
      process.stdout.write(
        `step ${step} ${c.padEnd(8)} ${m.requestsPerSecond} req/s on one web process (spread ` +
          `${(m.spread * 100).toFixed(0)} %); CPU ms per request: ${cpu}\n`,
      );
    }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
