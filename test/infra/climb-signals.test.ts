/**
 * "When to climb": every step's table (lib/capacity/when-to-climb.ts) takes its signal from the capacity model's
 * tier that saturates first, with a threshold derived from the facts and the configuration (stacks/climb-signals.ts)
 * and the rate of the mix at which the model expects it; the step-10 alarms use the same thresholds, on the right
 * metrics, in the right regions.
 */
import { ladderGraphs } from "../../lib/graph/graph-cache";
import { Graph, stackConfig } from "../../lib/graph/harness";
import { T } from "../../lib/graph/queries";
import { type TierKey, capacityModel } from "../../lib/capacity/model";
import { readMeasurements } from "../../lib/capacity/measurements";
import { CLOSE_HEADROOM, climbSignals } from "../../lib/capacity/when-to-climb";
import { cacheCpuSignal, climbAlarms, tierSignal } from "../../stacks/climb-signals";
import { parseLadderConfig } from "../../stacks/config";
import { MAX_STEP, MIN_STEP } from "../../stacks/steps";

const measurements = readMeasurements();
const cfgAt = (step: number, keys: Record<string, string> = {}) =>
  parseLadderConfig({
    "scale-ladder:step": String(step),
    ...Object.fromEntries(Object.entries(keys).map(([k, v]) => [`scale-ladder:${k}`, v])),
  });
const rowsAt = (step: number, keys?: Record<string, string>) => climbSignals(cfgAt(step, keys), measurements);
const thresholdsAt = (step: number, keys?: Record<string, string>) => rowsAt(step, keys).map((s) => s.threshold);
const steps = Array.from({ length: MAX_STEP - MIN_STEP + 1 }, (_, i) => i + MIN_STEP);

