/** The climb's report (scripts/climb/report.ts): p99, the table, and the bars that decide the exit code. */
import { type Outcome, brokenBars, count, emptyRow, quantile, renderReport } from "../../scripts/climb/report";

/** A run of three rows: the start at 6, then 6 → 7 (seamless) and 7 → 8 (seamless), every bar met. */
function passing(): Outcome {
  const start = emptyRow("step 6");
  const climb7 = { ...emptyRow("6 → 7", 7), seamless: true, climbMs: 12_300 };
  const climb8 = { ...emptyRow("7 → 8", 8), seamless: true, climbMs: 9_800 };
  for (const [row, n] of [
    [start, 400],
    [climb7, 1000],
    [climb8, 600],
  ] as const)
    for (let i = 0; i < n; i++) count(row, 5 + (i % 100), i % 50 === 0 ? "expected" : "ok"); // 5 … 104 ms: p99 103
  for (const [row, orders] of [
    [start, 10],
    [climb7, 20],
    [climb8, 15],
  ] as const)
    Object.assign(row, { ordersAcked: orders, ordersPresent: orders, ordersVisible: orders, stockConsistent: true });
  return {
    rows: [start, climb7, climb8],
    orders: { acked: 45, present: 45, missing: 0, visible: 45, invisible: 0 },
    stockConsistent: true,
    stockProblems: [],
    elapsedMs: 95_000,
    maxMs: 600_000,
  };
}

test("p99 is the nearest-rank quantile", () => {
  expect(quantile([], 0.99)).toBe(0);
  expect(quantile([3], 0.99)).toBe(3);
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1
  expect(quantile(hundred, 0.99)).toBe(99);
  expect(quantile(hundred, 0.5)).toBe(50);
  expect(quantile([...hundred, 5000], 0.99)).toBe(100);
});

test("a run that meets every bar: one row per climb, the totals, and no bar broken", () => {
  const outcome = passing();
  expect(brokenBars(outcome)).toEqual([]);
  const table = renderReport(outcome);
  const lines = table.split("\n");
  expect(lines[0]).toMatch(/^climb\s+seamless\s+climb s\s+requests\s+failed\s+p99 ms\s+carts lost\s+orders/);
  expect(lines[2]).toMatch(/^step 6\s+-\s+-\s+400\s+0\s+103\s+0\s+10\/10\/10\s+yes$/);
  expect(lines[3]).toMatch(/^6 → 7\s+yes\s+12\.3\s+1000\s+0\s+103\s+0\s+20\/20\/20\s+yes$/);
  expect(lines[4]).toMatch(/^7 → 8\s+yes\s+9\.8\s+600\s+0\s+103\s+0\s+15\/15\/15\s+yes$/);
  expect(lines[6]).toMatch(/^total\s+-\s+22\.1\s+2000\s+0\s+103\s+0\s+45\/45\/45\s+yes$/);
  expect(table).toContain("time: 95.0 s of at most 600.0 s");
  expect(table).toMatch(/bars: all met$/);
});

test("one failure on a seamless climb breaks its bar, though the run stays under 0.1 % overall", () => {
  const outcome = passing();
  count(outcome.rows[1], 30_000, { failure: "POST /api/checkout: 502 bad gateway" });
  expect(brokenBars(outcome)).toEqual(["1 requests failed on 6 → 7, a seamless climb"]);
  expect(renderReport(outcome)).toContain("failure (6 → 7): POST /api/checkout: 502 bad gateway");
});

test("failures on a climb that is not seamless count only against the 0.1 % overall", () => {
  const outcome = passing();
  outcome.rows[1].seamless = false;
  count(outcome.rows[1], 40, { failure: "POST /api/cart/items: 503" });
  count(outcome.rows[1], 40, { failure: "POST /api/cart/items: 503" });
  expect(brokenBars(outcome)).toEqual([]);
  count(outcome.rows[1], 40, { failure: "POST /api/cart/items: 503" });
  expect(brokenBars(outcome)).toEqual(["3 of 2003 requests failed (0.15 %, more than 0.1 %)"]);
});

test("missing orders, invisible orders, lost carts, stock, time and an early stop each break a bar", () => {
  const outcome: Outcome = {
    ...passing(),
    orders: { acked: 45, present: 43, missing: 1, visible: 43, invisible: 2 },
    stockConsistent: false,
    stockProblems: ["#12: stock 40 → 31 (9 fewer), orders took 8"],
    elapsedMs: 601_000,
    stoppedEarly: "the time bound of 10 minutes",
  };
  outcome.rows[2].cartsLost = 2;
  expect(brokenBars(outcome)).toEqual([
    "the run stopped before its end: the time bound of 10 minutes",
    "1 acknowledged orders missing from the databases",
    "2 acknowledged orders missing from their shoppers' histories",
    "1 acknowledged orders not checked",
    "2 carts lost",
    "stock inconsistent: #12: stock 40 → 31 (9 fewer), orders took 8",
    "took 601.0 s, more than 600.0 s",
  ]);
  expect(renderReport(outcome)).toContain("bars broken:\n  ✗ the run stopped");
});
