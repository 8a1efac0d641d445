/**
 * Finds every document a program hands to AWS as a string — policies, key policies, dashboard bodies, the
 * CloudWatch agent's configuration, metric math — among registered resources (a mocked graph, a plan, a policy
 * pack's view), and checks each with its validator. Works on plain `{ type, name, inputs }` records so that tests,
 * scripts and policies can share it.
 */
import { validateAgentConfig } from "./cloudwatch-agent-config";
import { dashboardProblems } from "./dashboard-body";
import { MathType, MathUse, QUERY_ID, checkMetricMath } from "./metric-math";
import { PolicyKind, policyProblems } from "./policy-document";

/** A registered resource, as a mock, a plan or a policy pack sees it. */
export interface ResourceRecord {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

/** One generated document: where it is, what kind it is, and what is wrong with it. */
export interface FoundDocument {
  resource: string;
  property: string;
  kind: PolicyKind | "dashboard" | "agent-config" | "alarm-math" | "scaling-math";
  problems: string[];
}

/** Resource properties that hold policy documents, and which kind each is. */
export const POLICY_PROPERTIES: Record<string, Record<string, PolicyKind>> = {
  "aws:iam/rolePolicy:RolePolicy": { policy: "identity" },
  "aws:iam/policy:Policy": { policy: "managed" },
  "aws:iam/role:Role": { assumeRolePolicy: "trust" },
  "aws:s3/bucketPolicy:BucketPolicy": { policy: "resource" },
  "aws:sqs/queuePolicy:QueuePolicy": { policy: "resource" },
  "aws:sns/topicPolicy:TopicPolicy": { policy: "resource" },
  "aws:kms/key:Key": { policy: "kms-key" },
};

/** The prefix the CloudWatch agent's tooling (and its managed policy) expects of configuration parameters. */
export const AGENT_CONFIG_PREFIX = "AmazonCloudWatch-";

/** Strips Pulumi's secret wrapper (`{ 4dabf18193072939515e22adb298388d: …, value }`) the engine shows mocks. */
function plain(v: any): any {
  if (v && typeof v === "object" && "4dabf18193072939515e22adb298388d" in v) return plain(v.value);
  return v;
}

/** Every generated document of the resources, each checked. */
export function findDocuments(
  resources: ResourceRecord[],
  opts: { partition?: string; account?: string } = {},
): FoundDocument[] {
  const found: FoundDocument[] = [];
  for (const r of resources) {
    const where = `${r.type} ${r.name}`;
    for (const [property, kind] of Object.entries(POLICY_PROPERTIES[r.type] ?? {})) {
      const doc = plain(r.inputs[property]);
      if (doc === undefined) continue;
      found.push({ resource: where, property, kind, problems: policyProblems(doc, { kind, ...opts }) });
    }
    if (r.type === "aws:cloudwatch/dashboard:Dashboard") {
      found.push({
        resource: where,
        property: "dashboardBody",
        kind: "dashboard",
        problems: dashboardProblems(plain(r.inputs.dashboardBody)),
      });
    }
    if (r.type === "aws:ssm/parameter:Parameter" && String(plain(r.inputs.name)).startsWith(AGENT_CONFIG_PREFIX)) {
      let problems: string[];
      try {
        problems = validateAgentConfig(JSON.parse(plain(r.inputs.value)));
      } catch (e) {
        problems = [`value is not JSON: ${(e as Error).message}`];
      }
      found.push({ resource: where, property: "value", kind: "agent-config", problems });
    }
    if (r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && Array.isArray(r.inputs.metricQueries)) {
      found.push({
        resource: where,
        property: "metricQueries",
        kind: "alarm-math",
        problems: queryProblems(r.inputs.metricQueries, "alarm"),
      });
    }
    const tracked = r.inputs.targetTrackingConfiguration?.customizedMetricSpecification?.metrics;
    if (r.type === "aws:autoscaling/policy:Policy" && Array.isArray(tracked)) {
      found.push({
        resource: where,
        property: "customizedMetricSpecification.metrics",
        kind: "scaling-math",
        problems: queryProblems(tracked, "scaling"),
      });
    }
  }
  return found;
}

/**
 * Metric queries of an alarm (PutMetricAlarm: at most 20, of which at most 10 metrics and 10 expressions, exactly
 * one returning data) or of a target-tracking policy (one result); each expression type-checked.
 */
export function queryProblems(queries: Array<Record<string, any>>, use: MathUse): string[] {
  const out: string[] = [];
  const ids: Record<string, MathType> = {};
  for (const q of queries) {
    if (typeof q.id !== "string" || !QUERY_ID.test(q.id))
      out.push(`query id ${JSON.stringify(q.id)} must start with a lowercase letter`);
    else if (q.id in ids) out.push(`query id ${q.id} is used twice`);
    if (q.metric || q.metricStat) ids[q.id] = "TS";
  }
  const expressions = queries.filter((q) => typeof q.expression === "string");
  if (use === "alarm" && (queries.length > 20 || expressions.length > 10 || queries.length - expressions.length > 10)) {
    out.push(`${queries.length} queries (${expressions.length} expressions): at most 20, 10 of each kind`);
  }
  if (queries.filter((q) => q.returnData === true).length !== 1) out.push("exactly one query must return data");
  for (const q of expressions) {
    const { type, problems } = checkMetricMath(q.expression, { ids, use });
    out.push(...problems);
    if (type) ids[q.id] = type;
  }
  return out;
}
