/**
 * The databases as AWS would take them, beyond what the mocks enforce: instance classes a global database accepts,
 * what AWS reports on a second `pulumi up`, creation order, password management of a replication source, the
 * secondary regions' own KMS keys, physical names per stack, and engine versions after AWS's minor upgrades.
 * Issue 12, defects 2, 3, 4, 7, 8 and 12. Graphs are evaluated once, in `beforeAll`.
 */
import { CONFIG_KEYS, parseLadderConfig } from "../../stacks/config";
import {
  AURORA_GLOBAL_DATABASE_FAMILIES,
  auroraGlobalDatabaseAccepts,
} from "../../components/facts/rds-instance-classes";
import { climbProblems } from "./climb-rules";
import { REPLACED_ON } from "../../lib/graph/replaced-on";
import { T } from "../../lib/graph/resource-types";
import { DEPLOY_RULES, View } from "./deploy-rules";
import { ladderGraphs } from "../../lib/graph/graph-cache";
import { Graph, stackConfig } from "../../lib/graph/harness";
import { reveal } from "../../lib/graph/queries";

const DNS = { "scale-ladder:domain": "shop.example.com", "scale-ladder:hostedZoneId": "Z0123456789ABCDEFGHIJ" };
const PROD = { ...DNS, "scale-ladder:environment": "prod" };
const CLUSTER = T.cluster;
const INSTANCE = T.clusterInstance;
const GLOBAL = T.globalCluster;
const RDS = T.rds;
const KEY = T.kmsKey;
/** The databases' keys (the alarm topic has keys of its own). */
const dbKeys = (pg: Graph) => pg.ofType(KEY).filter((k) => k.name.endsWith("-db-key"));

/** The stacks, from the graph cache; `dev` with a domain is the deploy-twice file's stack, so it is shared. */
const STACKS = {
  s10: { config: stackConfig(10, DNS), stack: "dev" },
  s11: { config: stackConfig(11, DNS), stack: "dev" },
  other11: { config: stackConfig(11, DNS), stack: "other" },
  noReplicas10: { config: stackConfig(10, { "scale-ladder:dbReplicas": "0" }), stack: "dev" },
  noReplicas11: { config: stackConfig(11, { "scale-ladder:dbReplicas": "0" }), stack: "dev" },
  prod4: { config: stackConfig(4, PROD), stack: "prod" },
  prod11: { config: stackConfig(11, PROD), stack: "prod" },
};
const g: Record<string, Graph> = {};
beforeAll(async () => {
  const graphs = await ladderGraphs(Object.values(STACKS));
  Object.keys(STACKS).forEach((k, i) => (g[k] = graphs[i]));
}, 300_000);

const of = (pg: Graph, type: string) => pg.ofType(type);
const byUrn = (pg: Graph, urn: string) => pg.resources.find((r) => r.urn === urn);
const secondaries = (pg: Graph) => of(pg, CLUSTER).filter((c) => c.inputs.globalClusterIdentifier !== undefined);
const primaries = (pg: Graph) => of(pg, CLUSTER).filter((c) => c.inputs.globalClusterIdentifier === undefined);
const rule = (name: string) => DEPLOY_RULES.find((r) => r.name === name)!;

describe("defect 2: shard instance classes an Aurora global database accepts", () => {
  it("gives every step-11 shard instance, in every region, a memory-optimized class", () => {
    const classes = of(g.s11, INSTANCE).map((i) => `${i.name}=${i.inputs.instanceClass}`);
    expect(classes.length).toBeGreaterThan(0);
    expect(classes.filter((c) => !auroraGlobalDatabaseAccepts(c.split("=")[1]))).toEqual([]);
  });

  it("keeps the burstable db.t4g.medium at steps 9–10, and changes the class in place on the climb to 11", () => {
    expect(new Set(of(g.s10, INSTANCE).map((i) => i.inputs.instanceClass))).toEqual(new Set(["db.t4g.medium"]));
    // The climb keeps every shard instance's URN; instanceClass is not a replacing input (ModifyDBInstance).
    const upper = new Map(of(g.s11, INSTANCE).map((i) => [i.urn, i]));
    for (const lower of of(g.s10, INSTANCE)) {
      expect(upper.get(lower.urn)?.inputs.instanceClass).toBe("db.r6g.large");
    }
    expect(REPLACED_ON[INSTANCE].keys).not.toContain("instanceClass");
  });

  it("refuses a burstable shard class at step 11 in config, naming the key and the allowed classes", () => {
    const at = (step: number) => () => parseLadderConfig({ step: String(step), shardInstanceClass: "db.t4g.medium" });
    expect(at(10)).not.toThrow();
    expect(at(11)).toThrow("scale-ladder:shardInstanceClass must be a memory-optimized class of the db.r5");
    expect(at(11)).toThrow('at step 11 (Aurora global database), got "db.t4g.medium"');
    for (const family of AURORA_GLOBAL_DATABASE_FAMILIES)
      expect(() => parseLadderConfig({ step: "11", shardInstanceClass: `db.${family}.large` })).not.toThrow();
    expect(CONFIG_KEYS.shardInstanceClass.default({ step: 11, environment: "dev", region: "us-east-1" })).toBe(
      "db.r6g.large",
    );
    expect(CONFIG_KEYS.shardInstanceClass.default({ step: 10, environment: "dev", region: "us-east-1" })).toBe(
      "db.t4g.medium",
    );
  });

  it("has a deploy rule that finds a burstable member of a global database", () => {
    const v = new View(g.s11);
    expect(rule("rds-instance-classes").check(v).checked).toBeGreaterThan(0);
    expect(rule("rds-instance-classes").check(v).problems).toEqual([]);
  });
});

