/**
 * The models behind the second-up and two-stacks suites, on small hand-made graphs: each rule they rely on must be
 * able to fail, so a green suite means something.
 */
import { PHYSICAL_NAMES, physicalNames, sharedPhysicalNames } from "../../lib/graph/physical-names";
import { READ_BACK, rdsEngineVersionInState } from "../../lib/graph/read-back";
import { RegisteredResource } from "../../lib/graph/registered";
import { nonDeterminism, secondUpChanges } from "../../lib/graph/second-up";

const PROVIDERS: RegisteredResource[] = ["us-east-1", "eu-west-1"].map((region) => ({
  type: "pulumi:providers:aws",
  name: `aws-${region}`,
  urn: `urn:pulumi:s::p::pulumi:providers:aws::aws-${region}`,
  inputs: { region },
  custom: true,
  ignoreChanges: [],
}));
const via = (region: string) => `urn:pulumi:s::p::pulumi:providers:aws::aws-${region}::id`;

function res(type: string, name: string, inputs: Record<string, any>, extra: Partial<RegisteredResource> = {}): RegisteredResource {
  return { type, name, urn: `urn:pulumi:s::p::${type}::${name}`, inputs, custom: true, ignoreChanges: [], ...extra };
}

const arnOf = (r: RegisteredResource) => ({ arn: `arn:aws:rds:us-east-1:123456789012:cluster:${r.name}` });
const CLUSTER = "aws:rds/cluster:Cluster";

/** A primary shard, its global cluster, and a secondary in another region. */
function globalDatabase(opts: { secondaryIgnores: string[]; primaryIgnores: string[]; version?: string }): RegisteredResource[] {
  const version = opts.version ?? "16";
  const primary = res(CLUSTER, "shard-0", { engine: "aurora-postgresql", engineVersion: version, databaseName: "orders" }, { ignoreChanges: opts.primaryIgnores });
  const global = res("aws:rds/globalCluster:GlobalCluster", "shard-0-global", { globalClusterIdentifier: "g-0", sourceDbClusterIdentifier: arnOf(primary).arn });
  const secondary = res(CLUSTER, "euw1-shard-0", { engine: "aurora-postgresql", engineVersion: version, globalClusterIdentifier: "g-0" }, { ignoreChanges: opts.secondaryIgnores, provider: via("eu-west-1") });
  return [primary, global, secondary];
}

