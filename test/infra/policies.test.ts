/**
 * The policy pack (policies/) over the mocked graph of every built step, in dev and prod: no violations, at `up`
 * and at a first preview. Then one deliberately wrong resource per policy, to prove each one fires with its
 * message.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type * as Aws from "@pulumi/aws";
import type * as Pulumi from "@pulumi/pulumi";
import type { PolicyPackConfig } from "@pulumi/policy";
import type * as PackModule from "../../policies/pack";
import type * as ContextModule from "../../policies/context";
import { CASES, LADDER_HOOK_TIMEOUT_MS, evaluateLadder, variant } from "./ladder-variants";
import { Graph, runProgram } from "../../lib/graph/harness";
import { Diagnostic, Evaluation, evaluatePolicies } from "./policy-runner";
import { ServedPack } from "./served-pack";
import { GraphIndex } from "../../scripts/plan/graph";
import { estimateCost } from "../../scripts/plan/cost";
import { CostEstimate, round, usd } from "../../lib/pricing/estimate";
import {
  EC2_HOURLY,
  HOURS_PER_MONTH,
  PRICES_AS_OF,
  PRICE_SOURCES,
  RATES,
  RDS_POSTGRES_HOURLY,
} from "../../lib/pricing/prices";

const root = path.resolve(__dirname, "../..");

/**
 * Violations the pack finds in the components today, each waiting for a fix in the component named. An entry makes
 * the matching violations expected; once the component is fixed the entry fails the test below and must go.
 */
const AWAITING_FIX: Array<{ policy: string; resource: RegExp; fix: string }> = [];
const awaitingFix = (v: Diagnostic) =>
  AWAITING_FIX.find((f) => f.policy === v.policy && f.resource.test(v.resource ?? ""));

/** Policies that read a value only `pulumi up` knows (a policy document built from ARNs); a first preview defers them.
 * */
const DEFERRED_AT_FIRST_PREVIEW = ["iam-no-wildcard-actions", "fis-role-least-privilege"];

let pack: typeof PackModule;
let context: typeof ContextModule;
const graphs = new Map<string, Graph>();
/** The pack as the CLI runs it, started first: it boots while the graphs are evaluated. */
let served: Promise<ServedPack>;

beforeAll(async () => {
  served = ServedPack.start();
  served.catch(() => undefined); // reported by the tests that await it
  for (const [k, g] of await evaluateLadder()) graphs.set(k, g);
  pack = await import("../../policies/pack");
  context = await import("../../policies/context");
}, LADDER_HOOK_TIMEOUT_MS);

const evaluate = (g: Graph, config: PolicyPackConfig, preview = false) =>
  evaluatePolicies(g, { policies: pack.POLICIES, enforcementLevel: pack.PACK_ARGS.enforcementLevel, config, preview });
const show = (vs: Diagnostic[]) => vs.map((v) => `${v.policy} ${v.resource ?? "(stack)"}: ${v.detail}`);
/** What would stop a deployment: every report but the advisory ones (the cost estimate). */
const blocking = (vs: Diagnostic[]) => vs.filter((v) => v.enforcementLevel !== "advisory");
/** The plan's figures as the cost-estimate policy prints them: the total, and each component's, largest first. */
const planFigures = (cost: CostEstimate) => ({
  total: usd(cost.monthly),
  byComponent: [...cost.byComponent]
    .sort((a, b) => b.monthly - a.monthly || a.name.localeCompare(b.name))
    .map((c) => `${c.name} ${usd(c.monthly)}`)
    .join(", "),
});
/** The same figures read back from the policy's report. */
const reportedFigures = (detail: string) => ({
  total: /^Estimated monthly cost of the stack after this update: (\$[\d,]+\.\d\d)/.exec(detail)?.[1],
  byComponent: /^By component: (.*)\.$/m.exec(detail)?.[1],
});

describe("every built step passes every policy", () => {
  const atUp = new Map<string, Evaluation>();
  const atPreview = new Map<string, Evaluation>();
  beforeAll(async () => {
    for (const [step, name] of CASES) {
      const config = context.ladderPolicyConfig({ step, environment: variant(name).environment });
      atUp.set(`${step}:${name}`, await evaluate(graphs.get(`${step}:${name}`)!, config));
      atPreview.set(`${step}:${name}`, await evaluate(graphs.get(`${step}:${name}`)!, config, true));
    }
  }, LADDER_HOOK_TIMEOUT_MS);

  it.each(CASES)("step %d, %s", (step, name) => {
    const result = atUp.get(`${step}:${name}`)!;
    expect(show(blocking(result.violations).filter((x) => !awaitingFix(x)))).toEqual([]);
    expect(result.deferred).toEqual([]);
  });

  it.each(CASES)("step %d, %s, at the first preview (outputs of other resources unknown)", (step, name) => {
    const result = atPreview.get(`${step}:${name}`)!;
    expect(show(blocking(result.violations).filter((x) => !awaitingFix(x)))).toEqual([]);
    expect(
      [...new Set(result.deferred.map((d) => d.policy))].filter((p) => !DEFERRED_AT_FIRST_PREVIEW.includes(p)),
    ).toEqual([]);
  });

  it.each(CASES)(
    "step %d, %s: the cost estimate is reported (advisory) and its figures are the plan's",
    (step, name) => {
      const plan = estimateCost(new GraphIndex(graphs.get(`${step}:${name}`)!));
      for (const [when, result] of [
        ["at up", atUp.get(`${step}:${name}`)!],
        ["at the first preview", atPreview.get(`${step}:${name}`)!],
      ] as const) {
        const reports = result.violations.filter((v) => v.policy === "cost-estimate");
        expect({ when, reports: reports.map((r) => [r.enforcementLevel, r.urn]) }).toEqual({
          when,
          reports: [["advisory", undefined]],
        });
        expect({ when, ...reportedFigures(reports[0].detail) }).toEqual({ when, ...planFigures(plan) });
        expect(plan.unpriced).toEqual([]);
        expect(reports[0].detail).not.toContain("Not priced");
      }
      // A new stack: nothing exists, so the whole estimate is the change. After up, every id is known.
      expect(atPreview.get(`${step}:${name}`)!.violations.find((v) => v.policy === "cost-estimate")!.detail).toContain(
        `Change from the current state: +${usd(plan.monthly)} a month: no priced resource of the stack exists yet`,
      );
      expect(atUp.get(`${step}:${name}`)!.violations.find((v) => v.policy === "cost-estimate")!.detail).toContain(
        `resources this update creates or replaces (their ids are unknown until up) cost $0.00 of it; ` +
          `${usd(plan.monthly)} is in resources that exist already`,
      );
    },
  );

  it("defers at the first preview exactly the policies docs/policies.md says it does", () => {
    const deferred = new Set([...atPreview.values()].flatMap((r) => r.deferred.map((d) => d.policy)));
    expect([...deferred].sort()).toEqual([...DEFERRED_AT_FIRST_PREVIEW].sort());
  });

  it("still finds every violation listed as awaiting a component fix (delete the entry once it is fixed)", () => {
    const seen = new Set([...atUp.values()].flatMap((r) => r.violations.map(awaitingFix)));
    expect(AWAITING_FIX.filter((f) => !seen.has(f)).map((f) => `${f.policy}: ${f.fix}`)).toEqual([]);
  });
});

