import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AgentConfig } from "../lib/aws-documents/cloudwatch-agent-config";
import { Statement } from "./iam";
import { AGENT_NAMESPACE, BUSINESS_NAMESPACE } from "./telemetry-names";
import { requireMatch } from "./validate";

export { AGENT_NAMESPACE, BUSINESS_METRICS, BUSINESS_NAMESPACE, EMF_AGENT_ENDPOINT } from "./telemetry-names";

/** Arguments for {@link Telemetry}. */
export interface TelemetryArgs {
  /**
   * Prefix of the log group names (`<prefix>/app`, `/worker`, `/system`, `/metrics`).
   * @example "/scale-ladder/step10/use1"
   */
  logGroupPrefix: string;
  /**
   * Makes the explicit physical names unique per stack in an account and region (the agent configuration's SSM
   * parameter is `AmazonCloudWatch-<namePrefix>-<name>`): the program passes `<project>-<stack>`. Letters, digits,
   * hyphens and underscores.
   * @example "scale-ladder-step10"
   */
  namePrefix: string;
  /**
   * Days logs are kept.
   * @default 30
   */
  logRetentionDays?: number;
}

/** What `namePrefix` may hold: the characters both SSM parameter names and dashboard names allow. */
export const NAME_PREFIX_RE = /^[A-Za-z0-9_-]{1,100}$/;

/** Retention values CloudWatch Logs accepts. */
export const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * Step 10, on the instances: log groups with retention for the app, the workers, system logs and embedded metrics;
 * the CloudWatch agent's configuration in SSM (memory and disk per instance, aggregated by Auto Scaling group; the
 * app and system log files; the embedded-metric-format listener on 127.0.0.1:25888 that the app's
 * `aws-embedded-metrics` writes to); and the IAM statements an instance needs to run the agent — scoped to these log
 * groups, and to the two metric namespaces by condition. Dashboards and alarms are `Monitoring`'s.
 *
 * Cost: logs $0.50/GB ingested and $0.03/GB-month stored; agent metrics $0.30 per metric-month.
 */
export class Telemetry extends pulumi.ComponentResource {
  public readonly logGroups: Record<"app" | "worker" | "system" | "metrics", aws.cloudwatch.LogGroup>;
  public readonly agentConfigParameterName: pulumi.Output<string>;
  /** Name of the log group embedded metrics go to. */
  public readonly metricsLogGroupName: string;
  /** What an instance needs to ship its logs and metrics through the agent. */
  public readonly instanceStatements: Statement[];

  constructor(name: string, args: TelemetryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:observability:Telemetry", name, {}, opts);
    const retention = args.logRetentionDays ?? 30;
    if (!RETENTION_DAYS.includes(retention))
      throw new Error(`Telemetry: logRetentionDays must be one of ${RETENTION_DAYS.join(", ")}, got ${retention}`);
    requireMatch(
      "Telemetry",
      "logGroupPrefix",
      args.logGroupPrefix,
      /^\/[A-Za-z0-9_\-/.#]{1,400}[^/]$/,
      "a log group path such as /scale-ladder/step10/use1",
    );
    const prefixRule = "letters, digits, hyphens and underscores (1-100)";
    requireMatch("Telemetry", "namePrefix", args.namePrefix, NAME_PREFIX_RE, prefixRule);
    this.metricsLogGroupName = `${args.logGroupPrefix}/metrics`;

    const group = (kind: "app" | "worker" | "system" | "metrics") =>
      new aws.cloudwatch.LogGroup(
        `${name}-${kind}`,
        { name: `${args.logGroupPrefix}/${kind}`, retentionInDays: retention },
        { parent: this },
      );
    this.logGroups = { app: group("app"), worker: group("worker"), system: group("system"), metrics: group("metrics") };

    const agentConfig: AgentConfig = {
      agent: { metrics_collection_interval: 60, run_as_user: "cwagent" },
      metrics: {
        namespace: AGENT_NAMESPACE,
        append_dimensions: { AutoScalingGroupName: "${aws:AutoScalingGroupName}", InstanceId: "${aws:InstanceId}" },
        aggregation_dimensions: [["AutoScalingGroupName"]],
        metrics_collected: {
          mem: { measurement: ["mem_used_percent"] },
          disk: { measurement: ["used_percent"], resources: ["/"], drop_device: true },
        },
      },
      logs: {
        logs_collected: {
          files: {
            collect_list: [
              {
                file_path: "/var/log/shop/server.log",
                log_group_name: `${args.logGroupPrefix}/app`,
                log_stream_name: "{instance_id}",
              },
              {
                file_path: "/var/log/shop/worker.log",
                log_group_name: `${args.logGroupPrefix}/worker`,
                log_stream_name: "{instance_id}",
              },
              {
                file_path: "/var/log/shop-boot.log",
                log_group_name: `${args.logGroupPrefix}/system`,
                log_stream_name: "{instance_id}/boot",
              },
            ],
          },
        },
        // The embedded-metric-format listener (TCP and UDP 25888 on localhost). `logs` takes no log_group_name of
        // its own (the agent's schema refuses it, and the agent then refuses to start): each record names its
        // group in `_aws.LogGroupName`, which aws-embedded-metrics fills from AWS_EMF_LOG_GROUP_NAME — the boot
        // script sets it to `metricsLogGroupName`. Records without one would go to `emf/logs/default`, where the
        // instances may not write. Sources (read 2026-12-01): the schema, aws/amazon-cloudwatch-agent
        // translator/config/schema.json (logsDefinition, additionalProperties false); the EMF exporter's routing,
        // translator/translate/otel/exporter/awscloudwatchlogs/translator.go (defaultLogGroupName) and
        // open-telemetry/opentelemetry-collector-contrib exporter/awscloudwatchlogsexporter/exporter.go
        // (logToCWLog reads _aws.LogGroupName); AWS's example config,
        // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Generation_CloudWatch_Agent.html
        metrics_collected: { emf: {} },
        log_stream_name: "{instance_id}",
      },
    };
    // "AmazonCloudWatch-" is the prefix the agent's own tooling (and its managed policy, CloudWatchAgentServerPolicy:
    // ssm:GetParameter on parameter/AmazonCloudWatch-*) expects. The stack's prefix keeps two stacks apart.
    const parameter = new aws.ssm.Parameter(
      `${name}-agent-config`,
      {
        name: `AmazonCloudWatch-${args.namePrefix}-${name}`,
        type: "String",
        tier: "Standard",
        value: JSON.stringify(agentConfig),
        description: "CloudWatch agent configuration",
      },
      { parent: this },
    );
    this.agentConfigParameterName = parameter.name;
    const groupArns = Object.values(this.logGroups).map((g) => pulumi.interpolate`${g.arn}:*`);
    this.instanceStatements = [
      { sid: "ReadAgentConfig", actions: ["ssm:GetParameter"], resources: [parameter.arn] },
      {
        sid: "ShipLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        resources: groupArns,
      },
      // PutMetricData and DescribeTags have no resource-level permissions; the namespace condition scopes the first.
      {
        sid: "PutAgentMetrics",
        actions: ["cloudwatch:PutMetricData"],
        resources: ["*"],
        conditions: { StringEquals: { "cloudwatch:namespace": [AGENT_NAMESPACE, BUSINESS_NAMESPACE] } },
      },
      { sid: "DescribeOwnTags", actions: ["ec2:DescribeTags"], resources: ["*"] },
    ];

    this.registerOutputs({ agentConfigParameterName: this.agentConfigParameterName });
  }
}