describe("defect 3: the second `pulumi up` leaves the secondary clusters in their global database", () => {
  it("ignores what AWS reports on a secondary that the program does not set (replicationSourceIdentifier)", () => {
    const v = new View(g.s11);
    const secs = secondaries(g.s11);
    expect(secs).toHaveLength(2);
    for (const sec of secs) {
      // AWS reads back the primary cluster's ARN as the secondary's replication source.
      const shard = sec.name.replace(/^[a-z0-9]+-/, "");
      const primary = primaries(g.s11).find((p) => p.name.endsWith(`-${shard}`))!;
      const reported: Record<string, unknown> = {
        ...v.inputs(sec),
        replicationSourceIdentifier: v.outputs(primary).arn,
      };
      const changed = Object.keys(reported).filter(
        (k) => JSON.stringify(reported[k]) !== JSON.stringify(v.inputs(sec)[k]) && !sec.ignoreChanges.includes(k),
      );
      expect({ cluster: sec.name, changed }).toEqual({ cluster: sec.name, changed: [] });
    }
  });
});

describe("defect 4: secondary clusters wait for the primary's writer instance", () => {
  it("makes each secondary cluster depend on its shard's primary writer instance", () => {
    for (const sec of secondaries(g.s11)) {
      const shard = /-(\d+)$/.exec(sec.name)![1];
      const deps = g.s11.edgesOf(sec).dependencies.map((u) => byUrn(g.s11, u)?.name);
      expect({ cluster: sec.name, waitsFor: deps.filter((n) => n?.endsWith(`-${shard}-writer`)) }).toEqual({
        cluster: sec.name,
        waitsFor: [`use1-shards-${shard}-writer`],
      });
    }
  });
});

describe("defect 7: password management follows whether anything replicates from the catalog database", () => {
  it("generates the primary's password at step 11 with dbReplicas=0: the cross-region replica needs it", () => {
    const primary = g.noReplicas11.one(RDS, "use1-db");
    expect(primary.inputs.manageMasterUserPassword).toBeUndefined();
    expect(reveal(primary.inputs.password)).toMatch(/^MockSecret/);
    const replicaRule = rule("read-replica-credentials").check(new View(g.noReplicas11));
    expect(replicaRule.checked).toBe(1);
    expect(replicaRule.problems).toEqual([]);
  });

  it("generates it below step 11 too, with nothing replicating (dbReplicas=0): the same secret at every step", () => {
    const before = g.noReplicas10.one(RDS, "use1-db").inputs;
    expect(before.manageMasterUserPassword).toBeUndefined();
    expect(before.password).toEqual(g.noReplicas11.one(RDS, "use1-db").inputs.password);
  });

  it("climbs 10 → 11 with dbReplicas=0 in place: same URN, no replacing input", () => {
    const before = g.noReplicas10.one(RDS, "use1-db");
    const after = g.noReplicas11.one(RDS, "use1-db");
    expect(after.urn).toBe(before.urn);
    const problems = climbProblems(10, g.noReplicas10, g.noReplicas11).filter((p) => !p.exception);
    expect(problems.map((p) => `${p.name} ${p.problem}`)).toEqual([]);
  });

  it("in prod, creates the replicas after the primary's update (they use its id)", () => {
    const primary = g.prod4.one(RDS, "use1-db");
    expect(primary.inputs.applyImmediately).toBe(false);
    expect(primary.inputs.manageMasterUserPassword).toBeUndefined();
    const replicas = of(g.prod4, RDS).filter((r) => r.inputs.replicateSourceDb !== undefined);
    expect(replicas).toHaveLength(2);
    for (const r of replicas) {
      expect(g.prod4.edgesOf(r).propertyDependencies.replicateSourceDb).toContain(primary.urn);
      expect(g.prod4.edgesOf(r).dependencies).toContain(primary.urn);
    }
  });
});