describe("second-up model", () => {
  it("a global secondary without ignoreChanges on replicationSourceIdentifier is updated (promoted) on the second up", () => {
    const g = globalDatabase({ secondaryIgnores: [], primaryIgnores: ["globalClusterIdentifier"] });
    const changes = secondUpChanges(g, g, arnOf);
    expect(changes.map((c) => `${c.kind} ${c.name}.${c.property}`)).toEqual(["update euw1-shard-0.replicationSourceIdentifier"]);
    expect(changes[0].state).toBe("arn:aws:rds:us-east-1:123456789012:cluster:shard-0");
    expect(changes[0].wanted).toBeUndefined();
  });

  it("the primary is detached unless it ignores globalClusterIdentifier", () => {
    const g = globalDatabase({ secondaryIgnores: ["replicationSourceIdentifier"], primaryIgnores: [] });
    expect(secondUpChanges(g, g, arnOf).map((c) => `${c.name}.${c.property}`)).toEqual(["shard-0.globalClusterIdentifier"]);
    const fixed = globalDatabase({ secondaryIgnores: ["replicationSourceIdentifier"], primaryIgnores: ["globalClusterIdentifier"] });
    expect(secondUpChanges(fixed, fixed, arnOf)).toEqual([]);
  });

  it("a pinned minor engine version goes back down after an automatic minor upgrade; a major-only one stays", () => {
    expect(rdsEngineVersionInState("16", "16.8")).toBe("16");
    expect(rdsEngineVersionInState("16.6", "16.8")).toBe("16.8");
    const pinned = globalDatabase({ secondaryIgnores: ["replicationSourceIdentifier"], primaryIgnores: ["globalClusterIdentifier"], version: "16.6" });
    expect(secondUpChanges(pinned, pinned, arnOf).map((c) => `${c.kind} ${c.name}.${c.property} ${String(c.state)}->${String(c.wanted)}`)).toEqual([
      "update shard-0.engineVersion 16.8->16.6",
      "update euw1-shard-0.engineVersion 16.8->16.6",
    ]);
    const off = res(CLUSTER, "manual", { engine: "aurora-postgresql", engineVersion: "16.6", autoMinorVersionUpgrade: false });
    expect(secondUpChanges([off], [off], arnOf)).toEqual([]);
  });

  it("a cluster listing fewer than three AZs is replaced: AWS adds AZs and availabilityZones forces a new cluster", () => {
    const c = res(CLUSTER, "two-azs", { engine: "aurora-postgresql", availabilityZones: ["us-east-1a", "us-east-1b"] });
    expect(secondUpChanges([c], [c], arnOf).map((x) => `${x.kind} ${x.property}`)).toEqual(["replace availabilityZones"]);
  });

  it("an auto-scaling group's desired capacity drifts unless ignored", () => {
    const asg = (ignoreChanges: string[]) => res("aws:autoscaling/group:Group", "web", { minSize: 2, maxSize: 6, desiredCapacity: 2 }, { ignoreChanges });
    expect(secondUpChanges([asg([])], [asg([])], arnOf).map((c) => `${c.property} ${String(c.state)}->${String(c.wanted)}`)).toEqual(["desiredCapacity 6->2"]);
    expect(secondUpChanges([asg(["desiredCapacity"])], [asg(["desiredCapacity"])], arnOf)).toEqual([]);
  });

  it("storage autoscaling and re-serialised JSON documents are suppressed by the provider", () => {
    const db = res("aws:rds/instance:Instance", "db", { engine: "postgres", engineVersion: "16", allocatedStorage: 20, maxAllocatedStorage: 100 });
    const role = res("aws:iam/role:Role", "r", { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole" }] }) });
    expect(secondUpChanges([db, role], [db, role], arnOf)).toEqual([]);
  });

  it("reports an input that differs between two evaluations, and a resource only one of them has", () => {
    const a = res("aws:ssm/parameter:Parameter", "p", { value: "built at 10:00" });
    const b = res("aws:ssm/parameter:Parameter", "p", { value: "built at 10:01" });
    const extra = res("aws:sns/topic:Topic", "t", {});
    expect(nonDeterminism([a], [b, extra]).map((n) => `${n.name}.${n.property}`)).toEqual(["p.value", "t.(resource)"]);
  });

  it("every read-back row cites a source and a date", () => {
    for (const row of READ_BACK) {
      expect(row.source.length).toBeGreaterThan(20);
      expect(row.checked).toMatch(/^\d{4}-\d\d-\d\d$/);
    }
  });
});

describe("physical-name model", () => {
  const dashboard = (region: string, stack: string) => res("aws:cloudwatch/dashboard:Dashboard", `${stack}-dash`, { dashboardName: "shop" }, { provider: via(region) });
  const param = (region: string, name?: string) => res("aws:ssm/parameter:Parameter", `p-${region}`, name ? { name } : {}, { provider: via(region) });

  it("an account-wide name collides across regions; a regional one only within its region", () => {
    const a = physicalNames([...PROVIDERS, dashboard("us-east-1", "a"), param("us-east-1", "AmazonCloudWatch-shop")], "us-east-1");
    const b = physicalNames([...PROVIDERS, dashboard("eu-west-1", "b"), param("eu-west-1", "AmazonCloudWatch-shop")], "us-east-1");
    expect(sharedPhysicalNames(a, b).map((s) => s.first.property)).toEqual(["dashboardName"]);
    const c = physicalNames([...PROVIDERS, param("us-east-1", "AmazonCloudWatch-shop")], "us-east-1");
    expect(sharedPhysicalNames(a, c).map((s) => s.first.value)).toEqual(["AmazonCloudWatch-shop"]);
  });

  it("an auto-named resource has no explicit physical name", () => {
    expect(physicalNames([...PROVIDERS, param("us-east-1")], "us-east-1")).toEqual([]);
  });

  it("every rule names its inputs and a source", () => {
    for (const r of PHYSICAL_NAMES) {
      expect(r.properties.length).toBeGreaterThan(0);
      expect(r.source).toMatch(/^https:\/\//);
    }
  });
});
