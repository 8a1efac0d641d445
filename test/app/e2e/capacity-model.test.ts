/**
 * End to end, issue 17's first bar: the capacity model (lib/capacity/model.ts) against a real run. Local mode starts
 * at step 3 and climbs to 5 and 7 (one topology); at each of the three steps `npm run load` (its own process, as a
 * person runs it) sends the load profile's visit (the TRAFFIC_MIX) as fast as the shop answers for a few seconds,
 * and the requests it held are compared with the model evaluated for the local topology (`localCapacity`: its web
 * process, one core at most, and every service sharing the CPU), from the committed measurements
 * (lib/capacity/measurements.json).
 *
 * The committed costs were measured on another machine, on another day: this one can be several times slower for
 * the app's work (a machine of the same kind ran the web tier 4-5× slower than the benchmark's, and a bare node:http
 * server only 1.4× slower). So the run first sends the browse class alone (ROUTE_CLASS_VISITS.browse: list pages
 * only, which the benchmark measured alone too) as its baseline, and scales the committed costs by what each tier's
 * browse requests cost now against what they cost the benchmark. What is compared is then the model's cost of a
 * request of the mix, relative to the browse class, with what the run paid for it relative to its own browse run.
 *
 * The machine is also shared (the full suite runs other files beside this one), so the CPU the services get is not
 * the machine's cores: the test reads, from /proc, the CPU seconds the topology's services used during the run
 * beyond their idle rate, and evaluates the model with that. The bands are wide for the noise of a shared machine
 * (see {@link BAND}) and still fail a model wrong by a factor: a tier left out or priced at a fraction (the
 * database's CPU is a quarter to two fifths of a request's cost here), a cost per visit taken for one per request,
 * two cores given where the services get one. */
import { execFile } from "node:child_process";
import path from "node:path";
import { cpuByTier } from "../../../lib/capacity/cpu";
import {
  MEASURED_TIERS,
  type MeasuredTier,
  type Measurements,
  measurementFor,
  readMeasurements,
} from "../../../lib/capacity/measurements";
import { type CapacityModel, localCapacity, mixCost } from "../../../lib/capacity/model";
import { ROUTE_CLASS_VISITS, VISIT } from "../../../scripts/load/profile";
import { type LoadOptions, type LoadReport, runLoad } from "../../../scripts/load/run";
import { type Topology, startTopology } from "./support/local-topology";

jest.setTimeout(300_000);
const PORT = 25800;
const ROOT = path.resolve(__dirname, "../../..");
/**
 * One web process, as the benchmark measured: a Node.js process's CPU per request falls as its load rises (it reads,
 * writes and logs more requests per wake-up), and the model's costs are a saturated process's. Two processes that
 * the shoppers cannot saturate on two cores cost up to 2.5× as much per request (seen at step 7).
 */
const WEB = 1;
/** Products seeded, as the benchmark's: the rows and cache keys a visit reads are the measured ones. */
const SEED_PRODUCTS = 2000;
/**
 * measured ÷ modelled must fall in this band. The browse baseline and the mix run are taken a few seconds apart,
 * and a process that shares its cores with busy neighbours pays more CPU for the same request (its caches are
 * refilled after each switch). Scaled by the baseline, runs gave 0.96-1.19 in total and 0.65-1.13 by tier, alone
 * and beside three infra test files (load average 3), on a machine 1.8-3.5× slower than the benchmark's; unscaled,
 * the same machine gave 0.27-0.36 and the web tier 3.9-5.1×, and failed.
 */
const BAND = { low: 0.4, high: 2.5 } as const;
/**
 * Seconds of the mix. The load saturates both cores while it runs, so these seconds are most of what the file costs
 * the suite. With 3 s of mix, 2 s of baseline and 1 s of each warm-up, two runs alone gave 1.01-1.30 in total and
 * 0.69-1.16 by tier, at 57 s of CPU; 5, 3 and 2 s gave 0.89-1.20 and 0.72-1.17 at 83 s (2026-12-02, 2 cores).
 */
const SECONDS = 3;
/** Seconds of the browse baseline. */
const BASELINE_SECONDS = 2;
const IDLE_MS = 2000;