describe("defect 12: each secondary region encrypts with a customer-managed key of its own", () => {
  it("creates a rotating KMS key in each secondary region that RDS may use, and nothing in the primary", () => {
    const keys = dbKeys(g.s11);
    expect(keys.map((k) => `${k.name}@${new View(g.s11).regionOf(k)}`)).toEqual(["euw1-db-key@eu-west-1"]);
    const key = keys[0];
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    const policy = JSON.parse(key.inputs.policy);
    const admin = policy.Statement.find((s: { Sid: string }) => s.Sid === "AccountAdministersKey");
    expect(admin).toMatchObject({
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::123456789012:root" },
      Action: "kms:*",
      Resource: "*",
    });
    const rds = policy.Statement.find((s: { Sid: string }) => s.Sid === "RdsUsesKey");
    expect(rds.Condition).toEqual({
      StringEquals: { "kms:CallerAccount": "123456789012", "kms:ViaService": "rds.eu-west-1.amazonaws.com" },
    });
    expect(rds.Action).toEqual(
      expect.arrayContaining(["kms:Decrypt", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"]),
    );
    expect(dbKeys(g.s10)).toEqual([]);
  });

  it("encrypts the cross-region replica and every secondary cluster with that key", () => {
    const key = g.s11.one(KEY, "euw1-db-key");
    const encrypted = [g.s11.one(RDS, "euw1-db"), ...secondaries(g.s11)];
    for (const r of encrypted)
      expect({ name: r.name, from: g.s11.edgesOf(r).propertyDependencies.kmsKeyId }).toEqual({
        name: r.name,
        from: [key.urn],
      });
  });
});

describe("defect 8: physical names of the databases are unique per stack", () => {
  const explicitNames = (pg: Graph) => {
    const names: string[] = [];
    for (const r of pg.resources) {
      const i = reveal(r.inputs) as Record<string, unknown>;
      for (const k of [
        "globalClusterIdentifier",
        "finalSnapshotIdentifier",
        "identifier",
        "clusterIdentifier",
        "name",
      ]) {
        if (
          typeof i[k] === "string" &&
          (
            [GLOBAL, CLUSTER, INSTANCE, RDS, KEY, T.kmsAlias, T.dbSubnetGroup, T.pg, T.cpg, T.secret] as string[]
          ).includes(r.type)
        ) {
          // References to another resource's name, not names.
          if (
            (r.type === CLUSTER && k === "globalClusterIdentifier") ||
            (r.type === INSTANCE && k === "clusterIdentifier")
          )
            continue;
          names.push(`${r.type.split(":").pop()} ${k}=${i[k]}`);
        }
      }
    }
    return names;
  };

  it("gives two stacks in one account no database name in common", () => {
    const test = explicitNames(g.s11);
    expect(test.length).toBeGreaterThan(0);
    const other = new Set(explicitNames(g.other11));
    expect(test.filter((n) => other.has(n))).toEqual([]);
  });

  it("names final snapshots per stack in prod", () => {
    const snapshots = [...of(g.prod11, RDS), ...of(g.prod11, CLUSTER)]
      .map((r) => r.inputs.finalSnapshotIdentifier)
      .filter((s) => s !== undefined);
    expect(snapshots.length).toBeGreaterThan(0);
    for (const s of snapshots) expect(s).toMatch(/^scale-ladder-prod-/);
  });
});

describe("RDS and Aurora log groups", () => {
  // Decision (docs/steps/11-multi-region.md): RDS creates /aws/rds/... when it first exports, named after an
  // identifier Pulumi generates at create time, so a declared group could only follow RDS's and would fail with
  // ResourceAlreadyExistsException on every stack at step 2+. Their retention is set by an operator instead.
  it("declares no /aws/rds/ log group, at any step that exports logs", () => {
    for (const pg of [g.s10, g.s11, g.prod4, g.prod11]) {
      const rds = of(pg, T.logGroup).filter((l) => String(l.inputs.name ?? "").startsWith("/aws/rds/"));
      expect(rds).toEqual([]);
    }
    expect(g.s11.one(RDS, "use1-db").inputs.enabledCloudwatchLogsExports).toEqual(["postgresql", "upgrade"]);
  });
});

describe("engine versions after AWS's own minor upgrades", () => {
  it("leaves every shard cluster's and instance's engineVersion to AWS after creation", () => {
    for (const r of [...of(g.s11, CLUSTER), ...of(g.s11, INSTANCE)])
      expect({ name: r.name, ignored: r.ignoreChanges }).toEqual({
        name: r.name,
        ignored: expect.arrayContaining(["engineVersion"]),
      });
  });

  it("creates each secondary cluster with the global cluster's running version", () => {
    for (const sec of secondaries(g.s11)) {
      const from = (g.s11.edgesOf(sec).propertyDependencies.engineVersion ?? []).map((u) => byUrn(g.s11, u)?.type);
      expect({ cluster: sec.name, from }).toEqual({ cluster: sec.name, from: [GLOBAL] });
    }
  });

  it("gives the catalog database its major version only, so a minor upgrade by AWS is no diff", () => {
    const db = g.s11.one(RDS, "use1-db");
    expect(db.inputs).toMatchObject({ engineVersion: "16", autoMinorVersionUpgrade: true });
  });
});
