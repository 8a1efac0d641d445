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
import { T } from "../../lib/graph/resource-types";

const root = path.resolve(__dirname, "../..");

/** Every other type the ladder declares, and why replacing it loses nothing. A new type must be put in one list. */
const NOT_STATEFUL: Record<string, string> = {
  [T.stack]: "the stack itself",
  [T.acmCert]: "re-issued by DNS validation; listeners and the distribution switch over",
  [T.acmValidation]: "a wait, no state",
  [T.asg]: "instances are cattle; a rolling refresh replaces them anyway",
  [T.asgPolicy]: "configuration",
  [T.cachePolicy]: "configuration",
  [T.dist]: "no replacing inputs; its cache refills",
  [T.oac]: "configuration",
  [T.responseHeadersPolicy]: "configuration",
  [T.webAcl]: "configuration (its logs are in its log group, which is stateful and checked as such)",
  [T.webAclAssociation]: "an edge",
  [T.webAclLogging]: "configuration of where the ACL's logs go",
  [T.dashboard]: "configuration",
  [T.alarm]: "configuration (alarm history is not data the site needs)",
  [T.compositeAlarm]: "configuration (the fault drills' stop condition)",
  [T.fisTemplate]: "configuration (experiments run from it keep their own history)",
  [T.eipAssociation]: "an edge",
  [T.lt]: "versions are its history; a new one rolls the fleet",
  [T.route]: "configuration",
  [T.sg]: "checked as a dependency of what it guards (DEPENDENCY_REPLACED_ON)",
  [T.peering]: "configuration, re-accepted by its accepter",
  [T.peeringAccepter]: "configuration",
  [T.cachePg]: "configuration",
  [T.cacheSubnetGroup]: "checked as a dependency of the cache",
  [T.instanceProfile]: "identity; instances pick up a new one at launch",
  [T.role]: "identity",
  [T.rolePolicy]: "identity",
  [T.attachment]: "an edge",
  [T.kmsKey]: "checked as a dependency of what it encrypts (DEPENDENCY_REPLACED_ON)",
  [T.listener]: "configuration",
  [T.listenerRule]: "configuration",
  [T.tg]: "configuration; targets re-register",
  [T.cpg]: "configuration",
  [T.pg]: "configuration",
  [T.dbSubnetGroup]: "checked as a dependency of the databases",
  [T.healthCheck]: "configuration",
  [T.lifecycle]: "configuration of a bucket",
  [T.bucketObject]: "re-uploaded from the build",
  [T.ownership]: "configuration of a bucket",
  [T.bucketPolicy]: "configuration of a bucket",
  [T.logging]: "configuration of a bucket (where its server access logs go)",
  [T.bpa]: "configuration of a bucket",
  [T.sse]: "configuration of a bucket",
  [T.versioning]: "configuration of a bucket",
  [T.secretVersion]: "a new version of the same secret",
  [T.topic]: "alarm fan-out; subscriptions re-confirm",
  [T.topicSubscription]: "an edge",
  [T.queuePolicy]: "configuration of a queue",
  [T.redriveAllowPolicy]: "configuration of a queue",
  [T.ssmAssociation]: "re-runs the restart command",
  [T.egress]: "configuration",
  [T.ingress]: "configuration",
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
