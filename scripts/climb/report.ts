/**
 * The climb's figures: one row per period (the steady start at the first step, then each climb together with the
 * steady period after it, so that a failure caused by a climb but seen a moment later is the climb's), the totals,
 * and the bars of issue 15 that decide the exit code.
 */

/** The bars (issue 15): failed requests overall, as a fraction of all requests. */
export const MAX_FAILURE_RATE = 0.001;

/** What happened in one row's period. */
export interface Row {
  /** `step 6` for the steady start, `6 → 7` for a climb. */
  label: string;
  /** A climb's target step; undefined for the steady start. */
  to?: number;
  /** Whether the climb should be seamless (zero failed requests expected), as its ClimbReport says. */
  seamless?: boolean;
  /** How long `climb()` took, ms. */
  climbMs?: number;
  /** The climb's phases as the launcher reported them. */
  phases?: Array<{ name: string; ms: number; detail?: string }>;
  requests: number;
  failures: number;
  /** Every request's latency, ms (redirects and resends included: what the shopper waited). */
  latencies: number[];
  /** The first few failures, `POST /api/checkout: 503 …`. */
  failureSamples: string[];
  /** 409s and the like that the API documents as normal answers (price changed, out of stock). */
  expected: number;
  cartsLost: number;
  ordersAcked: number;
  ordersPresent: number;
  ordersVisible: number;
  /** Stock consistent with the orders at the end of the period (see verify.ts). */
  stockConsistent?: boolean;
}

/** A row with nothing counted yet. */
export function emptyRow(label: string, to?: number): Row {
  return {
    label,
    to,
    requests: 0,
    failures: 0,
    latencies: [],
    failureSamples: [],
    expected: 0,
    cartsLost: 0,
    ordersAcked: 0,
    ordersPresent: 0,
    ordersVisible: 0,
  };
}

/** Keeps this many failure descriptions per row: enough to see the cause, not a flood. */
const FAILURE_SAMPLES = 5;

/** Counts one answered or failed request into `row`. */
export function count(row: Row, ms: number, outcome: "ok" | "expected" | { failure: string }): void {
  row.requests++;
  row.latencies.push(ms);
  if (outcome === "expected") row.expected++;
  else if (outcome !== "ok") {
    row.failures++;
    if (row.failureSamples.length < FAILURE_SAMPLES) row.failureSamples.push(outcome.failure);
  }
}

/** The `q` quantile (0–1) of `values`, nearest rank; 0 for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** The rows added up. */
export function totals(rows: readonly Row[]): Row {
  const total = emptyRow("total");
  for (const r of rows) {
    total.requests += r.requests;
    total.failures += r.failures;
    total.latencies.push(...r.latencies);
    total.expected += r.expected;
    total.cartsLost += r.cartsLost;
    total.climbMs = (total.climbMs ?? 0) + (r.climbMs ?? 0);
  }
  total.failureSamples = rows.flatMap((r) => r.failureSamples).slice(0, FAILURE_SAMPLES);
  return total;
}

/** What the whole run found, for the bars and the last lines of the report. */
export interface Outcome {
  rows: Row[];
  /**
   * The final check of every acknowledged order (the totals' orders columns): found in the databases (`present`) or
   * looked for and not found (`missing`), seen in its shopper's history (`visible`) or not (`invisible`). An order
   * neither (the run stopped before it could be looked for) is unchecked.
   */
  orders: { acked: number; present: number; missing: number; visible: number; invisible: number };
  stockConsistent: boolean;
  /** Products whose stock does not add up, `#12: 40 taken, 38 ordered`. */
  stockProblems: string[];
  /** From the launcher's start to the end of the verification, ms. */
  elapsedMs: number;
  /** The time bound, ms. */
  maxMs: number;
  /** The run stopped before its last climb (time bound, an error); says why. */
  stoppedEarly?: string;
}

/** The bars a run broke, one sentence each; none means the run passes. */
export function brokenBars(outcome: Outcome): string[] {
  const broken: string[] = [];
  const total = totals(outcome.rows);
  const { acked, present, missing, visible, invisible } = outcome.orders;
  if (outcome.stoppedEarly) broken.push(`the run stopped before its end: ${outcome.stoppedEarly}`);
  if (missing > 0) broken.push(`${missing} acknowledged orders missing from the databases`);
  if (invisible > 0) broken.push(`${invisible} acknowledged orders missing from their shoppers' histories`);
  const unchecked = Math.max(acked - present - missing, acked - visible - invisible);
  if (unchecked > 0) broken.push(`${unchecked} acknowledged orders not checked`);
  if (total.cartsLost > 0) broken.push(`${total.cartsLost} carts lost`);
  if (total.requests > 0 && total.failures / total.requests > MAX_FAILURE_RATE)
    broken.push(
      `${total.failures} of ${total.requests} requests failed (${percent(total.failures, total.requests)}, ` +
        `more than ${MAX_FAILURE_RATE * 100} %)`,
    );
  for (const r of outcome.rows)
    if (r.seamless && r.failures > 0) broken.push(`${r.failures} requests failed on ${r.label}, a seamless climb`);
  if (!outcome.stockConsistent) broken.push(`stock inconsistent: ${outcome.stockProblems.slice(0, 3).join("; ")}`);
  if (outcome.elapsedMs > outcome.maxMs)
    broken.push(`took ${seconds(outcome.elapsedMs)} s, more than ${seconds(outcome.maxMs)} s`);
  return broken;
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / Math.max(1, whole)).toFixed(2)} %`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

const yesNo = (b: boolean | undefined) => (b === undefined ? "-" : b ? "yes" : "no");

/** The table: one line per row, then the totals, then the bars broken (or that none is). */
export function renderReport(outcome: Outcome): string {
  const header = [
    "climb",
    "seamless",
    "climb s",
    "requests",
    "failed",
    "p99 ms",
    "carts lost",
    "orders acked/present/visible",
    "stock ok",
  ];
  const line = (r: Row, orders: string, stock: boolean | undefined) => [
    r.label,
    r.to === undefined ? "-" : yesNo(r.seamless),
    r.climbMs === undefined ? "-" : seconds(r.climbMs),
    String(r.requests),
    r.failures === 0 ? "0" : `${r.failures} (${percent(r.failures, r.requests)})`,
    quantile(r.latencies, 0.99).toFixed(0),
    String(r.cartsLost),
    orders,
    yesNo(stock),
  ];
  const total = totals(outcome.rows);
  const { acked, present, visible } = outcome.orders;
  const cells = [
    header,
    ...outcome.rows.map((r) => line(r, `${r.ordersAcked}/${r.ordersPresent}/${r.ordersVisible}`, r.stockConsistent)),
    line(total, `${acked}/${present}/${visible}`, outcome.stockConsistent),
  ];
  const widths = header.map((_, i) => Math.max(...cells.map((c) => c[i].length)));
  const render = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  const out = [render(cells[0]), widths.map((w) => "-".repeat(w)).join("  ")];
  out.push(...cells.slice(1, -1).map(render), widths.map((w) => "-".repeat(w)).join("  "), render(cells.at(-1)!));
  out.push(`time: ${seconds(outcome.elapsedMs)} s of at most ${seconds(outcome.maxMs)} s`);
  for (const r of outcome.rows) for (const f of r.failureSamples) out.push(`failure (${r.label}): ${f}`);
  const broken = brokenBars(outcome);
  out.push(broken.length === 0 ? "bars: all met" : `bars broken:\n${broken.map((b) => `  ✗ ${b}`).join("\n")}`);
  return out.join("\n");
}
