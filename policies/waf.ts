/**
 * AWS WAF and security headers at the edge (issue 14): every entry point has a web ACL that limits each client's
 * rate, runs the AWS managed rule groups and keeps logs; every CloudFront response carries the security headers.
 */
import * as aws from "@pulumi/aws";
import {
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationPolicy,
  validateResourceOfType,
} from "@pulumi/policy";
import { LOAD_BALANCER_TYPES, isSet, known, label, referrersOf, strings, targetsOf } from "./relations";

const WEB_ACL = "aws:wafv2/webAcl:WebAcl";
const WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation";
const WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration";
const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const RESPONSE_HEADERS_POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy";

/** The AWS managed rule groups every web ACL runs, unmuted (group-level `count` does not count as running). */
export const REQUIRED_MANAGED_GROUPS = [
  "AWSManagedRulesCommonRuleSet",
  "AWSManagedRulesKnownBadInputsRuleSet",
  "AWSManagedRulesAmazonIpReputationList",
] as const;
/** Headers that carry credentials and must be redacted from WAF logs (lower case, as the WAF API takes them). */
export const REDACTED_HEADERS = ["cookie", "authorization"] as const;
/** HSTS max-age at least one year: what browsers' preload lists and PCI scanners ask for. */
export const MIN_HSTS_SECONDS = 31_536_000;

export const cloudfrontWebAcl: ResourceValidationPolicy = {
  name: "cloudfront-web-acl",
  description: "Every CloudFront distribution is protected by an AWS WAF web ACL (webAclId).",
  severity: "high",
  remediationSteps:
    "Create a WebAcl with scope CLOUDFRONT in us-east-1 (components/web-acl.ts) and set the distribution's " +
    "webAclId to its ARN.",
  validateResource: validateResourceOfType(aws.cloudfront.Distribution, (d, args, report) => {
    if (!isSet(() => d.webAclId)) report(`${args.name}: webAclId is unset; no web ACL inspects its viewers' requests.`);
  }),
};

export const albWebAcl: StackValidationPolicy = {
  name: "alb-web-acl",
  description: "Every internet-facing application load balancer has an AWS WAF web ACL associated.",
  severity: "high",
  remediationSteps:
    "Add an aws.wafv2.WebAclAssociation whose resourceArn is the load balancer's ARN and whose webAclArn is a " +
    "REGIONAL WebAcl of the same region (WebFleetArgs.webAclArn).",
  validateStack: (args, report) => {
    for (const lb of args.resources.filter((r) => LOAD_BALANCER_TYPES.includes(r.type))) {
      const type = known(() => String(lb.props.loadBalancerType ?? "application"), "application");
      const internal = known(() => lb.props.internal === true, false);
      if (type !== "application" || internal) continue;
      const associations = referrersOf(args.resources, lb, [WEB_ACL_ASSOCIATION], "resourceArn", ["arn", "id"]);
      if (associations.length === 0)
        report(`${label(lb)} has no WebAclAssociation: nothing filters what the internet sends it.`, lb.urn);
    }
  },
};

type Rule = {
  name?: string;
  action?: { block?: unknown; count?: unknown; allow?: unknown };
  overrideAction?: { count?: unknown; none?: unknown };
  statement?: {
    rateBasedStatement?: { limit?: number };
    managedRuleGroupStatement?: { name?: string; vendorName?: string };
  };
};

export const webAclRateLimit: ResourceValidationPolicy = {
  name: "web-acl-rate-limit",
  description: "Every web ACL has a rate-based rule that blocks (not only counts) a client past its limit.",
  severity: "high",
  remediationSteps:
    "Add a rule with a rateBasedStatement (aggregateKeyType IP, or FORWARDED_IP behind a proxy) and action " +
    "block (WebAclArgs.rateLimit).",
  validateResource: validateResourceOfType(aws.wafv2.WebAcl, (acl, args, report) => {
    const rules = (acl.rules ?? []) as Rule[];
    const rate = rules.filter((r) => r.statement?.rateBasedStatement !== undefined);
    if (rate.length === 0) report(`${args.name}: no rate-based rule; one client can send without limit.`);
    else if (!rate.some((r) => r.action?.block !== undefined))
      report(
        `${args.name}: rate-based rule ${rate.map((r) => r.name).join(", ")} does not block (action is not block).`,
      );
  }),
};

export const webAclManagedRules: ResourceValidationPolicy = {
  name: "web-acl-managed-rules",
  description:
    "Every web ACL runs the AWS managed common rule set, known bad inputs and Amazon IP reputation groups, " +
    "not overridden to count.",
  severity: "high",
  remediationSteps:
    `Add managedRuleGroupStatement rules (vendorName AWS) for ${REQUIRED_MANAGED_GROUPS.join(", ")} with ` +
    "overrideAction none; to silence one rule of a group that the app trips, use ruleActionOverrides on that rule.",
  validateResource: validateResourceOfType(aws.wafv2.WebAcl, (acl, args, report) => {
    const rules = (acl.rules ?? []) as Rule[];
    for (const group of REQUIRED_MANAGED_GROUPS) {
      const found = rules.filter(
        (r) =>
          r.statement?.managedRuleGroupStatement?.vendorName === "AWS" &&
          r.statement.managedRuleGroupStatement.name === group,
      );
      if (found.length === 0) report(`${args.name}: managed rule group ${group} is missing.`);
      else if (found.every((r) => r.overrideAction?.count !== undefined))
        report(`${args.name}: managed rule group ${group} is overridden to count: it blocks nothing.`);
    }
  }),
};

