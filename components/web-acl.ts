import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { requireMatch, requireOneOf, requireRange } from "./validate";

/** Where a web ACL is used: on a regional resource (the ALB) or on a CloudFront distribution. */
export const WAF_SCOPES = ["REGIONAL", "CLOUDFRONT"] as const;
export type WafScope = (typeof WAF_SCOPES)[number];

/**
 * Which address the rate-based rule counts requests by.
 * - `source`: the address of the connection (the viewer, when the ACL is in front of everything).
 * - `forwarded`: the first address of `X-Forwarded-For`, for an ACL behind a proxy (the ALB behind CloudFront, whose
 *   connections all come from CloudFront's servers).
 */
export const CLIENT_ADDRESSES = ["source", "forwarded"] as const;
export type ClientAddress = (typeof CLIENT_ADDRESSES)[number];

/** Days CloudWatch Logs accepts as a retention (the API refuses anything else). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827] as const;

/** Every WAF log destination's name must start with this (CloudWatch Logs, S3 and Firehose alike). */
export const WAF_LOG_GROUP_PREFIX = "aws-waf-logs-";

/**
 * Headers left out of the WAF logs: the shopper's session cookie and the admin's bearer token are credentials.
 * Lower case: the WAF API takes a `SingleHeader` name in lower case only.
 */
export const REDACTED_HEADERS = ["cookie", "authorization"] as const;

/**
 * Rules of the common rule set that this app's API trips and that the ACL therefore counts instead of blocking.
 * Each is still evaluated, labelled, logged and counted in CloudWatch.
 */
export const COMMON_RULE_SET_COUNTED: ReadonlyArray<{ rule: string; why: string }> = [
  {
    rule: "SizeRestrictions_BODY",
    why:
      "blocks bodies over 8 KB; the app accepts JSON bodies up to 16 KiB (a product with a 2,000-character " +
      "description of multi-byte text is over 8 KB) and answers 413 above that itself, with an error that names it",
  },
  {
    rule: "NoUserAgent_HEADER",
    why:
      "blocks requests without a User-Agent; the API is documented for scripts and service clients as well as " +
      "browsers, and a missing User-Agent says nothing about intent (the rate rule still limits such a client)",
  },
];

/**
 * The AWS managed rule groups the ACL runs, in evaluation order after the rate rule, with their capacity (WCU, from
 * the AWS WAF Developer Guide's managed rule group list, checked 2026-12-02).
 * - AmazonIpReputationList: addresses Amazon threat intelligence saw in attacks, bots and reconnaissance.
 * - KnownBadInputsRuleSet: request patterns known to exploit vulnerabilities (Log4j, Java deserialisation, ...).
 * - CommonRuleSet (core rule set): OWASP-style rules for XSS, LFI, RFI, SSRF to the metadata service, oversized parts;
 *   two of its rules are counted, see {@link COMMON_RULE_SET_COUNTED}.
 * Left out: the SQL database group (every query of the app is parameterized, issue 14's test held; it would
 * cost 200 WCU), the Linux/POSIX/PHP/WordPress groups (no such surface), Bot Control and ATP (charged per request).
 */
export const MANAGED_RULE_GROUPS = [
  { name: "AWSManagedRulesAmazonIpReputationList", wcu: 25 },
  { name: "AWSManagedRulesKnownBadInputsRuleSet", wcu: 200 },
  { name: "AWSManagedRulesCommonRuleSet", wcu: 700 },
] as const;

/** Capacity of a rate-based rule without a scope-down statement and with one aggregation key. */
export const RATE_RULE_WCU = 2;
/** WCUs a web ACL may use before AWS charges extra for it (up to 5,000): 1,500. */
export const WCU_INCLUDED = 1500;

/** The window AWS counts a rate-based rule over when none is given; the program sets it, so state never drifts. */
export const RATE_WINDOW_SECONDS = 300;

/** Arguments for {@link WebAcl}. */
export interface WebAclArgs {
  /**
   * `REGIONAL` for an ALB (created in the ALB's region), `CLOUDFRONT` for a distribution (created in us-east-1,
   * where CloudFront reads web ACLs from).
   */
  scope: WafScope;
  /**
   * The region of the provider passed in `opts`: `us-east-1` for `CLOUDFRONT`.
   * @example "eu-west-1"
   */
  region: string;
  /**
   * Physical name of the ACL, also the stem of its metric names and of its log group (`aws-waf-logs-<name>`). WAF
   * names are unique per account, scope and region, so it must carry the stack: `<project>-<stack>-<role>`.
   * @example "scale-ladder-prod-euw1-alb"
   */
  aclName: string;
  /**
   * Requests one client may make in {@link RATE_WINDOW_SECONDS} (5 minutes) before the rest of the window is
   * answered 429. 2,000 is about 6.7 requests a second sustained: a shopper's page load is 5 requests, a
   * scraper's loop is thousands. AWS accepts 10 to 2,000,000,000.
   * @default 2000
   */
  rateLimit?: number;
  /**
   * Which address the rate rule counts by: `source` in front of everything, `forwarded` behind CloudFront.
   * @default "source"
   */
  clientAddress?: ClientAddress;
  /**
   * Days the WAF log group keeps its logs.
   * @default 30
   */
  logRetentionDays?: number;
}

