/**
 * AWS WAF at the edge and CloudFront's security headers (issue 14, findings 4 and 7, infrastructure side): which
 * web ACLs exist at every built step, where, on what, with which rules and logs, under which names; and what the
 * component refuses.
 */
import { Graph, Registration, runLadder, runProgram, stackConfig } from "../../lib/graph/harness";
import { physicalNames, sharedPhysicalNames } from "../../lib/graph/physical-names";
import { T } from "../../lib/graph/queries";
import { regionOfResource } from "../../lib/graph/registered";
import { changesOf } from "../../lib/graph/second-up";
import { BUILT_STEPS, LADDER_HOOK_TIMEOUT_MS, VARIANTS, evaluateLadder } from "./ladder-variants";
import { mockOutputsOf } from "./deploy-twice-suite";
import {
  COMMON_RULE_SET_COUNTED,
  MANAGED_RULE_GROUPS,
  RATE_RULE_WCU,
  WCU_INCLUDED,
  WAF_LOG_GROUP_PREFIX,
} from "../../components/web-acl";
import { HSTS_MAX_AGE_SECONDS } from "../../components/cdn";
import { featuresAt } from "../../stacks/steps";
import { ConfigError, parseLadderConfig } from "../../stacks/config";

const graphs = new Map<string, Graph>();
beforeAll(async () => {
  for (const [k, g] of await evaluateLadder()) graphs.set(k, g);
}, LADDER_HOOK_TIMEOUT_MS);

const CASES = BUILT_STEPS.flatMap((step) => VARIANTS.map((v) => [step, v.name] as const));
const PRIMARY_REGION = { dev: "us-east-1", prod: "eu-west-1" } as const;

const regionOf = (g: Graph, r: Registration, name: "dev" | "prod") =>
  regionOfResource(r, g.resources, PRIMARY_REGION[name]);
/** The resources a registration's input came from, by the dependencies the SDK sent. */
const sourcesOf = (g: Graph, r: Registration, property: string) =>
  (g.edgesOf(r).propertyDependencies[property] ?? []).map((urn) => g.resources.find((x) => x.urn === urn)!);
const aclsOf = (g: Graph, scope: string) => g.ofType(T.webAcl).filter((a) => a.inputs.scope === scope);