describe("the table", () => {
  it.each(steps)("step %i watches the tier the capacity model saturates first, at the model's rate", (step) => {
    const rows = rowsAt(step);
    const model = capacityModel(cfgAt(step), measurements);
    expect(rows[0].tier).toBe(model.saturating);
    expect(rows[0].headroom).toBe(1);
    // Every tier within CLOSE_HEADROOM of the first has its row, in the order they saturate, and no other.
    const close = model.tiers.filter((t) => t.headroom !== null && t.headroom <= CLOSE_HEADROOM).map((t) => t.tier);
    const tiers = rows.filter((r) => r.tier !== undefined);
    expect(tiers.map((r) => r.tier).sort()).toEqual([...close].sort());
    expect(tiers.map((r) => r.headroom)).toEqual([...tiers.map((r) => r.headroom)].sort());
    for (const r of rows) {
      expect(r.step).toBe(step);
      expect(r.why.length).toBeGreaterThan(20);
      expect(r.next.length).toBeGreaterThan(10);
      // A signal with a metric has a threshold, and one without says so.
      expect(r.metric === undefined).toBe(r.threshold === undefined);
      expect(r.metric === undefined).toBe(r.signal.startsWith("none"));
    }
    // A CPU threshold at the tier's baseline is the tier's ceiling: the model expects it at the tier's own rate.
    const t = model.tiers.find((x) => x.tier === rows[0].tier)!;
    const s = tierSignal(cfgAt(step), t.key)!;
    if (s.threshold === s.full) expect(rows[0].expectedRequestsPerSecond).toBe(Math.round(t.requestsPerSecond!));
    // The ladder's next step is named at every step below the top.
    if (step < MAX_STEP) expect(rows.some((r) => r.next.includes(`step ${step + 1}`))).toBe(true);
  });

  it("moves with the configuration: relieve the replicas at step 5 and the primary is watched", () => {
    expect(rowsAt(5).map((r) => r.alarm)).toEqual(["replica-cpu-N", "db-cpu"]);
    const relieved = rowsAt(5, { dbReplicas: "5" });
    expect(relieved[0]).toMatchObject({ tier: "catalog primary CPU", alarm: "db-cpu", headroom: 1 });
  });

  it("scales the model's rate to a threshold below or above the tier's ceiling", () => {
    // db.m7g.large is not burstable: the signal fires at 80 % of what the model lets it use.
    const m7g = rowsAt(3, { dbInstanceClass: "db.m7g.large" });
    const primary = capacityModel(cfgAt(3, { dbInstanceClass: "db.m7g.large" }), measurements).tiers.find(
      (t) => t.key === "catalog-cpu",
    )!;
    expect(m7g[0]).toMatchObject({ tier: "catalog primary CPU", threshold: "80 % for an hour" });
    expect(m7g[0].expectedRequestsPerSecond).toBe(Math.round(primary.requestsPerSecond! * 0.8));
    // Relieve every database: the web fleet saturates first, and its signal is the scaling target (50 %), above the
    // t4g.small's 20 % baseline that the model gives it: 2.5 times the model's ceiling, said so.
    const keys = { dbInstanceClass: "db.m7g.large", dbReplicas: "5" };
    const [web, ...rest] = rowsAt(5, keys);
    const ceiling = capacityModel(cfgAt(5, keys), measurements).tiers.find((t) => t.key === "web")!;
    expect(web).toMatchObject({ tier: "web fleet", threshold: "50 % for 15 minutes", alarm: "web-cpu-over-target" });
    expect(web.expectedRequestsPerSecond).toBe(Math.round(ceiling.requestsPerSecond! * 2.5));
    expect(web.why).toMatch(/above the model's ceiling/);
    // The product cache comes next, within 1.2×, watched on its node's host CPU at the node's credits.
    expect(rest[0]).toMatchObject({ tier: "product cache", alarm: "cache-cpu", threshold: "10 % for an hour" });
    expect(rest[0].metric).toMatch(/^AWS\/ElastiCache CPUUtilization/);
  });

  it("derives CPU thresholds from the burstable baseline of the class or type in use", () => {
    expect(thresholdsAt(1)).toEqual(["20 % for an hour"]); // t4g.small
    expect(thresholdsAt(1, { serverInstanceType: "t4g.large" })).toEqual(["30 % for an hour"]);
    expect(thresholdsAt(3)).toEqual(["10 % for an hour"]); // db.t4g.micro
    expect(thresholdsAt(8)).toEqual(["20 % for an hour"]); // db.t4g.small, step 8's default
  });

  it("watches a Valkey node's one thread on the metric AWS advises for its size", () => {
    // Two vCPUs or fewer: the host's CPU. cache.t4g.micro's thread at the node's credits (2 × 10 % = 0.2 vCPU) is
    // 10 % of the host; cache.m7g.large's whole vCPU is 50 % of it, signalled at 80 % of that.
    expect(cacheCpuSignal("cache.t4g.micro")).toMatchObject({ metricName: "CPUUtilization", threshold: 10, full: 10 });
    expect(cacheCpuSignal("cache.m7g.large")).toMatchObject({ metricName: "CPUUtilization", threshold: 40, full: 50 });
    // Larger: the engine thread's own CPU.
    expect(cacheCpuSignal("cache.m7g.xlarge")).toMatchObject({ metricName: "EngineCPUUtilization", threshold: 80 });
  });

  it("derives connection thresholds from what the class gives the app (80 % of it)", () => {
    const connections = (step: number, key: TierKey, keys?: Record<string, string>) =>
      tierSignal(cfgAt(step, keys), key)!.threshold;
    expect(connections(7, "catalog-connections")).toBe(50); // db.t4g.micro: 80 % of 63
    expect(connections(11, "catalog-connections")).toBe(286); // db.t4g.medium: 80 % of 358
    expect(connections(11, "shard-connections")).toBe(1236); // db.r6g.large: 80 % of 1546
    expect(connections(7, "catalog-connections", { dbInstanceClass: "db.t4g.small" })).toBe(128); // 80 % of 161
  });

  it("follows the fleet's scaling target", () => {
    expect(tierSignal(cfgAt(5, { webCpuTargetPercent: "65" }), "web")!.threshold).toBe(65);
  });
});

describe("the alarms", () => {
  const g: Record<string, Graph> = {};
  beforeAll(async () => {
    const [g10, g11] = await ladderGraphs([10, 11].map((step) => ({ config: stackConfig(step), stack: "dev" })));
    Object.assign(g, { 10: g10, 11: g11 });
  }, 300_000);

  const alarm = (graph: Graph, name: string) => graph.ofType(T.alarm).find((a) => a.name === name)!.inputs;

  it("at step 10 watch each tier of the model: primary, replicas, Valkey groups, shards, web fleet", () => {
    const wanted = climbAlarms(cfgAt(10));
    expect(wanted).toEqual({
      catalogConnections: 128,
      catalogCpuPercent: 20,
      replicaCpuPercent: 20,
      cacheCpu: { metricName: "CPUUtilization", percent: 10 },
      sessionsCpu: { metricName: "CPUUtilization", percent: 10 },
      shardWriterConnections: 288,
      shardWriterCpuPercent: 20,
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
    const hour = { period: 300, evaluationPeriods: 12, comparisonOperator: "GreaterThanThreshold" };
    expect(alarm(g[10], "use1-monitoring-db-cpu")).toMatchObject({
      metricName: "CPUUtilization",
      threshold: 20,
      ...hour,
    });
    const primary = alarm(g[10], "use1-monitoring-db-cpu").dimensions.DBInstanceIdentifier;
    for (const i of [0, 1]) {
      const replica = alarm(g[10], `use1-monitoring-replica-cpu-${i}`);
      expect(replica).toMatchObject({ namespace: "AWS/RDS", metricName: "CPUUtilization", threshold: 20, ...hour });
      expect(replica.dimensions.DBInstanceIdentifier).toMatch(/^use1-db/);
      expect(replica.dimensions.DBInstanceIdentifier).not.toBe(primary);
    }
    expect(g[10].ofType(T.alarm).filter((a) => a.name.startsWith("use1-monitoring-replica-cpu-"))).toHaveLength(2);
    for (const role of ["cache", "sessions"])
      expect(alarm(g[10], `use1-monitoring-${role}-cpu`)).toMatchObject({
        namespace: "AWS/ElastiCache",
        metricName: "CPUUtilization",
        statistic: "Average",
        dimensions: { CacheClusterId: expect.stringMatching(/-001$/) },
        threshold: 10,
        ...hour,
      });
    for (const i of [0, 1]) {
      const dimensions = {
        DBClusterIdentifier: expect.stringMatching(new RegExp(`^use1-shards-${i}`)),
        Role: "WRITER",
      };
      expect(alarm(g[10], `use1-monitoring-shard-connections-${i}`)).toMatchObject({
        metricName: "DatabaseConnections",
        dimensions,
        threshold: 288,
      });
      expect(alarm(g[10], `use1-monitoring-shard-cpu-${i}`)).toMatchObject({
        metricName: "CPUUtilization",
        dimensions,
        threshold: 20,
        ...hour,
      });
    }
    expect(alarm(g[10], "use1-monitoring-web-cpu-over-target")).toMatchObject({
      namespace: "AWS/EC2",
      metricName: "CPUUtilization",
      dimensions: { AutoScalingGroupName: expect.any(String) },
      threshold: 50,
    });
  });

  it("use the table's own thresholds (one derivation for the page and the alarm)", () => {
    for (const step of [10, 11]) {
      const rows = rowsAt(step).filter((r) => r.alarm !== undefined);
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        const name = `use1-monitoring-${r.alarm!.replace(/-N$/, "-0")}`;
        expect([name, alarm(g[step], name).threshold]).toEqual([name, parseFloat(r.threshold!)]);
      }
    }
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
      "Shard writers' CPU %": [20],
      "Product cache CPU %": [10],
      "Sessions' Valkey CPU %": [10],
      "Web fleet CPU %": [50],
    });
  });

  it("at step 11 leave the secondary region's replica and reader shards to the primary region's alarms", () => {
    const names = g[11]
      .ofType(T.alarm)
      .map((a) => a.name)
      .filter((n) => n.startsWith("euw1-monitoring-"));
    // Its own fleet and Valkey groups are its own.
    for (const own of ["web-cpu-over-target", "cache-cpu", "sessions-cpu"])
      expect(names).toContain(`euw1-monitoring-${own}`);
    expect(names.filter((n) => /db-connections|db-cpu|replica-cpu|shard-connections|shard-cpu/.test(n))).toEqual([]);
  });
});