/**
 * An AWS WAF web ACL with its logging: from step 3 on the ALB (`REGIONAL`), from step 6 on the CloudFront
 * distribution as well (`CLOUDFRONT`, us-east-1).
 *
 * - Rules, in order: a rate-based rule per client address (block with 429), then {@link MANAGED_RULE_GROUPS}.
 *   Everything else is allowed. About 927 WCU, under the 1,500 a web ACL gets without extra charge.
 * - Behind CloudFront (`clientAddress: "forwarded"`) only the rate rule reads the forwarded address; the IP
 *   reputation group judges the connection's address, CloudFront's, and so adds nothing there: the edge ACL is the
 *   one that sees viewers. It stays, for the $1 it costs, so that every ACL runs the same reviewed set.
 * - Rules are inline in the ACL, every field AWS would otherwise fill in set by the program (the rate window), so
 *   a second `pulumi up` changes nothing. Not `aws.wafv2.WebAclRule` resources: those need `ignoreChanges:
 *   ["rules"]` on the ACL, and an update of the ACL then writes back the rules of its *state*, which `pulumi up`
 *   does not refresh, deleting rules the separate resources added since (hashicorp/terraform-provider-aws#39281).
 * - CloudWatch metrics and sampled requests for the ACL and each rule; logs to a CloudWatch log group
 *   `aws-waf-logs-<aclName>` (in the ACL's region, as WAF requires), with the cookie and authorization headers
 *   redacted. WAF adds the log group's resource policy for its log delivery itself.
 *
 * Cost: $5 a month per ACL and $1 per rule or managed group (4), $0.60 per million requests inspected, and log
 * ingestion at $0.50/GB (WAF logs are vended logs: cheaper tiers above 10 TB); about $9 a month before traffic.
 */
export class WebAcl extends pulumi.ComponentResource {
  public readonly acl: aws.wafv2.WebAcl;
  public readonly logGroup: aws.cloudwatch.LogGroup;
  public readonly logging: aws.wafv2.WebAclLoggingConfiguration;
  /** The ACL's ARN: a distribution's `webAclId`, or a `WebAclAssociation`'s `webAclArn`. */
  public readonly arn: pulumi.Output<string>;

  constructor(name: string, args: WebAclArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:edge:WebAcl", name, {}, opts);
    requireOneOf("WebAcl", "scope", args.scope, WAF_SCOPES);
    if (args.scope === "CLOUDFRONT" && args.region !== "us-east-1") {
      throw new Error(
        `WebAcl: region must be us-east-1 for scope CLOUDFRONT (CloudFront reads web ACLs from there), got ` +
          `${JSON.stringify(args.region)}`,
      );
    }
    // WAF: 1-128 of [A-Za-z0-9_-]; the log group adds its 13-character prefix within CloudWatch's 512.
    requireMatch("WebAcl", "aclName", args.aclName, /^[A-Za-z0-9_-]{1,128}$/, "1 to 128 letters, digits, - or _");
    const rateLimit = args.rateLimit ?? 2000;
    requireRange("WebAcl", "rateLimit", rateLimit, 10, 2_000_000_000);
    const clientAddress = args.clientAddress ?? "source";
    requireOneOf("WebAcl", "clientAddress", clientAddress, CLIENT_ADDRESSES);
    const retention = args.logRetentionDays ?? 30;
    if (!(LOG_RETENTION_DAYS as readonly number[]).includes(retention)) {
      throw new Error(
        `WebAcl: logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")}, got ${JSON.stringify(retention)}`,
      );
    }

    const visibility = (metric: string) => ({
      cloudwatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: `${args.aclName}-${metric}`,
    });
    const rateRule = {
      name: "rate-per-client",
      priority: 0,
      action: { block: { customResponse: { responseCode: 429 } } },
      statement: {
        rateBasedStatement: {
          limit: rateLimit,
          evaluationWindowSec: RATE_WINDOW_SECONDS,
          ...(clientAddress === "source"
            ? { aggregateKeyType: "IP" }
            : {
                aggregateKeyType: "FORWARDED_IP",
                // A request without a valid address in the header is counted as one client ("MATCH"), so a flood
                // cannot escape the limit by leaving the header out.
                forwardedIpConfig: { headerName: "X-Forwarded-For", fallbackBehavior: "MATCH" },
              }),
        },
      },
      visibilityConfig: visibility("rate-per-client"),
    };
    const managedRules = MANAGED_RULE_GROUPS.map((group, i) => ({
      name: group.name,
      priority: i + 1,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: "AWS",
          name: group.name,
          ...(group.name === "AWSManagedRulesCommonRuleSet"
            ? {
                ruleActionOverrides: COMMON_RULE_SET_COUNTED.map((c) => ({
                  name: c.rule,
                  actionToUse: { count: {} },
                })),
              }
            : {}),
        },
      },
      visibilityConfig: visibility(group.name),
    }));

    this.acl = new aws.wafv2.WebAcl(
      `${name}`,
      {
        name: args.aclName,
        description: `scale-ladder ${args.scope === "CLOUDFRONT" ? "CloudFront" : "load balancer"} web ACL`,
        scope: args.scope,
        defaultAction: { allow: {} },
        rules: [rateRule, ...managedRules],
        visibilityConfig: visibility("acl"),
      },
      { parent: this },
    );
    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `${WAF_LOG_GROUP_PREFIX}${args.aclName}`, retentionInDays: retention },
      { parent: this },
    );
    this.logging = new aws.wafv2.WebAclLoggingConfiguration(
      `${name}-logging`,
      {
        resourceArn: this.acl.arn,
        logDestinationConfigs: [this.logGroup.arn],
        redactedFields: REDACTED_HEADERS.map((header) => ({ singleHeader: { name: header } })),
      },
      { parent: this },
    );
    this.arn = this.acl.arn;
    this.registerOutputs({ arn: this.arn, logGroupName: this.logGroup.name });
  }
}
