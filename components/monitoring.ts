import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ORDERS_WAITING_ALARM_SECONDS } from "./app-limits";
import { accountAdministersKey } from "./iam";
import { AGENT_NAMESPACE, BUSINESS_NAMESPACE, NAME_PREFIX_RE } from "./telemetry";
import { requireMatch } from "./validate";

/** What the dashboards and alarms watch; every name or id is optional so a step shows only what it has. */
export interface Watched {
  webGroupName?: pulumi.Input<string>;
  workerGroupName?: pulumi.Input<string>;
  /** `app/<name>/<id>` of the ALB and `targetgroup/<name>/<id>` of its target group. */
  loadBalancer?: { arnSuffix: pulumi.Input<string>; targetGroupArnSuffix: pulumi.Input<string> };
  /** RDS identifiers: the primary first, then its replicas. */
  databaseIdentifiers?: pulumi.Input<string>[];
  /** Aurora cluster identifiers of the order shards. */
  shardClusterIdentifiers?: pulumi.Input<string>[];
  /** ElastiCache replication group id (its first member node is watched: `<id>-001`). */
  cacheGroupId?: pulumi.Input<string>;
  /** The sessions' replication group id (step 7, `noeviction`): its memory is watched, since full it refuses carts. */
  sessionGroupId?: pulumi.Input<string>;
  queueName?: pulumi.Input<string>;
  deadLetterQueueName?: pulumi.Input<string>;
}

/**
 * Thresholds of the "when to climb" alarms: the signals that say the next step (or a larger class) is due. The stack
 * derives them from the instance facts and its configuration (stacks/climb-signals.ts); each one left unset makes
 * no alarm.
 */
export interface ClimbThresholds {
  /** `DatabaseConnections` of the catalog's primary (`databaseIdentifiers[0]`), held 15 minutes. */
  catalogConnections?: number;
  /** `CPUUtilization` % of the catalog's primary, held an hour (a burstable class's baseline). */
  catalogCpuPercent?: number;
  /** `CPUUtilization` % of each read replica (`databaseIdentifiers` after the first), held an hour. */
  replicaCpuPercent?: number;
  /**
   * The product cache's primary node (`<cacheGroupId>-001`): the host's `CPUUtilization` on nodes of 2 vCPUs or
   * fewer, the engine thread's `EngineCPUUtilization` on larger ones, held an hour.
   */
  cacheCpu?: ValkeyCpuThreshold;
  /** The same for the sessions' group (`<sessionGroupId>-001`). */
  sessionsCpu?: ValkeyCpuThreshold;
  /** `DatabaseConnections` of each shard's writer, held 15 minutes. */
  shardWriterConnections?: number;
  /** `CPUUtilization` % of each shard's writer, held an hour. */
  shardWriterCpuPercent?: number;
  /** The web fleet's average `CPUUtilization` %, held 15 minutes: its scaling target, above which it is at its most. */
  webCpuPercent?: number;
}

/** A Valkey node's CPU threshold: which of ElastiCache's two CPU metrics, and the percent. */
export interface ValkeyCpuThreshold {
  metricName: "CPUUtilization" | "EngineCPUUtilization";
  percent: number;
}

/** Arguments for {@link Monitoring}. */
export interface MonitoringArgs {
  /** The region's name, which every dashboard widget must state. */
  region: string;
  /**
   * Makes the dashboard's name (`<namePrefix>-<name>`) unique per stack in an account and region: the program
   * passes `<project>-<stack>`. Letters, digits, hyphens and underscores.
   * @example "scale-ladder-step10"
   */
  namePrefix: string;
  /** When set, alarms also mail this address (the subscription must be confirmed from the mail). */
  alarmEmail?: string;
  watched: Watched;
  /**
   * The "when to climb" alarms' thresholds.
   * @default {} (none of those alarms)
   */
  climb?: ClimbThresholds;
}

/**
 * Step 10, for people: a dashboard with the three levels of the seed — hosts (CPU, memory, disk of each fleet),
 * tiers (ALB requests, 5xx, p99; RDS and every shard's CPU, connections, replica lag; cache hit rate and evictions;
 * queue depth, oldest message age, DLQ depth) and business (orders per minute, revenue, active shoppers) — and
 * alarms on what should wake a person (5xx rate, p99 latency, a non-empty DLQ, replica lag, evictions, fleet CPU,
 * old orders waiting) to an SNS topic encrypted with a key of its own, with an optional e-mail subscription.
 *
 * Cost: the dashboard $3/month, each alarm $0.10/month, the topic's key $1/month.
 */