export const webAclLogging: StackValidationPolicy = {
  name: "web-acl-logging",
  description:
    "Every web ACL logs to a log group of the stack with a retention, with the cookie and authorization headers " +
    "redacted.",
  severity: "medium",
  remediationSteps:
    "Add an aws.wafv2.WebAclLoggingConfiguration for the ACL with logDestinationConfigs [an aws-waf-logs-* " +
    'LogGroup with retentionInDays] and redactedFields [{ singleHeader: { name: "cookie" } }, { singleHeader: ' +
    '{ name: "authorization" } }].',
  validateStack: (args, report) => {
    for (const acl of args.resources.filter((r) => r.type === WEB_ACL)) {
      const configs = referrersOf(args.resources, acl, [WEB_ACL_LOGGING], "resourceArn", ["arn", "id"]);
      if (configs.length === 0) {
        report(
          `${label(acl)} has no WebAclLoggingConfiguration: blocked and allowed requests leave no trace.`,
          acl.urn,
        );
        continue;
      }
      for (const c of configs) checkLogging(args.resources, acl, c, report);
    }
  },
};

function checkLogging(
  resources: readonly PolicyResource[],
  acl: PolicyResource,
  config: PolicyResource,
  report: (message: string, urn?: string) => void,
): void {
  for (const group of targetsOf(resources, config, "logDestinationConfigs", [LOG_GROUP], ["arn", "id"])) {
    const retention = known(() => group.props.retentionInDays as number | undefined, 1);
    if (!retention)
      report(`${label(group)}, where ${acl.name} logs, has no retentionInDays: its logs are kept forever.`, group.urn);
  }
  const redacted = known(
    () =>
      ((config.props.redactedFields ?? []) as Array<{ singleHeader?: { name?: string } }>).flatMap((f) =>
        strings(f.singleHeader?.name),
      ),
    [...REDACTED_HEADERS] as string[],
  );
  const missing = REDACTED_HEADERS.filter((h) => !redacted.includes(h));
  if (missing.length > 0)
    report(
      `${label(config)} does not redact ${missing.join(", ")} (a lower-case singleHeader each): the logs would ` +
        `hold credentials.`,
      config.urn,
    );
}

interface SecurityHeaders {
  strictTransportSecurity?: { accessControlMaxAgeSec?: number; includeSubdomains?: boolean };
  contentTypeOptions?: unknown;
  referrerPolicy?: { referrerPolicy?: string };
  frameOptions?: { frameOption?: string };
}

/** What a response-headers policy lacks of the security headers, in words. */
export function missingSecurityHeaders(config: SecurityHeaders | undefined): string[] {
  const missing: string[] = [];
  const hsts = config?.strictTransportSecurity;
  if (!hsts) missing.push("Strict-Transport-Security");
  else {
    if ((hsts.accessControlMaxAgeSec ?? 0) < MIN_HSTS_SECONDS)
      missing.push(`HSTS max-age of at least ${MIN_HSTS_SECONDS} s (has ${hsts.accessControlMaxAgeSec ?? 0})`);
    if (hsts.includeSubdomains !== true) missing.push("HSTS includeSubDomains");
  }
  if (!config?.contentTypeOptions) missing.push("X-Content-Type-Options");
  if (!config?.referrerPolicy?.referrerPolicy) missing.push("Referrer-Policy");
  if (!config?.frameOptions?.frameOption) missing.push("X-Frame-Options");
  return missing;
}

export const cloudfrontSecurityHeaders: StackValidationPolicy = {
  name: "cloudfront-security-headers",
  description:
    "Every CloudFront cache behavior has a response-headers policy with HSTS (≥ 1 year, subdomains), nosniff, a " +
    "referrer policy and frame options.",
  severity: "medium",
  remediationSteps:
    "Create an aws.cloudfront.ResponseHeadersPolicy with securityHeadersConfig (strictTransportSecurity " +
    "accessControlMaxAgeSec ≥ 31536000 and includeSubdomains, contentTypeOptions, referrerPolicy, frameOptions) " +
    "and set responseHeadersPolicyId on the default and every ordered cache behavior.",
  validateStack: (args, report) => {
    const policies = args.resources.filter((r) => r.type === RESPONSE_HEADERS_POLICY);
    for (const d of args.resources.filter((r) => r.type === "aws:cloudfront/distribution:Distribution")) {
      const behaviors = known(
        () => [
          { prop: "defaultCacheBehavior", path: "default", b: d.props.defaultCacheBehavior as Record<string, unknown> },
          ...((d.props.orderedCacheBehaviors ?? []) as Array<Record<string, unknown>>).map((b) => ({
            prop: "orderedCacheBehaviors",
            path: String(b.pathPattern),
            b,
          })),
        ],
        [],
      );
      for (const { prop, path, b } of behaviors) {
        if (!isSet(() => b.responseHeadersPolicyId)) {
          report(`${label(d)}: cache behavior ${path} has no responseHeadersPolicyId.`, d.urn);
          continue;
        }
        // The policy the behavior names: by its known id, else the one policy the property depends on.
        const id = known(() => b.responseHeadersPolicyId as string, undefined);
        const deps = (d.propertyDependencies[prop] ?? []).map((x) => x.urn);
        const named = policies.filter((p) =>
          id !== undefined ? known(() => p.props.id === id, false) : deps.includes(p.urn),
        );
        if (named.length !== 1) continue; // a managed policy, or one of another stack: not ours to read
        const missing = known(
          () => missingSecurityHeaders(named[0].props.securityHeadersConfig as SecurityHeaders),
          [],
        );
        if (missing.length > 0)
          report(`${label(d)}: cache behavior ${path}'s ${label(named[0])} lacks ${missing.join(", ")}.`, d.urn);
      }
    }
  },
};

export const WAF_POLICIES = [
  cloudfrontWebAcl,
  albWebAcl,
  webAclRateLimit,
  webAclManagedRules,
  webAclLogging,
  cloudfrontSecurityHeaders,
];
