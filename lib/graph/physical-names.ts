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
    "aws:ssm/parameter:Parameter",
    ["name"],
    "region",
    "ssm-parameter",
    "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html",
  ),
  rule(
    "aws:cloudwatch/dashboard:Dashboard",
    ["dashboardName"],
    "account",
    "cloudwatch-dashboard",
    // Dashboard ARNs have no region: arn:aws:cloudwatch::ACCOUNT:dashboard/NAME.
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
  ),
  rule(
    "aws:cloudwatch/logGroup:LogGroup",
    ["name"],
    "region",
    "log-group",
    "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
  ),
  rule(
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    ["name"],
    "region",
    "alarm",
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
  ),
  rule(
    "aws:rds/globalCluster:GlobalCluster",
    ["globalClusterIdentifier"],
    "account",
    "rds-global-cluster",
    `${RDS}API_CreateGlobalCluster.html (global cluster ARNs have no region)`,
  ),
  rule("aws:rds/cluster:Cluster", ["clusterIdentifier"], "region", "rds-cluster", `${RDS}API_CreateDBCluster.html`),
  rule(
    "aws:rds/cluster:Cluster",
    ["finalSnapshotIdentifier"],
    "region",
    "rds-cluster-snapshot",
    `${RDS}API_DeleteDBCluster.html`,
  ),
  rule("aws:rds/instance:Instance", ["identifier"], "region", "rds-db-instance", `${RDS}API_CreateDBInstance.html`),
  rule(
    "aws:rds/instance:Instance",
    ["finalSnapshotIdentifier"],
    "region",
    "rds-db-snapshot",
    `${RDS}API_DeleteDBInstance.html`,
  ),
  rule(
    "aws:rds/clusterInstance:ClusterInstance",
    ["identifier"],
    "region",
    "rds-db-instance",
    `${RDS}API_CreateDBInstance.html`,
  ),
  rule("aws:rds/subnetGroup:SubnetGroup", ["name"], "region", "rds-subnet-group", `${RDS}API_CreateDBSubnetGroup.html`),
  rule(
    "aws:rds/parameterGroup:ParameterGroup",
    ["name"],
    "region",
    "rds-parameter-group",
    `${RDS}API_CreateDBParameterGroup.html`,
  ),
  rule(
    "aws:rds/clusterParameterGroup:ClusterParameterGroup",
    ["name"],
    "region",
    "rds-cluster-parameter-group",
    `${RDS}API_CreateDBClusterParameterGroup.html`,
  ),
  rule(
    "aws:elasticache/replicationGroup:ReplicationGroup",
    ["replicationGroupId"],
    "region",
    "elasticache-replication-group",
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html",
  ),
  rule(
    "aws:elasticache/subnetGroup:SubnetGroup",
    ["name"],
    "region",
    "elasticache-subnet-group",
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheSubnetGroup.html",
  ),
  rule(
    "aws:elasticache/parameterGroup:ParameterGroup",
    ["name"],
    "region",
    "elasticache-parameter-group",
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheParameterGroup.html",
  ),
  rule(
    "aws:s3/bucket:Bucket",
    ["bucket"],
    "partition",
    "s3-bucket",
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
  ),
  rule(
    "aws:s3/bucketV2:BucketV2",
    ["bucket"],
    "partition",
    "s3-bucket",
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
  ),
  rule(
    "aws:iam/role:Role",
    ["name"],
    "account",
    "iam-role",
    "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
  ),
  rule(
    "aws:iam/instanceProfile:InstanceProfile",
    ["name"],
    "account",
    "iam-instance-profile",
    "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateInstanceProfile.html",
  ),
  rule(
    "aws:iam/policy:Policy",
    ["name"],
    "account",
    "iam-policy",
    "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html",
  ),
  rule(
    "aws:secretsmanager/secret:Secret",
    ["name"],
    "region",
    "secret",
    "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
  ),
  rule(
    "aws:sns/topic:Topic",
    ["name"],
    "region",
    "sns-topic",
    "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html",
  ),
  rule(
    "aws:sqs/queue:Queue",
    ["name"],
    "region",
    "sqs-queue",
    "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html",
  ),
  rule(
    "aws:lb/loadBalancer:LoadBalancer",
    ["name"],
    "region",
    "elb-load-balancer",
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
  ),
  rule(
    "aws:lb/targetGroup:TargetGroup",
    ["name"],
    "region",
    "elb-target-group",
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html",
  ),
  rule(
    "aws:autoscaling/group:Group",
    ["name"],
    "region",
    "autoscaling-group",
    "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html",
  ),
  rule(
    "aws:ec2/launchTemplate:LaunchTemplate",
    ["name"],
    "region",
    "launch-template",
    "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html",
  ),
  rule(
    "aws:kms/alias:Alias",
    ["name"],
    "region",
    "kms-alias",
    "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
  ),
  rule(
    "aws:cloudfront/cachePolicy:CachePolicy",
    ["name"],
    "account",
    "cloudfront-cache-policy",
    "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateCachePolicy.html",
  ),
  rule(
    "aws:cloudfront/originAccessControl:OriginAccessControl",
    ["name"],
    "account",
    "cloudfront-oac",
    "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateOriginAccessControl.html",
  ),
  rule(
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
    ["name"],
    "account",
    "cloudfront-response-headers-policy",
    "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateResponseHeadersPolicy.html",
  ),
  rule(
    "aws:cloudfront/function:Function",
    ["name"],
    "account",
    "cloudfront-function",
    "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateFunction.html",
  ),
  rule(
    "aws:ssm/association:Association",
    ["associationName"],
    "region",
    "ssm-association",
    "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateAssociation.html",
  ),
  rule(
    "aws:ssm/document:Document",
    ["name"],
    "region",
    "ssm-document",
    "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html",
  ),
  rule(
    "aws:cloudwatch/eventRule:EventRule",
    ["name"],
    "region",
    "eventbridge-rule",
    "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html",
  ),
  rule(
    "aws:route53/record:Record",
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
