import { ladderGraph, ladderGraphs } from "../../lib/graph/graph-cache";
import { Graph, stackConfig } from "../../lib/graph/harness";
import { T, ingressRules, plaintextSecretLeaks, reveal, sgIdOf, statementsOf } from "../../lib/graph/queries";

describe("step 2: separate database", () => {
  let dev: Graph;
  let prod: Graph;
  beforeAll(async () => {
    [dev, prod] = await ladderGraphs([
      { config: stackConfig(2), stack: "dev" },
      { config: stackConfig(2, { "scale-ladder:environment": "prod" }), stack: "prod" },
    ]);
  }, 300_000);

  it("adds one RDS PostgreSQL 16 instance beside the same single server", () => {
    const db = dev.one(T.rds);
    expect(db.inputs).toMatchObject({ engine: "postgres", engineVersion: "16", port: 5432, dbName: "shop" });
    expect(dev.ofType(T.instance)).toHaveLength(1);
  });

  it("is not publicly accessible and lives in the isolated subnets", () => {
    const db = dev.one(T.rds);
    expect(db.inputs.publiclyAccessible).toBe(false);
    const subnets = dev.one(T.dbSubnetGroup).inputs.subnetIds as string[];
    expect(subnets).toHaveLength(2);
    for (const s of subnets) expect(s).toMatch(/^subnet-iso/);
  });

  it("is reachable only from the web tier's security group, on 5432", () => {
    const dbSg = dev.one(T.sg, "use1-db-sg");
    const web = dev.one(T.sg, "use1-network-web-sg");
    const intoDb = ingressRules(dev).filter((r) => r.groupId === sgIdOf(dbSg));
    expect(intoDb).toEqual([expect.objectContaining({ from: 5432, to: 5432, sourceSg: sgIdOf(web), cidr: undefined })]);
    expect(dev.one(T.rds).inputs.vpcSecurityGroupIds).toEqual([sgIdOf(dbSg)]);
    for (const r of ingressRules(dev)) expect(r.from <= 22 && 22 <= r.to).toBe(false);
  });

  it("encrypts storage (gp3) and forces TLS", () => {
    expect(dev.one(T.rds).inputs).toMatchObject({
      storageEncrypted: true,
      storageType: "gp3",
      allocatedStorage: 20,
      maxAllocatedStorage: 100,
    });
    const params = dev.one(T.pg).inputs;
    expect(params.family).toBe("postgres16");
    expect(params.parameters).toContainEqual(expect.objectContaining({ name: "rds.force_ssl", value: "1" }));
  });

  it("generates the master password into a secret of ours, for the life of the stack; never in plain text", () => {
    // Not RDS-managed: turning that off at step 4 (RDS cannot replicate it) deleted the secret the running servers
    // read, an outage of new connections until they were replaced (issue 15, item 3).
    const db = dev.one(T.rds);
    expect(db.inputs.manageMasterUserPassword).toBeUndefined();
    expect(reveal(db.inputs.password)).toMatch(/^MockSecret/);
    expect(dev.outputs.databaseSecretArn).toMatch(/:secret:use1-db-credentials-secret-/);
    expect(plaintextSecretLeaks(dev, [T.password, T.secretVersion, T.rds])).toEqual([]);
    expect(JSON.stringify(dev.outputs)).not.toMatch(/password/i);
  });

  it("keeps 7 days of backups and turns Performance Insights on", () => {
    expect(dev.one(T.rds).inputs).toMatchObject({
      backupRetentionPeriod: 7,
      performanceInsightsEnabled: true,
      copyTagsToSnapshot: true,
    });
  });

  it("flips deletion protection, final snapshot and Multi-AZ with the environment", () => {
    expect(dev.one(T.rds).inputs).toMatchObject({ deletionProtection: false, skipFinalSnapshot: true, multiAz: false });
    expect(dev.one(T.rds).inputs.finalSnapshotIdentifier).toBeUndefined();
    expect(prod.one(T.rds).inputs).toMatchObject({
      deletionProtection: true,
      skipFinalSnapshot: false,
      multiAz: true,
      finalSnapshotIdentifier: "scale-ladder-prod-use1-db-final",
    });
  });

  it("stops installing Postgres on the server, which builds its connection string from the secret at boot", () => {
    const userData: string = dev.one(T.instance).inputs.userData;
    expect(userData).not.toContain("postgresql16-server");
    expect(userData).toContain(`DB_SECRET=$(secret '${dev.outputs.databaseSecretArn}')`);
    expect(userData).toContain("sslmode=verify-full&sslrootcert=/etc/shop/rds-ca.pem");
    // RDS rotates the password weekly: the app reads it from the secret (the ARN) at each new connection and when
    // it is refused, so nothing restarts the service for it.
    expect(userData).toContain(`echo "DATABASE_SECRET=${dev.outputs.databaseSecretArn}"`);
    expect(userData).not.toContain("systemctl restart");
    expect(userData).toContain(dev.outputs.databaseEndpoint.split(":")[0]);
  });

  it("grants the server read access to exactly the database secret", () => {
    const statement = statementsOf(dev, "use1-server-policy").find((s) => s.Sid === "ReadDatabaseCredentials");
    expect(statement).toEqual({
      Sid: "ReadDatabaseCredentials",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue"],
      Resource: [dev.outputs.databaseSecretArn],
    });
  });

  it("keeps the URN of every step-1 resource except the server it replaces by design", async () => {
    const step1 = await ladderGraph(stackConfig(1), "dev");
    const now = new Set(dev.resources.map((r) => r.urn));
    const gone = step1.resources.filter((r) => !now.has(r.urn)).map((r) => r.urn);
    expect(gone).toEqual([]);
    // The server's boot script changes (no local Postgres): userDataReplaceOnChange makes that a replacement,
    // documented in the step-2 runbook (dump the on-box database before climbing).
    expect(dev.one(T.instance).inputs.userDataReplaceOnChange).toBe(true);
  });
});