let topology: Topology;
const measurements = readMeasurements();

beforeAll(async () => {
  // At local mode's default log level, as the benchmark measured: the access log is part of a request's cost.
  topology = await startTopology(3, PORT, [
    ...["--web", String(WEB), "--log-level", "info"],
    ...["--seed-products", String(SEED_PRODUCTS)],
  ]);
});
afterAll(async () => {
  await topology?.stop();
});

/** The tiers of the shop's services (the load generator runs in its own process, not counted). */
const SERVICES = MEASURED_TIERS.filter((t) => t !== "loadgen");
const sum = (cpu: Partial<Record<MeasuredTier, number>>) => SERVICES.reduce((s, t) => s + (cpu[t] ?? 0), 0);
const minus = (a: Record<MeasuredTier, number>, b: Record<MeasuredTier, number>) =>
  Object.fromEntries(MEASURED_TIERS.map((t) => [t, a[t] - b[t]])) as Record<MeasuredTier, number>;

/** `npm run load -- <args>` as its own process; resolves with its report. */
function load(args: string[]): Promise<LoadReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(ROOT, "scripts/run.mjs"), path.join(ROOT, "scripts/load/cli.ts"), ...args],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
  });
}

/** A run's figures: the requests per second it held and the CPU seconds each tier used per request. */
interface Run {
  rate: number;
  perRequest: Record<MeasuredTier, number>;
}

/**
 * Load sent as fast as the shop answers (`send`, which resolves with its report); resolves with the requests per
 * second it held and the CPU seconds each tier's services used per request beyond their idle rate.
 */
async function measure(step: number, seconds: number, send: () => Promise<LoadReport>): Promise<Run> {
  const services = await topology.status();
  const idle0 = cpuByTier(services);
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const idle = minus(cpuByTier(services), idle0);
  const cpu0 = cpuByTier(services);
  const t0 = performance.now();
  const report = await send();
  // The load process starts and stops around its seconds of load: the services idle then, at their idle rate.
  const wall = (performance.now() - t0) / 1000;
  const used = minus(cpuByTier(services), cpu0);
  const perRequest = Object.fromEntries(
    SERVICES.map((t) => [t, Math.max(0, used[t] - (Math.max(0, idle[t]) * wall * 1000) / IDLE_MS) / report.requests]),
  ) as Record<MeasuredTier, number>;
  // A step that fails requests does not hold the rate, whatever it answered.
  expect({ step, failures: report.failures, held: report.gate.held }).toEqual({ step, failures: {}, held: true });
  return { rate: report.requests / seconds, perRequest };
}

/** The mix, through `npm run load` as its own process. */
const runMix = (step: number): Promise<Run> =>
  measure(step, SECONDS, () =>
    load([
      ...["--url", topology.entryUrl, "--step", String(step), "--duration", String(SECONDS)],
      // A rate no local topology reaches: the shoppers send as fast as they are answered.
      ...["--rate", "100000", "--shoppers", "32", "--seed", String(step), "--json"],
      // Local mode sets the app's rate limits out of reach and has no WAF.
      ...["--limits", "waf=0,cart=0,checkout=0"],
    ]),
  );

/** A visit sent in this process (its load generator's CPU is not a service's) as fast as the shop answers. */
const send = (step: number, seconds: number, visit: LoadOptions["visit"]): Promise<LoadReport> =>
  runLoad({
    url: topology.entryUrl,
    step,
    rate: 100_000,
    duration: seconds,
    shoppers: 32,
    minSuccess: 0.99,
    maxP99Ms: 60_000,
    limits: { waf: 0, cart: 0, checkout: 0 },
    seed: step,
    visit,
  });

/** The browse class alone: the run's baseline. */
const runBrowse = (step: number): Promise<Run> =>
  measure(step, BASELINE_SECONDS, () => send(step, BASELINE_SECONDS, ROUTE_CLASS_VISITS.browse));

/**
 * Seconds of each kind of load sent before anything is measured, as the benchmark does: after a climb the cache is
 * cold and the new tiers' code paths are not compiled yet (a cold browse run cost the web tier 1.6× a warm one).
 */
const WARM_UP_SECONDS = 1;

