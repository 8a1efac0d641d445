/**
 * What the policies need to read a stack: resource type tokens, values that may be unknown during a preview, and
 * the edges between resources.
 *
 * Edges are read from `propertyDependencies` first: the engine knows them at every preview, even for resources not
 * created yet, whose ids and ARNs are still unknown. Only when a property holds a literal (an existing bucket's
 * name, say) are values compared, and then only values that are known.
 */
import { PolicyResource, UnknownValueError } from "@pulumi/policy";

/** Type tokens of the resources the ladder declares (and the older aliases people may still use). */
export const T = {
  awsProvider: "pulumi:providers:aws",
  rdsInstance: "aws:rds/instance:Instance",
  rdsCluster: "aws:rds/cluster:Cluster",
  rdsClusterInstance: "aws:rds/clusterInstance:ClusterInstance",
  rdsGlobalCluster: "aws:rds/globalCluster:GlobalCluster",
  rdsParameterGroup: "aws:rds/parameterGroup:ParameterGroup",
  rdsClusterParameterGroup: "aws:rds/clusterParameterGroup:ClusterParameterGroup",
  cacheReplicationGroup: "aws:elasticache/replicationGroup:ReplicationGroup",
  cacheCluster: "aws:elasticache/cluster:Cluster",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  instance: "aws:ec2/instance:Instance",
  eipAssociation: "aws:ec2/eipAssociation:EipAssociation",
  eip: "aws:ec2/eip:Eip",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  volume: "aws:ebs/volume:Volume",
  bucket: "aws:s3/bucket:Bucket",
  bucketV2: "aws:s3/bucketV2:BucketV2",
  bucketSse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  bucketSseV2: "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  bucketPublicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  accountPublicAccessBlock: "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  queue: "aws:sqs/queue:Queue",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  redriveAllowPolicy: "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
  distribution: "aws:cloudfront/distribution:Distribution",
  loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
  albLoadBalancer: "aws:alb/loadBalancer:LoadBalancer",
  listener: "aws:lb/listener:Listener",
  albListener: "aws:alb/listener:Listener",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  secret: "aws:secretsmanager/secret:Secret",
} as const;

export const LOAD_BALANCER_TYPES: readonly string[] = [T.loadBalancer, T.albLoadBalancer];
export const LISTENER_TYPES: readonly string[] = [T.listener, T.albListener];
export const BUCKET_TYPES: readonly string[] = [T.bucket, T.bucketV2];

/**
 * The value `read` returns, or `fallback` when it reads a value that is unknown during a preview (an output of a
 * resource that does not exist yet). Policies that can decide without the value use this; the rest let the
 * `UnknownValueError` through and the engine reports them as deferred to `pulumi up`.
 */
export function known<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof UnknownValueError) return fallback;
    throw e;
  }
}

/** True when reading the value would throw because it is unknown during a preview. */
export function isUnknown(read: () => unknown): boolean {
  try {
    read();
    return false;
  } catch (e) {
    if (e instanceof UnknownValueError) return true;
    throw e;
  }
}

/** A property is set: present and non-empty, or unknown until `up` (then it will be a value). */
export function isSet(read: () => unknown): boolean {
  if (isUnknown(read)) return true;
  const v = read();
  return v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0);
}

/** Flattens a value that may be one string or a list of them (IAM documents, ids). */
export function strings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.flatMap(strings);
  return [String(v)];
}

/**
 * Does `from`'s property `prop` point at `to`? By the engine's property dependencies when it has them, else by
 * comparing the property's known value(s) with `to`'s known identifying outputs (`id`, `arn`, `name`, ...).
 */
export function refersTo(
  from: PolicyResource,
  prop: string,
  to: PolicyResource,
  keys: readonly string[] = ["id", "arn", "name"],
): boolean {
  const deps = from.propertyDependencies[prop];
  if (deps && deps.length > 0) return deps.some((d) => d.urn === to.urn);
  const values = known(() => strings(from.props[prop]), []);
  if (values.length === 0) return false;
  return keys.some((k) => {
    const target = known(() => to.props[k] as unknown, undefined);
    return typeof target === "string" && target !== "" && values.includes(target);
  });
}

/** Resources of `types` that `from.prop` points at (see {@link refersTo}). */
export function targetsOf(
  resources: readonly PolicyResource[],
  from: PolicyResource,
  prop: string,
  types: readonly string[],
  keys?: readonly string[],
): PolicyResource[] {
  return resources.filter((r) => types.includes(r.type) && refersTo(from, prop, r, keys));
}

/** Resources of `types` whose `prop` points at `to`. */
export function referrersOf(
  resources: readonly PolicyResource[],
  to: PolicyResource,
  types: readonly string[],
  prop: string,
  keys?: readonly string[],
): PolicyResource[] {
  return resources.filter((r) => types.includes(r.type) && refersTo(r, prop, to, keys));
}

/** A short name for messages: the logical name and the type's last segment. */
export function label(r: { name: string; type: string }): string {
  return `${r.name} (${r.type.split(":").pop()})`;
}

/** `true` and `"true"` (the EC2 launch template schema spells booleans as strings). */
export function isTrue(v: unknown): boolean {
  return v === true || v === "true";
}

/** `false` and `"false"`. */
export function isFalse(v: unknown): boolean {
  return v === false || v === "false";
}

/** Parses an IAM / resource policy document given as JSON text or as an object; undefined when it is not one. */
export function policyDocument(v: unknown): { Statement?: unknown } | undefined {
  if (typeof v === "string") {
    try {
      const parsed = JSON.parse(v) as unknown;
      return typeof parsed === "object" && parsed !== null ? (parsed as { Statement?: unknown }) : undefined;
    } catch {
      return undefined;
    }
  }
  return typeof v === "object" && v !== null ? (v as { Statement?: unknown }) : undefined;
}

export interface IamStatement {
  Sid?: string;
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** The statements of a policy document (a single statement object counts as a list of one). */
export function statementsOf(doc: { Statement?: unknown } | undefined): IamStatement[] {
  if (!doc || doc.Statement === undefined) return [];
  return (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as IamStatement[];
}