describe("context: step and environment", () => {
  it("reads the step from the provider's default tags when no config gives it", async () => {
    // Step 3 in dev: Multi-AZ does not apply yet, by the `step` tag alone.
    const result = await evaluate(graphs.get("3:dev")!, context.ladderPolicyConfig({ environment: "dev" }));
    expect(result.notApplicable).toContainEqual({
      policy: "multi-az-databases",
      reason: "step 3 is below 4, where Multi-AZ starts in dev",
    });
  });

  it("holds a stack that does not say it is dev to production rules", async () => {
    const result = await evaluate(graphs.get("3:dev")!, {});
    expect(show(result.violations.filter((x) => x.policy === "deletion-protection-in-prod")).sort()).toEqual([
      "deletion-protection-in-prod use1-artifact-bucket: use1-artifact-bucket: forceDestroy is true; `pulumi " +
        "destroy` would delete every object with it.",
      "deletion-protection-in-prod use1-db: use1-db: deletionProtection is false.",
      "deletion-protection-in-prod use1-db: use1-db: no final snapshot on deletion (skipFinalSnapshot true, " +
        "finalSnapshotIdentifier unset).",
      "deletion-protection-in-prod use1-web-access-logs: use1-web-access-logs: forceDestroy is true; `pulumi " +
        "destroy` would delete every object with it.",
      "deletion-protection-in-prod use1-web-alb: use1-web-alb: enableDeletionProtection is false.",
    ]);
  });

  it("rejects config the schema does not allow, as the CLI does", async () => {
    await expect(evaluate(graphs.get("3:dev")!, { "multi-az-databases": { environment: "staging" } })).rejects.toThrow(
      'policy multi-az-databases: config environment="staging" is not one of ["dev","prod"]',
    );
  });

  it("ships config files for dev and prod stacks that say what ladderPolicyConfig says", () => {
    for (const env of ["dev", "prod"] as const) {
      const file = JSON.parse(fs.readFileSync(path.join(root, "policies", "config", `${env}.json`), "utf8"));
      expect(file).toEqual(context.ladderPolicyConfig({ environment: env }));
    }
  });
});

describe("cost-estimate at the preview of a climb (a stack that exists)", () => {
  const plan = (key: string) => estimateCost(new GraphIndex(graphs.get(key)!)).monthly;
  /** The preview of `to` on a stack that holds `from`'s resources (same URNs): only the new ones lack an id. */
  const climb = async (from: string, to: string, config: PolicyPackConfig = {}) => {
    const existing = new Set(graphs.get(from)!.resources.map((r) => r.urn));
    const result = await evaluatePolicies(graphs.get(to)!, {
      policies: pack.POLICIES,
      config,
      preview: true,
      existing,
      only: ["cost-estimate"],
    });
    expect(result.violations).toHaveLength(1);
    return result.violations[0].detail;
  };

  it("4 -> 5 adds the cache: the part the preview creates is the difference of the two plans", async () => {
    // Nothing priced is deleted or changed in place by this climb, so the split is the whole change.
    const [before, after] = [plan("4:dev"), plan("5:dev")];
    expect(round(after - before)).toBeGreaterThan(0);
    const detail = await climb("4:dev", "5:dev");
    expect(detail).toContain(
      `Change from the current state: resources this update creates or replaces (their ids are unknown until up) ` +
        `cost ${usd(round(after - before))} of it; ${usd(before)} is in resources that exist already`,
    );
    expect(detail).toContain("A stack policy is not shown the current state");
  });

  it("2 -> 3 deletes the server, which a preview does not show: currentMonthly gives the exact change", async () => {
    const [before, after] = [plan("2:dev"), plan("3:dev")];
    const split = await climb("2:dev", "3:dev");
    // The server the climb removes is not in the policy's view, so the split alone is not the change.
    expect(split).not.toContain(`cost ${usd(round(after - before))} of it`);
    const exact = await climb("2:dev", "3:dev", { "cost-estimate": { currentMonthly: before } });
    expect(exact).toContain(
      `Change from the current state: +${usd(round(after - before))} a month (from ${usd(before)}, the ` +
        "currentMonthly this policy was given).",
    );
    expect(exact).not.toContain("not shown the current state");
  });
});

describe("cost-estimate on the resources awsx creates at deploy time", () => {
  it("prices the NAT gateway and Elastic IP the engine shows under a VPC as the plan prices awsx's VPC", async () => {
    // Under the mocks awsx's VPC registers alone and is priced from its natGateways input; in the engine's view its
    // NAT gateways and their addresses are resources of their own, and the component holds outputs, not inputs.
    const g = await runProgram(async () => {
      const aws = await import("@pulumi/aws");
      const pulumi = await import("@pulumi/pulumi");
      const vpc = new pulumi.ComponentResource("awsx:ec2:Vpc", "vpc");
      const ip = new aws.ec2.Eip("vpc-nat-ip", { domain: "vpc" }, { parent: vpc });
      new aws.ec2.NatGateway("vpc-nat", { allocationId: ip.id, subnetId: "subnet-0123" }, { parent: vpc });
    });
    const result = await evaluatePolicies(g, { policies: pack.POLICIES, only: ["cost-estimate"] });
    const single = round(RATES.natGatewayPerHour * HOURS_PER_MONTH) + round(RATES.publicIpv4PerHour * HOURS_PER_MONTH);
    expect(reportedFigures(result.violations[0].detail)).toEqual({
      total: usd(single),
      byComponent: `vpc ${usd(single)}`,
    });
  });
});

