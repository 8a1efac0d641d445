/**
 * End to end, issue 17 item 6: `npm run load` (scripts/load/cli.ts, as a process) against local mode at step 9 (the
 * queue and the shards, the deepest visit: checkout 202 and the pending order polled). At a small rate the gate is
 * met and exits 0, every order the load placed is on the shard the shard-key simulation says (real data checking
 * the model of scripts/load/shard-keys.ts), and with the sessions' Redis stopped the gate fails and exits 1.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import type { Client } from "pg";
import { assignBuckets } from "../../../components/shard-map";
import type { LoadReport } from "../../../scripts/load/run";
import { ROUTE_CLASSES, TRAFFIC_MIX } from "../../../scripts/load/profile";
import { shardOf } from "../../../scripts/load/shard-keys";
import { type Topology, startTopology } from "./support/local-topology";

jest.setTimeout(240_000);
const PORT = 25500;
const ROOT = path.resolve(__dirname, "../../..");
const SHARDS = ["shard-0", "shard-1"];
let topology: Topology;

beforeAll(async () => {
  topology = await startTopology(9, PORT);
});
afterAll(async () => {
  await topology?.stop();
});

/** `npm run load -- <args>` as its own process; resolves with its exit code and output (it never rejects). */
function load(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, "scripts/run.mjs"), path.join(ROOT, "scripts/load/cli.ts"), ...args],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// Local mode sets the app's rate limits out of reach and has no WAF (stacks/app-environment.ts LOCAL_RATE_LIMITS).
const LOCAL = ["--limits", "waf=0,cart=0,checkout=0"];

test("step 9 holds the profile at 40 req/s: exit 0, the mix as sent, each order on its shopper's shard", async () => {
  const json = await load([
    "--url",
    topology.entryUrl,
    "--step",
    "9",
    "--rate",
    "40",
    "--duration",
    "8",
    "--shoppers",
    "4",
    "--seed",
    "2",
    "--json",
    ...LOCAL,
  ]);
  expect(json.code).toBe(0);
  const report = JSON.parse(json.stdout) as LoadReport;
  expect(report.gate).toEqual({ minSuccess: 0.99, maxP99Ms: 1000, held: true, reasons: [] });
  expect(report.failures).toEqual({});
  // Requests are counted, not timed: 8 s at 40 req/s is at most 320, and a loaded machine sends fewer.
  expect(report.requests).toBeGreaterThan(120);
  expect(report.requests).toBeLessThanOrEqual(340);
  // The answers by class follow the mix (a visit cut off by the end of the run shifts them a little).
  const answered = ROUTE_CLASSES.reduce((n, c) => n + report.byClass[c], 0);
  for (const c of ROUTE_CLASSES)
    expect({ c, share: Math.abs(report.byClass[c] / answered - TRAFFIC_MIX[c]) < 0.06 }).toEqual({ c, share: true });
  // Step 9 checks out through the queue; the order read sees the order pending or already confirmed.
  expect(Object.keys(report.checkouts.answered)).toEqual(["202"]);
  const checkouts = report.checkouts.answered["202"];
  expect(checkouts).toBeGreaterThan(0);
  const reads = Object.entries(report.orderReads);
  expect(reads.length).toBeGreaterThan(0);
  for (const [status] of reads) expect(["pending", "confirmed"]).toContain(status);

  // Real data against the model: each order is on the shard the simulation's shopper hash names.
  const buckets = assignBuckets(SHARDS.length);
  const placed = await Promise.all(
    SHARDS.map(async (name, index) => {
      const db: Client = await topology.db(name);
      try {
        const sql = "SELECT shopper_id FROM orders WHERE status <> 'void'";
        const { rows } = await db.query<{ shopper_id: string }>(sql);
        return rows.map((r) => ({ shard: index, model: shardOf(r.shopper_id, buckets) }));
      } finally {
        await db.end();
      }
    }),
  );
  const orders = placed.flat();
  expect(orders.length).toBeGreaterThanOrEqual(checkouts);
  expect(new Set(orders.map((o) => o.shard)).size).toBe(SHARDS.length);
  expect(orders.filter((o) => o.shard !== o.model)).toEqual([]);
});

test("with the sessions' Redis stopped the step does not hold: exit 1, the failures named", async () => {
  await topology.fault("redis-stop", "redis-sessions");
  try {
    const run = await load(["--url", topology.entryUrl, "--step", "9", "--rate", "20", "--duration", "4", ...LOCAL]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/gate: step 9 does not hold 20 req\/s: success .* is under --min-success 99\.00 %/);
    expect(run.stdout).toMatch(/failed: 503 POST \/api\/cart\/items .* × \d+/);
  } finally {
    await topology.fault("redis-start", "redis-sessions");
  }
});
