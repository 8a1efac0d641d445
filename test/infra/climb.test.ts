/**
 * Climbing the ladder is `pulumi config set scale-ladder:step N+1 && pulumi up` on the same stack: for every N where
 * N and N+1 are built, in dev and in prod (with a domain, in another primary region), the graph of step N+1 keeps
 * every stateful resource of step N — same URN, same replacing inputs — except the few in CLIMB_EXCEPTIONS.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { REPLACED_ON } from "../../lib/graph/replaced-on";
import { CLIMB_EXCEPTIONS, ClimbProblem, climbProblems, statefulOf } from "./climb-rules";
import { BUILT_STEPS, LADDER_HOOK_TIMEOUT_MS, VARIANTS, evaluateLadder } from "./ladder-variants";
import { Graph, runProgram } from "../../lib/graph/harness";

const root = path.resolve(__dirname, "../..");

/** Every other type the ladder declares, and why replacing it loses nothing. A new type must be put in one list. */
const NOT_STATEFUL: Record<string, string> = {
  "pulumi:pulumi:Stack": "the stack itself",
  "aws:acm/certificate:Certificate": "re-issued by DNS validation; listeners and the distribution switch over",
  "aws:acm/certificateValidation:CertificateValidation": "a wait, no state",
  "aws:autoscaling/group:Group": "instances are cattle; a rolling refresh replaces them anyway",
  "aws:autoscaling/policy:Policy": "configuration",
  "aws:cloudfront/cachePolicy:CachePolicy": "configuration",
  "aws:cloudfront/distribution:Distribution": "no replacing inputs; its cache refills",
  "aws:cloudfront/originAccessControl:OriginAccessControl": "configuration",
  "aws:cloudwatch/dashboard:Dashboard": "configuration",
  "aws:cloudwatch/metricAlarm:MetricAlarm": "configuration (alarm history is not data the site needs)",
  "aws:ec2/eipAssociation:EipAssociation": "an edge",
  "aws:ec2/launchTemplate:LaunchTemplate": "versions are its history; a new one rolls the fleet",
  "aws:ec2/route:Route": "configuration",
  "aws:ec2/securityGroup:SecurityGroup": "checked as a dependency of what it guards (DEPENDENCY_REPLACED_ON)",
  "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": "configuration, re-accepted by its accepter",
  "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": "configuration",
  "aws:elasticache/parameterGroup:ParameterGroup": "configuration",
  "aws:elasticache/subnetGroup:SubnetGroup": "checked as a dependency of the cache",
  "aws:iam/instanceProfile:InstanceProfile": "identity; instances pick up a new one at launch",
  "aws:iam/role:Role": "identity",
  "aws:iam/rolePolicy:RolePolicy": "identity",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "an edge",
  "aws:kms/key:Key": "checked as a dependency of what it encrypts (DEPENDENCY_REPLACED_ON)",
  "aws:lb/listener:Listener": "configuration",
  "aws:lb/listenerRule:ListenerRule": "configuration",
  "aws:lb/targetGroup:TargetGroup": "configuration; targets re-register",
  "aws:rds/clusterParameterGroup:ClusterParameterGroup": "configuration",
  "aws:rds/parameterGroup:ParameterGroup": "configuration",
  "aws:rds/subnetGroup:SubnetGroup": "checked as a dependency of the databases",
  "aws:route53/healthCheck:HealthCheck": "configuration",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "configuration of a bucket",
  "aws:s3/bucketObjectv2:BucketObjectv2": "re-uploaded from the build",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "configuration of a bucket",
  "aws:s3/bucketPolicy:BucketPolicy": "configuration of a bucket",
  "aws:s3/bucketLogging:BucketLogging": "configuration of a bucket (where its server access logs go)",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "configuration of a bucket",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "configuration of a bucket",
  "aws:s3/bucketVersioning:BucketVersioning": "configuration of a bucket",
  "aws:secretsmanager/secretVersion:SecretVersion": "a new version of the same secret",
  "aws:sns/topic:Topic": "alarm fan-out; subscriptions re-confirm",
  "aws:sns/topicSubscription:TopicSubscription": "an edge",
  "aws:sqs/queuePolicy:QueuePolicy": "configuration of a queue",
  "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": "configuration of a queue",
  "aws:ssm/association:Association": "re-runs the restart command",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "configuration",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "configuration",
};

const graphs = new Map<string, Graph>();
beforeAll(async () => {
  for (const [k, g] of await evaluateLadder()) graphs.set(k, g);
}, LADDER_HOOK_TIMEOUT_MS);

const CLIMBS = BUILT_STEPS.filter((n) => BUILT_STEPS.includes(n + 1)).flatMap((n) =>
  VARIANTS.map((v) => [n, n + 1, v.name] as const),
);
const show = (ps: ClimbProblem[]) => ps.map((p) => `${p.type} ${p.name} ${p.problem}`);

