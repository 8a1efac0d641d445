/**
 * End to end, issue 17's first bar: the capacity model (lib/capacity/model.ts) against a real run. Local mode starts
 * at step 3 and climbs to 5 and 7 (one topology); at each of the three steps `npm run load` (its own process, as a
 * person runs it) sends the load profile's visit (the TRAFFIC_MIX) as fast as the shop answers for a few seconds,
 * and the requests it held are compared with the model evaluated for the local topology (`localCapacity`: its web
 * process, one core at most, and every service sharing the CPU), from the committed measurements
 * (lib/capacity/measurements.json).
 *
 * The machine is shared (the full suite runs other files beside this one), so the CPU the services get is not the
 * machine's cores: the test reads, from /proc, the CPU seconds the topology's services used during the run beyond
 * their idle rate, and evaluates the model with that. What is compared is then the model's cost of a request of
 * the mix with what the run paid for it, in total and for each tier that carries a large share of it. The bands
 * are wide for the noise of a shared machine (see {@link BAND}) and still fail a model wrong by a factor: a tier
 * left out or priced at a fraction (the database's CPU is a quarter to two fifths of a request's cost here), a cost
 * per visit taken for one per request, two cores given where the services get one.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { cpuByTier } from "../../../lib/capacity/cpu";
import {
  MEASURED_TIERS,
  type MeasuredTier,
  measurementFor,
  readMeasurements,
} from "../../../lib/capacity/measurements";
import { type CapacityModel, localCapacity, mixCost } from "../../../lib/capacity/model";
import type { LoadReport } from "../../../scripts/load/run";
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
 * measured ÷ modelled must fall in this band. The committed costs and this run's can be taken under different
 * loads of this shared machine, and a process that shares its cores with busy neighbours pays more CPU for the same
 * request (its caches are refilled after each switch): the benchmark at load average 7 and at 3 differed by 1.5×
 * in total and 2× on the web tier; runs of this test on a quiet machine gave 0.76-1.18.
 */
const BAND = { low: 0.4, high: 2.5 } as const;
const SECONDS = 5;
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

/**
 * The visit sent as fast as the shop answers; resolves with the requests per second it held and the CPU seconds
 * each tier's services used per request beyond their idle rate.
 */
async function run(step: number): Promise<{ rate: number; perRequest: Record<MeasuredTier, number> }> {
  const services = await topology.status();
  const idle0 = cpuByTier(services);
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const idle = minus(cpuByTier(services), idle0);
  const cpu0 = cpuByTier(services);
  const t0 = performance.now();
  const report = await load([
    ...["--url", topology.entryUrl, "--step", String(step), "--duration", String(SECONDS)],
    // A rate no local topology reaches: the shoppers send as fast as they are answered.
    ...["--rate", "100000", "--shoppers", "32", "--seed", String(step), "--json"],
    // Local mode sets the app's rate limits out of reach and has no WAF.
    ...["--limits", "waf=0,cart=0,checkout=0"],
  ]);
  // The load process starts and stops around its SECONDS of load: the services idle then, at their idle rate.
  const wall = (performance.now() - t0) / 1000;
  const used = minus(cpuByTier(services), cpu0);
  const perRequest = Object.fromEntries(
    SERVICES.map((t) => [t, Math.max(0, used[t] - (Math.max(0, idle[t]) * wall * 1000) / IDLE_MS) / report.requests]),
  ) as Record<MeasuredTier, number>;
  // A step that fails requests does not hold the rate, whatever it answered.
  expect({ step, failures: report.failures, held: report.gate.held }).toEqual({ step, failures: {}, held: true });
  return { rate: report.requests / SECONDS, perRequest };
}

/**
 * Share of a request's cost in the run from which a tier's own cost is checked (below it, it is noise here): a tier
 * the model leaves out, or prices at a fraction of what it costs, fails here even when the sum stays in its band.
 */
const CHECKED_SHARE = 0.15;
/** A checked tier's cost in the run ÷ the model's must fall in this band: one tier is noisier than the sum. */
const TIER_BAND = { low: 0.33, high: 3 } as const;

describe.each([3, 5, 7])("step %i", (step) => {
  let result: { rate: number; perRequest: Record<MeasuredTier, number> };
  let model: CapacityModel;
  beforeAll(async () => {
    while (topology.step < step) await topology.climb(topology.step + 1);
    result = await run(step);
    // The CPU the services got in the run: what they used per request × the requests per second.
    const cpus = sum(result.perRequest) * result.rate;
    model = localCapacity({ step, web: WEB, workers: 1, cpus }, measurements);
  });

  test("holds what the capacity model says for the local topology, within the band", () => {
    const ratio = Math.round((result.rate / model.sustainedRequestsPerSecond) * 100) / 100;
    // On failure the figures are in the message: what the step held, on how much CPU, what the model says.
    const seen = {
      step,
      measured: Math.round(result.rate),
      cpus: Math.round(sum(result.perRequest) * result.rate * 100) / 100,
      model: model.sustainedRequestsPerSecond,
      saturating: model.saturating,
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
      const ratio = modelled[t] > 0 ? Math.round((result.perRequest[t] / modelled[t]) * 100) / 100 : Infinity;
      const seen = { step, tier: t, runMs: result.perRequest[t] * 1000, modelMs: modelled[t] * 1000, ratio };
      expect({ ...seen, inBand: ratio >= TIER_BAND.low && ratio <= TIER_BAND.high }).toEqual({ ...seen, inBand: true });
    }
  });
});
