/**
 * The document validators of lib/aws-documents, each shown a document AWS accepts and documents AWS refuses: a
 * validator that accepts everything would pass the every-step test in generated-documents.test.ts and prove nothing.
 */
import {
  arnProblems,
  checkMetricMath,
  dashboardProblems,
  policyProblems,
  validateAgentConfig,
} from "../../lib/aws-documents";

describe("CloudWatch agent configuration (the agent's own schema)", () => {
  const valid = {
    agent: { metrics_collection_interval: 60, run_as_user: "cwagent" },
    metrics: { namespace: "CWAgent", metrics_collected: { mem: { measurement: ["mem_used_percent"] } } },
    logs: {
      logs_collected: {
        files: {
          collect_list: [{ file_path: "/var/log/app.log", log_group_name: "/app", log_stream_name: "{instance_id}" }],
        },
      },
      metrics_collected: { emf: {} },
      log_stream_name: "{instance_id}",
    },
  };

  it("accepts the configuration AWS documents for the EMF listener", () => {
    expect(validateAgentConfig(valid)).toEqual([]);
    expect(validateAgentConfig({ logs: { metrics_collected: { emf: {} } } })).toEqual([]);
  });

  it("refuses log_group_name at the top of logs, with the agent's own message", () => {
    const bad = { ...valid, logs: { ...valid.logs, log_group_name: "/app/metrics" } };
    expect(validateAgentConfig(bad)).toEqual(['/logs must NOT have additional properties ("log_group_name")']);
  });

  it("refuses a file entry without a path, a logs section collecting nothing, and a bad retention", () => {
    expect(
      validateAgentConfig({ logs: { logs_collected: { files: { collect_list: [{ log_group_name: "/x" }] } } } }),
    ).toContain("/logs/logs_collected/files/collect_list/0 must have required property 'file_path'");
    expect(validateAgentConfig({ logs: { force_flush_interval: 5 } }).length).toBeGreaterThan(0);
    expect(
      validateAgentConfig({
        logs: { logs_collected: { files: { collect_list: [{ file_path: "/x", retention_in_days: 2 }] } } },
      }),
    ).toContain(
      "/logs/logs_collected/files/collect_list/0/retention_in_days must be equal to one of the allowed values",
    );
  });
});

describe("metric math", () => {
  const ids = { m: "TS", n: "TS" } as const;

  it("accepts the documented forms", () => {
    for (const e of [
      "m / n",
      "100 * m / IF(n > 1, n, 1)",
      "FILL(m, 0)",
      "IF(m > 1, m, 1)",
      "SUM([m, n])",
      "m - AVG(m)",
      "(m)/(n)",
    ]) {
      expect({ e, problems: checkMetricMath(e, { ids, use: "graph" }).problems }).toEqual({ e, problems: [] });
    }
    expect(
      checkMetricMath("visible / IF(workers > 1, workers, 1)", {
        ids: { visible: "TS", workers: "TS" },
        use: "scaling",
      }),
    ).toEqual({ type: "TS", problems: [] });
  });

  it("refuses a scalar inside an array: MAX([m, 1])", () => {
    expect(checkMetricMath("MAX([m, 1])", { ids, use: "graph" }).problems).toEqual([
      '"MAX([m, 1])": element 2 of an array is a scalar (1); arrays hold time series (TS[])',
    ]);
  });

  it("refuses in alarms what AWS recommends against there, a scalar result, an array result, and unknown ids", () => {
    expect(checkMetricMath("m / MAX([n, m])", { ids, use: "alarm" }).problems).toEqual([
      '"m / MAX([n, m])": AWS recommends not to use MAX in alarms (and target tracking runs on alarms)',
    ]);
    expect(checkMetricMath("AVG(m)", { ids, use: "graph" }).problems).toEqual([
      '"AVG(m)": the result is a scalar; an expression must end in a time series or an array of them',
    ]);
    expect(checkMetricMath("METRICS()", { ids, use: "alarm" }).problems).toEqual([
      '"METRICS()": an alarm needs one time series, not an array',
    ]);
    expect(checkMetricMath("m / q", { ids, use: "graph" }).problems).toEqual([
      '"m / q": no query has the id q (ids: m, n)',
    ]);
    expect(checkMetricMath("m / (n", { ids, use: "graph" }).problems[0]).toMatch(/does not parse/);
    expect(checkMetricMath("LOUDEST(m)", { ids, use: "graph" }).problems[0]).toMatch(
      /LOUDEST is not a metric math function/,
    );
  });
});

describe("ARNs", () => {
  it("accepts the shapes each service uses", () => {
    for (const a of [
      "arn:aws:s3:::bucket/key/*",
      "arn:aws:iam::123456789012:root",
      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      "arn:aws:logs:us-east-1:123456789012:log-group:/app/x:*",
      "arn:aws:ssm:us-east-1:123456789012:parameter/a/b",
      "arn:aws-cn:sqs:cn-north-1:123456789012:orders",
      "arn:aws:cloudwatch:us-east-1:123456789012:alarm:use1-*",
      "arn:aws:ssm:us-east-1::document/AWS-RunShellScript",
    ]) {
      expect({ a, problems: arnProblems(a) }).toEqual({ a, problems: [] });
    }
  });

  it("refuses a region on a global service, no account, a doubled parameter slash, another partition", () => {
    expect(arnProblems("arn:aws:s3:us-east-1::bucket")).toEqual([
      "arn:aws:s3:us-east-1::bucket: s3 ARNs have no region, got us-east-1",
    ]);
    expect(arnProblems("arn:aws:logs:us-east-1::log-group:/x")).toEqual([
      'arn:aws:logs:us-east-1::log-group:/x: account "" is not a 12-digit account id',
    ]);
    // Only documents AWS owns have no account; one of ours has.
    expect(arnProblems("arn:aws:ssm:us-east-1::document/shop-kill")).toEqual([
      'arn:aws:ssm:us-east-1::document/shop-kill: account "" is not a 12-digit account id',
    ]);
    expect(arnProblems("arn:aws:ssm:us-east-1:123456789012:parameter//a/b")[0]).toMatch(
      /is not parameter\/NAME \(one slash\)/,
    );
    expect(arnProblems("arn:aws:sqs:cn-north-1:123456789012:q", "aws-cn")).toEqual([
      "arn:aws:sqs:cn-north-1:123456789012:q: partition aws, but the stack deploys to aws-cn",
    ]);
    expect(arnProblems("bucket/key")).toEqual([
      '"bucket/key" is not an ARN (arn:partition:service:region:account:resource)',
    ]);
  });
});

