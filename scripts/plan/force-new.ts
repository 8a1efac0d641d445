/**
 * Which input changes make the engine replace a resource instead of updating it in place: the `ForceNew`
 * attributes of the Terraform AWS provider schemas that `@pulumi/aws` bridges (and of `@pulumi/random`), for the
 * resource types this program creates.
 *
 * Two sources, one table:
 * - `REPLACED_ON` from `lib/graph/replaced-on.ts` (the climb test's table of the stateful types: databases,
 *   clusters, cache, buckets, queues, log groups, secrets, parameters, records, the server, the load balancer,
 *   providers, awsx's VPC). Where it covers a type it wins, so the plan and the climb test never disagree.
 * - `OTHER_FORCE_NEW` below, for the rest (security groups and rules, IAM, launch templates, listeners, routes,
 *   certificates...): top-level inputs only. Checked against the provider source for
 *   `aws_secretsmanager_secret_version` (`secret_id`, `secret_string`); the rest follow the provider documentation's
 *   "changing this forces a new resource" notes.
 *
 * A type in neither is diffed as update-in-place and the plan says so (`unknownTypes`), so that a new type is
 * noticed rather than silently assumed safe. Inputs listed in a resource's `ignoreChanges` never count.
 */
import { REPLACED_ON } from "../../lib/graph/replaced-on";

export interface ForceNewRule {
  /** Inputs whose change replaces the resource. */
  inputs: readonly string[];
  /** Inputs that replace it only under a condition of the new inputs. */
  conditional?: ReadonlyArray<{ input: string; when: (inputs: Record<string, any>) => boolean; why: string }>;
}

const names = ["name", "namePrefix"] as const;

/** ForceNew inputs of the types `REPLACED_ON` does not cover. */
export const OTHER_FORCE_NEW: Readonly<Record<string, ForceNewRule>> = {
  "aws:acm/certificate:Certificate": {
    inputs: ["domainName", "subjectAlternativeNames", "keyAlgorithm", "certificateAuthorityArn"],
  },
  "aws:acm/certificateValidation:CertificateValidation": { inputs: ["certificateArn", "validationRecordFqdns"] },
  "aws:autoscaling/group:Group": { inputs: [...names] },
  "aws:autoscaling/policy:Policy": { inputs: ["name", "autoscalingGroupName"] },
  "aws:cloudfront/cachePolicy:CachePolicy": { inputs: [] },
  "aws:cloudfront/distribution:Distribution": { inputs: [] },
  "aws:cloudfront/originAccessControl:OriginAccessControl": { inputs: [] },
  "aws:cloudwatch/dashboard:Dashboard": { inputs: ["dashboardName"] },
  "aws:cloudwatch/metricAlarm:MetricAlarm": { inputs: ["name"] },
  "aws:ec2/eipAssociation:EipAssociation": {
    inputs: ["allocationId", "instanceId", "networkInterfaceId", "privateIpAddress", "publicIp", "allowReassociation"],
  },
  "aws:ec2/launchTemplate:LaunchTemplate": { inputs: [...names] },
  "aws:ec2/route:Route": {
    inputs: ["routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId"],
  },
  "aws:ec2/securityGroup:SecurityGroup": { inputs: [...names, "description", "vpcId"] },
  "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": { inputs: ["vpcId", "peerVpcId", "peerOwnerId", "peerRegion"] },
  "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": { inputs: ["vpcPeeringConnectionId"] },
  "aws:elasticache/parameterGroup:ParameterGroup": { inputs: ["name", "family", "description"] },
  "aws:elasticache/subnetGroup:SubnetGroup": { inputs: ["name"] },
  "aws:iam/instanceProfile:InstanceProfile": { inputs: [...names, "path"] },
  "aws:iam/role:Role": { inputs: [...names, "path"] },
  "aws:iam/rolePolicy:RolePolicy": { inputs: [...names, "role"] },
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": { inputs: ["role", "policyArn"] },
  // terraform-provider-aws internal/service/kms/key.go (read 2026-12-01): ForceNew on custom_key_store_id,
  // customer_master_key_spec, key_usage, multi_region, xks_key_id; the policy and rotation update in place.
  "aws:kms/key:Key": { inputs: ["customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"] },
  "aws:lb/listener:Listener": { inputs: ["loadBalancerArn"] },
  "aws:lb/listenerRule:ListenerRule": { inputs: ["listenerArn"] },
  "aws:lb/targetGroup:TargetGroup": {
    inputs: [...names, "port", "protocol", "protocolVersion", "targetType", "vpcId", "ipAddressType"],
  },
  "aws:rds/clusterParameterGroup:ClusterParameterGroup": { inputs: [...names, "family", "description"] },
  "aws:rds/parameterGroup:ParameterGroup": { inputs: [...names, "family", "description"] },
  "aws:rds/subnetGroup:SubnetGroup": { inputs: [...names] },
  "aws:route53/healthCheck:HealthCheck": { inputs: ["type", "referenceName", "requestInterval", "measureLatency"] },
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": { inputs: ["bucket", "expectedBucketOwner"] },
  "aws:s3/bucketObjectv2:BucketObjectv2": { inputs: ["bucket", "key"] },
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": { inputs: ["bucket"] },
  "aws:s3/bucketPolicy:BucketPolicy": { inputs: ["bucket"] },
  "aws:s3/bucketLogging:BucketLogging": { inputs: ["bucket", "expectedBucketOwner"] },
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": { inputs: ["bucket"] },
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
    inputs: ["bucket", "expectedBucketOwner"],
  },
  "aws:s3/bucketVersioning:BucketVersioning": { inputs: ["bucket", "expectedBucketOwner"] },
  "aws:secretsmanager/secretVersion:SecretVersion": { inputs: ["secretId", "secretString", "secretBinary"] },
  "aws:sns/topic:Topic": { inputs: [...names, "fifoTopic"] },
  "aws:sns/topicSubscription:TopicSubscription": { inputs: ["topic", "protocol", "endpoint"] },
  "aws:sqs/queuePolicy:QueuePolicy": { inputs: ["queueUrl"] },
  "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": { inputs: ["queueUrl"] },
  "aws:ssm/association:Association": { inputs: ["instanceId"] },
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": { inputs: ["securityGroupId"] },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": { inputs: ["securityGroupId"] },
  "pulumi:providers:random": { inputs: [] },
};

