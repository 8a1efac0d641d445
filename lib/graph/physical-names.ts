/**
 * Explicit physical names: the inputs that name a resource in AWS, per type, and how far each name must be
 * unique. Two stacks in one account (dev beside prod, or one stack per step) collide on any explicit name they
 * share within its scope; a name the program leaves out is auto-named by Pulumi (the logical name plus a random
 * suffix) and cannot collide.
 *
 * Scopes:
 * - `region`: unique per account and region (most resources).
 * - `account`: unique per account across every region (IAM, CloudWatch dashboards, Aurora global clusters,
 *   CloudFront policies), so a secondary region's name counts against the primary's.
 * - `partition`: unique across every account (S3 bucket names).
 * - `zone`: unique within a Route 53 hosted zone (records: name, type and set identifier).
 * Names scoped to a parent a stack owns alone (a security group's name within its VPC, an inline role policy's name
 * within its role, a scaling policy's within its group) are left out: another stack cannot share the parent.
 *
 * Sources, checked 2026-12-01: each service's API reference for the name's uniqueness (cited per row), the
 * `@pulumi/aws` 7.48.0 type declarations for which input is the name.
 */
import { RegisteredResource, regionOfResource } from "./registered";
import { T } from "./resource-types";

export type NameScope = "region" | "account" | "partition" | "zone";

export interface PhysicalNameRule {
  type: string;
  /** Inputs that carry the name (the first present one names the resource); `*Prefix` inputs are not listed. */
  properties: string[];
  scope: NameScope;
  /** Types that share one namespace (an Aurora instance and an RDS instance are both DB instances). */
  namespace: string;
  source: string;
}

const rule = (
  type: string,
  properties: string[],
  scope: NameScope,
  namespace: string,
  source: string,
): PhysicalNameRule => ({ type, properties, scope, namespace, source });

const RDS = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/";

/** Which input is the physical name, per type this program creates (and the likely next ones). */
export const PHYSICAL_NAMES: readonly PhysicalNameRule[] = [
  rule(
    T.ssmParameter,
    ["name"],
    "region",
    "ssm-parameter",
    "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html",
  ),
  rule(
    T.dashboard,
    ["dashboardName"],
    "account",
    "cloudwatch-dashboard",
    // Dashboard ARNs have no region: arn:aws:cloudwatch::ACCOUNT:dashboard/NAME.
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
  ),
  rule(
    T.logGroup,
    ["name"],
    "region",
    "log-group",
    "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
  ),
  rule(
    T.alarm,
    ["name"],
    "region",
    "alarm",
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
  ),
  rule(
    T.compositeAlarm,
    ["alarmName"],
    "region",
    // Metric and composite alarms share one namespace: PutCompositeAlarm refuses the name of a metric alarm.
    "alarm",
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html",
  ),
  rule(
    T.globalCluster,
    ["globalClusterIdentifier"],
    "account",
    "rds-global-cluster",
    `${RDS}API_CreateGlobalCluster.html (global cluster ARNs have no region)`,
  ),
  rule(T.cluster, ["clusterIdentifier"], "region", "rds-cluster", `${RDS}API_CreateDBCluster.html`),
  rule(T.cluster, ["finalSnapshotIdentifier"], "region", "rds-cluster-snapshot", `${RDS}API_DeleteDBCluster.html`),
  rule(T.rds, ["identifier"], "region", "rds-db-instance", `${RDS}API_CreateDBInstance.html`),
  rule(T.rds, ["finalSnapshotIdentifier"], "region", "rds-db-snapshot", `${RDS}API_DeleteDBInstance.html`),
  rule(T.clusterInstance, ["identifier"], "region", "rds-db-instance", `${RDS}API_CreateDBInstance.html`),
  rule(T.dbSubnetGroup, ["name"], "region", "rds-subnet-group", `${RDS}API_CreateDBSubnetGroup.html`),
  rule(T.pg, ["name"], "region", "rds-parameter-group", `${RDS}API_CreateDBParameterGroup.html`),
  rule(T.cpg, ["name"], "region", "rds-cluster-parameter-group", `${RDS}API_CreateDBClusterParameterGroup.html`),
  rule(
    T.cache,
    ["replicationGroupId"],
    "region",
    "elasticache-replication-group",
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html",
  ),
  rule(
    T.cacheSubnetGroup,
    ["name"],
    "region",
    "elasticache-subnet-group",
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheSubnetGroup.html",
  ),
  rule(
    T.cachePg,
    ["name"],
    "region",
    "elasticache-parameter-group",
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheParameterGroup.html",
  ),
  rule(
    T.bucket,
    ["bucket"],
    "partition",
    "s3-bucket",
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
  ),
  rule(
    T.bucketV2,
    ["bucket"],
    "partition",
    "s3-bucket",
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
  ),
  rule(
    T.role,
    ["name"],
    "account",
    "iam-role",
    "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
  ),
  rule(
    T.instanceProfile,
    ["name"],
    "account",
    "iam-instance-profile",
    "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateInstanceProfile.html",
  ),
  rule(
    T.iamPolicy,
    ["name"],
    "account",
    "iam-policy",
    "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html",
  ),
  rule(
    T.secret,
    ["name"],
    "region",
    "secret",
    "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
  ),
  rule(T.topic, ["name"], "region", "sns-topic", "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html"),
  rule(
    T.queue,
    ["name"],
    "region",
    "sqs-queue",
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html",
  ),
  rule(
    T.lb,
    ["name"],
    "region",
    "elb-load-balancer",
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
  ),
  rule(
    T.tg,
    ["name"],
    "region",
    "elb-target-group",
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html",
  ),
  rule(
    T.asg,
    ["name"],
    "region",
    "autoscaling-group",
    "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html",
  ),
  rule(
    T.lt,
    ["name"],
    "region",
    "launch-template",
    "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html",
  ),
  rule(
    T.kmsAlias,
    ["name"],
    "region",
    "kms-alias",
    "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
  ),
  rule(
    T.cachePolicy,
    ["name"],
    "account",
    "cloudfront-cache-policy",
    "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateCachePolicy.html",
  ),
  rule(
    T.oac,
    ["name"],
    "account",
    "cloudfront-oac",
    "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateOriginAccessControl.html",
  ),
  rule(
    T.responseHeadersPolicy,
    ["name"],
    "account",
    "cloudfront-response-headers-policy",
    "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateResponseHeadersPolicy.html",
  ),
  rule(
    T.cfFunction,
    ["name"],
    "account",
    "cloudfront-function",
    "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateFunction.html",
  ),
  rule(
    T.webAcl,
    ["name"],
    // Per account, scope and region; a CLOUDFRONT ACL's region is us-east-1, where its provider creates it.
    "region",
    "wafv2-web-acl",
    "https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html (WAFDuplicateItemException)",
  ),
  rule(
    T.ssmAssociation,
    ["associationName"],
    "region",
    "ssm-association",
    "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateAssociation.html",
  ),
  rule(
    T.ssmDocument,
    ["name"],
    "region",
    "ssm-document",
    "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html",
  ),
  rule(
    T.eventRule,
    ["name"],
    "region",
    "eventbridge-rule",
    "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html",
  ),
  rule(
    T.record,
    ["name"],
    "zone",
    "route53-record",
    // A record is its zone, name, type and set identifier.
    "https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html",
  ),
];