describe("web ACLs at every built step", () => {
  it.each(CASES)("step %d, %s: every ALB has a REGIONAL ACL of its own region; none before step 3", (step, name) => {
    const g = graphs.get(`${step}:${name}`)!;
    const albs = g.ofType(T.lb);
    if (!featuresAt(step).fleet) {
      expect(g.ofType(T.webAcl)).toEqual([]);
      return;
    }
    expect(albs.length).toBe(featuresAt(step).multiRegion ? 2 : 1);
    for (const alb of albs) {
      const associations = g
        .ofType(T.webAclAssociation)
        .filter((a) => sourcesOf(g, a, "resourceArn").some((r) => r.urn === alb.urn));
      expect(associations).toHaveLength(1);
      const [acl] = sourcesOf(g, associations[0], "webAclArn");
      expect({ type: acl.type, scope: acl.inputs.scope, region: regionOf(g, acl, name) }).toEqual({
        type: T.webAcl,
        scope: "REGIONAL",
        region: regionOf(g, alb, name),
      });
      expect(associations[0].inputs.webAclArn).toBe(mockOutputsOf(acl).arn);
    }
    expect(aclsOf(g, "REGIONAL")).toHaveLength(albs.length);
  });

  it.each(CASES)(
    "step %d, %s: from step 6 the distribution's webAclId is a CLOUDFRONT ACL in us-east-1",
    (step, name) => {
      const g = graphs.get(`${step}:${name}`)!;
      const edge = aclsOf(g, "CLOUDFRONT");
      if (!featuresAt(step).cdn) {
        expect(edge).toEqual([]);
        return;
      }
      // One distribution, one edge ACL, also at step 11; in us-east-1 even when the stack's region is eu-west-1.
      expect(edge).toHaveLength(1);
      expect(regionOf(g, edge[0], name)).toBe("us-east-1");
      const dist = g.one(T.dist);
      expect(dist.inputs.webAclId).toBe(mockOutputsOf(edge[0]).arn);
      expect(dist.inputs.webAclId).toMatch(/^arn:aws:wafv2:us-east-1:\d{12}:global\/webacl\//);
    },
  );

  it.each(CASES)("step %d, %s: each ACL rate-limits per client and runs the managed groups", (step, name) => {
    const g = graphs.get(`${step}:${name}`)!;
    for (const acl of g.ofType(T.webAcl)) {
      const rules = acl.inputs.rules as Array<Record<string, any>>;
      expect(acl.inputs.defaultAction).toEqual({ allow: {} });
      const rate = rules.find((r) => r.statement.rateBasedStatement);
      // Behind CloudFront (regional, step 6 on) every connection is CloudFront's: count X-Forwarded-For's address.
      const behindCdn = acl.inputs.scope === "REGIONAL" && featuresAt(step).cdn;
      expect({ acl: acl.name, rate }).toEqual({
        acl: acl.name,
        rate: expect.objectContaining({
          priority: 0,
          action: { block: { customResponse: { responseCode: 429 } } },
          statement: {
            rateBasedStatement: behindCdn
              ? {
                  limit: 2000,
                  evaluationWindowSec: 300,
                  aggregateKeyType: "FORWARDED_IP",
                  forwardedIpConfig: { headerName: "X-Forwarded-For", fallbackBehavior: "MATCH" },
                }
              : { limit: 2000, evaluationWindowSec: 300, aggregateKeyType: "IP" },
          },
        }),
      });
      const groups = rules.filter((r) => r.statement.managedRuleGroupStatement);
      expect(groups.map((r) => [r.statement.managedRuleGroupStatement.name, r.overrideAction])).toEqual([
        ["AWSManagedRulesAmazonIpReputationList", { none: {} }],
        ["AWSManagedRulesKnownBadInputsRuleSet", { none: {} }],
        ["AWSManagedRulesCommonRuleSet", { none: {} }],
      ]);
      const common = groups.find((r) => r.name === "AWSManagedRulesCommonRuleSet")!;
      expect(common.statement.managedRuleGroupStatement.ruleActionOverrides).toEqual([
        { name: "SizeRestrictions_BODY", actionToUse: { count: {} } },
        { name: "NoUserAgent_HEADER", actionToUse: { count: {} } },
      ]);
      for (const r of [...rules, acl.inputs]) {
        const v = r.visibilityConfig;
        expect({ metrics: v.cloudwatchMetricsEnabled, sampled: v.sampledRequestsEnabled }).toEqual({
          metrics: true,
          sampled: true,
        });
      }
      // Metric names are unique within the ACL, as CloudWatch needs them to tell the rules apart.
      const metrics = [...rules, acl.inputs].map((r) => r.visibilityConfig.metricName);
      expect(new Set(metrics).size).toBe(metrics.length);
    }
  });

  it.each(CASES)(
    "step %d, %s: each ACL logs to an aws-waf-logs-* group of its region, credentials redacted",
    (step, name) => {
      const g = graphs.get(`${step}:${name}`)!;
      const retention = name === "prod" ? 90 : 30;
      for (const acl of g.ofType(T.webAcl)) {
        const logging = g
          .ofType(T.webAclLogging)
          .filter((l) => sourcesOf(g, l, "resourceArn").some((r) => r.urn === acl.urn));
        expect(logging).toHaveLength(1);
        const [group] = sourcesOf(g, logging[0], "logDestinationConfigs");
        expect(group.type).toBe(T.logGroup);
        expect(logging[0].inputs.logDestinationConfigs).toEqual([mockOutputsOf(group).arn]);
        expect(group.inputs).toEqual({ name: `${WAF_LOG_GROUP_PREFIX}${acl.inputs.name}`, retentionInDays: retention });
        // WAF refuses a destination in another region than the ACL's.
        expect(regionOf(g, group, name)).toBe(regionOf(g, acl, name));
        expect(logging[0].inputs.redactedFields).toEqual([
          { singleHeader: { name: "cookie" } },
          { singleHeader: { name: "authorization" } },
        ]);
      }
    },
  );
});

describe("web ACL capacity", () => {
  it("the rules of every ACL the ladder makes fit in the 1,500 WCU that carry no extra charge", () => {
    const wcu = new Map<string, number>(MANAGED_RULE_GROUPS.map((m) => [m.name, m.wcu]));
    const g = graphs.get("11:prod")!;
    expect(g.ofType(T.webAcl).length).toBeGreaterThan(0);
    for (const acl of g.ofType(T.webAcl)) {
      const used = (acl.inputs.rules as Array<Record<string, any>>).reduce((sum, r) => {
        if (r.statement.rateBasedStatement) return sum + RATE_RULE_WCU;
        const group = r.statement.managedRuleGroupStatement?.name;
        if (!wcu.has(group)) throw new Error(`no capacity known for rule ${r.name}: add it to MANAGED_RULE_GROUPS`);
        return sum + wcu.get(group)!;
      }, 0);
      expect({ acl: acl.name, used, fits: used <= WCU_INCLUDED }).toEqual({ acl: acl.name, used: 927, fits: true });
    }
  });

  it("documents why each counted rule of the common rule set only counts", () => {
    expect(COMMON_RULE_SET_COUNTED.map((c) => c.rule)).toEqual(["SizeRestrictions_BODY", "NoUserAgent_HEADER"]);
    for (const c of COMMON_RULE_SET_COUNTED) expect(c.why.length).toBeGreaterThan(40);
  });
});

describe("names", () => {
  it("every WAF name carries the stack, so two stacks in one account never share one", () => {
    for (const step of [3, 6, 11]) {
      const dev = graphs.get(`${step}:dev`)!;
      const prod = graphs.get(`${step}:prod`)!;
      const wafNames = (g: Graph) =>
        [...g.ofType(T.webAcl), ...g.ofType(T.logGroup), ...g.ofType(T.responseHeadersPolicy)]
          .filter((r) => r.type !== T.logGroup || String(r.inputs.name).startsWith(WAF_LOG_GROUP_PREFIX))
          .map((r) => String(r.inputs.name));
      expect(wafNames(dev).length).toBeGreaterThan(0);
      for (const n of wafNames(dev)) expect(n).toContain("scale-ladder-dev-");
      for (const n of wafNames(prod)) expect(n).toContain("scale-ladder-prod-");
    }
  });

  it("a second stack of the same step and region shares no WAF name (the ACLs' names are physical names)", async () => {
    const config = stackConfig(6);
    const [a, b] = [await runLadder(config, "dev"), await runLadder(config, "dev-b")];
    const names = (g: Graph) => physicalNames(g.resources, "us-east-1");
    const waf = names(a).filter((n) => n.type === T.webAcl);
    // The edge ACL counts against us-east-1, beside the ALB's (the log groups' names are checked as log groups).
    expect(waf.map((n) => n.key).sort()).toEqual([
      "wafv2-web-acl|us-east-1|scale-ladder-dev-edge",
      "wafv2-web-acl|us-east-1|scale-ladder-dev-use1-alb",
    ]);
    expect(sharedPhysicalNames(names(a), names(b)).map((s) => s.key)).toEqual([]);
  }, 120_000);
});

describe("CloudFront security headers", () => {
  it.each(VARIANTS.map((v) => v.name))(
    "%s: every cache behavior from step 6 has the stack's headers policy",
    (name) => {
      for (const step of BUILT_STEPS.filter((s) => featuresAt(s).cdn)) {
        const g = graphs.get(`${step}:${name}`)!;
        const policy = g.one(T.responseHeadersPolicy);
        expect(policy.inputs.name).toBe(`scale-ladder-${name}-security-headers`);
        const id = mockOutputsOf(policy).id;
        const dist = g.one(T.dist).inputs;
        const behaviors = [dist.defaultCacheBehavior, ...dist.orderedCacheBehaviors];
        expect(behaviors.map((b) => b.responseHeadersPolicyId)).toEqual(behaviors.map(() => id));
      }
      expect(graphs.get(`5:${name}`)!.ofType(T.responseHeadersPolicy)).toEqual([]);
    },
  );

  it("sends HSTS and nosniff over the origin's, and a referrer policy and frame options where it has none", () => {
    const config = graphs.get("6:dev")!.one(T.responseHeadersPolicy).inputs.securityHeadersConfig;
    expect(HSTS_MAX_AGE_SECONDS).toBeGreaterThanOrEqual(365 * 24 * 3600);
    expect(config).toEqual({
      strictTransportSecurity: {
        accessControlMaxAgeSec: HSTS_MAX_AGE_SECONDS,
        includeSubdomains: true,
        preload: false,
        override: true,
      },
      contentTypeOptions: { override: true },
      referrerPolicy: { referrerPolicy: "strict-origin-when-cross-origin", override: false },
      frameOptions: { frameOption: "DENY", override: false },
    });
    // The app's CSP on HTML is its own: the edge neither replaces it nor adds one.
    expect(config.contentSecurityPolicy).toBeUndefined();
  });
});

describe("climbing", () => {
  it.each(VARIANTS.map((v) => v.name))(
    "%s: the ALB's ACL and its log group keep their URN and name from 3 to 11",
    (name) => {
      const at3 = graphs.get(`3:${name}`)!;
      const group = at3.ofType(T.logGroup).find((l) => String(l.inputs.name).startsWith(WAF_LOG_GROUP_PREFIX))!;
      const acl = at3.one(T.webAcl);
      for (const step of BUILT_STEPS.filter((s) => s > 3)) {
        const g = graphs.get(`${step}:${name}`)!;
        const byUrn = (urn: string) => g.resources.find((r) => r.urn === urn);
        expect({ step, group: byUrn(group.urn)?.inputs.name, acl: byUrn(acl.urn)?.inputs.name }).toEqual({
          step,
          group: group.inputs.name,
          acl: acl.inputs.name,
        });
        expect(byUrn(acl.urn)!.inputs.scope).toBe("REGIONAL");
      }
    },
  );
});

describe("configuration", () => {
  it("wafRateLimit reaches every ACL's rate rule", async () => {
    const g = await runLadder(stackConfig(6, { "scale-ladder:wafRateLimit": "500" }), "dev");
    const limits = g
      .ofType(T.webAcl)
      .map((a) => (a.inputs.rules as any[]).find((r) => r.statement.rateBasedStatement).statement.rateBasedStatement);
    expect(limits.map((l) => l.limit)).toEqual([500, 500]);
  }, 120_000);

  it.each(["5", "0", "ten", "2000000001"])("refuses wafRateLimit %s, naming the key and the range", (value) => {
    expect(() => parseLadderConfig({ "scale-ladder:step": "3", "scale-ladder:wafRateLimit": value })).toThrow(
      ConfigError,
    );
    expect(() => parseLadderConfig({ "scale-ladder:step": "3", "scale-ladder:wafRateLimit": value })).toThrow(
      `scale-ladder:wafRateLimit must be an integer from 10 to 2000000000, got "${value}"`,
    );
  });
});

describe("the WebAcl component refuses", () => {
  const build = (args: Record<string, unknown>) =>
    runProgram(async () => {
      const { WebAcl } = await import("../../components/web-acl");
      new WebAcl("acl", { scope: "REGIONAL", region: "eu-west-1", aclName: "shop-dev-alb", ...args } as never);
    });

  it.each([
    [
      { scope: "CLOUDFRONT", region: "eu-west-1" },
      'WebAcl: region must be us-east-1 for scope CLOUDFRONT (CloudFront reads web ACLs from there), got "eu-west-1"',
    ],
    [{ scope: "GLOBAL" }, 'WebAcl: scope must be one of REGIONAL, CLOUDFRONT, got "GLOBAL"'],
    [{ rateLimit: 5 }, "WebAcl: rateLimit must be an integer from 10 to 2000000000, got 5"],
    [{ clientAddress: "header" }, 'WebAcl: clientAddress must be one of source, forwarded, got "header"'],
    [{ aclName: "shop dev" }, 'WebAcl: aclName must be 1 to 128 letters, digits, - or _, got "shop dev"'],
    [{ logRetentionDays: 10 }, "WebAcl: logRetentionDays must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180"],
  ])("%j", async (args, message) => {
    await expect(build(args)).rejects.toThrow(message);
  });
});

describe("a second pulumi up", () => {
  it("rewrites a redacted header given in mixed case (WAF reads it back in lower case), not a lower-case one", () => {
    const logging = (name: string): Registration =>
      ({
        type: T.webAclLogging,
        name: "logging",
        urn: "urn:pulumi:test::scale-ladder::aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration::logging",
        inputs: {
          resourceArn: "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/a/b",
          logDestinationConfigs: ["arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-a"],
          redactedFields: [{ singleHeader: { name } }],
        },
        custom: true,
        ignoreChanges: [],
        protect: false,
        aliases: [],
      }) as Registration;
    const ctx = { resources: [], outputsOf: () => ({}) };
    expect(changesOf(logging("Cookie"), logging("Cookie"), ctx).map((c) => `${c.kind} ${c.property}`)).toEqual([
      "update redactedFields",
    ]);
    expect(changesOf(logging("cookie"), logging("cookie"), ctx)).toEqual([]);
  });
});
