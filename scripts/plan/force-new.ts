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
import { T } from "../../lib/graph/resource-types";

export interface ForceNewRule {
  /** Inputs whose change replaces the resource. */
  inputs: readonly string[];
  /** Inputs that replace it only under a condition of the new inputs. */
  conditional?: ReadonlyArray<{ input: string; when: (inputs: Record<string, any>) => boolean; why: string }>;
}

const names = ["name", "namePrefix"] as const;

/** ForceNew inputs of the types `REPLACED_ON` does not cover. */
export const OTHER_FORCE_NEW: Readonly<Record<string, ForceNewRule>> = {
  [T.acmCert]: {
    inputs: ["domainName", "subjectAlternativeNames", "keyAlgorithm", "certificateAuthorityArn"],
  },
  [T.acmValidation]: { inputs: ["certificateArn", "validationRecordFqdns"] },
  [T.asg]: { inputs: [...names] },
  [T.asgPolicy]: { inputs: ["name", "autoscalingGroupName"] },
  [T.cachePolicy]: { inputs: [] },
  [T.dist]: { inputs: [] },
  [T.responseHeadersPolicy]: { inputs: [] },
  // terraform-provider-aws internal/service/wafv2 (read 2026-12-02): web_acl.go name, name_prefix and scope ForceNew
  // (rules, actions and visibility update in place); web_acl_association.go both ARNs; web_acl_logging_configuration.go
  // resource_arn and log_destination_configs (redacted_fields and logging_filter update in place).
  [T.webAcl]: { inputs: [...names, "scope"] },
  [T.webAclAssociation]: { inputs: ["resourceArn", "webAclArn"] },
  [T.webAclLogging]: { inputs: ["resourceArn", "logDestinationConfigs"] },
  [T.oac]: { inputs: [] },
  [T.dashboard]: { inputs: ["dashboardName"] },
  [T.alarm]: { inputs: ["name"] },
  // terraform-provider-aws: aws_cloudwatch_composite_alarm's alarm_name is ForceNew; aws_fis_experiment_template
  // updates every argument in place (UpdateExperimentTemplate).
  [T.compositeAlarm]: { inputs: ["alarmName"] },
  [T.fisTemplate]: { inputs: [] },
  [T.eipAssociation]: {
    inputs: ["allocationId", "instanceId", "networkInterfaceId", "privateIpAddress", "publicIp", "allowReassociation"],
  },
  [T.lt]: { inputs: [...names] },
  [T.route]: {
    inputs: ["routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId"],
  },
  [T.sg]: { inputs: [...names, "description", "vpcId"] },
  [T.peering]: { inputs: ["vpcId", "peerVpcId", "peerOwnerId", "peerRegion"] },
  [T.peeringAccepter]: { inputs: ["vpcPeeringConnectionId"] },
  [T.cachePg]: { inputs: ["name", "family", "description"] },
  [T.cacheSubnetGroup]: { inputs: ["name"] },
  [T.instanceProfile]: { inputs: [...names, "path"] },
  [T.role]: { inputs: [...names, "path"] },
  [T.rolePolicy]: { inputs: [...names, "role"] },
  [T.attachment]: { inputs: ["role", "policyArn"] },
  // terraform-provider-aws internal/service/kms/key.go (read 2026-12-01): ForceNew on custom_key_store_id,
  // customer_master_key_spec, key_usage, multi_region, xks_key_id; the policy and rotation update in place.
  [T.kmsKey]: { inputs: ["customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"] },
  [T.listener]: { inputs: ["loadBalancerArn"] },
  [T.listenerRule]: { inputs: ["listenerArn"] },
  [T.tg]: {
    inputs: [...names, "port", "protocol", "protocolVersion", "targetType", "vpcId", "ipAddressType"],
  },
  [T.cpg]: { inputs: [...names, "family", "description"] },
  [T.pg]: { inputs: [...names, "family", "description"] },
  [T.dbSubnetGroup]: { inputs: [...names] },
  [T.healthCheck]: { inputs: ["type", "referenceName", "requestInterval", "measureLatency"] },
  [T.lifecycle]: { inputs: ["bucket", "expectedBucketOwner"] },
  [T.bucketObject]: { inputs: ["bucket", "key"] },
  [T.ownership]: { inputs: ["bucket"] },
  [T.bucketPolicy]: { inputs: ["bucket"] },
  [T.logging]: { inputs: ["bucket", "expectedBucketOwner"] },
  [T.bpa]: { inputs: ["bucket"] },
  [T.sse]: {
    inputs: ["bucket", "expectedBucketOwner"],
  },
  [T.versioning]: { inputs: ["bucket", "expectedBucketOwner"] },
  [T.secretVersion]: { inputs: ["secretId", "secretString", "secretBinary"] },
  [T.topic]: { inputs: [...names, "fifoTopic"] },
  [T.topicSubscription]: { inputs: ["topic", "protocol", "endpoint"] },
  [T.queuePolicy]: { inputs: ["queueUrl"] },
  [T.redriveAllowPolicy]: { inputs: ["queueUrl"] },
  [T.ssmAssociation]: { inputs: ["instanceId"] },
  [T.egress]: { inputs: ["securityGroupId"] },
  [T.ingress]: { inputs: ["securityGroupId"] },
  [T.randomProvider]: { inputs: [] },
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