export class Monitoring extends pulumi.ComponentResource {
  public readonly topic: aws.sns.Topic;
  /** The customer-managed key the topic is encrypted with (CloudWatch may use it for this stack's alarms). */
  public readonly topicKey: aws.kms.Key;
  public readonly dashboard: aws.cloudwatch.Dashboard;
  public readonly dashboardUrl: pulumi.Output<string>;
  public readonly alarms: aws.cloudwatch.MetricAlarm[] = [];

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:observability:Monitoring", name, {}, opts);
    if (args.alarmEmail !== undefined)
      requireMatch("Monitoring", "alarmEmail", args.alarmEmail, /^[^@\s]+@[^@\s]+\.[^@\s]+$/, "an e-mail address");
    const prefixRule = "letters, digits, hyphens and underscores (1-100)";
    requireMatch("Monitoring", "namePrefix", args.namePrefix, NAME_PREFIX_RE, prefixRule);
    const w = args.watched;
    const region = args.region;

    // CloudWatch cannot publish to a topic encrypted with the AWS-managed key alias/aws/sns: that key's policy does
    // not admit cloudwatch.amazonaws.com and cannot be edited, so every notification fails ("CloudWatch Alarms does
    // not have authorization to access the SNS topic encryption key"). A customer-managed key whose policy admits
    // CloudWatch works. Sources (read 2026-12-01): SNS Developer Guide, "Enable compatibility between event sources
    // from AWS services and encrypted topics", https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
    // (kms:GenerateDataKey* and kms:Decrypt for the service principal); AWS re:Post Knowledge Center,
    // https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns (statement Allow_CloudWatch_for_CMK).
    this.topicKey = new aws.kms.Key(
      `${name}-alarms-key`,
      {
        description: `scale-ladder ${name}: encrypts the alarm topic; CloudWatch alarms of this stack may use it`,
        keyUsage: "ENCRYPT_DECRYPT",
        customerMasterKeySpec: "SYMMETRIC_DEFAULT",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: alarmTopicKeyPolicy(name, region, aws.getCallerIdentityOutput({}, { parent: this })),
      },
      { parent: this },
    );
    this.topic = new aws.sns.Topic(
      `${name}-alarms`,
      { kmsMasterKeyId: this.topicKey.arn, displayName: "scale-ladder alarms" },
      { parent: this },
    );
    if (args.alarmEmail) {
      new aws.sns.TopicSubscription(
        `${name}-alarms-email`,
        { topic: this.topic.arn, protocol: "email", endpoint: args.alarmEmail },
        { parent: this },
      );
    }
    this.alarmsFor(name, w);
    this.climbAlarms(name, w, args.climb ?? {});

