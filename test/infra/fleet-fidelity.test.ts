/**
 * Issue 12, fleets, buckets, IAM and network: what AWS enforces at `pulumi up` (or at first boot) that the mocks
 * did not see. Each block names the defect it guards; the graphs are evaluated once, in beforeAll.
 */
import { ConfigError, parseLadderConfig } from "../../stacks/config";
import { DEPLOY_RULES, View } from "./deploy-rules";
import { ladderGraphs } from "../../lib/graph/graph-cache";
import { Graph, Registration, runProgram, stackConfig } from "../../lib/graph/harness";
import { DNS } from "./ladder-variants";
import { ACCOUNT } from "../../lib/graph/mock-outputs";
import { reveal } from "../../lib/graph/queries";
import { T } from "../../lib/graph/resource-types";

const PROD = { ...DNS, "aws:region": "eu-west-1", "scale-ladder:environment": "prod" };
/**
 * [step, config, stack name]. The stack names (and configurations) are the ones the deploy-twice and policy files
 * evaluate, so these graphs come from the shared graph cache rather than being evaluated again.
 */
const STACKS = {
  server: [1, { "scale-ladder:environment": "prod" }, "prod"],
  fleet: [3, {}, "dev"],
  /** Melbourne opened in January 2023: no classic ELB log-delivery account. */
  newRegion: [3, { "aws:region": "ap-southeast-4" }, "dev"],
  cdnDev: [6, DNS, "dev"],
  cdnProd: [6, PROD, "prod"],
  workersProd: [8, PROD, "prod"],
  global: [11, PROD, "prod"],
} as const;
type StackName = keyof typeof STACKS;

const graphs = new Map<StackName, Graph>();
beforeAll(async () => {
  const entries = Object.entries(STACKS) as Array<[StackName, (typeof STACKS)[StackName]]>;
  const got = await ladderGraphs(
    entries.map(([, [step, extra, stack]]) => ({ config: stackConfig(step, extra), stack })),
  );
  entries.forEach(([name], i) => graphs.set(name, got[i]));
}, 300_000);
const g = (name: StackName) => graphs.get(name)!;
const all = () => [...graphs.entries()];

const statements = (policy: unknown): any[] => [JSON.parse(String(reveal(policy))).Statement].flat();
const asList = (x: unknown): string[] => [x].flat() as string[];

