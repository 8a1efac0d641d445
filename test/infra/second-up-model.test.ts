/**
 * The models behind the second-up and two-stacks suites, on small hand-made graphs: each rule they rely on must be
 * able to fail, so a green suite means something.
 */
import { PHYSICAL_NAMES, physicalNames, sharedPhysicalNames } from "../../lib/graph/physical-names";
import { READ_BACK, rdsEngineVersionInState } from "../../lib/graph/read-back";
import { RegisteredResource } from "../../lib/graph/registered";
import { SecondUpChange, nonDeterminism, secondUpChanges } from "../../lib/graph/second-up";
import { T } from "../../lib/graph/resource-types";

const PROVIDERS: RegisteredResource[] = ["us-east-1", "eu-west-1"].map((region) => ({
  type: T.awsProvider,
  name: `aws-${region}`,
  urn: `urn:pulumi:s::p::pulumi:providers:aws::aws-${region}`,
  inputs: { region },
  custom: true,
  ignoreChanges: [],
}));
const via = (region: string) => `urn:pulumi:s::p::pulumi:providers:aws::aws-${region}::id`;

type Inputs = Record<string, any>;
function res(type: string, name: string, inputs: Inputs, extra: Partial<RegisteredResource> = {}): RegisteredResource {
  return { type, name, urn: `urn:pulumi:s::p::${type}::${name}`, inputs, custom: true, ignoreChanges: [], ...extra };
}

const arnOf = (r: RegisteredResource) => ({ arn: `arn:aws:rds:us-east-1:123456789012:cluster:${r.name}` });
const CLUSTER = T.cluster;
const aurora = (version: string, more: Inputs) => ({ engine: "aurora-postgresql", engineVersion: version, ...more });
/** The second up of an unchanged graph, one line per change. */
const secondUp = (g: RegisteredResource[], show = (c: SecondUpChange) => `${c.kind} ${c.name}.${c.property}`) =>
  secondUpChanges(g, g, arnOf).map(show);
const values = (c: SecondUpChange) => `${c.kind} ${c.name}.${c.property} ${String(c.state)}->${String(c.wanted)}`;

/** A primary shard, its global cluster, and a secondary in another region. */
function globalDatabase(primaryIgnores: string[], secondaryIgnores: string[], version = "16"): RegisteredResource[] {
  const primary = res(CLUSTER, "shard-0", aurora(version, { databaseName: "orders" }), {
    ignoreChanges: primaryIgnores,
  });
  const global = res(T.globalCluster, "shard-0-global", {
    globalClusterIdentifier: "g-0",
    sourceDbClusterIdentifier: arnOf(primary).arn,
  });
  const secondary = res(CLUSTER, "euw1-shard-0", aurora(version, { globalClusterIdentifier: "g-0" }), {
    ignoreChanges: secondaryIgnores,
    provider: via("eu-west-1"),
  });
  return [primary, global, secondary];
}
const FIXED = { primary: ["globalClusterIdentifier"], secondary: ["replicationSourceIdentifier"] };

