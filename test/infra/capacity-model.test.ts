/**
 * The capacity model (lib/capacity/model.ts) over the configuration: a figure for every step, the least tier's,
 * budgets that follow the keys and the facts, and inputs that say where they come from. The model against a real
 * run is test/app/e2e/capacity-model.test.ts.
 */
import { vcpusOf } from "../../components/facts/instance-vcpus";
import { type Measurements, measurementFor, readMeasurements } from "../../lib/capacity/measurements";
import { capacityModel, localCapacity, mixCost } from "../../lib/capacity/model";
import { parseLadderConfig } from "../../stacks/config";
import { MAX_STEP, MIN_STEP, featuresAt } from "../../stacks/steps";

const measurements = readMeasurements();
const at = (step: number, keys: Record<string, string> = {}) =>
  capacityModel(parseLadderConfig({ step: String(step), ...keys }), measurements);
const tier = (m: ReturnType<typeof at>, name: string) => m.tiers.find((t) => t.tier === name);

describe("the capacity model", () => {
  it.each(Array.from({ length: MAX_STEP - MIN_STEP + 1 }, (_, i) => i + MIN_STEP))(
    "step %i: the sustained rate is its least tier's, named as the one that saturates first",
    (step) => {
      const m = at(step);
      const bounded = m.tiers.filter((t) => t.requestsPerSecond !== null);
      const least = Math.min(...bounded.map((t) => t.requestsPerSecond!));
      expect(m.sustainedRequestsPerSecond).toBeGreaterThan(0);
      expect(m.sustainedRequestsPerSecond).toBe(least);
      expect(tier(m, m.saturating)?.requestsPerSecond).toBe(least);
      expect(tier(m, m.saturating)?.headroom).toBe(1);
      for (const t of bounded) expect(t.headroom!).toBeGreaterThanOrEqual(1);
      // One order per visit of 40 requests.
      expect(m.ordersPerSecond).toBeCloseTo(m.sustainedRequestsPerSecond / 40, 0);
      const f = featuresAt(step);
      expect(tier(m, "web fleet") !== undefined).toBe(f.fleet);
      expect(tier(m, "catalog replicas CPU") !== undefined).toBe(f.replicas);
      expect(tier(m, "product cache") !== undefined).toBe(f.cache);
      expect(tier(m, "sessions' Valkey") !== undefined).toBe(f.redisSessions);
      expect(tier(m, "worker fleet") !== undefined).toBe(f.queue);
      expect(m.workerOrdersPerSecond !== undefined).toBe(f.queue);
      expect(tier(m, "order shards' writers CPU") !== undefined).toBe(f.shards);
      expect(tier(m, "orders queue (SQS)")?.requestsPerSecond ?? null).toBeNull();
      expect(m.cacheHitRatio !== undefined).toBe(f.cache);
    },
  );

  it("gives a tier its vCPUs × its burstable baseline × its count at the fleets' most", () => {
    // Twelve servers' pools need a larger class than db.t4g.micro (stacks/capacity-checks.ts).
    const six = tier(at(5, { dbInstanceClass: "db.t4g.medium" }), "web fleet")!;
    const twelve = tier(at(5, { webMaxSize: "12", dbInstanceClass: "db.t4g.medium" }), "web fleet")!;
    expect(six.basis).toContain("6 × t4g.small (2 vCPUs at 20 %) = 2.4 vCPU");
    expect(twelve.requestsPerSecond! / six.requestsPerSecond!).toBeCloseTo(2, 1);
    // db.t4g.micro's baseline is 10 %, db.t4g.medium's 20 %, both with 2 vCPUs; db.m7g.large is not burstable.
    const micro = tier(at(3), "catalog primary CPU")!;
    const medium = tier(at(3, { dbInstanceClass: "db.t4g.medium" }), "catalog primary CPU")!;
    const large = tier(at(3, { dbInstanceClass: "db.m7g.large" }), "catalog primary CPU")!;
    expect(medium.requestsPerSecond! / micro.requestsPerSecond!).toBeCloseTo(2, 1);
    expect(large.requestsPerSecond! / micro.requestsPerSecond!).toBeCloseTo(10, 0);
    // A cache node's commands run on one thread, which spends the credits of the node's two vCPUs at t4g.micro's
    // 10 %: 0.2 vCPU (it was given 0.1, one vCPU's credits). A non-burstable node's thread has one whole vCPU.
    const cache = tier(at(5), "product cache")!;
    expect(cache.basis).toContain("1 × cache.t4g.micro (2 vCPUs at 10 %; commands on one thread: 0.2 vCPU) = 0.2 vCPU");
    const m7g = tier(at(5, { cacheNodeType: "cache.m7g.large" }), "product cache")!;
    expect(m7g.basis).toContain("(2 vCPUs at 100 %; commands on one thread: 1 vCPU) = 1 vCPU");
    expect(m7g.requestsPerSecond! / cache.requestsPerSecond!).toBeCloseTo(5, 1);
    // A shard's connections take its share of the requests: twice the shards, twice the ceiling.
    const two = tier(at(9), "each shard's connections")!;
    const four = tier(at(9, { shards: "4" }), "each shard's connections")!;
    expect(four.requestsPerSecond! / two.requestsPerSecond!).toBeCloseTo(2, 1);
    // Step 11: the web fleet in each region.
    expect(tier(at(11), "web fleet")!.basis).toMatch(/^12 × t4g\.small/);
  });

  it("moves the saturating tier when the configuration relieves it", () => {
    const base = at(5);
    const relieved = at(5, reliefOf(base.saturating));
    expect(relieved.saturating).not.toBe(base.saturating);
    expect(relieved.sustainedRequestsPerSecond).toBeGreaterThan(base.sustainedRequestsPerSecond);
  });

  it("reads its mix costs from the measurements of the highest measured step not above the step", () => {
    const steps = Object.keys(measurements.steps).map(Number);
    for (let step = MIN_STEP; step <= MAX_STEP; step++) {
      const used = measurementFor(measurements, step).step;
      expect(steps).toContain(used);
      expect(used <= step || used === Math.min(...steps)).toBe(true);
      expect(steps.filter((s) => s > used && s <= step)).toEqual([]);
    }
    // A made-up file with a doubled web cost halves the web tier.
    const doubled: Measurements = JSON.parse(JSON.stringify(measurements));
    for (const s of Object.values(doubled.steps)) s.mix.cpuSeconds.web = s.mix.cpuSeconds.web! * 2;
    const cfg = parseLadderConfig({ step: "5" });
    const ratio =
      tier(capacityModel(cfg, doubled), "web fleet")!.requestsPerSecond! /
      tier(capacityModel(cfg, measurements), "web fleet")!.requestsPerSecond!;
    expect(ratio).toBeCloseTo(0.5, 2);
    expect(mixCost(measurementFor(doubled, 5).classes).web).toBeCloseTo(
      2 * mixCost(measurementFor(measurements, 5).classes).web,
      9,
    );
  });

  it("says where its inputs come from, what it assumes and what it leaves out", () => {
    expect(measurements.command).toMatch(/^npm run bench:capacity/);
    expect(measurements.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(measurements.machine.cores).toBeGreaterThan(0);
    expect(measurements.node).toMatch(/^v\d+\./);
    const m = at(7);
    expect(m.measurements.file).toBe("lib/capacity/measurements.json");
    expect(m.assumptions.length).toBeGreaterThan(3);
    expect(m.leftOut.length).toBeGreaterThan(3);
    for (const t of m.tiers) expect(t.basis.length).toBeGreaterThan(20);
    for (const t of m.tiers.filter((x) => x.requestsPerSecond === null)) expect(t.basis).toMatch(/https:\/\/docs\.aws/);
  });

  it("evaluated for local mode, gives each web process a core and the services the CPU they share", () => {
    const one = localCapacity({ step: 5, web: 1, workers: 1, cpus: 8 }, measurements);
    const two = localCapacity({ step: 5, web: 2, workers: 1, cpus: 8 }, measurements);
    expect(one.saturating).toBe("web processes");
    expect(two.tiers[0].requestsPerSecond! / one.tiers[0].requestsPerSecond!).toBeCloseTo(2, 1);
    const shared = localCapacity({ step: 5, web: 2, workers: 1, cpus: 0.5 }, measurements);
    expect(shared.saturating).toBe("this machine");
  });
});

describe("vCPU facts", () => {
  it("knows the types the ladder runs on, with db. and cache. prefixes", () => {
    expect(vcpusOf("t4g.small")).toBe(2);
    expect(vcpusOf("db.t4g.micro")).toBe(2);
    expect(vcpusOf("cache.t4g.micro")).toBe(2);
    expect(vcpusOf("db.r6g.large")).toBe(2);
    expect(vcpusOf("db.r6g.4xlarge")).toBe(16);
    expect(vcpusOf("t3.2xlarge")).toBe(8);
  });
  it("refuses a type it has no fact for, naming it and the file", () => {
    expect(() => vcpusOf("t4g.huge")).toThrow(/"t4g\.huge" has no vCPU fact in components\/facts\/instance-vcpus\.ts/);
    expect(() => vcpusOf("nonsense")).toThrow(/"nonsense" has no vCPU fact/);
  });
});

/** Keys that relieve a tier at step 5 and still pass the configuration's checks. */
function reliefOf(tierName: string): Record<string, string> {
  const relief: Record<string, Record<string, string>> = {
    "web fleet": { webMaxSize: "30", dbInstanceClass: "db.m7g.xlarge" },
    "catalog primary CPU": { dbInstanceClass: "db.m7g.xlarge" },
    "catalog replicas CPU": { dbReplicas: "5" },
    "product cache": { cacheNodeType: "cache.m7g.large" },
  };
  if (!(tierName in relief)) throw new Error(`no relief known for ${tierName}`);
  return relief[tierName];
}