/** One explicit physical name a graph uses. */
export interface PhysicalName {
  type: string;
  /** Logical name of the resource. */
  resource: string;
  property: string;
  value: string;
  scope: NameScope;
  /** What must be unique: namespace, scope key and the name. Two stacks collide when they share a key. */
  key: string;
}

/**
 * Every explicit physical name among `resources`. `defaultRegion` is the stack's `aws:region` (what the default
 * provider uses).
 */
export function physicalNames(resources: readonly RegisteredResource[], defaultRegion: string): PhysicalName[] {
  const out: PhysicalName[] = [];
  for (const r of resources) {
    if (!r.custom) continue;
    for (const rl of PHYSICAL_NAMES.filter((x) => x.type === r.type)) {
      const property = rl.properties.find((p) => typeof r.inputs[p] === "string" && r.inputs[p] !== "");
      if (!property) continue;
      const value = String(r.inputs[property]);
      const where =
        rl.scope === "region"
          ? regionOfResource(r, resources, defaultRegion)
          : rl.scope === "zone"
            ? `${String(r.inputs.zoneId)}/${String(r.inputs.type)}/${String(r.inputs.setIdentifier ?? "")}`
            : rl.scope;
      // Route 53 and DNS compare names case-insensitively, without the final dot.
      const name = rl.scope === "zone" ? value.toLowerCase().replace(/\.$/, "") : value;
      const key = `${rl.namespace}|${where}|${name}`;
      out.push({ type: r.type, resource: r.name, property, value, scope: rl.scope, key });
    }
  }
  return out;
}

/** The names two graphs share, as `key` → the names on each side. */
export function sharedPhysicalNames(
  a: readonly PhysicalName[],
  b: readonly PhysicalName[],
): Array<{ key: string; first: PhysicalName; second: PhysicalName }> {
  const byKey = new Map(b.map((n) => [n.key, n]));
  return a.filter((n) => byKey.has(n.key)).map((n) => ({ key: n.key, first: n, second: byKey.get(n.key)! }));
}
