/**
 * One bounded autocannon run as its own process (npm's autocannon, keep-alive connections, 127.0.0.1 only): the
 * benchmarks' one way to put a load on a URL and read its figures (scripts/bench-local.ts, scripts/bench-console.ts).
 * A process of its own, so that the load generator does not share an event loop with what measures.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { PROJECT_DIR } from "./local/options";

const AUTOCANNON = path.join(PROJECT_DIR, "node_modules", "autocannon", "autocannon.js");
const run = promisify(execFile);

/** The command line a reader can repeat by hand. */
export const autocannonCommand = (url: string, connections: number, seconds: number): string =>
  `node node_modules/autocannon/autocannon.js -c ${connections} -d ${seconds} ${url}`;

/** What one run measured. */
export interface AutocannonResult {
  /** Requests per second, averaged over the run. */
  rps: number;
  /** Latency percentiles, ms. */
  p50: number;
  p99: number;
  total: number;
  /** Connection errors. */
  errors: number;
  timeouts: number;
  /** Answers that were not 2xx. */
  non2xx: number;
}

/** Loads `url` with `connections` connections for `seconds` seconds. */
export async function autocannon(url: string, connections: number, seconds: number): Promise<AutocannonResult> {
  const args = [AUTOCANNON, "--json", "-c", String(connections), "-d", String(seconds), url];
  const { stdout } = await run(process.execPath, args, { maxBuffer: 64 * 1024 * 1024, cwd: PROJECT_DIR });
  const r = JSON.parse(stdout) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
  };
}