describe("the pack", () => {
  it("names every policy once, kebab-case, with a one-line description, a severity and a remediation", () => {
    const names = pack.POLICIES.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const p of pack.POLICIES) {
      expect({ name: p.name, ok: /^[a-z0-9]+(-[a-z0-9]+)*$/.test(p.name) && p.name !== "all" }).toEqual({
        name: p.name,
        ok: true,
      });
      expect({ name: p.name, oneLine: !p.description.includes("\n") && p.description.length > 10 }).toEqual({
        name: p.name,
        oneLine: true,
      });
      expect({
        name: p.name,
        severity: p.severity !== undefined,
        remediation: (p.remediationSteps ?? "").length > 10,
      }).toEqual({ name: p.name, severity: true, remediation: true });
      expect(p.configSchema?.properties.enforcementLevel).toBeUndefined();
    }
  });

  it("is laid out as a policy pack: PulumiPolicy.yaml, a versioned package.json with dependencies, index.ts", () => {
    const yaml = parse(fs.readFileSync(path.join(root, "policies", "PulumiPolicy.yaml"), "utf8"));
    expect(yaml).toMatchObject({ name: pack.PACK_NAME, runtime: "nodejs" });
    expect(pack.PACK_NAME).toMatch(/^[a-zA-Z0-9-_.]{1,100}$/);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "policies", "package.json"), "utf8"));
    const rootPkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
    // The pack runs with the same SDK and provider versions the program uses.
    expect(pkg.dependencies).toEqual({
      "@pulumi/aws": rootPkg.dependencies["@pulumi/aws"],
      "@pulumi/policy": rootPkg.devDependencies["@pulumi/policy"],
      "@pulumi/pulumi": rootPkg.dependencies["@pulumi/pulumi"],
    });
    const index = fs.readFileSync(path.join(root, "policies", "index.ts"), "utf8");
    expect(index).toContain("new PolicyPack(PACK_NAME, PACK_ARGS)");
  });

  it("is documented policy by policy in docs/policies.md", () => {
    const doc = fs.readFileSync(path.join(root, "docs", "policies.md"), "utf8");
    const documented = [...doc.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(pack.POLICIES.map((p) => p.name).sort());
    for (const p of DEFERRED_AT_FIRST_PREVIEW) expect(doc).toContain(`\`${p}\` is deferred`);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// One deliberately wrong program per policy.

type Program = (aws: typeof Aws, pulumi: typeof Pulumi) => void;

interface Negative {
  policy: string;
  /** What the case shows. */
  title: string;
  program: Program;
  config?: PolicyPackConfig;
  /** The details the policy reports. */
  expected: string[];
}

const postgres = {
  engine: "postgres",
  engineVersion: "16",
  instanceClass: "db.t4g.micro",
  allocatedStorage: 20,
  username: "admin_user",
  manageMasterUserPassword: true,
  storageEncrypted: true,
};

/** A distribution with everything CloudFront requires, and the parts a case changes. */
function distribution(
  aws: typeof Aws,
  name: string,
  change: Partial<Aws.cloudfront.DistributionArgs> = {},
): Aws.cloudfront.Distribution {
  return new aws.cloudfront.Distribution(name, {
    enabled: true,
    origins: [
      {
        originId: "web",
        domainName: "origin.example.com",
        customOriginConfig: {
          httpPort: 80,
          httpsPort: 443,
          originProtocolPolicy: "https-only",
          originSslProtocols: ["TLSv1.2"],
        },
      },
    ],
    defaultCacheBehavior: {
      targetOriginId: "web",
      viewerProtocolPolicy: "redirect-to-https",
      allowedMethods: ["GET", "HEAD"],
      cachedMethods: ["GET", "HEAD"],
      cachePolicyId: "658327ea-f89d-4fab-a63d-7e88639e58f6",
    },
    restrictions: { geoRestriction: { restrictionType: "none" } },
    viewerCertificate: { cloudfrontDefaultCertificate: true },
    ...change,
  });
}

/** A regional web ACL with the given rules (the rest of what AWS requires filled in). */
function webAcl(aws: typeof Aws, name: string, rules: Aws.types.input.wafv2.WebAclRule[]): Aws.wafv2.WebAcl {
  const visibility = (metric: string) => ({
    cloudwatchMetricsEnabled: true,
    sampledRequestsEnabled: true,
    metricName: metric,
  });
  return new aws.wafv2.WebAcl(name, {
    scope: "REGIONAL",
    defaultAction: { allow: {} },
    rules: rules.map((r) => ({ ...r, visibilityConfig: visibility(r.name as string) })),
    visibilityConfig: visibility(name),
  });
}

/** A web-kill FIS template (terminate one instance of the `web` group) with no stop condition, run by `roleArn`. */
function webKillDrill(aws: typeof Aws, roleArn: Pulumi.Input<string>): Aws.fis.ExperimentTemplate {
  return new aws.fis.ExperimentTemplate("drill", {
    description: "web-kill",
    roleArn,
    stopConditions: [{ source: "none" }],
    actions: [{ name: "kill", actionId: "aws:ec2:terminate-instances", target: { key: "Instances", value: "web" } }],
    targets: [
      {
        name: "web",
        resourceType: "aws:ec2:instance",
        selectionMode: "COUNT(1)",
        resourceTags: [{ key: "aws:autoscaling:groupName", value: "web" }],
      },
    ],
  });
}

const rateRule = (action: "block" | "count") => ({
  name: "rate",
  priority: 0,
  action: action === "block" ? { block: {} } : { count: {} },
  statement: { rateBasedStatement: { limit: 2000, aggregateKeyType: "IP" } },
  visibilityConfig: { cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: "rate" },
});
const managedRule = (group: string, priority: number, override: "none" | "count" = "none") => ({
  name: group,
  priority,
  overrideAction: override === "none" ? { none: {} } : { count: {} },
  statement: { managedRuleGroupStatement: { vendorName: "AWS", name: group } },
  visibilityConfig: { cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: group },
});

/** The cost-estimate report of the negative case below, line by line from the price table. */
function costReportOf(): string {
  const month = (hourly: number) => round(hourly * HOURS_PER_MONTH);
  const shop = month(EC2_HOURLY["t4g.small"]) + round(20 * RATES.ebsGp3PerGbMonth) + month(RATES.publicIpv4PerHour);
  // Multi-AZ doubles the instance and its storage; the class not in the table leaves only its storage.
  const dbs = 2 * month(RDS_POSTGRES_HOURLY["db.t4g.micro"]) + 2 * round(20 * RATES.rdsGp3PerGbMonth);
  const stack = round(dbs + round(20 * RATES.rdsGp3PerGbMonth));
  const total = round(round(shop) + stack);
  return [
    `Estimated monthly cost of the stack after this update: ${usd(total)}.`,
    "Change from the current state: resources this update creates or replaces (their ids are unknown until up) " +
      `cost $0.00 of it; ${usd(total)} is in resources that exist already, at their settings after the update.`,
    "A stack policy is not shown the current state: what the update deletes, and the settings an in-place update " +
      "replaces, are missing from its view. For the exact change, give it the current estimate as currentMonthly " +
      "(policy pack config).",
    `By component: (stack) ${usd(stack)}, shop ${usd(round(shop))}.`,
    "Not priced: RDS for PostgreSQL class db.x9.huge.",
    `Prices: on-demand us-east-1 list prices of ${PRICES_AS_OF}, 730 hours a month (lib/pricing/prices.ts, the ` +
      "table of npm run plan and docs/pricing.md). Sources: " +
      `${PRICE_SOURCES["EC2 instances, EBS, Elastic IP / public IPv4"]}, ${PRICE_SOURCES["RDS for PostgreSQL"]}.`,
    "Not included: data transfer, requests (ALB LCUs, WAF, SQS), storage that grows with use, logs, FIS runs, free " +
      "tier and discounts (docs/pricing.md lists them).",
  ].join("\n");
}

const NEGATIVES: Negative[] = [
  {
    policy: "data-tier-not-public",
    title: "a publicly accessible RDS instance",
    program: (aws) => void new aws.rds.Instance("bad-db", { ...postgres, publiclyAccessible: true }),
    expected: ["bad-db: publiclyAccessible is true; an RDS instance must only be reachable from inside the VPC."],
  },
  {
    policy: "world-ingress-only-to-entry-points",
    title: "Postgres open to the internet, and the ALB's group open on 8080",
    program: (aws) => {
      const db = new aws.ec2.SecurityGroup("db-sg", { vpcId: "vpc-1" });
      new aws.vpc.SecurityGroupIngressRule("db-world", {
        securityGroupId: db.id,
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        cidrIpv4: "0.0.0.0/0",
      });
      const albSg = new aws.ec2.SecurityGroup("alb-sg", { vpcId: "vpc-1" });
      new aws.lb.LoadBalancer("alb", {
        loadBalancerType: "application",
        subnets: ["subnet-a", "subnet-b"],
        securityGroups: [albSg.id],
        dropInvalidHeaderFields: true,
      });
      new aws.vpc.SecurityGroupIngressRule("alb-443", {
        securityGroupId: albSg.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
      });
      new aws.vpc.SecurityGroupIngressRule("alb-8080", {
        securityGroupId: albSg.id,
        ipProtocol: "tcp",
        fromPort: 8080,
        toPort: 8080,
        cidrIpv6: "::/0",
      });
    },
    expected: [
      "db-world (SecurityGroupIngressRule) admits 0.0.0.0/0 on port 5432: db-sg is not an entry point.",
      "alb-8080 (SecurityGroupIngressRule) admits ::/0 on port 8080: alb-sg is the security group of load " +
        "balancer alb, which may only be open on ports 80 and 443.",
    ],
  },
  {
    policy: "world-ingress-only-to-entry-points",
    title: "the single server still open at step 3",
    config: { "world-ingress-only-to-entry-points": { step: 3 } },
    program: (aws) => {
      const sg = new aws.ec2.SecurityGroup("server-sg", { vpcId: "vpc-1" });
      new aws.vpc.SecurityGroupIngressRule("server-http", {
        securityGroupId: sg.id,
        ipProtocol: "tcp",
        fromPort: 80,
        toPort: 80,
        cidrIpv4: "0.0.0.0/0",
      });
      const server = new aws.ec2.Instance("server", {
        ami: "ami-1",
        instanceType: "t4g.small",
        vpcSecurityGroupIds: [sg.id],
      });
      const eip = new aws.ec2.Eip("server-eip", { domain: "vpc" });
      new aws.ec2.EipAssociation("server-eip-association", { allocationId: eip.allocationId, instanceId: server.id });
    },
    expected: ["server-http (SecurityGroupIngressRule) admits 0.0.0.0/0 on port 80: server-sg is not an entry point."],
  },
  {
    policy: "no-ssh-ingress",
    title: "SSH from inside the VPC, and an all-traffic inline rule",
    program: (aws) => {
      new aws.vpc.SecurityGroupIngressRule("ssh", {
        securityGroupId: "sg-1",
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrIpv4: "10.0.0.0/16",
      });
      new aws.ec2.SecurityGroup("anything", {
        vpcId: "vpc-1",
        ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["10.0.0.0/16"] }],
      });
    },
    expected: [
      "ssh admits port 22, which includes SSH (22); use Session Manager instead of a shell port.",
      "anything (inline ingress) admits all ports, which includes SSH (22); use Session Manager instead of a " +
        "shell port.",
    ],
  },
  {
    policy: "imdsv2-required",
    title: "a launch template with optional tokens, an instance with the AMI's hop limit",
    program: (aws) => {
      new aws.ec2.LaunchTemplate("lt", { metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 1 } });
      new aws.ec2.Instance("server", {
        ami: "ami-1",
        instanceType: "t4g.small",
        metadataOptions: { httpTokens: "required" },
      });
    },
    expected: [
      'lt: metadataOptions httpTokens is "optional", not "required".',
      "server: metadataOptions httpPutResponseHopLimit is unset (the AMI's default, 2 on Amazon Linux 2023), not 1.",
    ],
  },
  {
    policy: "launch-template-no-public-ip",
    title: "a launch template that asks for a public IP, and one that leaves it to the subnet",
    program: (aws) => {
      new aws.ec2.LaunchTemplate("public", {
        networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: "true" }],
      });
      new aws.ec2.LaunchTemplate("implicit", {});
    },
    expected: [
      'public: networkInterfaces[0].associatePublicIpAddress is "true", not false.',
      "implicit: no networkInterfaces, so the subnet's mapPublicIpOnLaunch decides whether instances get a public IP.",
    ],
  },
  {
    policy: "rds-storage-encrypted",
    title: "an unencrypted instance and an Aurora cluster left at the default",
    program: (aws) => {
      new aws.rds.Instance("plain-db", { ...postgres, storageEncrypted: false });
      new aws.rds.Cluster("plain-cluster", {
        engine: "aurora-postgresql",
        masterUsername: "admin_user",
        manageMasterUserPassword: true,
      });
    },
    expected: [
      "plain-db: storageEncrypted is false.",
      "plain-cluster: storageEncrypted is unset (false for provisioned Aurora).",
    ],
  },
  {
    policy: "elasticache-encrypted-at-rest",
    title: "a replication group without encryption at rest",
    program: (aws) =>
      void new aws.elasticache.ReplicationGroup("cache", {
        description: "c",
        engine: "valkey",
        nodeType: "cache.t4g.micro",
        transitEncryptionEnabled: true,
        authToken: "x".repeat(32),
      }),
    expected: ["cache: atRestEncryptionEnabled is unset (false)."],
  },
  {
    policy: "elasticache-encrypted-in-transit",
    title: "a replication group in plain text without authentication",
    program: (aws) =>
      void new aws.elasticache.ReplicationGroup("cache", {
        description: "c",
        engine: "valkey",
        nodeType: "cache.t4g.micro",
        atRestEncryptionEnabled: true,
        transitEncryptionMode: "preferred",
      }),
    expected: [
      "cache: transitEncryptionEnabled is unset (false); clients would talk in plain text.",
      'cache: transitEncryptionMode is "preferred", which still accepts plain-text clients.',
      "cache: neither authToken nor userGroupIds is set; any client inside the security group could connect.",
    ],
  },
  {
    policy: "ebs-encrypted",
    title: "an unencrypted volume and an instance with no declared root volume",
    program: (aws) => {
      new aws.ebs.Volume("data", { availabilityZone: "us-east-1a", size: 10 });
      new aws.ec2.Instance("server", { ami: "ami-1", instanceType: "t4g.small" });
    },
    expected: [
      "data: encrypted is unset.",
      "server: no rootBlockDevice, so the root volume is encrypted only if the AMI's snapshot is.",
    ],
  },
  {
    policy: "sqs-encrypted",
    title: "a queue with SSE turned off",
    program: (aws) => void new aws.sqs.Queue("q", { sqsManagedSseEnabled: false }),
    expected: ["q: neither sqsManagedSseEnabled nor kmsMasterKeyId is set."],
  },
  {
    policy: "s3-bucket-encrypted",
    title: "a bucket without an encryption configuration",
    program: (aws) => void new aws.s3.Bucket("naked"),
    expected: ["naked (Bucket) has no BucketServerSideEncryptionConfiguration."],
  },
  {
    policy: "s3-block-public-access",
    title: "a bucket without a public access block, one whose block allows public policies",
    program: (aws) => {
      new aws.s3.Bucket("open");
      const half = new aws.s3.Bucket("half-open");
      new aws.s3.BucketPublicAccessBlock("half-open-bpa", {
        bucket: half.id,
        blockPublicAcls: true,
        ignorePublicAcls: true,
        blockPublicPolicy: false,
        restrictPublicBuckets: false,
      });
    },
    expected: [
      "open (Bucket) has no BucketPublicAccessBlock.",
      "half-open (Bucket): its public access block leaves blockPublicPolicy, restrictPublicBuckets off.",
    ],
  },
  {
    policy: "rds-force-ssl",
    title: "PostgreSQL on a parameter group without rds.force_ssl, and on the default group",
    program: (aws) => {
      const pg = new aws.rds.ParameterGroup("lax", {
        family: "postgres16",
        parameters: [{ name: "log_min_duration_statement", value: "500" }],
      });
      new aws.rds.Instance("lax-db", { ...postgres, parameterGroupName: pg.name });
      new aws.rds.Instance("default-db", { ...postgres });
    },
    expected: [
      "lax-db (Instance): parameter group lax sets rds.force_ssl=(default), not 1.",
      "default-db (Instance): parameterGroupName does not name a parameter group of this stack with " +
        "rds.force_ssl=1; the default group may accept plain-text connections.",
    ],
  },
  {
    policy: "db-master-password-generated",
    title: "a master password typed into the program",
    program: (aws) =>
      void new aws.rds.Instance("typed-db", {
        ...postgres,
        manageMasterUserPassword: undefined,
        password: "correct-horse-battery",
      }),
    expected: [
      "typed-db (Instance): password is not generated by a RandomPassword of this stack; a typed or configured " +
        "password is in the program's history and every operator's shell.",
    ],
  },
  {
    policy: "deny-insecure-transport",
    title: "a bucket policy that does not refuse plain HTTP, a queue without a policy",
    program: (aws) => {
      const b = new aws.s3.Bucket("logs");
      new aws.s3.BucketPolicy("logs-policy", {
        bucket: b.id,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "logging.s3.amazonaws.com" },
              Action: "s3:PutObject",
              Resource: "arn:aws:s3:::logs/*",
            },
          ],
        }),
      });
      new aws.sqs.Queue("q", { sqsManagedSseEnabled: true });
    },
    expected: [
      "logs (Bucket): no statement of its policy denies s3:* when aws:SecureTransport is false.",
      "q (Queue) has no QueuePolicy.",
    ],
  },
  {
    policy: "cloudfront-https-only",
    title: "a behavior that serves plain HTTP",
    program: (aws) =>
      void distribution(aws, "cdn", {
        orderedCacheBehaviors: [
          {
            pathPattern: "/static/*",
            targetOriginId: "web",
            viewerProtocolPolicy: "allow-all",
            allowedMethods: ["GET", "HEAD"],
            cachedMethods: ["GET", "HEAD"],
          },
        ],
      }),
    expected: ['cdn: cache behavior /static/* has viewerProtocolPolicy "allow-all".'],
  },
  {
    policy: "cloudfront-tls",
    title: "a custom certificate that still accepts TLS 1.0, an origin reached with TLS 1.0",
    program: (aws) =>
      void distribution(aws, "cdn", {
        origins: [
          {
            originId: "web",
            domainName: "origin.example.com",
            customOriginConfig: {
              httpPort: 80,
              httpsPort: 443,
              originProtocolPolicy: "https-only",
              originSslProtocols: ["TLSv1", "TLSv1.2"],
            },
          },
        ],
        viewerCertificate: {
          acmCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
          sslSupportMethod: "sni-only",
          minimumProtocolVersion: "TLSv1_2016",
        },
      }),
    expected: [
      'cdn: viewerCertificate.minimumProtocolVersion is "TLSv1_2016", not TLSv1.2_2021 or later.',
      "cdn: origin web allows TLSv1.",
    ],
  },
  {
    policy: "cloudfront-web-acl",
    title: "a distribution without a web ACL",
    program: (aws) => void distribution(aws, "cdn"),
    expected: ["cdn: webAclId is unset; no web ACL inspects its viewers' requests."],
  },
  {
    policy: "cloudfront-security-headers",
    title: "a behavior without a response-headers policy, and a policy with a one-day HSTS and no frame options",
    program: (aws) => {
      void distribution(aws, "bare");
      const weak = new aws.cloudfront.ResponseHeadersPolicy("weak-headers", {
        securityHeadersConfig: {
          strictTransportSecurity: { accessControlMaxAgeSec: 86400, override: true },
          contentTypeOptions: { override: true },
          referrerPolicy: { referrerPolicy: "no-referrer", override: true },
        },
      });
      void distribution(aws, "weak", {
        defaultCacheBehavior: {
          targetOriginId: "web",
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD"],
          cachedMethods: ["GET", "HEAD"],
          cachePolicyId: "658327ea-f89d-4fab-a63d-7e88639e58f6",
          responseHeadersPolicyId: weak.id,
        },
      });
    },
    expected: [
      "bare (Distribution): cache behavior default has no responseHeadersPolicyId.",
      "weak (Distribution): cache behavior default's weak-headers (ResponseHeadersPolicy) lacks HSTS max-age of at " +
        "least 31536000 s (has 86400), HSTS includeSubDomains, X-Frame-Options.",
    ],
  },
  {
    policy: "alb-web-acl",
    title: "an internet-facing ALB without an association (one with an association, and an internal one, pass)",
    program: (aws) => {
      const alb = (name: string, internal = false) =>
        new aws.lb.LoadBalancer(name, {
          loadBalancerType: "application",
          internal,
          subnets: ["subnet-a", "subnet-b"],
          dropInvalidHeaderFields: true,
        });
      alb("naked");
      alb("internal", true);
      const acl = webAcl(aws, "acl", [rateRule("block")]);
      new aws.wafv2.WebAclAssociation("guarded-waf", { resourceArn: alb("guarded").arn, webAclArn: acl.arn });
    },
    expected: ["naked (LoadBalancer) has no WebAclAssociation: nothing filters what the internet sends it."],
  },
  {
    policy: "web-acl-rate-limit",
    title: "an ACL without a rate-based rule, and one whose rate rule only counts",
    program: (aws) => {
      webAcl(aws, "no-rate", [managedRule("AWSManagedRulesCommonRuleSet", 1)]);
      webAcl(aws, "counting", [rateRule("count")]);
    },
    expected: [
      "no-rate: no rate-based rule; one client can send without limit.",
      "counting: rate-based rule rate does not block (action is not block).",
    ],
  },
  {
    policy: "web-acl-managed-rules",
    title: "an ACL with the common rule set muted to count and the other two groups missing",
    program: (aws) =>
      void webAcl(aws, "thin", [rateRule("block"), managedRule("AWSManagedRulesCommonRuleSet", 1, "count")]),
    expected: [
      "thin: managed rule group AWSManagedRulesCommonRuleSet is overridden to count: it blocks nothing.",
      "thin: managed rule group AWSManagedRulesKnownBadInputsRuleSet is missing.",
      "thin: managed rule group AWSManagedRulesAmazonIpReputationList is missing.",
    ],
  },
  {
    policy: "web-acl-logging",
    title: "an ACL without logging, and one logging forever with the cookie in mixed case and no authorization",
    program: (aws) => {
      webAcl(aws, "silent", [rateRule("block")]);
      const logged = webAcl(aws, "logged", [rateRule("block")]);
      const group = new aws.cloudwatch.LogGroup("waf-logs", { name: "aws-waf-logs-logged" });
      new aws.wafv2.WebAclLoggingConfiguration("logged-logging", {
        resourceArn: logged.arn,
        logDestinationConfigs: [group.arn],
        redactedFields: [{ singleHeader: { name: "Cookie" } }],
      });
    },
    expected: [
      "silent (WebAcl) has no WebAclLoggingConfiguration: blocked and allowed requests leave no trace.",
      "waf-logs (LogGroup), where logged logs, has no retentionInDays: its logs are kept forever.",
      "logged-logging (WebAclLoggingConfiguration) does not redact cookie, authorization (a lower-case " +
        "singleHeader each): the logs would hold credentials.",
    ],
  },
  {
    policy: "cloudfront-s3-origin-oac",
    title: "an S3 origin without OAC, a website endpoint as custom origin",
    program: (aws) =>
      void distribution(aws, "cdn", {
        origins: [
          {
            originId: "web",
            domainName: "assets.s3-website-us-east-1.amazonaws.com",
            customOriginConfig: {
              httpPort: 80,
              httpsPort: 443,
              originProtocolPolicy: "http-only",
              originSslProtocols: ["TLSv1.2"],
            },
          },
          { originId: "assets", domainName: "assets.s3.us-east-1.amazonaws.com" },
        ],
      }),
    expected: [
      "cdn: origin web reaches S3 (assets.s3-website-us-east-1.amazonaws.com) as a custom origin, which " +
        "bypasses Origin Access Control.",
      "cdn: S3 origin assets has no originAccessControlId.",
    ],
  },
  {
    policy: "alb-drop-invalid-headers",
    title: "an ALB that forwards malformed headers",
    program: (aws) =>
      void new aws.lb.LoadBalancer("alb", { loadBalancerType: "application", subnets: ["subnet-a", "subnet-b"] }),
    expected: ["alb: dropInvalidHeaderFields is unset (false)."],
  },
  {
    policy: "alb-http-redirects-to-https",
    title: "an ALB with HTTPS that still forwards HTTP",
    program: (aws) => {
      const alb = new aws.lb.LoadBalancer("alb", {
        loadBalancerType: "application",
        subnets: ["subnet-a", "subnet-b"],
        dropInvalidHeaderFields: true,
      });
      const tg = new aws.lb.TargetGroup("tg", { port: 3000, protocol: "HTTP", vpcId: "vpc-1" });
      new aws.lb.Listener("https", {
        loadBalancerArn: alb.arn,
        port: 443,
        protocol: "HTTPS",
        sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        certificateArn: "arn:aws:acm:us-east-1:1:certificate/x",
        defaultActions: [{ type: "forward", targetGroupArn: tg.arn }],
      });
      new aws.lb.Listener("http", {
        loadBalancerArn: alb.arn,
        port: 80,
        protocol: "HTTP",
        defaultActions: [{ type: "forward", targetGroupArn: tg.arn }],
      });
    },
    expected: [
      "http (Listener) on alb serves plain HTTP although the load balancer has an HTTPS listener; redirect it " +
        "to HTTPS.",
    ],
  },
  {
    policy: "alb-tls12",
    title: "an HTTPS listener on the default security policy",
    program: (aws) =>
      void new aws.lb.Listener("https", {
        loadBalancerArn: "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/x/y",
        port: 443,
        protocol: "HTTPS",
        certificateArn: "arn:aws:acm:us-east-1:1:certificate/x",
        defaultActions: [{ type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "404" } }],
      }),
    expected: ['https: sslPolicy is "unset (ELBSecurityPolicy-2016-08)", which accepts TLS older than 1.2.'],
  },
  {
    policy: "backup-retention",
    title: "a day of backups on an instance and a cluster left at the default",
    program: (aws) => {
      new aws.rds.Instance("short-db", { ...postgres, backupRetentionPeriod: 1 });
      new aws.rds.Cluster("short-cluster", {
        engine: "aurora-postgresql",
        masterUsername: "admin_user",
        manageMasterUserPassword: true,
        storageEncrypted: true,
      });
    },
    expected: [
      "short-db: backupRetentionPeriod is 1, under 7 days.",
      "short-cluster: backupRetentionPeriod is unset (1 day), under 7 days.",
    ],
  },
  {
    policy: "multi-az-databases",
    title: "at step 4 in dev: a single-AZ primary and an Aurora cluster with only a writer",
    config: { "multi-az-databases": { step: 4, environment: "dev" } },
    program: (aws) => {
      new aws.rds.Instance("single-db", { ...postgres, multiAz: false });
      const c = new aws.rds.Cluster("lonely", {
        engine: "aurora-postgresql",
        masterUsername: "admin_user",
        manageMasterUserPassword: true,
        storageEncrypted: true,
      });
      new aws.rds.ClusterInstance("lonely-writer", {
        clusterIdentifier: c.id,
        engine: "aurora-postgresql",
        instanceClass: "db.t4g.medium",
      });
    },
    expected: [
      "single-db (Instance): multiAz is false at step 4 in dev.",
      "lonely (Cluster) has 1 instance; a writer and at least one reader in another AZ are needed for failover.",
    ],
  },
  {
    policy: "multi-az-cache",
    title: "at step 5: a cache without a replica",
    config: { "multi-az-cache": { step: 5 } },
    program: (aws) =>
      void new aws.elasticache.ReplicationGroup("cache", {
        description: "c",
        engine: "valkey",
        nodeType: "cache.t4g.micro",
        numCacheClusters: 1,
      }),
    expected: [
      "cache: 1 node per shard; a replica is needed for failover.",
      "cache: automaticFailoverEnabled is unset (false).",
      "cache: multiAzEnabled is unset (false).",
    ],
  },
  {
    policy: "deletion-protection-in-prod",
    title: "in prod: a deletable database, a bucket that goes with its objects, a secret deleted at once",
    config: { "deletion-protection-in-prod": { environment: "prod" } },
    program: (aws) => {
      new aws.rds.Instance("prod-db", { ...postgres, deletionProtection: false, skipFinalSnapshot: true });
      new aws.s3.Bucket("prod-bucket", { forceDestroy: true });
      new aws.secretsmanager.Secret("prod-secret", { recoveryWindowInDays: 0 });
    },
    expected: [
      "prod-db: deletionProtection is false.",
      "prod-db: no final snapshot on deletion (skipFinalSnapshot true, finalSnapshotIdentifier unset).",
      "prod-bucket: forceDestroy is true; `pulumi destroy` would delete every object with it.",
      "prod-secret: recoveryWindowInDays is 0; a deleted secret could not be recovered.",
    ],
  },
  {
    policy: "log-group-retention",
    title: "a log group kept forever",
    program: (aws) => void new aws.cloudwatch.LogGroup("forever", { name: "/scale-ladder/forever" }),
    expected: ["forever: retentionInDays is unset (never expire)."],
  },
  {
    policy: "sqs-dead-letter-queue",
    title: "a work queue without a dead-letter queue",
    program: (aws) => void new aws.sqs.Queue("jobs", { sqsManagedSseEnabled: true }),
    expected: ["jobs (Queue) has no redrivePolicy: a message that always fails is retried until it expires."],
  },
  {
    policy: "iam-no-wildcard-actions",
    title: '"*" on "*", s3:* on every bucket, and AdministratorAccess',
    program: (aws) => {
      new aws.iam.RolePolicy("admin", {
        role: "r",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Sid: "Everything", Effect: "Allow", Action: "*", Resource: "*" },
            { Sid: "AllBuckets", Effect: "Allow", Action: ["s3:*"], Resource: "*" },
            { Sid: "Fine", Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::b/*" },
          ],
        }),
      });
      new aws.iam.RolePolicyAttachment("admin-attach", {
        role: "r",
        policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
      });
    },
    expected: [
      'admin: statement Everything allows Action "*".',
      "admin: statement AllBuckets allows s3:* on every resource.",
      "admin-attach: attaches arn:aws:iam::aws:policy/AdministratorAccess.",
    ],
  },
  {
    policy: "default-tags",
    title: "a provider without default tags, a resource that blanks one",
    program: (aws) => {
      const bare = new aws.Provider("bare", { region: "us-east-1" });
      new aws.sqs.Queue("untagged", {}, { provider: bare });
      const tagged = new aws.Provider("tagged", {
        region: "us-east-1",
        defaultTags: { tags: { project: "p", stack: "s", step: "3" } },
      });
      new aws.sqs.Queue("blanked", { tags: { step: "" } }, { provider: tagged });
    },
    expected: [
      "provider bare: defaultTags lacks project, stack, step.",
      "untagged is created through provider bare, whose defaultTags lack project, stack, step.",
      'blanked: tags.step is set to "", blanking the provider\'s default tag.',
    ],
  },
  {
    policy: "fleet-tags",
    title: "a launch template and a group that tag only Name",
    program: (aws) => {
      const tags = { project: "p", stack: "s", step: "3" };
      const provider = new aws.Provider("tagged", { region: "us-east-1", defaultTags: { tags } });
      const lt = new aws.ec2.LaunchTemplate(
        "lt",
        {
          tagSpecifications: [
            { resourceType: "instance", tags: { Name: "web", ...tags } },
            { resourceType: "volume", tags: { Name: "web" } },
          ],
        },
        { provider },
      );
      new aws.autoscaling.Group(
        "asg",
        {
          minSize: 1,
          maxSize: 1,
          vpcZoneIdentifiers: ["subnet-a"],
          launchTemplate: { id: lt.id },
          tags: [
            { key: "Name", value: "web", propagateAtLaunch: true },
            { key: "step", value: "2", propagateAtLaunch: true },
          ],
        },
        { provider },
      );
    },
    expected: [
      "lt: tagSpecifications for volume lack the default tags (project missing, stack missing, step missing); " +
        "launched volumes are not tagged by the provider.",
      'asg: the group\'s tags lack the default tags (project missing, stack missing, step="2" instead of "3"); ' +
        "the provider does not apply defaultTags to auto-scaling groups.",
    ],
  },
  {
    policy: "fis-stop-on-alarms",
    title: "a drill at step 10 that stops on nothing",
    config: { "fis-stop-on-alarms": { step: 10, environment: "dev" } },
    program: (aws) => {
      webKillDrill(aws, "arn:aws:iam::123456789012:role/fis");
    },
    expected: ['drill (ExperimentTemplate): stop conditions are ["none"]; at step 10 it must stop on an alarm.'],
  },
  {
    policy: "fis-role-least-privilege",
    title: "a web-kill drill whose role may also stop instances and has a managed policy",
    program: (aws) => {
      const role = new aws.iam.Role("fis", {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "fis.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      });
      new aws.iam.RolePolicy("fis-policy", {
        role: role.id,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: ["ec2:TerminateInstances", "ec2:StopInstances"], Resource: "*" },
            { Effect: "Allow", Action: "ec2:DescribeInstances", Resource: "*" },
          ],
        }),
      });
      new aws.iam.RolePolicyAttachment("fis-ec2", {
        role: role.name,
        policyArn: "arn:aws:iam::aws:policy/service-role/AWSFaultInjectionSimulatorEC2Access",
      });
      webKillDrill(aws, role.arn);
    },
    expected: [
      "fis (Role) (the role of drill) grants ec2:StopInstances, which none of its actions " +
        "(aws:ec2:terminate-instances) needs.",
      "fis (Role) (the role of drill) has managed policy " +
        "arn:aws:iam::aws:policy/service-role/AWSFaultInjectionSimulatorEC2Access attached; its actions cannot be " +
        "checked against the template's.",
    ],
  },
  {
    policy: "cost-estimate",
    title: "the estimate of a server in a component and a database, one class not in the table (advisory)",
    program: (aws, pulumi) => {
      const shop = new pulumi.ComponentResource("scale-ladder:test:Shop", "shop");
      const server = new aws.ec2.Instance(
        "server",
        { ami: "ami-0123456789abcdef0", instanceType: "t4g.small", rootBlockDevice: { volumeSize: 20 } },
        { parent: shop },
      );
      new aws.ec2.Eip("server-ip", { instance: server.id, domain: "vpc" }, { parent: shop });
      new aws.rds.Instance("db", { ...postgres, multiAz: true });
      new aws.rds.Instance("big-db", { ...postgres, instanceClass: "db.x9.huge" });
    },
    expected: [costReportOf()],
  },
];

describe("each policy fires on a deliberately wrong program", () => {
  it("has a case for every policy", async () => {
    const { POLICIES } = await import("../../policies/pack");
    expect([...new Set(NEGATIVES.map((n) => n.policy))].sort()).toEqual(POLICIES.map((p) => p.name).sort());
  });

  it.each(NEGATIVES.map((n) => [n.policy, n.title, n] as const))("%s: %s", async (_policy, _title, n) => {
    // A program of its own, not a ladder graph: evaluated fresh, past the graph cache.
    const g = await runProgram(async () => {
      const aws = await import("@pulumi/aws");
      const pulumi = await import("@pulumi/pulumi");
      n.program(aws, pulumi);
    });
    const { POLICIES, PACK_ARGS } = await import("../../policies/pack");
    const result = await evaluatePolicies(g, {
      policies: POLICIES,
      enforcementLevel: PACK_ARGS.enforcementLevel,
      config: n.config,
      only: [n.policy],
    });
    // Registrations complete in no fixed order, so neither do the reports.
    expect(result.violations.map((v) => v.detail).sort()).toEqual([...n.expected].sort());
    const policy = POLICIES.find((p) => p.name === n.policy)!;
    for (const v of result.violations) {
      expect(v.message).toBe(`${policy.description}\n${v.detail}`);
      // Every policy blocks, but the ones that only inform (the cost estimate).
      expect(v.enforcementLevel).toBe(policy.enforcementLevel ?? "mandatory");
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The runner against the real thing: the pack served by @pulumi/pulumi's run-policy-pack, over gRPC.

describe("the pack as the Pulumi CLI runs it", () => {
  let cli: ServedPack;
  beforeAll(async () => {
    cli = await served;
  }, LADDER_HOOK_TIMEOUT_MS);
  afterAll(() => cli?.stop());

  const LEVEL = { advisory: 0, mandatory: 1, disabled: 2, remediate: 3 } as const;
  const runnerView = (r: Evaluation) =>
    r.violations
      .map((v) => ({
        policy: v.policy,
        message: v.message,
        urn: v.urn ?? "",
        enforcementLevel: LEVEL[v.enforcementLevel],
      }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const servedView = (ds: Awaited<ReturnType<ServedPack["analyze"]>>) =>
    [...ds].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

  it("serves every policy of the pack, at its level, under the pack's name and package version", async () => {
    const info = await cli.info();
    expect(info.name).toBe(pack.PACK_NAME);
    expect(info.version).toBe(JSON.parse(fs.readFileSync(path.join(root, "policies", "package.json"), "utf8")).version);
    expect(info.policies.map((p) => p.name).sort()).toEqual(pack.POLICIES.map((p) => p.name).sort());
    // Mandatory, the pack's level, but cost-estimate, which never blocks.
    for (const p of info.policies)
      expect({ name: p.name, level: p.enforcementLevel }).toEqual({
        name: p.name,
        level: LEVEL[p.name === "cost-estimate" ? "advisory" : "mandatory"],
      });
    expect(
      info.policies
        .filter((p) => p.hasConfigSchema)
        .map((p) => p.name)
        .sort(),
    ).toEqual(
      pack.POLICIES.filter((p) => p.configSchema)
        .map((p) => p.name)
        .sort(),
    );
  });

  it.each(["11:prod", "5:dev"])("reports exactly what the runner reports for step %s", async (key) => {
    const [step, name] = key.split(":");
    const config = context.ladderPolicyConfig({
      step: Number(step),
      environment: variant(name as "dev" | "prod").environment,
    });
    await cli.configure(config);
    const expected = await evaluate(graphs.get(key)!, config);
    expect(servedView(await cli.analyze(graphs.get(key)!))).toEqual(runnerView(expected));
  });

  it.each(NEGATIVES.map((n) => [n.policy, n.title, n] as const))(
    "reports exactly what the runner reports for %s: %s",
    async (_policy, _title, n) => {
      // A program of its own, not a ladder graph: evaluated fresh, past the graph cache.
      const g = await runProgram(async () => n.program(await import("@pulumi/aws"), await import("@pulumi/pulumi")));
      await cli.configure(n.config ?? {});
      const expected = await evaluate(g, n.config ?? {});
      expect(expected.violations.length).toBeGreaterThan(0);
      expect(servedView(await cli.analyze(g))).toEqual(runnerView(expected));
    },
  );
});
