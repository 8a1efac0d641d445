import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { InstanceRole, Statement } from "./iam";
import { INSTANCE_TYPE_RE } from "./instance-types";
import { appAutoScalingGroup, appLaunchTemplate } from "./launch-template";
import { requireMatch, requireRange } from "./validate";

/** Arguments for {@link WorkerFleet}. */
export interface WorkerFleetArgs {
  /** Private subnets (egress through NAT to SQS and Secrets Manager). */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The worker tier's security group (no ingress: workers pull their work). */
  securityGroupId: pulumi.Input<string>;
  /** Boot script in worker mode (see `appUserData`). */
  userData: pulumi.Input<string>;
  /**
   * Tags for launched instances and volumes — pass the provider's default tags, which do not reach them.
   * @default {}
   */
  launchTags?: Record<string, string>;
  /** What workers may do beyond Session Manager (consume the queue, read their secrets). */
  statements: Statement[];
  /** Name of the queue whose backlog drives scaling. */
  queueName: pulumi.Input<string>;
  /**
   * @default "t4g.small"
   */
  instanceType?: string;
  /** @default 1 */
  minSize?: number;
  /** @default 4 */
  maxSize?: number;
  /**
   * Messages each worker should have waiting, the target of the backlog-per-instance policy: a worker confirms
   * about 10 orders a second, so 100 is ten seconds of work.
   * @default 100
   */
  backlogPerInstance?: number;
}

/**
 * Step 8's workers: the same artifact started in worker mode, in an auto-scaling group of its own with no load
 * balancer and no ingress. It scales on backlog per instance — visible messages divided by in-service workers,
 * computed by CloudWatch metric math — which is what AWS recommends for queue consumers: CPU says nothing about a
 * queue that is filling up.
 *
 * Cost: one t4g.small (about $12/month) at rest.
 */
export class WorkerFleet extends pulumi.ComponentResource {
  public readonly group: aws.autoscaling.Group;
  public readonly launchTemplate: aws.ec2.LaunchTemplate;
  public readonly role: InstanceRole;

  constructor(name: string, args: WorkerFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:compute:WorkerFleet", name, {}, opts);
    const instanceType = args.instanceType ?? "t4g.small";
    requireMatch(
      "WorkerFleet",
      "instanceType",
      instanceType,
      INSTANCE_TYPE_RE,
      "an EC2 instance type such as t4g.small",
    );
    const minSize = args.minSize ?? 1;
    const maxSize = args.maxSize ?? 4;
    requireRange("WorkerFleet", "minSize", minSize, 1, 1000);
    requireRange("WorkerFleet", "maxSize", maxSize, minSize, 1000);
    const backlog = args.backlogPerInstance ?? 100;
    requireRange("WorkerFleet", "backlogPerInstance", backlog, 1, 100000);

    this.role = new InstanceRole(`${name}`, { statements: args.statements }, { parent: this });
    this.launchTemplate = appLaunchTemplate(
      `${name}-lt`,
      {
        instanceType,
        profileName: this.role.profileName,
        securityGroupId: args.securityGroupId,
        userData: args.userData,
        nameTag: name,
        launchTags: args.launchTags,
      },
      // Nothing launches from the profile before its policies exist (first boot reads the secrets).
      { parent: this, dependsOn: this.role.policies },
    );
    this.group = appAutoScalingGroup(
      `${name}-asg`,
      {
        subnetIds: args.subnetIds,
        launchTemplate: this.launchTemplate,
        minSize,
        maxSize,
        desiredCapacity: minSize,
        healthCheckType: "EC2",
        nameTag: name,
        launchTags: args.launchTags,
      },
      { parent: this, dependsOn: this.role.policies },
    );
    new aws.autoscaling.Policy(
      `${name}-backlog`,
      {
        autoscalingGroupName: this.group.name,
        policyType: "TargetTrackingScaling",
        targetTrackingConfiguration: {
          targetValue: backlog,
          customizedMetricSpecification: {
            metrics: [
              {
                id: "visible",
                label: "Messages waiting",
                returnData: false,
                metricStat: {
                  stat: "Sum",
                  metric: {
                    namespace: "AWS/SQS",
                    metricName: "ApproximateNumberOfMessagesVisible",
                    dimensions: [{ name: "QueueName", value: args.queueName }],
                  },
                },
              },
              {
                id: "workers",
                label: "Workers in service",
                returnData: false,
                metricStat: {
                  stat: "Average",
                  metric: {
                    namespace: "AWS/AutoScaling",
                    metricName: "GroupInServiceInstances",
                    dimensions: [{ name: "AutoScalingGroupName", value: this.group.name }],
                  },
                },
              },
              // AWS's own example is `m1 / m2`; IF(TS > S, TS, S) (documented in using-metric-math.html) keeps a
              // moment with no worker in service from dividing by zero. MAX([workers, 1]) is not a documented form
              // (a scalar inside an array of time series) and MAX is one AWS recommends against in alarms, which
              // target tracking creates. Source (read 2026-12-01):
              // https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-target-tracking-metric-math.html
              {
                id: "backlog",
                label: "Backlog per worker",
                expression: "visible / IF(workers > 1, workers, 1)",
                returnData: true,
              },
            ],
          },
        },
      },
      { parent: this },
    );
    this.registerOutputs({ groupName: this.group.name });
  }
}