describe("second-up model", () => {
  it("a global secondary that does not ignore replicationSourceIdentifier is updated (promoted)", () => {
    const changes = secondUpChanges(globalDatabase(FIXED.primary, []), globalDatabase(FIXED.primary, []), arnOf);
    expect(changes.map((c) => `${c.kind} ${c.name}.${c.property}`)).toEqual([
      "update euw1-shard-0.replicationSourceIdentifier",
    ]);
    expect(changes[0].state).toBe("arn:aws:rds:us-east-1:123456789012:cluster:shard-0");
    expect(changes[0].wanted).toBeUndefined();
  });

  it("the primary is detached unless it ignores globalClusterIdentifier", () => {
    expect(secondUp(globalDatabase([], FIXED.secondary))).toEqual(["update shard-0.globalClusterIdentifier"]);
    expect(secondUp(globalDatabase(FIXED.primary, FIXED.secondary))).toEqual([]);
  });

  it("a pinned minor engine version goes back down after an automatic minor upgrade; a major-only one stays", () => {
    expect(rdsEngineVersionInState("16", "16.8")).toBe("16");
    expect(rdsEngineVersionInState("16.6", "16.8")).toBe("16.8");
    expect(secondUp(globalDatabase(FIXED.primary, FIXED.secondary, "16.6"), values)).toEqual([
      "update shard-0.engineVersion 16.8->16.6",
      "update euw1-shard-0.engineVersion 16.8->16.6",
    ]);
    expect(secondUp([res(CLUSTER, "manual", aurora("16.6", { autoMinorVersionUpgrade: false }))])).toEqual([]);
  });

  it("a cluster listing fewer than three AZs is replaced: AWS adds AZs, and availabilityZones is ForceNew", () => {
    const c = res(CLUSTER, "two-azs", aurora("16", { availabilityZones: ["us-east-1a", "us-east-1b"] }));
    expect(secondUp([c])).toEqual(["replace two-azs.availabilityZones"]);
  });

  it("an auto-scaling group's desired capacity drifts unless ignored", () => {
    const asg = (ignoreChanges: string[]) =>
      res(T.asg, "web", { minSize: 2, maxSize: 6, desiredCapacity: 2 }, { ignoreChanges });
    expect(secondUp([asg([])], values)).toEqual(["update web.desiredCapacity 6->2"]);
    expect(secondUp([asg(["desiredCapacity"])])).toEqual([]);
  });

  it("storage autoscaling and re-serialised JSON documents are suppressed by the provider", () => {
    const db = res(T.rds, "db", {
      engine: "postgres",
      engineVersion: "16",
      allocatedStorage: 20,
      maxAllocatedStorage: 100,
    });
    const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole" }] };
    const role = res(T.role, "r", { assumeRolePolicy: JSON.stringify(trust) });
    expect(secondUp([db, role])).toEqual([]);
  });

  it("reports an input that differs between two evaluations, and a resource only one of them has", () => {
    const a = res(T.ssmParameter, "p", { value: "built at 10:00" });
    const b = res(T.ssmParameter, "p", { value: "built at 10:01" });
    const extra = res(T.topic, "t", {});
    const found = nonDeterminism([a], [b, extra]).map((n) => `${n.name}.${n.property}`);
    expect(found).toEqual(["p.value", "t.(resource)"]);
  });

  it("every read-back row cites a source and a date", () => {
    for (const row of READ_BACK) {
      expect(row.source.length).toBeGreaterThan(20);
      expect(row.checked).toMatch(/^\d{4}-\d\d-\d\d$/);
    }
  });
});

describe("physical-name model", () => {
  const DASHBOARD = T.dashboard;
  const dashboard = (region: string, stack: string) =>
    res(DASHBOARD, `${stack}-dash`, { dashboardName: "shop" }, { provider: via(region) });
  const param = (region: string, name?: string) =>
    res(T.ssmParameter, `p-${region}`, name ? { name } : {}, { provider: via(region) });
  const names = (...rs: RegisteredResource[]) => physicalNames([...PROVIDERS, ...rs], "us-east-1");

  it("an account-wide name collides across regions; a regional one only within its region", () => {
    const a = names(dashboard("us-east-1", "a"), param("us-east-1", "AmazonCloudWatch-shop"));
    const b = names(dashboard("eu-west-1", "b"), param("eu-west-1", "AmazonCloudWatch-shop"));
    expect(sharedPhysicalNames(a, b).map((s) => s.first.property)).toEqual(["dashboardName"]);
    const c = names(param("us-east-1", "AmazonCloudWatch-shop"));
    expect(sharedPhysicalNames(a, c).map((s) => s.first.value)).toEqual(["AmazonCloudWatch-shop"]);
  });

  it("an auto-named resource has no explicit physical name", () => {
    expect(names(param("us-east-1"))).toEqual([]);
  });

  it("every rule names its inputs and a source", () => {
    for (const r of PHYSICAL_NAMES) {
      expect(r.properties.length).toBeGreaterThan(0);
      expect(r.source).toMatch(/^https:\/\//);
    }
  });
});
