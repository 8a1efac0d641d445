/**
 * The capacity model's measured inputs (lib/capacity/model.ts): what one request of each route class costs each
 * tier, in CPU seconds, on the machine that ran `npm run bench:capacity` (scripts/bench-capacity.ts). The benchmark
 * writes {@link MEASUREMENTS_FILE} with the machine, the Node.js version, the date and the command; the model reads
 * it and nothing else measured. A CPU second is a vCPU's second: on AWS one vCPU of a Graviton instance is one
 * core, as here (the benchmark's machine says its cores, so a reader can judge how far the two are apart).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROUTE_CLASSES, type RouteClass } from "../../scripts/load/profile";

/** The committed measurements, next to this file. */
export const MEASUREMENTS_FILE = path.join(__dirname, "measurements.json");

/**
 * The tiers whose CPU the benchmark counts, by the local service that stands for them: `web` the app's web
 * processes, `worker` the order workers, `primary` the catalog's primary, `replicas` its read replicas, `shards` the
 * order shards, `cache` the product cache's Redis, `sessions` the sessions' Redis, `balancer` HAProxy (the ALB's and
 * the primary endpoint's stand-in), `queue` the SQS emulator, `loadgen` the load generator (autocannon, in the
 * benchmark's own process).
 */
export const MEASURED_TIERS = [
  "web",
  "worker",
  "primary",
  "replicas",
  "shards",
  "cache",
  "sessions",
  "balancer",
  "queue",
  "loadgen",
] as const;
export type MeasuredTier = (typeof MEASURED_TIERS)[number];

/** What one request of a route class costs, at one step. */
export interface ClassMeasurement {
  /** CPU seconds per request, by tier (the tiers the step runs; the median over the rounds). */
  cpuSeconds: Partial<Record<MeasuredTier, number>>;
  /**
   * Seconds a request holds one of the app's connections to each tier's databases (`primary`, `replicas`,
   * `shards`): the busy connections sampled from `pg_stat_activity` over the run × its length ÷ its requests
   * (Little's law), the median over the rounds. Over loopback: on AWS the network's round trips add to it.
   */
  connectionSeconds: Partial<Record<MeasuredTier, number>>;
  /** Requests per second the benchmark's one web process answered with this class alone (the median). */
  requestsPerSecond: number;
  /** Spread of the web tier's CPU per request over the rounds: (max - min) / median. */
  spread: number;
  /**
   * Requests by the database target that answered their reads, per request (GET /admin/stats `db`):
   * `primary`, `replica` (every replica together), `shard-0`…
   */
  dbReadsPerRequest: Record<string, number>;
  /** hit / (hit + miss) of the cache's catalog reads (GET /admin/stats `cache`), when the step has a cache. */
  cacheHitRatio?: number;
}

/**
 * The cost of each route class at one measured step, each sent alone, and of the mix itself (`mix`: the load
 * test's visit, whose requests are TRAFFIC_MIX exactly), which the model uses.
 */
export type StepMeasurement = Record<RouteClass | "mix", ClassMeasurement>;

/** {@link MEASUREMENTS_FILE}'s content. */
export interface Measurements {
  /** How it was made: the command, when, on what. */
  command: string;
  date: string;
  machine: { cpu: string; cores: number; os: string };
  node: string;
  /** Per run: seconds, shoppers at once, rounds (each class once per round, alternated), products seeded. */
  method: { durationSeconds: number; shoppers: number; rounds: number; seedProducts: number; logLevel: string };
  /** The steps measured, as strings of their numbers; the model uses the highest one not above a step. */
  steps: Record<string, StepMeasurement>;
}

/** Reads and checks {@link MEASUREMENTS_FILE} (or `file`); throws naming what is missing. */
export function readMeasurements(file = MEASUREMENTS_FILE): Measurements {
  const m = JSON.parse(readFileSync(file, "utf8")) as Measurements;
  const steps = Object.keys(m.steps ?? {});
  if (steps.length === 0) throw new Error(`${file} has no measured steps: run npm run bench:capacity`);
  for (const s of steps)
    for (const c of [...ROUTE_CLASSES, "mix"] as const)
      if (!m.steps[s][c]?.cpuSeconds)
        throw new Error(`${file}: step ${s} has no ${c} measurement: run npm run bench:capacity`);
  return m;
}

/** The measurement the model uses for `step`: the highest measured step not above it (the lowest one below it). */
export function measurementFor(m: Measurements, step: number): { step: number; classes: StepMeasurement } {
  const measured = Object.keys(m.steps)
    .map(Number)
    .sort((a, b) => a - b);
  const at = [...measured].reverse().find((s) => s <= step) ?? measured[0];
  return { step: at, classes: m.steps[String(at)] };
}