describe("climbing one step keeps every stateful resource", () => {
  it("has climbs to check", () => {
    expect(CLIMBS.length).toBeGreaterThan(0);
  });

  it.each(CLIMBS)("%d → %d, %s", (from, to, name) => {
    const lower = graphs.get(`${from}:${name}`)!;
    const upper = graphs.get(`${to}:${name}`)!;
    expect(statefulOf(lower).length).toBeGreaterThan(0);
    expect(show(climbProblems(from, lower, upper).filter((p) => !p.exception))).toEqual([]);
  });

  it("uses every exception of the table in some climb (a stale entry must go)", () => {
    const used = new Set(
      CLIMBS.flatMap(([from, to, name]) =>
        climbProblems(from, graphs.get(`${from}:${name}`)!, graphs.get(`${to}:${name}`)!).map((p) => p.exception),
      ),
    );
    expect(CLIMB_EXCEPTIONS.filter((e) => !used.has(e)).map((e) => `${e.from}→${e.to} ${e.type} ${e.name}`)).toEqual(
      [],
    );
  });

  it("classifies every type the ladder declares as stateful (REPLACED_ON) or not (with a reason)", () => {
    const types = new Set([...graphs.values()].flatMap((g) => g.resources.map((r) => r.type)));
    const unclassified = [...types].filter(
      (t) => !(t in REPLACED_ON) && !(t in NOT_STATEFUL) && !t.startsWith("scale-ladder:"),
    );
    expect(unclassified).toEqual([]);
  });

  it("lists every exception, with its reason, in docs/climbing.md", () => {
    const doc = fs.readFileSync(path.join(root, "docs", "climbing.md"), "utf8");
    for (const e of CLIMB_EXCEPTIONS) {
      const row = doc
        .split("\n")
        .find((l) => l.startsWith(`| ${e.from} → ${e.to} | \`${e.type}\` | \`${e.name}\` | ${e.change}`));
      expect({
        exception: `${e.from}→${e.to} ${e.name} ${e.change}`,
        documented: row !== undefined && row.includes(e.reason),
      }).toEqual({ exception: `${e.from}→${e.to} ${e.name} ${e.change}`, documented: true });
    }
  });
});

describe("the climb check finds", () => {
  const pair = async (
    before: (aws: typeof import("@pulumi/aws")) => void,
    after: (aws: typeof import("@pulumi/aws")) => void,
  ) => {
    // A program of its own, not a ladder graph: evaluated fresh, past the graph cache.
    const lower = await runProgram(async () => before(await import("@pulumi/aws")));
    const upper = await runProgram(async () => after(await import("@pulumi/aws")));
    return show(climbProblems(5, lower, upper));
  };
  const db = (aws: typeof import("@pulumi/aws"), subnetGroupName: string, encrypted = true) => {
    const subnets = new aws.rds.SubnetGroup("db-subnets", {
      name: subnetGroupName,
      subnetIds: ["subnet-a", "subnet-b"],
    });
    new aws.rds.Instance("db", {
      engine: "postgres",
      instanceClass: "db.t4g.micro",
      allocatedStorage: 20,
      username: "admin_user",
      manageMasterUserPassword: true,
      storageEncrypted: encrypted,
      dbSubnetGroupName: subnets.name,
    });
  };

  it("a stateful resource that disappears", async () => {
    expect(
      await pair(
        (aws) => void new aws.sqs.Queue("orders"),
        () => undefined,
      ),
    ).toEqual(["aws:sqs/queue:Queue orders is removed"]);
  });

  it("a replacing input that changes", async () => {
    expect(
      await pair(
        (aws) => db(aws, "db-subnets"),
        (aws) => db(aws, "db-subnets", false),
      ),
    ).toEqual(["aws:rds/instance:Instance db is replaced: storageEncrypted changes from true to false"]);
  });

  it("a dependency behind a replacing input that is replaced", async () => {
    expect(
      await pair(
        (aws) => db(aws, "db-subnets"),
        (aws) => db(aws, "db-subnets-v2"),
      ),
    ).toEqual([
      'aws:rds/instance:Instance db is replaced: dbSubnetGroupName changes from "db-subnets" to "db-subnets-v2"',
    ]);
  });

  it("a provider whose region changes", async () => {
    expect(
      await pair(
        (aws) => void new aws.Provider("aws-main", { region: "us-east-1" }),
        (aws) => void new aws.Provider("aws-main", { region: "eu-west-1" }),
      ),
    ).toEqual(['pulumi:providers:aws aws-main is replaced: region changes from "us-east-1" to "eu-west-1"']);
  });

  it("a rename, which is a removal (without an alias)", async () => {
    expect(
      await pair(
        (aws) => void new aws.s3.Bucket("assets"),
        (aws) => void new aws.s3.Bucket("static-assets"),
      ),
    ).toEqual(["aws:s3/bucket:Bucket assets is removed"]);
  });

  it("but not a rename that keeps the old URN as an alias", async () => {
    expect(
      await pair(
        (aws) => void new aws.s3.Bucket("assets"),
        (aws) => void new aws.s3.Bucket("static-assets", {}, { aliases: [{ name: "assets" }] }),
      ),
    ).toEqual([]);
  });
});