    const climb = args.climb ?? {};
    const body = pulumi.output(w).apply((v) => JSON.stringify(dashboardBody(region, v as ResolvedWatched, climb)));
    this.dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      { dashboardName: `${args.namePrefix}-${name}`, dashboardBody: body },
      { parent: this },
    );
    const home = `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}`;
    this.dashboardUrl = pulumi.interpolate`${home}#dashboards:name=${this.dashboard.dashboardName}`;
    this.registerOutputs({ dashboardUrl: this.dashboardUrl, topicArn: this.topic.arn });
  }

  private alarm(name: string, args: Omit<aws.cloudwatch.MetricAlarmArgs, "alarmActions" | "okActions">): void {
    this.alarms.push(
      new aws.cloudwatch.MetricAlarm(
        name,
        { treatMissingData: "notBreaching", ...args, alarmActions: [this.topic.arn], okActions: [this.topic.arn] },
        { parent: this },
      ),
    );
  }

  /** The alarms that page a person. Periods × evaluation periods stay well under CloudWatch's one-day limit. */
  private alarmsFor(name: string, w: Watched): void {
    if (w.loadBalancer) {
      const lb = w.loadBalancer;
      this.alarm(`${name}-5xx-rate`, {
        alarmDescription: "More than 1% of requests answered 5xx for 5 minutes",
        comparisonOperator: "GreaterThanThreshold",
        threshold: 1,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        metricQueries: [
          {
            id: "errors",
            returnData: false,
            metric: {
              namespace: "AWS/ApplicationELB",
              metricName: "HTTPCode_Target_5XX_Count",
              stat: "Sum",
              period: 60,
              dimensions: { LoadBalancer: lb.arnSuffix },
            },
          },
          {
            id: "requests",
            returnData: false,
            metric: {
              namespace: "AWS/ApplicationELB",
              metricName: "RequestCount",
              stat: "Sum",
              period: 60,
              dimensions: { LoadBalancer: lb.arnSuffix },
            },
          },
          // IF(TS > S, TS, S) is a documented form; MAX([requests, 1]) puts a scalar in an array (TS[]) and MAX is
          // one of the functions AWS recommends against in alarms (see lib/aws-documents/metric-math.ts).
          { id: "rate", label: "5xx %", returnData: true, expression: "100 * errors / IF(requests > 1, requests, 1)" },
        ],
      });
      this.alarm(`${name}-p99-latency`, {
        alarmDescription: "p99 target response time above 1 s for 5 minutes",
        namespace: "AWS/ApplicationELB",
        metricName: "TargetResponseTime",
        extendedStatistic: "p99",
        dimensions: { LoadBalancer: lb.arnSuffix, TargetGroup: lb.targetGroupArnSuffix },
        period: 60,
        evaluationPeriods: 5,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 1,
      });
    }
    if (w.webGroupName) {
      this.alarm(`${name}-web-cpu`, {
        alarmDescription: "Web fleet CPU above 80% for 15 minutes (scaling is not keeping up)",
        namespace: "AWS/EC2",
        metricName: "CPUUtilization",
        statistic: "Average",
        dimensions: { AutoScalingGroupName: w.webGroupName },
        period: 300,
        evaluationPeriods: 3,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 80,
      });
    }
    (w.databaseIdentifiers ?? []).slice(1).forEach((id, i) =>
      this.alarm(`${name}-replica-lag-${i}`, {
        alarmDescription: "Read replica more than 30 s behind the primary",
        namespace: "AWS/RDS",
        metricName: "ReplicaLag",
        statistic: "Maximum",
        dimensions: { DBInstanceIdentifier: id },
        period: 60,
        evaluationPeriods: 5,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 30,
      }),
    );
    (w.shardClusterIdentifiers ?? []).forEach((id, i) =>
      this.alarm(`${name}-shard-lag-${i}`, {
        alarmDescription: "An order shard's reader more than 1 s behind its writer",
        namespace: "AWS/RDS",
        metricName: "AuroraReplicaLagMaximum",
        statistic: "Maximum",
        dimensions: { DBClusterIdentifier: id },
        period: 60,
        evaluationPeriods: 5,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 1000,
      }),
    );
    if (w.cacheGroupId) {
      this.alarm(`${name}-cache-evictions`, {
        alarmDescription: "Cache evicting more than 1000 keys in 5 minutes (it is too small for the working set)",
        namespace: "AWS/ElastiCache",
        metricName: "Evictions",
        statistic: "Sum",
        dimensions: { CacheClusterId: pulumi.interpolate`${w.cacheGroupId}-001` },
        period: 300,
        evaluationPeriods: 1,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 1000,
      });
    }
    if (w.sessionGroupId) {
      // noeviction: a full group evicts nothing and refuses new sessions instead (cart writes answer 503), so the
      // warning has to come before it is full. ElastiCache's memory percentage counts against maxmemory.
      this.alarm(`${name}-sessions-memory`, {
        alarmDescription: "Sessions' Valkey group over 80 % of its memory: at 100 % new carts are refused",
        namespace: "AWS/ElastiCache",
        metricName: "DatabaseMemoryUsagePercentage",
        statistic: "Maximum",
        dimensions: { CacheClusterId: pulumi.interpolate`${w.sessionGroupId}-001` },
        period: 300,
        evaluationPeriods: 1,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 80,
      });
    }
    if (w.deadLetterQueueName) {
      this.alarm(`${name}-dlq-not-empty`, {
        alarmDescription: "An order was dead-lettered: see the DLQ redrive runbook",
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        statistic: "Maximum",
        dimensions: { QueueName: w.deadLetterQueueName },
        period: 60,
        evaluationPeriods: 1,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
      });
    }
    if (w.queueName) {
      this.alarm(`${name}-orders-waiting`, {
        alarmDescription:
          `The oldest order has waited more than ${ORDERS_WAITING_ALARM_SECONDS} s for a worker: the workers are at ` +
          "their most, or failing (step pages: When to climb)",
        namespace: "AWS/SQS",
        metricName: "ApproximateAgeOfOldestMessage",
        statistic: "Maximum",
        dimensions: { QueueName: w.queueName },
        period: 60,
        evaluationPeriods: 5,
        comparisonOperator: "GreaterThanThreshold",
        threshold: ORDERS_WAITING_ALARM_SECONDS,
      });
    }
  }

  /** The "when to climb" alarms (stacks/climb-signals.ts): a tier near what its class or size gives. */
  private climbAlarms(name: string, w: Watched, t: ClimbThresholds): void {
    const primary = w.databaseIdentifiers?.[0];
    const quarterHour = { period: 300, evaluationPeriods: 3, comparisonOperator: "GreaterThanThreshold" } as const;
    const hour = { ...quarterHour, evaluationPeriods: 12 } as const;
    if (primary !== undefined && t.catalogConnections !== undefined)
      this.alarm(`${name}-db-connections`, {
        alarmDescription:
          `Catalog primary above ${t.catalogConnections} connections for 15 minutes: near what its class gives ` +
          "the app; raise dbInstanceClass, lower the fleets or put RDS Proxy in front (step pages: When to climb)",
        namespace: "AWS/RDS",
        metricName: "DatabaseConnections",
        statistic: "Maximum",
        dimensions: { DBInstanceIdentifier: primary },
        threshold: t.catalogConnections,
        ...quarterHour,
      });
    if (primary !== undefined && t.catalogCpuPercent !== undefined)
      this.alarm(`${name}-db-cpu`, {
        alarmDescription:
          `Catalog primary CPU above ${t.catalogCpuPercent} % for an hour (its class's baseline): it spends CPU ` +
          "credits; the next step or a larger class is due (step pages: When to climb)",
        namespace: "AWS/RDS",
        metricName: "CPUUtilization",
        statistic: "Average",
        dimensions: { DBInstanceIdentifier: primary },
        threshold: t.catalogCpuPercent,
        ...hour,
      });
    if (t.shardWriterConnections !== undefined)
      (w.shardClusterIdentifiers ?? []).forEach((id, i) =>
        this.alarm(`${name}-shard-connections-${i}`, {
          alarmDescription:
            `An order shard's writer above ${t.shardWriterConnections} connections for 15 minutes: near what its ` +
            "class gives the app; raise shardInstanceClass or put RDS Proxy in front (step pages: When to climb)",
          namespace: "AWS/RDS",
          metricName: "DatabaseConnections",
          statistic: "Maximum",
          dimensions: { DBClusterIdentifier: id, Role: "WRITER" },
          threshold: t.shardWriterConnections,
          ...quarterHour,
        }),
      );
    if (t.replicaCpuPercent !== undefined)
      (w.databaseIdentifiers ?? []).slice(1).forEach((id, i) =>
        this.alarm(`${name}-replica-cpu-${i}`, {
          alarmDescription:
            `A catalog read replica's CPU above ${t.replicaCpuPercent} % for an hour (its class's baseline): it ` +
            "spends CPU credits; add a replica, a larger class or the next step (step pages: When to climb)",
          namespace: "AWS/RDS",
          metricName: "CPUUtilization",
          statistic: "Average",
          dimensions: { DBInstanceIdentifier: id },
          threshold: t.replicaCpuPercent,
          ...hour,
        }),
      );
    for (const [role, groupId, v] of [
      ["cache", w.cacheGroupId, t.cacheCpu],
      ["sessions", w.sessionGroupId, t.sessionsCpu],
    ] as const)
      if (groupId !== undefined && v !== undefined)
        this.alarm(`${name}-${role}-cpu`, {
          alarmDescription:
            `The ${role === "cache" ? "product cache's" : "sessions'"} primary node above ${v.percent} % ` +
            `${v.metricName} for an hour: its one command thread is at what the node gives it; a larger node ` +
            "type is due (step pages: When to climb)",
          namespace: "AWS/ElastiCache",
          metricName: v.metricName,
          statistic: "Average",
          dimensions: { CacheClusterId: pulumi.interpolate`${groupId}-001` },
          threshold: v.percent,
          ...hour,
        });
    if (t.shardWriterCpuPercent !== undefined)
      (w.shardClusterIdentifiers ?? []).forEach((id, i) =>
        this.alarm(`${name}-shard-cpu-${i}`, {
          alarmDescription:
            `An order shard's writer CPU above ${t.shardWriterCpuPercent} % for an hour: it spends CPU credits or ` +
            "nears its class's CPU; raise shardInstanceClass (step pages: When to climb)",
          namespace: "AWS/RDS",
          metricName: "CPUUtilization",
          statistic: "Average",
          dimensions: { DBClusterIdentifier: id, Role: "WRITER" },
          threshold: t.shardWriterCpuPercent,
          ...hour,
        }),
      );
    if (w.webGroupName && t.webCpuPercent !== undefined)
      this.alarm(`${name}-web-cpu-over-target`, {
        alarmDescription:
          `Web fleet CPU above its scaling target (${t.webCpuPercent} %) for 15 minutes: target tracking would ` +
          "have added servers, so the fleet is at webMaxSize (step pages: When to climb)",
        namespace: "AWS/EC2",
        metricName: "CPUUtilization",
        statistic: "Average",
        dimensions: { AutoScalingGroupName: w.webGroupName },
        threshold: t.webCpuPercent,
        ...quarterHour,
      });
  }
}