/**
 * Share of the browse class's committed cost from which a tier is scaled by its own browse cost; a tier under it
 * (browse barely touches it) is scaled by the browse class's total.
 */
const SCALED_ALONE_SHARE = 0.1;

/**
 * How much more each tier's work costs now than it cost the benchmark: its browse requests' cost in the baseline
 * run ÷ the committed browse cost of the step.
 */
function speedFactors(step: number, baseline: Run): Record<MeasuredTier, number> {
  const committed = measurementFor(measurements, step).classes.browse.cpuSeconds;
  const total = sum(baseline.perRequest) / sum(committed);
  return Object.fromEntries(
    MEASURED_TIERS.map((t) => {
      const c = committed[t] ?? 0;
      return [t, c >= SCALED_ALONE_SHARE * sum(committed) ? baseline.perRequest[t] / c : total];
    }),
  ) as Record<MeasuredTier, number>;
}

/** The committed measurements with the step's mix costs scaled by `factors`. */
function scaled(step: number, factors: Record<MeasuredTier, number>): Measurements {
  const m: Measurements = JSON.parse(JSON.stringify(measurements));
  const mix = measurementFor(m, step).classes.mix.cpuSeconds;
  for (const t of MEASURED_TIERS) if (mix[t] !== undefined) mix[t] = mix[t]! * factors[t];
  return m;
}

/**
 * Share of a request's cost in the run from which a tier's own cost is checked (below it, it is noise here): a tier
 * the model leaves out, or prices at a fraction of what it costs, fails here even when the sum stays in its band.
 */
const CHECKED_SHARE = 0.15;
/** A checked tier's cost in the run ÷ the model's must fall in this band: one tier is noisier than the sum. */
const TIER_BAND = { low: 0.33, high: 3 } as const;

describe.each([3, 5, 7])("step %i", (step) => {
  let result: Run;
  let factors: Record<MeasuredTier, number>;
  let model: CapacityModel;
  beforeAll(async () => {
    while (topology.step < step) await topology.climb(topology.step + 1);
    for (const visit of [VISIT, ROUTE_CLASS_VISITS.browse]) await send(step, WARM_UP_SECONDS, visit);
    factors = speedFactors(step, await runBrowse(step));
    result = await runMix(step);
    // The CPU the services got in the run: what they used per request × the requests per second.
    const cpus = sum(result.perRequest) * result.rate;
    model = localCapacity({ step, web: WEB, workers: 1, cpus }, scaled(step, factors));
  });

  test("holds what the capacity model says for the local topology, within the band", () => {
    const ratio = Math.round((result.rate / model.sustainedRequestsPerSecond) * 100) / 100;
    // On failure the figures are in the message: what the step held, on how much CPU, what the model says, and how
    // much slower than the benchmark's this machine ran the browse class.
    const seen = {
      step,
      measured: Math.round(result.rate),
      cpus: Math.round(sum(result.perRequest) * result.rate * 100) / 100,
      model: model.sustainedRequestsPerSecond,
      saturating: model.saturating,
      slower: Object.fromEntries(SERVICES.map((t) => [t, Math.round(factors[t] * 100) / 100])),
      ratio,
    };
    expect({ ...seen, inBand: ratio >= BAND.low && ratio <= BAND.high }).toEqual({ ...seen, inBand: true });
  });

  test("each tier that carries a large share of a request costs what the model says", () => {
    const modelled = mixCost(measurementFor(measurements, step).classes);
    const checked = SERVICES.filter((t) => result.perRequest[t] >= CHECKED_SHARE * sum(result.perRequest));
    expect(checked).toContain("web");
    for (const t of checked) {
      // A tier the model does not price at all is infinitely off.
      const expected = modelled[t] * factors[t];
      const ratio = expected > 0 ? Math.round((result.perRequest[t] / expected) * 100) / 100 : Infinity;
      const seen = { step, tier: t, runMs: result.perRequest[t] * 1000, modelMs: expected * 1000, ratio };
      expect({ ...seen, inBand: ratio >= TIER_BAND.low && ratio <= TIER_BAND.high }).toEqual({ ...seen, inBand: true });
    }
  });
});
