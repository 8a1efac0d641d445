/**
 * Issue 15, item 6 (AWS side): at step 11 a secondary region's servers read nothing from the primary region, so
 * they boot and open database connections while it is down. The secrets they read at boot and at connect are
 * replicated to their region (Secrets Manager replicas of the app's secrets, the catalog's and the shards'
 * credentials: all generated, none managed by RDS), and the shard map has a copy in their region (an SSM
 * parameter). And, on AWS as locally, the app reads the database passwords itself (DATABASE_SECRET,
 * ORDER_SHARDS_SECRET: the secret's ARN), with least-privilege GetSecretValue on exactly those ARNs.
 */
import { Graph, stackConfig } from "../../lib/graph/harness";
import { ladderGraphs } from "../../lib/graph/graph-cache";
import { T, reveal, statementsOf } from "../../lib/graph/queries";
import { AWS_SECRETS_KEY, replicaArnOf, secretReplicas } from "../../components/secret-replicas";

const DNS = { "scale-ladder:domain": "shop.example.com", "scale-ladder:hostedZoneId": "Z0123456789ABCDEFGHIJ" };
const PRIMARY = "us-east-1";
const SECONDARY = "eu-west-1";
/** The primary's secrets a secondary region's servers read (the cache's and the sessions' are each region's own). */
const REPLICATED = ["use1-secrets-secret", "use1-db-credentials-secret", "use1-shards-credentials-secret"];

let g10: Graph;
let g11: Graph;
beforeAll(async () => {
  // The graph cache's stack names and configs of step09-11.test.ts, so that the graphs are shared.
  [g10, g11] = await ladderGraphs([
    { config: stackConfig(10, DNS), stack: "dev" },
    { config: stackConfig(11, DNS), stack: "dev" },
  ]);
}, 300_000);

const userDataOf = (g: Graph, lt: string) => Buffer.from(g.one(T.lt, lt).inputs.userData, "base64").toString("utf8");
/** The ARN the mocks give a secret resource. */
const arnOf = (name: string) => `arn:aws:secretsmanager:${PRIMARY}:123456789012:secret:${name}-AbCdEf`;
const inRegion = (arn: string, region: string) => arn.replace(/^(arn:aws:secretsmanager:)[^:]+/, `$1${region}`);
/** The value of `NAME=` as the boot script echoes it into the service environment. */
const echoed = (script: string, name: string) => new RegExp(`echo "${name}=([^"]*)"`).exec(script)?.[1];

describe("step 11: the secondary region reads nothing from the primary region", () => {
  it("no resource of the secondary region names a secret or a parameter of the primary region", () => {
    const secondary = g11.customResources.filter((r) => r.name.startsWith("euw1-"));
    expect(secondary.length).toBeGreaterThan(50);
    const texts = secondary.map((r) => ({
      name: r.name,
      text:
        JSON.stringify(reveal(r.inputs)) +
        (r.type === T.lt ? Buffer.from(r.inputs.userData, "base64").toString("utf8") : ""),
    }));
    // ARNs of secrets and parameters, and any AWS CLI call the boot script makes in the primary's region.
    const primaryRefs = new RegExp(
      `arn:aws:(secretsmanager|ssm):${PRIMARY}:|--region '?${PRIMARY}|secret '[^']*:${PRIMARY}:`,
      "g",
    );
    const found = texts.flatMap(({ name, text }) => (text.match(primaryRefs) ?? []).map((m) => `${name}: ${m}`));
    expect(found).toEqual([]);
    // The check sees what it looks for: the same resources at the primary do name its region.
    const primaryPolicy = JSON.stringify(statementsOf(g11, "use1-web-policy"));
    expect(primaryPolicy).toMatch(new RegExp(`arn:aws:secretsmanager:${PRIMARY}:`));
  });

  it.each([
    ["euw1-web-lt", "web"],
    ["euw1-workers-lt", "workers"],
  ])("%s: the boot script reads its region's replicas and map copy, and hands the app the replicas' ARNs", (lt) => {
    const script = userDataOf(g11, lt);
    const dbReplica = inRegion(arnOf("use1-db-credentials-secret"), SECONDARY);
    const shardReplica = inRegion(arnOf("use1-shards-credentials-secret"), SECONDARY);
    expect(script).toContain(`DB_SECRET=$(secret '${dbReplica}')`);
    expect(script).toContain(`SHARD_SECRET=$(secret '${shardReplica}')`);
    expect(echoed(script, "DATABASE_SECRET")).toBe(dbReplica);
    expect(echoed(script, "ORDER_SHARDS_SECRET")).toBe(shardReplica);
    const mapCopy = g11.one(T.ssmParameter, "euw1-shards-map");
    expect(script).toMatch(new RegExp(`aws ssm get-parameter --region '${SECONDARY}' --name '${mapCopy.name}-`));
    if (lt === "euw1-web-lt")
      expect(script).toContain(`APP_SECRET=$(secret '${inRegion(arnOf("use1-secrets-secret"), SECONDARY)}')`);
  });

  it("the secondary's map copy holds the primary's map, shard names included", () => {
    const primaryMap = JSON.parse(reveal(g11.one(T.ssmParameter, "use1-shards-map").inputs.value));
    const copy = JSON.parse(reveal(g11.one(T.ssmParameter, "euw1-shards-map").inputs.value));
    expect(copy).toEqual(primaryMap);
    expect(copy.shards).toEqual(["use1-shards-0", "use1-shards-1"]);
  });

  it("the primary replicates exactly the secrets the secondary reads, to its region, with AWS's key", () => {
    for (const g of [g10, g11]) {
      const replicated = g
        .ofType(T.secret)
        .filter((s) => (s.inputs.replicas ?? []).length > 0)
        .map((s) => s.name)
        .sort();
      expect(replicated).toEqual(g === g11 ? [...REPLICATED].sort() : []);
    }
    for (const name of REPLICATED) {
      const secret = g11.one(T.secret, name);
      expect(secret.inputs.replicas).toEqual([{ region: SECONDARY, kmsKeyId: AWS_SECRETS_KEY }]);
      // Auto-named (a random suffix): a replica cannot meet a secret of the same name in the secondary region, and
      // a clash there is a failed replication, never an overwrite.
      expect(secret.inputs.name).toBeUndefined();
      expect(secret.inputs.forceOverwriteReplicaSecret).not.toBe(true);
      // No key of ours: AWS's key decrypts for whoever may read the secret, so no kms:Decrypt grant is needed.
      expect(secret.inputs.kmsKeyId).toBeUndefined();
    }
    // RDS manages no password at step 11: its secret would not be ours to replicate.
    expect(g11.one(T.rds, "use1-db").inputs.manageMasterUserPassword).toBeUndefined();
  });
});