/**
 * The alarm topic key's policy: the account administers the key (without it the key could not be managed again:
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html), and CloudWatch may generate and
 * decrypt data keys only on behalf of this component's alarms in this account and region (aws:SourceAccount and
 * aws:SourceArn against the confused deputy,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). Alarms are autonamed
 * `<name>-<role>-<suffix>`, hence the `<name>-*` pattern. Partition and account come from the caller's ARN.
 */
export function alarmTopicKeyPolicy(
  name: string,
  region: string,
  caller: pulumi.Output<{ accountId: string; arn: string }>,
): pulumi.Output<string> {
  return caller.apply(({ accountId, arn }) => {
    const partition = arn.split(":")[1];
    return JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        accountAdministersKey(partition, accountId),
        {
          Sid: "CloudWatchAlarmsPublish",
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
          Resource: "*",
          Condition: {
            StringEquals: { "aws:SourceAccount": accountId },
            ArnLike: { "aws:SourceArn": `arn:${partition}:cloudwatch:${region}:${accountId}:alarm:${name}-*` },
          },
        },
      ],
    });
  });
}

type ResolvedWatched = {
  [K in keyof Watched]: Watched[K] extends pulumi.Input<string>[] | undefined
    ? string[] | undefined
    : Watched[K] extends { arnSuffix: unknown } | undefined
      ? { arnSuffix: string; targetGroupArnSuffix: string } | undefined
      : string | undefined;
};