/** The table the plan uses: the climb test's rules where it has one, ours elsewhere. */
export const FORCE_NEW: Readonly<Record<string, ForceNewRule>> = {
  ...OTHER_FORCE_NEW,
  ...Object.fromEntries(
    Object.entries(REPLACED_ON).map(([type, rule]) => [
      type,
      {
        inputs: rule.keys,
        conditional: (rule.conditional ?? []).map((c) => ({ input: c.key, when: c.when, why: c.because })),
      } satisfies ForceNewRule,
    ]),
  ),
};

/** The value at a dotted path (`rootBlockDevice.encrypted`). */
export function valueAt(inputs: Record<string, any>, p: string): unknown {
  let v: any = inputs;
  for (const part of p.split(".")) v = v === undefined || v === null ? undefined : v[part];
  return v;
}

/** Stable JSON: object keys sorted, so that key order never counts as a change. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v as object)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

/**
 * The inputs, of those that changed, that force a replacement of a resource of `type`, with a reason each.
 * `undefined` when the type is not in the table.
 */
export function replacingInputs(
  type: string,
  changed: string[],
  after: Record<string, any>,
  before: Record<string, any>,
): Array<{ input: string; why: string }> | undefined {
  const rule = FORCE_NEW[type];
  if (!rule) return undefined;
  const out: Array<{ input: string; why: string }> = [];
  for (const p of rule.inputs) {
    const top = p.split(".")[0];
    if (changed.includes(top) && canonical(valueAt(before, p)) !== canonical(valueAt(after, p)))
      out.push({ input: p, why: "ForceNew" });
  }
  for (const c of rule.conditional ?? [])
    if (changed.includes(c.input) && c.when(after)) out.push({ input: c.input, why: c.why });
  return out;
}