describe("defect 6: instance refresh rollback with a resolve:ssm image id", () => {
  it("no group refreshes with autoRollback from a launch template whose image id is an SSM parameter", () => {
    const rule = DEPLOY_RULES.find((r) => r.name === "instance-refresh-rollback")!;
    expect(rule).toBeDefined();
    for (const name of ["fleet", "workersProd", "global"] as const) {
      const result = rule.check(new View(g(name)));
      expect({ name, problems: result.problems }).toEqual({ name, problems: [] });
      expect(result.checked).toBeGreaterThan(0);
    }
  });

  it("keeps resolve:ssm (patched AMIs; a second `pulumi up` changes nothing), launches before terminating", () => {
    for (const lt of g("workersProd").ofType(T.lt))
      expect(lt.inputs.imageId).toMatch(/^resolve:ssm:\/aws\/service\/ami-amazon-linux-latest\//);
    for (const asg of g("workersProd").ofType(T.asg)) {
      expect(asg.inputs.instanceRefresh.preferences).toMatchObject({
        minHealthyPercentage: 100,
        maxHealthyPercentage: 200,
      });
      expect(asg.inputs.instanceRefresh.preferences.autoRollback).not.toBe(true);
    }
  });
});

describe("ALB access logs in regions without a classic ELB log-delivery account", () => {
  const logStatement = (name: StackName) => {
    const policy = g(name)
      .ofType(T.bucketPolicy)
      .find((p) => p.name.endsWith("web-access-logs-policy"));
    expect(policy).toBeDefined();
    return statements(policy!.inputs.policy).find((s) => s.Sid === "AlbLogDelivery");
  };

  it("grants the regional ELB account in a region opened before August 2022 (us-east-1)", () => {
    const s = logStatement("fleet");
    expect(s.Principal).toEqual({ AWS: "arn:aws:iam::127311923021:root" });
    expect(asList(s.Resource)[0]).toMatch(new RegExp(`/alb/AWSLogs/${ACCOUNT}/\\*$`));
  });

  it("grants the log-delivery service principal in a region opened after (ap-southeast-4)", () => {
    const s = logStatement("newRegion");
    expect(s.Principal).toEqual({ Service: "logdelivery.elasticloadbalancing.amazonaws.com" });
    expect(asList(s.Resource)[0]).toMatch(new RegExp(`/alb/AWSLogs/${ACCOUNT}/\\*$`));
  });

  it("reads a dated table, not the provider's getServiceAccount (there: 'unsupported AWS Region')", async () => {
    const { elbLogDeliveryPrincipal, ELB_LOG_DELIVERY_ACCOUNTS } =
      await import("../../components/facts/elb-log-delivery");
    expect(elbLogDeliveryPrincipal("eu-west-1")).toEqual({ AWS: "arn:aws:iam::156460612806:root" });
    expect(elbLogDeliveryPrincipal("mx-central-1")).toEqual({
      Service: "logdelivery.elasticloadbalancing.amazonaws.com",
    });
    expect(Object.keys(ELB_LOG_DELIVERY_ACCOUNTS)).not.toContain("ap-southeast-4");
  });
});

describe("vpcCidr must hold the subnets asked of awsx", () => {
  const message = (values: Record<string, string>) => {
    try {
      parseLadderConfig({ "scale-ladder:step": "1", ...values });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    return "accepted";
  };

  it.each([
    ["10.0.0.0/20", "2", "/17"],
    ["10.0.0.0/19", "2", "/17"],
    ["10.0.0.0/18", "2", "/17"],
    ["10.0.0.0/18", "3", "/16"],
    ["10.0.0.0/17", "3", "/16"],
  ])("refuses %s with %s AZs, naming the key and the smallest prefix allowed (%s)", (cidr, azs, smallest) => {
    const m = message({ "scale-ladder:vpcCidr": cidr, "scale-ladder:availabilityZones": azs });
    expect(m).toContain(`scale-ladder:vpcCidr ${cidr} is too small for ${azs} AZs`);
    expect(m).toContain(`${smallest} or larger`);
  });

  it.each([
    ["10.0.0.0/17", "2"],
    ["10.0.0.0/16", "3"],
    ["10.0.0.0/16", "2"],
  ])("accepts %s with %s AZs", (cidr, azs) => {
    expect(message({ "scale-ladder:vpcCidr": cidr, "scale-ladder:availabilityZones": azs })).toBe("accepted");
  });

  it("derives the limit from the layout Network asks awsx for (awsx's Auto allocator, replayed)", async () => {
    const { awsxAutoLayout, NETWORK_SUBNET_MASKS } = await import("../../components/network");
    expect(NETWORK_SUBNET_MASKS).toEqual([24, 20, 24]);
    const ok = awsxAutoLayout("10.0.0.0/17", 2);
    expect(ok.fits).toBe(true);
    expect(ok.subnets.slice(0, 3)).toEqual(["10.0.0.0/24", "10.0.16.0/20", "10.0.32.0/24"]);
    // /18 over 2 AZs: each AZ gets a /19 (8192 addresses) but the isolated /24 lands at +8192, on the next AZ.
    expect(awsxAutoLayout("10.0.0.0/18", 2).fits).toBe(false);
  });
});

describe("ACM validation records have one owner", () => {
  it.each(["cdnDev", "cdnProd", "global"] as const)(
    "%s: one record resource per zone, name, type and set identifier",
    (name) => {
      const owners = new Map<string, string[]>();
      for (const r of g(name).ofType(T.record)) {
        const i = r.inputs;
        const key = `${i.zoneId} ${String(i.name).replace(/\.$/, "").toLowerCase()} ${i.type} ${i.setIdentifier ?? ""}`;
        owners.set(key, [...(owners.get(key) ?? []), r.name]);
      }
      expect([...owners].filter(([, names]) => names.length > 1)).toEqual([]);
    },
  );

  it("every certificate waits for a record of each of its domain names", () => {
    const v = new View(g("global"));
    const records = new Map(
      g("global")
        .ofType(T.record)
        .map((r) => [v.outputs(r).fqdn, r]),
    );
    for (const validation of g("global").ofType(T.acmValidation)) {
      const fqdns = v.inputs(validation).validationRecordFqdns as string[];
      expect(fqdns.length).toBeGreaterThan(0);
      for (const f of fqdns)
        expect({ validation: validation.name, f, owned: records.has(f) }).toEqual({
          validation: validation.name,
          f,
          owned: true,
        });
    }
  });
});

describe("availability zones", () => {
  const parse = (values: Record<string, string>, region = "us-east-1") =>
    parseLadderConfig({ "scale-ladder:step": "11", ...values }, region);

  it("default: awsx takes the region's first N zones, as every existing stack was built (no subnet replaced)", () => {
    const vpc = g("fleet").ofType(T.vpc)[0].inputs;
    expect(vpc.numberOfAvailabilityZones).toBe(2);
    expect(vpc.availabilityZoneNames).toBeUndefined();
  });

  it("availabilityZoneNames picks the zones per region, and the VPC is built in them", async () => {
    const cfg = parse({ "scale-ladder:availabilityZoneNames": "us-east-1a,us-east-1c,eu-west-1b,eu-west-1c" });
    expect(cfg.network.zoneNames).toEqual({
      "us-east-1": ["us-east-1a", "us-east-1c"],
      "eu-west-1": ["eu-west-1b", "eu-west-1c"],
    });
    const { Network } = await import("../../components/network");
    // A program of its own, not a ladder graph: evaluated fresh, past the graph cache.
    const graph = await runProgram(
      () => void new Network("net", { region: "us-east-1", availabilityZoneNames: ["us-east-1a", "us-east-1c"] }),
    );
    const vpc = graph.one(T.vpc).inputs;
    expect(vpc.availabilityZoneNames).toEqual(["us-east-1a", "us-east-1c"]);
    expect(vpc.numberOfAvailabilityZones).toBeUndefined();
  });

  it.each([
    [
      { "scale-ladder:availabilityZoneNames": "us-east-1a" },
      "scale-ladder:availabilityZoneNames lists 1 zone of us-east-1; it needs exactly availabilityZones (2)",
    ],
    [
      { "scale-ladder:availabilityZoneNames": "us-east-1a,us-east-1a" },
      "scale-ladder:availabilityZoneNames names us-east-1a twice",
    ],
    [
      { "scale-ladder:availabilityZoneNames": "us-east-1a,us-east-1b,ap-south-1a,ap-south-1b" },
      "scale-ladder:availabilityZoneNames names ap-south-1a, which is in none of the stack's regions " +
        "(us-east-1, eu-west-1)",
    ],
    [
      { "scale-ladder:availabilityZoneNames": "use1-az1,use1-az2" },
      "scale-ladder:availabilityZoneNames must be a comma-separated list of zone names such as " +
        'us-east-1a,us-east-1b, got "use1-az1,use1-az2"',
    ],
  ])("refuses %j", (values, text) => {
    expect(() => parse(values)).toThrow(text);
  });
});

describe("S3 server access logs in prod", () => {
  const logged = (name: StackName) => {
    const graph = g(name);
    const buckets = new Map(graph.ofType(T.bucket).map((b) => [b.name, b]));
    return graph.ofType(T.logging).map((l) => ({
      l,
      source: [...buckets.values()].find((b) => new View(g(name)).outputs(b).id === l.inputs.bucket),
    }));
  };

  it("logs the artifact and static-asset buckets to a log bucket in prod", () => {
    const logs = logged("cdnProd");
    expect(logs.map((x) => x.source?.name).sort()).toEqual(["euw1-artifact-bucket", "euw1-cdn-assets"]);
    const targets = new Set(logs.map((x) => x.l.inputs.targetBucket));
    expect(targets.size).toBe(1);
  });

  it("the log bucket blocks public access, uses SSE-S3 (not KMS), expires logs, admits only the S3 log writer", () => {
    const graph = g("cdnProd");
    const v = new View(g("cdnProd"));
    const target = logged("cdnProd")[0].l.inputs.targetBucket;
    const bucket = graph.ofType(T.bucket).find((b) => v.outputs(b).id === target)!;
    const on = (type: string) => graph.ofType(type).filter((r) => r.inputs.bucket === v.outputs(bucket).id);
    expect(on(T.bpa)[0].inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(on(T.sse)[0].inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("AES256");
    expect(on(T.lifecycle)[0].inputs.rules[0].expiration.days).toBeGreaterThan(0);
    const s = statements(on(T.bucketPolicy)[0].inputs.policy).find(
      (x) => x.Principal?.Service === "logging.s3.amazonaws.com",
    );
    expect(s).toMatchObject({
      Effect: "Allow",
      Action: "s3:PutObject",
      Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
    });
    expect(on(T.logging)).toEqual([]); // the log bucket does not log into itself
  });

  it("dev stacks have no access-log bucket", () => {
    expect(logged("cdnDev")).toEqual([]);
  });
});

describe("instances boot after their role's policies exist (IAM propagation at first boot)", () => {
  /** URNs `r` depends on, directly or through what it depends on. */
  const closure = (pg: Graph, r: Registration): Set<string> => {
    const byUrn = new Map(pg.resources.map((x) => [x.urn, x]));
    const seen = new Set<string>();
    const stack = [...pg.edgesOf(r).dependencies];
    while (stack.length > 0) {
      const u = stack.pop()!;
      if (seen.has(u)) continue;
      seen.add(u);
      const x = byUrn.get(u);
      if (x) stack.push(...pg.edgesOf(x).dependencies);
    }
    return seen;
  };

  it.each(["server", "fleet", "workersProd"] as const)(
    "%s: every instance, launch template and group depends on its role's policies",
    (name) => {
      const pg = g(name);
      const byUrn = new Map(pg.resources.map((x) => [x.urn, x]));
      const launchers = pg.resources.filter((r) => [T.instance, T.lt, T.asg].includes(r.type as any));
      expect(launchers.length).toBeGreaterThan(0);
      for (const r of launchers) {
        const component = byUrn.get(r.parent!)!;
        const policies = pg.descendants(component).filter((x) => x.type === T.rolePolicy);
        expect(policies.length).toBeGreaterThan(0);
        const deps = closure(pg, r);
        for (const p of policies)
          expect({ launcher: r.name, policy: p.name, dependsOn: deps.has(p.urn) }).toEqual({
            launcher: r.name,
            policy: p.name,
            dependsOn: true,
          });
      }
    },
  );
});

describe("Session Manager without AmazonSSMManagedInstanceCore", () => {
  const SSM_READ = /^ssm:(GetParameters?|GetParametersByPath|\*)$|^\*$/;

  it("no role in any graph has ssm:GetParameter(s) on *, and the managed policy is not attached", () => {
    const offending: string[] = [];
    for (const [name, pg] of all()) {
      for (const a of pg.ofType(T.attachment))
        if (String(a.inputs.policyArn).includes("AmazonSSMManagedInstanceCore"))
          offending.push(`${name}: ${a.name} attaches ${a.inputs.policyArn}`);
      for (const p of pg.ofType(T.rolePolicy)) {
        for (const s of statements(p.inputs.policy)) {
          const broad = asList(s.Action).filter((a) => SSM_READ.test(a));
          if (broad.length > 0 && asList(s.Resource).includes("*"))
            offending.push(`${name}: ${p.name} ${s.Sid} allows ${broad.join(", ")} on *`);
        }
      }
    }
    expect(offending).toEqual([]);
  });

  it("every instance role can still register, open sessions and run the release association", () => {
    const needed = [
      "ssm:UpdateInstanceInformation",
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
      "ec2messages:GetMessages",
      "ssm:ListInstanceAssociations",
      "ssm:UpdateInstanceAssociationStatus",
      "ssm:DescribeAssociation",
      "ssm:GetDocument",
    ];
    for (const [name, pg] of all()) {
      for (const role of pg
        .ofType(T.role)
        .filter((r) => String(r.inputs.assumeRolePolicy).includes("ec2.amazonaws.com"))) {
        const component = pg.resources.find((x) => x.urn === role.parent)!;
        const actions = pg
          .descendants(component)
          .filter((x) => x.type === T.rolePolicy)
          .flatMap((p) => statements(p.inputs.policy).flatMap((s) => asList(s.Action)));
        expect({ name, role: role.name, missing: needed.filter((a) => !actions.includes(a)) }).toEqual({
          name,
          role: role.name,
          missing: [],
        });
      }
    }
  });
});

describe("partitions", () => {
  it.each([
    ["us-gov-west-1", "aws-us-gov"],
    ["cn-north-1", "aws-cn"],
  ])("refuses aws:region %s (partition %s) with a message saying what is supported", (region, partition) => {
    expect(() => parseLadderConfig({ "scale-ladder:step": "1" }, region)).toThrow(
      `aws:region ${region} is in the ${partition} partition; scale-ladder supports the aws partition only`,
    );
  });

  it("refuses a secondary region in another partition", () => {
    expect(() =>
      parseLadderConfig({ "scale-ladder:step": "11", "scale-ladder:secondaryRegions": "us-gov-east-1" }),
    ).toThrow(
      "scale-ladder:secondaryRegions names us-gov-east-1, in the aws-us-gov partition; scale-ladder supports " +
        "the aws partition only",
    );
  });
});