/**
 * The dashboard's widgets, top to bottom: business, tiers, hosts. The "when to climb" thresholds (`climb`) are drawn
 * as horizontal lines on the widgets that show their metric, and the Valkey groups' CPU widgets exist for them (the
 * shard connections widget shows whole clusters, not writers: the writers' connections alarm has no line there).
 */
export function dashboardBody(region: string, w: ResolvedWatched, climb: ClimbThresholds = {}): { widgets: object[] } {
  const climbLine = (value: number | undefined, label: string): object =>
    value === undefined ? {} : { annotations: { horizontal: [{ label: `when to climb: ${label}`, value }] } };
  type Entry = { kind: "text"; markdown: string } | { kind: "metric"; properties: object };
  const entries: Entry[] = [];
  const widget = (title: string, metrics: (string | object)[][], extra: object = {}) =>
    entries.push({
      kind: "metric",
      properties: { title, region, metrics, view: "timeSeries", stacked: false, period: 60, ...extra },
    });
  const text = (markdown: string) => entries.push({ kind: "text", markdown });

  text("## Business");
  widget("Orders per minute", [[BUSINESS_NAMESPACE, "OrdersPlaced", { stat: "Sum" }]]);
  widget("Revenue per minute", [[BUSINESS_NAMESPACE, "Revenue", { stat: "Sum" }]]);
  widget("Active shoppers", [[BUSINESS_NAMESPACE, "ActiveShoppers", { stat: "Maximum" }]]);
  widget("Cache hits and misses (app)", [
    [BUSINESS_NAMESPACE, "CacheHits", { stat: "Sum" }],
    [BUSINESS_NAMESPACE, "CacheMisses", { stat: "Sum" }],
  ]);

  text("## Tiers");
  if (w.loadBalancer) {
    const lb = w.loadBalancer.arnSuffix;
    widget("ALB requests and 5xx", [
      ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb, { stat: "Sum" }],
      ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb, { stat: "Sum" }],
      ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb, { stat: "Sum" }],
    ]);
    widget("ALB p99 latency (s)", [["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb, { stat: "p99" }]]);
  }
  const dbs = w.databaseIdentifiers ?? [];
  if (dbs.length > 0) {
    widget(
      "Catalog database CPU %",
      dbs.map((id) => ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", id]),
      climbLine(climb.catalogCpuPercent ?? climb.replicaCpuPercent, "the class's baseline (or 80 %), for an hour"),
    );
    widget(
      "Catalog database connections",
      dbs.map((id) => ["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", id]),
      climbLine(climb.catalogConnections, "80 % of what the primary's class gives the app"),
    );
    if (dbs.length > 1)
      widget(
        "Replica lag (s)",
        dbs.slice(1).map((id) => ["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", id, { stat: "Maximum" }]),
      );
  }
  const shards = w.shardClusterIdentifiers ?? [];
  if (shards.length > 0) {
    widget(
      "Shard writers' CPU %",
      shards.map((id) => ["AWS/RDS", "CPUUtilization", "DBClusterIdentifier", id, "Role", "WRITER"]),
      climbLine(climb.shardWriterCpuPercent, "the class's baseline (or 80 %), for an hour"),
    );
    widget(
      "Shard connections",
      shards.map((id) => ["AWS/RDS", "DatabaseConnections", "DBClusterIdentifier", id]),
    );
    widget(
      "Shard replica lag (ms)",
      shards.map((id) => ["AWS/RDS", "AuroraReplicaLagMaximum", "DBClusterIdentifier", id, { stat: "Maximum" }]),
    );
  }
  if (w.cacheGroupId) {
    const node = `${w.cacheGroupId}-001`;
    widget("Cache hit rate %", [["AWS/ElastiCache", "CacheHitRate", "CacheClusterId", node]]);
    widget("Cache evictions", [["AWS/ElastiCache", "Evictions", "CacheClusterId", node, { stat: "Sum" }]]);
  }
  for (const [title, groupId, v] of [
    ["Product cache CPU %", w.cacheGroupId, climb.cacheCpu],
    ["Sessions' Valkey CPU %", w.sessionGroupId, climb.sessionsCpu],
  ] as const)
    if (groupId && v)
      widget(
        title,
        [["AWS/ElastiCache", v.metricName, "CacheClusterId", `${groupId}-001`]],
        climbLine(v.percent, "its command thread at what the node gives it, for an hour"),
      );
  if (w.queueName) {
    widget("Orders queue depth", [
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", w.queueName, { stat: "Maximum" }],
    ]);
    widget("Oldest order waiting (s)", [
      ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", w.queueName, { stat: "Maximum" }],
    ]);
  }
  if (w.deadLetterQueueName)
    widget("Dead-lettered orders", [
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", w.deadLetterQueueName, { stat: "Maximum" }],
    ]);

  text("## Hosts");
  for (const [label, groupName] of [
    ["Web", w.webGroupName],
    ["Workers", w.workerGroupName],
  ] as const) {
    if (!groupName) continue;
    widget(
      `${label} fleet CPU %`,
      [["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", groupName]],
      label === "Web" ? climbLine(climb.webCpuPercent, "the scaling target, for 15 minutes") : {},
    );
    widget(`${label} fleet memory and disk used %`, [
      [AGENT_NAMESPACE, "mem_used_percent", "AutoScalingGroupName", groupName],
      [AGENT_NAMESPACE, "disk_used_percent", "AutoScalingGroupName", groupName],
    ]);
  }
  // Layout: headings span the width; metric widgets go two to a row.
  const widgets: object[] = [];
  let x = 0;
  let y = 0;
  for (const e of entries) {
    if (e.kind === "text") {
      if (x !== 0) {
        x = 0;
        y += 6;
      }
      widgets.push({ type: "text", x: 0, y, width: 24, height: 1, properties: { markdown: e.markdown } });
      y += 1;
    } else {
      widgets.push({ type: "metric", x, y, width: 12, height: 6, properties: e.properties });
      if (x === 0) x = 12;
      else {
        x = 0;
        y += 6;
      }
    }
  }
  return { widgets };
}