describe("least privilege: servers read exactly the secrets and parameters their environment names", () => {
  /** GetSecretValue and GetParameter resources of a role's policy. */
  function grants(g: Graph, policy: string): { secrets: string[]; parameters: string[]; kms: string[] } {
    const statements = statementsOf(g, policy);
    const of = (action: string) =>
      statements
        .filter((s) => s.Action.includes(action))
        .flatMap((s) => s.Resource)
        .sort();
    return {
      secrets: of("secretsmanager:GetSecretValue"),
      parameters: of("ssm:GetParameter"),
      kms: statements.filter((s) => s.Action.some((a) => a.startsWith("kms:"))).map((s) => s.Sid),
    };
  }
  /** Secret ARNs a boot script reads. */
  const readIn = (script: string) => [...script.matchAll(/\$\(secret '([^']+)'\)/g)].map((m) => m[1]).sort();

  it.each([
    [10, "use1-web"],
    [10, "use1-workers"],
    [11, "use1-web"],
    [11, "use1-workers"],
    [11, "euw1-web"],
    [11, "euw1-workers"],
  ])("step %i, %s: GetSecretValue on exactly the secrets its boot script and app read, no kms grant", (step, tier) => {
    const g = step === 10 ? g10 : g11;
    const script = userDataOf(g, `${tier}-lt`);
    const { secrets, parameters, kms } = grants(g, `${tier}-policy`);
    expect(secrets).toEqual(readIn(script));
    const appReads = ["DATABASE_SECRET", "ORDER_SHARDS_SECRET"].map((n) => echoed(script, n));
    for (const arn of appReads) expect(secrets).toContain(arn);
    const region = tier.startsWith("euw1") ? SECONDARY : PRIMARY;
    expect(new Set(secrets.map((arn) => arn.split(":")[3]))).toEqual(new Set([region]));
    expect(new Set(parameters.map((arn) => arn.split(":")[3]))).toEqual(new Set([region]));
    expect(kms).toEqual([]);
  });

  it("the app gets the secret's ARN from step 2, none at step 1 (password on the box)", async () => {
    const [g1, g2] = await ladderGraphs([
      { config: stackConfig(1, DNS), stack: "dev" },
      { config: stackConfig(2, DNS), stack: "dev" },
    ]);
    const serverScript = (g: Graph): string => g.one(T.instance).inputs.userData;
    expect(echoed(serverScript(g1), "DATABASE_SECRET")).toBeUndefined();
    const s2 = serverScript(g2);
    expect(echoed(s2, "DATABASE_SECRET")).toMatch(
      /^arn:aws:secretsmanager:us-east-1:123456789012:secret:use1-db-credentials-secret-/,
    );
    // The one the boot script reads for DATABASE_URL's user, and the instance role may read.
    expect(readIn(s2)).toContain(echoed(s2, "DATABASE_SECRET"));
    expect(statementsOf(g2, "use1-server-policy").find((st) => st.Sid === "ReadDatabaseCredentials")?.Resource).toEqual(
      [echoed(s2, "DATABASE_SECRET")],
    );
  });
});

describe("secret replicas (components/secret-replicas.ts)", () => {
  it("names each region once, with AWS's key, and refuses what AWS would refuse", () => {
    expect(secretReplicas("X", ["eu-west-1", "ap-south-1"])).toEqual([
      { region: "eu-west-1", kmsKeyId: "alias/aws/secretsmanager" },
      { region: "ap-south-1", kmsKeyId: "alias/aws/secretsmanager" },
    ]);
    expect(() => secretReplicas("AppSecrets use1-secrets", ["eu-west-1", "eu-west-1"])).toThrow(
      "AppSecrets use1-secrets: replicaRegions names eu-west-1 twice",
    );
    expect(() => secretReplicas("AppSecrets use1-secrets", ["Europe"])).toThrow(
      'AppSecrets use1-secrets: replicaRegions has "Europe", which is not an AWS region name',
    );
  });

  it("gives a replica the primary's ARN with the region changed, as AWS does", () => {
    const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1234-AbC123";
    expect(replicaArnOf(arn, "eu-west-1")).toBe(
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1234-AbC123",
    );
    expect(() => replicaArnOf("arn:aws:ssm:us-east-1:1:parameter/x", "eu-west-1")).toThrow(
      'replicaSecretArn: "arn:aws:ssm:us-east-1:1:parameter/x" is not a Secrets Manager secret ARN',
    );
  });
});
