/**
 * Step 10's observability as AWS will run it, not only as the mocks accept it (issue 12): the CloudWatch agent
 * accepts its configuration, CloudWatch can publish alarms to the encrypted topic, the metric math is a form AWS
 * documents, and two stacks in one account and region name nothing alike.
 */
import { validateAgentConfig } from "../../lib/aws-documents";
import { queryProblems } from "../../lib/aws-documents/graph-documents";
import { ladderGraphs } from "../../lib/graph/graph-cache";
import { Graph, stackConfig } from "../../lib/graph/harness";
import { ACCOUNT } from "../../lib/graph/mock-outputs";
import { reveal, statementsOf } from "../../lib/graph/queries";
import { T } from "../../lib/graph/resource-types";

const g: Record<string, Graph> = {};
beforeAll(async () => {
  [g.alpha, g.beta] = await ladderGraphs([
    { config: stackConfig(10), stack: "alpha" },
    { config: stackConfig(10), stack: "beta" },
  ]);
}, 300_000);

const agentConfig = (graph: Graph) => {
  const param = graph.ofType(T.ssmParameter).find((p) => String(p.inputs.name).startsWith("AmazonCloudWatch-"))!;
  return JSON.parse(reveal(param.inputs.value));
};
const userDataOf = (graph: Graph, lt: string) =>
  Buffer.from(graph.one(T.lt, lt).inputs.userData, "base64").toString("utf8");
/** IAM's `*` and `?` wildcards as a regular expression. */
const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );

describe("the CloudWatch agent's configuration", () => {
  it("is one the agent accepts (its own schema), with no section-wide log_group_name in logs", () => {
    const config = agentConfig(g.alpha);
    expect(validateAgentConfig(config)).toEqual([]);
    expect(Object.keys(config.logs).sort()).toEqual(["log_stream_name", "logs_collected", "metrics_collected"]);
  });

  it("still delivers embedded metrics to the metrics group: the app names it in each record, may write there", () => {
    const metricsGroup = g.alpha.one(T.logGroup, "use1-telemetry-metrics").inputs.name;
    expect(agentConfig(g.alpha).logs.metrics_collected).toEqual({ emf: {} });
    for (const lt of ["use1-web-lt", "use1-workers-lt"])
      expect(userDataOf(g.alpha, lt)).toContain(`AWS_EMF_LOG_GROUP_NAME=${metricsGroup}`);
    const ship = statementsOf(g.alpha, "use1-web-policy").find((s) => s.Sid === "ShipLogs")!;
    expect(ship.Resource).toContain(`arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${metricsGroup}:*`);
  });
});

describe("the alarm topic", () => {
  it("is encrypted with a customer-managed key of the stack, rotated yearly", () => {
    const topic = g.alpha.one(T.topic);
    const key = g.alpha.one(T.kmsKey, "use1-monitoring-alarms-key");
    expect(String(topic.inputs.kmsMasterKeyId)).not.toMatch(/^alias\/aws\//);
    expect(topic.inputs.kmsMasterKeyId).toMatch(
      new RegExp(`^arn:aws:kms:us-east-1:${ACCOUNT}:key/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$`),
    );
    expect(g.alpha.ofType(T.kmsKey)).toEqual([key]);
    expect(key.inputs).toMatchObject({
      enableKeyRotation: true,
      keyUsage: "ENCRYPT_DECRYPT",
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
    });
  });

  it("has a key policy that keeps the account in charge and lets CloudWatch publish for this stack's alarms", () => {
    const policy = JSON.parse(g.alpha.one(T.kmsKey, "use1-monitoring-alarms-key").inputs.policy);
    const admin = policy.Statement.find((s: { Sid: string }) => s.Sid === "AccountAdministersKey");
    expect(admin).toEqual({
      Sid: "AccountAdministersKey",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: "kms:*",
      Resource: "*",
    });
    const cw = policy.Statement.find((s: { Sid: string }) => s.Sid === "CloudWatchAlarmsPublish");
    expect(cw).toMatchObject({
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Resource: "*",
    });
    expect(cw.Condition.StringEquals).toEqual({ "aws:SourceAccount": ACCOUNT });
    const source = glob(cw.Condition.ArnLike["aws:SourceArn"]);
    const alarms = g.alpha.ofType(T.alarm);
    expect(alarms.length).toBeGreaterThan(5);
    // The mocks give each alarm the ARN AWS would: arn:aws:cloudwatch:<region>:<account>:alarm:<autonamed name>.
    for (const a of alarms)
      expect({
        alarm: a.name,
        admitted: source.test(`arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${a.name}-1a2b3c4`),
      }).toEqual({ alarm: a.name, admitted: true });
    expect(source.test(`arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:someone-elses-alarm`)).toBe(false);
  });
});

describe("metric math", () => {
  it("uses documented forms in the 5xx-rate alarm and the workers' backlog policy (no MAX([m, 1]))", () => {
    const alarm = g.alpha.one(T.alarm, "use1-monitoring-5xx-rate");
    expect(queryProblems(alarm.inputs.metricQueries, "alarm")).toEqual([]);
    expect(alarm.inputs.metricQueries.find((q: { id: string }) => q.id === "rate").expression).toBe(
      "100 * errors / IF(requests > 1, requests, 1)",
    );
    const policy = g.alpha.one(T.asgPolicy, "use1-workers-backlog");
    const metrics = policy.inputs.targetTrackingConfiguration.customizedMetricSpecification.metrics;
    expect(queryProblems(metrics, "scaling")).toEqual([]);
    expect(metrics.find((m: { id: string }) => m.id === "backlog").expression).toBe(
      "visible / IF(workers > 1, workers, 1)",
    );
  });
});

describe("two stacks of step 10 in one account and region", () => {
  const names = (graph: Graph) => ({
    parameter: graph
      .ofType(T.ssmParameter)
      .map((p) => String(p.inputs.name))
      .filter((n) => n.startsWith("AmazonCloudWatch-")),
    dashboard: graph.ofType(T.dashboard).map((d) => String(d.inputs.dashboardName)),
  });

  it("give the agent parameter and the dashboard names of their own, with the agent's AmazonCloudWatch- prefix", () => {
    const a = names(g.alpha);
    const b = names(g.beta);
    expect(a).toEqual({
      parameter: ["AmazonCloudWatch-scale-ladder-alpha-use1-telemetry"],
      dashboard: ["scale-ladder-alpha-use1-monitoring"],
    });
    expect(b).toEqual({
      parameter: ["AmazonCloudWatch-scale-ladder-beta-use1-telemetry"],
      dashboard: ["scale-ladder-beta-use1-monitoring"],
    });
    expect(userDataOf(g.beta, "use1-web-lt")).toContain("-c 'ssm:AmazonCloudWatch-scale-ladder-beta-use1-telemetry'");
    expect(g.beta.outputs.dashboardUrl).toMatch(/#dashboards:name=scale-ladder-beta-use1-monitoring$/);
  });
});
