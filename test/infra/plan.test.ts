/**
 * `npm run plan`: its counts are the mock graph's, its diff finds what a climb creates, deletes and replaces, its
 * ForceNew table knows every type the program registers, and its cost follows the configuration.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { estimateCost } from "../../scripts/plan/cost";
import { diffGraphs } from "../../scripts/plan/diff";
import { FORCE_NEW } from "../../scripts/plan/force-new";
import { GraphIndex, isComponent, isRemote, isResourceLike } from "../../scripts/plan/graph";
import { parseArgs } from "../../scripts/plan/cli";
import { Plan, makePlan } from "../../scripts/plan/plan";
import { EC2_HOURLY, HOURS_PER_MONTH, RATES, RDS_POSTGRES_HOURLY } from "../../lib/pricing/prices";
import { planText } from "../../scripts/plan/render";
import { ladderGraph } from "../../lib/graph/graph-cache";
import { Graph, stackConfig } from "../../lib/graph/harness";
import { DNS } from "./ladder-variants";

const ROOT = path.resolve(__dirname, "../..");
const HOOK_TIMEOUT_MS = 300_000;

/** Runs `npm run plan` as a user would (scripts/run.mjs, a fresh node process). */
function planCli(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts/run.mjs"), "scripts/plan/cli.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("npm run plan", () => {
  let plan11: Plan;
  let graph11: Graph;
  beforeAll(async () => {
    plan11 = await makePlan({ step: 11, build: "fake" });
    graph11 = await ladderGraph(stackConfig(11), "dev");
  }, HOOK_TIMEOUT_MS);

  it("counts exactly the registrations of the mock graph at step 11", () => {
    expect(plan11.resources.total).toBe(graph11.resources.length);
    expect(plan11.resources.custom).toBe(graph11.customResources.length);
    const treeTotal = plan11.tree.reduce((n, t) => n + t.resources, 0);
    expect(treeTotal).toBe(graph11.resources.filter(isResourceLike).length);
    expect(plan11.regions).toEqual(["us-east-1", "eu-west-1"]);
  });

  it("prints the same count from the command line, and says which build it used", () => {
    const json = planCli(["--step", "11", "--format", "json", "--build", "fake"]);
    expect(json.stderr).toBe("");
    expect(json.status).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.resources.total).toBe(graph11.resources.length);
    expect(out.build.kind).toBe("fake");
    expect(out.diff.from).toBe(10);
    expect(out.cost.monthly).toBe(plan11.cost.monthly);
    // The capacity model (lib/capacity/model.ts): the sustained rate and the tier that saturates first.
    expect(out.capacity.sustainedRequestsPerSecond).toBe(plan11.capacity.sustainedRequestsPerSecond);
    expect(out.capacity.sustainedRequestsPerSecond).toBeGreaterThan(0);
    expect(out.capacity.saturating).toBe(plan11.capacity.saturating);
    expect(out.capacity.tiers.map((t: { tier: string }) => t.tier)).toContain(out.capacity.saturating);

    const text = planCli(["--step", "11", "--build", "fake"]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`Resources: ${graph11.resources.length} `);
    expect(text.stdout).toContain("fake build");
    expect(text.stdout).toContain("Estimated monthly cost");
    expect(text.stdout).toContain(
      `Capacity at the fleets' most: ${plan11.capacity.sustainedRequestsPerSecond.toLocaleString("en-US")} req/s`,
    );

    const mermaid = planCli(["--step", "3", "--format", "mermaid", "--build", "fake"]);
    expect(mermaid.stdout.startsWith("flowchart TB\n")).toBe(true);
  });

  it("reads a target it evaluated before from the graph cache: a second run does not evaluate it again", () => {
    // The plan of step 11 took 2.9-3.7 s evaluated fresh and 1.5-1.8 s read back (lib/graph/graph-cache.ts).
    const dir = mkdtempSync(path.join(os.tmpdir(), "plan-graph-cache-"));
    try {
      const env = { ...process.env, SCALE_LADDER_GRAPH_CACHE: dir };
      const first = planCli(["--step", "2", "--format", "json"], env);
      expect(first.status).toBe(0);
      const graphs = readdirSync(dir).filter((f) => f.endsWith(".json"));
      expect(graphs.length).toBeGreaterThan(0);
      // Mark every cached graph: a run that reads them back reports the mark among the program's warnings.
      for (const f of graphs) {
        const data = JSON.parse(readFileSync(path.join(dir, f), "utf8"));
        data.warnings.push("read back from the graph cache");
        writeFileSync(path.join(dir, f), JSON.stringify(data));
      }
      const second = planCli(["--step", "2", "--format", "json"], env);
      expect(second.status).toBe(0);
      expect(JSON.parse(first.stdout).warnings).not.toContain("read back from the graph cache");
      expect(JSON.parse(second.stdout).warnings).toContain("read back from the graph cache");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses arguments it does not know, with the usage", () => {
    expect(() => parseArgs(["--step", "3", "--colour"])).toThrow(
      /unknown argument "--colour"[\s\S]*usage: npm run plan/,
    );
    expect(() => parseArgs([])).toThrow("--step is required");
    expect(() => parseArgs(["--step", "3", "--format", "yaml"])).toThrow("--format must be text, json or mermaid");
    expect(() => parseArgs(["--step", "three"])).toThrow("--step must be an integer");
    expect(
      parseArgs(["--step=4", "--env", "prod", "--set", "dbReplicas=3", "--domain", "shop.example.com", "--zone", "Z1"])
        .options,
    ).toMatchObject({
      step: 4,
      environment: "prod",
      config: { dbReplicas: "3", domain: "shop.example.com", hostedZoneId: "Z1" },
    });
    const r = planCli(["--step", "12", "--build", "fake"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("--step must be an integer from 1 to 11");
  });

  it("has a ForceNew entry for every type the program registers", () => {
    const types = new Set(graph11.resources.filter((r) => r.custom || isRemote(r)).map((r) => r.type));
    const missing = [...types].filter((t) => FORCE_NEW[t] === undefined).sort();
    expect(missing).toEqual([]);
    // Components of our own are never "unknown": their inputs are recorded, not diffed by a provider.
    expect(
      graph11.resources.filter((r) => isComponent(r) && !isRemote(r)).every((r) => r.type.startsWith("scale-ladder:")),
    ).toBe(true);
  });
});

describe("the diff, matched by URN", () => {
  const g: Record<string, GraphIndex> = {};
  beforeAll(async () => {
    for (const step of [1, 2, 3]) g[step] = new GraphIndex(await ladderGraph(stackConfig(step, DNS), "dev"));
    g.cidr = new GraphIndex(
      await ladderGraph(stackConfig(3, { ...DNS, "scale-ladder:vpcCidr": "10.8.0.0/16" }), "dev"),
    );
    g.bigger = new GraphIndex(
      await ladderGraph(stackConfig(3, { ...DNS, "scale-ladder:dbInstanceClass": "db.t4g.small" }), "dev"),
    );
  }, HOOK_TIMEOUT_MS);

  it("1 → 2 replaces the server (boot script changes, userDataReplaceOnChange) and what holds its id, no more", () => {
    const d = diffGraphs(g[1], g[2], { from: 1, to: 2 });
    expect(d.removed).toEqual([]);
    expect(d.replaced.map((r) => [r.name, r.reasons[0].input])).toEqual([
      ["use1-server", "userData"],
      ["use1-server-eip-association", "instanceId"],
    ]);
    expect(d.added.map((a) => a.name)).toContain("use1-db");
    // The site's record keeps its URN and its address: the Elastic IP stays.
    expect(d.updated.map((u) => u.name)).not.toContain("use1-site-dns");
    expect(d.unknownTypes).toEqual([]);
  });

  it("2 → 3 deletes the single server and its Elastic IP, creates the fleet, moves the site record in place", () => {
    const d = diffGraphs(g[2], g[3], { from: 2, to: 3 });
    expect(d.replaced).toEqual([]);
    expect(d.removed.map((r) => r.name)).toEqual(expect.arrayContaining(["use1-server", "use1-server-eip"]));
    expect(d.added.map((r) => r.name)).toEqual(expect.arrayContaining(["use1-web-alb", "use1-web-asg"]));
    expect(d.updated.find((u) => u.name === "use1-site-dns")?.inputs).toEqual(["aliases", "records", "ttl"]);
  });

  it("follows a replacement through the ids that depend on it (a new VPC CIDR replaces the VPC and its SGs)", () => {
    const d = diffGraphs(g[3], g.cidr, { from: 3, to: 3 });
    const replaced = new Map(d.replaced.map((r) => [r.name, r.reasons]));
    expect(replaced.get("use1-network-vpc")).toEqual([{ input: "cidrBlock", why: "ForceNew" }]);
    expect(replaced.get("use1-network-web-sg")?.[0]).toEqual({
      input: "vpcId",
      why: "holds an output of use1-network-vpc, which is replaced",
    });
    expect(replaced.has("use1-db-sg")).toBe(true);
  });

  it("updates in place what the provider changes in place (a bigger database class)", () => {
    const d = diffGraphs(g[3], g.bigger, { from: 3, to: 3 });
    expect(d.replaced).toEqual([]);
    expect(d.updated.map((u) => [u.name, u.inputs])).toEqual([["use1-db", ["instanceClass"]]]);
  });
});

describe("the cost estimate", () => {
  const month = (hourly: number) => hourly * HOURS_PER_MONTH;
  const round = (n: number) => Math.round(n * 100) / 100;

  it("prices the single server from the table: instance, root volume, monitoring, Elastic IP, secret", async () => {
    const cost = estimateCost(new GraphIndex(await ladderGraph(stackConfig(1), "dev")));
    const expected =
      month(EC2_HOURLY["t4g.small"]) +
      20 * RATES.ebsGp3PerGbMonth +
      7 * RATES.cloudwatchMetricPerMonth +
      month(RATES.publicIpv4PerHour) +
      RATES.secretPerMonth;
    expect(cost.monthly).toBeCloseTo(expected, 1);
    expect(cost.byComponent.map((c) => c.name).sort()).toEqual(["use1-secrets", "use1-server"]);
    expect(cost.unpriced).toEqual([]);
  });

  it("follows the configuration: Multi-AZ doubles the database, OnePerAz a NAT per AZ, unknown noted", async () => {
    const dev = estimateCost(new GraphIndex(await ladderGraph(stackConfig(3), "dev")));
    const prod = estimateCost(
      new GraphIndex(
        await ladderGraph(
          stackConfig(3, { "scale-ladder:environment": "prod", "scale-ladder:dbInstanceClass": "db.m7i.48xlarge" }),
          "prod",
        ),
      ),
    );
    const db = (c: typeof dev, item: RegExp) =>
      c.byComponent.find((x) => x.name === "use1-db")!.lines.find((l) => item.test(l.item))!;
    expect(db(dev, /primary/).monthly).toBe(round(month(RDS_POSTGRES_HOURLY["db.t4g.micro"])));
    expect(db(prod, /primary/).monthly).toBeNull();
    expect(prod.unpriced).toEqual(["RDS for PostgreSQL class db.m7i.48xlarge"]);
    const nat = (c: typeof dev) => c.byComponent.find((x) => x.name === "use1-network")!.monthly;
    expect(nat(prod)).toBeCloseTo(2 * nat(dev), 2);
  });

  it("counts OnePerAz NAT gateways in the zones availabilityZoneNames names (awsx then gets no number)", async () => {
    const prod = { "scale-ladder:environment": "prod" };
    const named = estimateCost(
      new GraphIndex(
        await ladderGraph(
          stackConfig(3, { ...prod, "scale-ladder:availabilityZoneNames": "us-east-1a,us-east-1c" }),
          "prod",
        ),
      ),
    );
    const nats = named.byComponent.find((x) => x.name === "use1-network")!.lines.map((l) => l.item);
    expect(nats).toEqual(["2 × NAT gateway (OnePerAz), with its public IPv4"]);
  });

  it(
    "says what it leaves out and which regions it priced at us-east-1 rates",
    async () => {
      const plan = await makePlan({ step: 11, build: "fake", compare: false });
      expect(plan.cost.pricedAsTableRegion).toEqual(["eu-west-1"]);
      const text = planText(plan);
      expect(text).toContain("eu-west-1 priced at us-east-1 rates");
      expect(text).toContain("data transfer");
      expect(text).toContain("a new stack");
    },
    HOOK_TIMEOUT_MS,
  );
});
