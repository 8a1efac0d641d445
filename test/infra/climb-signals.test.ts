/**
 * "When to climb" (stacks/climb-signals.ts): every step has its signal with a threshold derived from the facts and
 * the configuration, and the step-10 alarms use the same thresholds, on the right metrics, in the primary region.
 */
import { ladderGraphs } from "../../lib/graph/graph-cache";
import { Graph, stackConfig } from "../../lib/graph/harness";
import { T } from "../../lib/graph/queries";
import { climbAlarms, climbSignals } from "../../stacks/climb-signals";
import { parseLadderConfig } from "../../stacks/config";
import { MAX_STEP, MIN_STEP } from "../../stacks/steps";

const cfgAt = (step: number, keys: Record<string, string> = {}) =>
  parseLadderConfig({
    "scale-ladder:step": String(step),
    ...Object.fromEntries(Object.entries(keys).map(([k, v]) => [`scale-ladder:${k}`, v])),
  });
const thresholdsAt = (step: number, keys?: Record<string, string>) =>
  climbSignals(cfgAt(step, keys)).map((s) => s.threshold);

describe("the table", () => {
  it.each(Array.from({ length: MAX_STEP - MIN_STEP + 1 }, (_, i) => i + MIN_STEP))(
    "step %i has a signal that says why and what the next step does",
    (step) => {
      const signals = climbSignals(cfgAt(step));
      expect(signals.length).toBeGreaterThan(0);
      for (const s of signals) {
        expect(s.step).toBe(step);
        expect(s.why.length).toBeGreaterThan(20);
        expect(s.next.length).toBeGreaterThan(10);
        // A signal with a metric has a threshold, and one without says so.
        expect(s.metric === undefined).toBe(s.threshold === undefined);
        expect(s.metric === undefined).toBe(s.signal.startsWith("none"));
      }
    },
  );

  it("derives CPU thresholds from the burstable baseline of the class or type in use", () => {
    expect(thresholdsAt(1)).toEqual(["20 % for an hour"]); // t4g.small
    expect(thresholdsAt(1, { serverInstanceType: "t4g.large" })).toEqual(["30 % for an hour"]);
    expect(thresholdsAt(3)).toEqual(["10 % for an hour"]); // db.t4g.micro
    expect(thresholdsAt(8)).toEqual(["20 % for an hour"]); // db.t4g.small, step 8's default
    // Not burstable: no credits to spend, the web fleet's 80 %.
    expect(thresholdsAt(3, { dbInstanceClass: "db.m7g.large" })).toEqual(["80 % for an hour"]);
  });

  it("derives connection thresholds from what the class gives the app (80 % of it)", () => {
    expect(thresholdsAt(7)).toEqual(["50 connections"]); // db.t4g.micro: 80 % of 63
    expect(thresholdsAt(11)).toEqual(["286 connections", "1236 connections"]); // db.t4g.medium 358, db.r6g.large 1546
    expect(thresholdsAt(7, { dbInstanceClass: "db.t4g.small" })).toEqual(["128 connections"]); // 80 % of 161
  });

  it("follows the fleet's scaling target at step 5", () => {
    expect(thresholdsAt(5, { webCpuTargetPercent: "65" })).toEqual(["65 % for 15 minutes"]);
  });
});

describe("the alarms", () => {
  const g: Record<string, Graph> = {};
  beforeAll(async () => {
    const [g10, g11] = await ladderGraphs([10, 11].map((step) => ({ config: stackConfig(step), stack: "dev" })));
    Object.assign(g, { 10: g10, 11: g11 });
  }, 300_000);

  const alarm = (graph: Graph, name: string) => graph.ofType(T.alarm).find((a) => a.name === name)!.inputs;

  it("at step 10 watch the primary's connections and CPU, each shard's writer and the web fleet's target", () => {
    const wanted = climbAlarms(cfgAt(10));
    expect(wanted).toEqual({
      catalogConnections: 128,
      catalogCpuPercent: 20,
      shardWriterConnections: 288,
      webCpuPercent: 50,
    });
    expect(alarm(g[10], "use1-monitoring-db-connections")).toMatchObject({
      namespace: "AWS/RDS",
      metricName: "DatabaseConnections",
      statistic: "Maximum",
      dimensions: { DBInstanceIdentifier: expect.stringMatching(/^use1-db/) },
      threshold: 128,
      comparisonOperator: "GreaterThanThreshold",
    });
    expect(alarm(g[10], "use1-monitoring-db-cpu")).toMatchObject({
      metricName: "CPUUtilization",
      threshold: 20,
      period: 300,
      evaluationPeriods: 12,
    });
    for (const i of [0, 1])
      expect(alarm(g[10], `use1-monitoring-shard-connections-${i}`)).toMatchObject({
        metricName: "DatabaseConnections",
        dimensions: { DBClusterIdentifier: expect.stringMatching(new RegExp(`^use1-shards-${i}`)), Role: "WRITER" },
        threshold: 288,
      });
    expect(alarm(g[10], "use1-monitoring-web-cpu-over-target")).toMatchObject({
      namespace: "AWS/EC2",
      metricName: "CPUUtilization",
      dimensions: { AutoScalingGroupName: expect.any(String) },
      threshold: 50,
    });
  });

  it("use the table's own thresholds (one derivation for the page and the alarm)", () => {
    const [catalog, shards] = climbSignals(cfgAt(11));
    expect(alarm(g[11], "use1-monitoring-db-connections").threshold).toBe(parseInt(catalog.threshold!, 10));
    expect(alarm(g[11], "use1-monitoring-shard-connections-0").threshold).toBe(parseInt(shards.threshold!, 10));
  });

  it("draw the thresholds on the step-10 dashboard's widgets of the same metrics", () => {
    type Widget = { properties: { title?: string; annotations?: { horizontal: { value: number; label: string }[] } } };
    const body = JSON.parse(g[10].one(T.dashboard).inputs.dashboardBody) as { widgets: Widget[] };
    const lines = Object.fromEntries(
      body.widgets
        .filter((w) => w.properties.annotations)
        .map((w) => [w.properties.title, w.properties.annotations!.horizontal.map((h) => h.value)]),
    );
    expect(lines).toEqual({
      "Catalog database CPU %": [20],
      "Catalog database connections": [128],
      "Web fleet CPU %": [50],
    });
  });

  it("at step 11 leave the secondary region's replica and reader shards to the primary region's alarms", () => {
    const names = g[11]
      .ofType(T.alarm)
      .map((a) => a.name)
      .filter((n) => n.startsWith("euw1-monitoring-"));
    expect(names).toContain("euw1-monitoring-web-cpu-over-target");
    expect(names.filter((n) => /db-connections|db-cpu|shard-connections/.test(n))).toEqual([]);
  });
});