describe("policy documents", () => {
  const identity = {
    Version: "2012-10-17",
    Statement: [{ Sid: "Read", Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::b/*"] }],
  };

  it("accepts an identity policy, a trust policy and a key policy with an administrator", () => {
    expect(policyProblems(JSON.stringify(identity), { kind: "identity", partition: "aws" })).toEqual([]);
    const trust = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    };
    expect(policyProblems(trust, { kind: "trust" })).toEqual([]);
    const key = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "Admin",
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::123456789012:root" },
          Action: "kms:*",
          Resource: "*",
        },
      ],
    };
    expect(policyProblems(key, { kind: "kms-key", account: "123456789012" })).toEqual([]);
  });

  it("refuses an action without a service, a Principal in an identity policy, a bad operator, an Output", () => {
    const bad = {
      Version: "2012-10-17",
      Statement: [
        { Sid: "NoPrefix", Effect: "Allow", Action: ["GetObject"], Resource: "*" },
        { Sid: "Who", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*" },
        {
          Sid: "Op",
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: "*",
          Condition: { StringEqualz: { "aws:SourceAccount": "123456789012" } },
        },
      ],
    };
    expect(policyProblems(bad, { kind: "identity" })).toEqual([
      'Statement[0] (NoPrefix): action "GetObject" is not "*" or service:Action',
      "Statement[1] (Who): an identity policy has no Principal (it applies to whoever it is attached to)",
      "Statement[2] (Op): condition operator StringEqualz is not one IAM defines",
    ]);
    const unresolved = JSON.stringify({
      ...identity,
      Statement: [{ ...identity.Statement[0], Resource: "Calling [toString] on an [Output<T>] is not supported." }],
    });
    expect(policyProblems(unresolved, { kind: "identity" })[0]).toBe(
      "holds an unresolved value: Calling [toString] on an [Output<T>]",
    );
  });

  it("refuses a key policy that locks the account out, or names a resource other than the key", () => {
    const key = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: ["kms:Decrypt"],
          Resource: "arn:aws:kms:us-east-1:123456789012:key/x",
        },
      ],
    };
    expect(policyProblems(key, { kind: "kms-key", account: "123456789012" })).toEqual([
      'Statement[0]: a key policy\'s Resource is "*" (this key), not arn:aws:kms:us-east-1:123456789012:key/x',
      "no unconditional Allow of kms:* (or kms:PutKeyPolicy) to the account root (123456789012): the key could " +
        "not be managed",
    ]);
  });
});

describe("dashboard bodies", () => {
  const widget = (metrics: unknown[], extra: object = {}) => ({
    widgets: [
      { type: "metric", x: 0, y: 0, width: 12, height: 6, properties: { region: "us-east-1", metrics, ...extra } },
    ],
  });

  it("accepts metric rows, the '.' shorthand and a math row", () => {
    const body = widget([
      ["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", "web", { stat: "Average", id: "cpu" }],
      [".", ".", ".", "workers", { id: "wcpu" }],
      [{ expression: "cpu - wcpu", id: "diff", label: "difference" }],
    ]);
    expect(dashboardProblems(JSON.stringify(body))).toEqual([]);
  });

  it("refuses a widget off the grid, a row with an odd dimension, an unknown option, no region, and bad math", () => {
    const body = {
      widgets: [
        {
          type: "metric",
          x: 20,
          y: 0,
          width: 12,
          height: 6,
          properties: { metrics: [["AWS/EC2", "CPUUtilization", "InstanceId"]] },
        },
        {
          type: "metric",
          x: 0,
          y: 6,
          width: 12,
          height: 6,
          properties: {
            region: "us-east-1",
            metrics: [["N", "M", { colour: "#fff" }], [{ expression: "MAX([m, 1])" }]],
          },
        },
        { type: "chart", properties: {} },
      ],
    };
    expect(dashboardProblems(body)).toEqual([
      "widgets[0]: x 20 + width 12 overflows the 24-column grid",
      "widgets[0]: region undefined is not a region name",
      "widgets[0]: metrics[0]: a metric row is namespace, name, then name/value pairs; got 3 fields",
      "widgets[1]: metrics[0]: option colour is not one of accountId, color, id, label, period, region, stat, " +
        "visible, yAxis",
      'widgets[1]: metrics[1]: "MAX([m, 1])": no query has the id m (ids: )',
      'widgets[1]: metrics[1]: "MAX([m, 1])": element 2 of an array is a scalar (1); arrays hold time series (TS[])',
      'widgets[2]: type "chart" is not metric, text, log, alarm, explorer',
    ]);
  });
});
