import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DRILLS, DrillName } from "../stacks/drills";
import { FIS_ACTION_PERMISSIONS } from "../policies/fis-permissions";
import { Statement, policyDocument } from "./iam";
import { ArgumentError, requireRange } from "./validate";

export { FIS_ACTION_PERMISSIONS };

/** Trust policy that lets AWS FIS assume a role. */
export const fisAssumeRolePolicy = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "fis.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/** Arguments for {@link FaultDrills}. */
export interface FaultDrillsArgs {
  /** The region the resources are in (ARNs of instances, subnets and the SSM document). */
  region: string;
  /**
   * Prefix of each template's `Name` tag: `<namePrefix>-<drill>`, where the drill is named as `npm run local:fault`
   * names it.
   */
  namePrefix: string;
  /**
   * Tags every instance of this stack carries (the fleets' launch tags): the role may stop, terminate or run commands
   * on instances with these tags only.
   */
  instanceTags: Record<string, string>;
  /** The web fleet's auto-scaling group (web-kill, az-outage). */
  webGroupName: pulumi.Input<string>;
  /** The worker fleet's auto-scaling group (worker-kill, az-outage); none below step 8. */
  workerGroupName?: pulumi.Input<string>;
  /** The Multi-AZ RDS primary (primary-failover, az-outage); none below step 4. */
  databaseArn?: pulumi.Input<string>;
  /** The cache's replication group, which has replicas (redis-stop, az-outage); none below step 5. */
  cacheGroupArn?: pulumi.Input<string>;
  /** Every subnet of the VPC; az-outage cuts those in {@link FaultDrillsArgs.zone}. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The AZ the outage and the cache's power interruption hit, e.g. `us-east-1a`. */
  zone: pulumi.Input<string>;
  /**
   * Alarms that stop every drill when one goes off (step 10's). FIS takes at most five stop conditions per template,
   * so they are combined into one composite alarm. Empty (below step 10): the templates stop only by hand or at the
   * end of their actions (FIS then requires the stop condition `source: none`).
   * @default []
   */
  stopAlarmArns?: pulumi.Input<string>[];
  /**
   * How long the AZ outage and the cache's power interruption last, in minutes.
   * @default 10
   */
  outageMinutes?: number;
}

/** One drill: its template and the role it runs with. */
export interface Drill {
  template: aws.fis.ExperimentTemplate;
  role: aws.iam.Role;
  policy: aws.iam.RolePolicy;
}

type Target = pulumi.Input<aws.types.input.fis.ExperimentTemplateTarget>;
type Action = aws.types.input.fis.ExperimentTemplateAction;

/**
 * AWS FIS experiment templates for the drills of stacks/drills.ts that the step has (the same names as local mode's
 * faults), each with a role of its own that may do only what its actions need, on this stack's resources only.
 * Start one with `aws fis start-experiment --experiment-template-id <id>`; find the id by the template's `Name` tag.
 *
 * Cost: the templates and roles are free; from step 10 the stop condition's composite alarm is $0.50 a month. Each
 * experiment costs $0.10 per action-minute (us-east-1): the 10-minute AZ outage runs up to five actions, about $5 a
 * run, plus what the failed-over and restarted resources cost anyway.
 */
export class FaultDrills extends pulumi.ComponentResource {
  /** The drills by name. */
  public readonly drills: Partial<Record<DrillName, Drill>> = {};
  /** The composite alarm every template stops on (step 10+). */
  public readonly stopAlarm?: aws.cloudwatch.CompositeAlarm;

  constructor(name: string, args: FaultDrillsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:fis:FaultDrills", name, {}, opts);
    const minutes = args.outageMinutes ?? 10;
    requireRange("FaultDrills", "outageMinutes", minutes, 1, 720);
    if (Object.keys(args.instanceTags).length === 0) {
      throw new ArgumentError("FaultDrills", "instanceTags", args.instanceTags, "at least one tag (the stack's)");
    }
    const duration = `PT${minutes}M`;
    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const instanceArns = pulumi.interpolate`arn:aws:ec2:${args.region}:${account}:instance/*`;
    // Instances of this stack only: the fleets launch with these tags.
    const onOurInstances = Object.fromEntries(
      Object.entries(args.instanceTags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]),
    );
    const subnetArns = pulumi
      .all([args.subnetIds, account])
      .apply(([ids, acct]) => ids.map((id) => `arn:aws:ec2:${args.region}:${acct}:subnet/${id}`));

    const alarms = args.stopAlarmArns ?? [];
    if (alarms.length > 0) {
      this.stopAlarm = new aws.cloudwatch.CompositeAlarm(
        `${name}-stop`,
        {
          alarmName: `${args.namePrefix}-fault-drills-stop`,
          alarmDescription: "Any of the stack's alarms: stops a running FIS drill before it hurts shoppers more",
          alarmRule: pulumi.all(alarms).apply((arns) => arns.map((a) => `ALARM("${a}")`).join(" OR ")),
          actionsEnabled: false,
        },
        { parent: this },
      );
    }
    const stopConditions = this.stopAlarm
      ? [{ source: "aws:cloudwatch:alarm", value: this.stopAlarm.arn }]
      : [{ source: "none" }];

    const asgInstances = (target: string, group: pulumi.Input<string>, selectionMode: string, zoned: boolean) => ({
      name: target,
      resourceType: "aws:ec2:instance",
      selectionMode,
      resourceTags: [{ key: "aws:autoscaling:groupName", value: group }],
      filters: [
        { path: "State.Name", values: ["running"] },
        ...(zoned ? [{ path: "Placement.AvailabilityZone", values: [args.zone] }] : []),
      ],
    });
    const rdsPrimary = (arn: pulumi.Input<string>) => ({
      name: "primary",
      resourceType: "aws:rds:db",
      selectionMode: "ALL",
      resourceArns: [arn],
    });
    const cacheGroup = (arn: pulumi.Input<string>) => ({
      name: "cache",
      resourceType: "aws:elasticache:replicationgroup",
      selectionMode: "ALL",
      resourceArns: [arn],
      parameters: { availabilityZoneIdentifier: args.zone },
    });

    const make = (drill: DrillName, description: string, actions: Action[], targets: Target[], st: Statement[]) => {
      const role = new aws.iam.Role(
        `${name}-${drill}-role`,
        { assumeRolePolicy: fisAssumeRolePolicy, description: `scale-ladder FIS drill ${drill}` },
        { parent: this },
      );
      const policy = new aws.iam.RolePolicy(
        `${name}-${drill}-policy`,
        { role: role.id, policy: policyDocument(st) },
        { parent: this },
      );
      const template = new aws.fis.ExperimentTemplate(
        `${name}-${drill}`,
        {
          description,
          roleArn: role.arn,
          stopConditions,
          actions,
          targets,
          // A drill whose one target is gone (no instance running) fails instead of passing without doing anything;
          // the AZ outage skips a fleet that has no instance in the zone, and hits what is there.
          experimentOptions: {
            emptyTargetResolutionMode: drill === "az-outage" ? "skip" : "fail",
            accountTargeting: "single-account",
          },
          tags: { Name: `${args.namePrefix}-${drill}`, drill },
        },
        { parent: this, dependsOn: [policy] },
      );
      this.drills[drill] = { template, role, policy };
    };
    const describe = (sid: string, actions: string[]): Statement => ({ sid, actions, resources: ["*"] });

    make(
      "web-kill",
      "web-kill: terminate one web instance",
      [
        {
          name: "terminate",
          actionId: "aws:ec2:terminate-instances",
          target: { key: "Instances", value: "web" },
        },
      ],
      [asgInstances("web", args.webGroupName, "COUNT(1)", false)],
      [
        {
          sid: "Terminate",
          actions: ["ec2:TerminateInstances"],
          resources: [instanceArns],
          conditions: {
            StringEquals: onOurInstances,
          },
        },
        describe("Describe", ["ec2:DescribeInstances"]),
      ],
    );

    if (args.databaseArn) {
      make(
        "primary-failover",
        "primary-failover: reboot the RDS primary with a forced Multi-AZ failover",
        [rebootWithFailover()],
        [rdsPrimary(args.databaseArn)],
        [
          { sid: "Failover", actions: ["rds:RebootDBInstance"], resources: [args.databaseArn] },
          describe("Describe", ["rds:DescribeDBInstances"]),
        ],
      );
    }

    if (args.cacheGroupArn) {
      make(
        "redis-stop",
        "redis-stop: interrupt power to the cache's nodes in one AZ",
        [interruptCache(duration)],
        [cacheGroup(args.cacheGroupArn)],
        [
          { sid: "InterruptPower", actions: ["elasticache:InterruptClusterAzPower"], resources: [args.cacheGroupArn] },
          describe("Describe", ["elasticache:DescribeReplicationGroups", "tag:GetResources"]),
        ],
      );
    }

    if (args.workerGroupName) {
      const document = `arn:aws:ssm:${args.region}::document/AWS-RunShellScript`;
      make(
        "worker-kill",
        "worker-kill: SIGKILL the shop process of one worker (systemd restarts it)",
        [
          {
            name: "kill",
            actionId: "aws:ssm:send-command",
            target: { key: "Instances", value: "workers" },
            parameters: [
              { key: "documentArn", value: document },
              {
                key: "documentParameters",
                value: JSON.stringify({ commands: ["systemctl kill --signal=SIGKILL shop.service"] }),
              },
              { key: "duration", value: "PT2M" },
            ],
          },
        ],
        [asgInstances("workers", args.workerGroupName, "COUNT(1)", false)],
        [
          {
            sid: "RunOnOurInstances",
            actions: ["ssm:SendCommand"],
            resources: [instanceArns],
            conditions: {
              StringEquals: onOurInstances,
            },
          },
          { sid: "RunTheShellDocument", actions: ["ssm:SendCommand"], resources: [document] },
          describe("Commands", ["ssm:ListCommands", "ssm:CancelCommand"]),
        ],
      );
    }

    if (args.databaseArn) {
      const groups = [args.webGroupName, ...(args.workerGroupName ? [args.workerGroupName] : [])];
      const instanceTargets = groups.map((g, i) => asgInstances(i === 0 ? "web" : "workers", g, "ALL", true));
      const actions: Action[] = [
        ...instanceTargets.map((t) => ({
          name: `stop-${t.name}`,
          actionId: "aws:ec2:stop-instances",
          target: { key: "Instances", value: t.name },
          parameters: [{ key: "startInstancesAfterDuration", value: duration }],
        })),
        {
          name: "cut-subnets",
          actionId: "aws:network:disrupt-connectivity",
          target: { key: "Subnets", value: "subnets" },
          parameters: [
            { key: "duration", value: duration },
            { key: "scope", value: "all" },
          ],
        },
        rebootWithFailover(),
        ...(args.cacheGroupArn ? [interruptCache(duration)] : []),
      ];
      make(
        "az-outage",
        "az-outage: AZ Availability: Power Interruption of one AZ (instances, subnets, RDS, ElastiCache)",
        actions,
        [
          ...instanceTargets,
          {
            name: "subnets",
            resourceType: "aws:ec2:subnet",
            selectionMode: "ALL",
            resourceArns: subnetArns,
            filters: [{ path: "AvailabilityZone", values: [args.zone] }],
          },
          rdsPrimary(args.databaseArn),
          ...(args.cacheGroupArn ? [cacheGroup(args.cacheGroupArn)] : []),
        ],
        [
          {
            sid: "StopAndStart",
            actions: ["ec2:StopInstances", "ec2:StartInstances"],
            resources: [instanceArns],
            conditions: { StringEquals: onOurInstances },
          },
          // The volumes' key: starting an instance with encrypted volumes creates a grant for EC2.
          {
            sid: "StartEncryptedVolumes",
            actions: ["kms:CreateGrant"],
            resources: ["*"],
            conditions: { Bool: { "kms:GrantIsForAWSResource": "true" } },
          },
          // FIS's own network ACL, created and tagged managedByFIS=true for the outage, then deleted.
          {
            sid: "CutSubnets",
            actions: [
              "ec2:CreateNetworkAcl",
              "ec2:CreateNetworkAclEntry",
              "ec2:CreateTags",
              "ec2:DeleteNetworkAcl",
              "ec2:ReplaceNetworkAclAssociation",
            ],
            resources: ["*"],
          },
          { sid: "Failover", actions: ["rds:RebootDBInstance"], resources: [args.databaseArn] },
          ...(args.cacheGroupArn
            ? [
                {
                  sid: "InterruptPower",
                  actions: ["elasticache:InterruptClusterAzPower"],
                  resources: [args.cacheGroupArn],
                },
              ]
            : []),
          describe("Describe", [
            "ec2:DescribeInstances",
            "ec2:DescribeManagedPrefixLists",
            "ec2:DescribeNetworkAcls",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
            "ec2:GetManagedPrefixListEntries",
            "rds:DescribeDBInstances",
            ...(args.cacheGroupArn ? ["elasticache:DescribeReplicationGroups", "tag:GetResources"] : []),
          ]),
        ],
      );
    }
    for (const d of Object.keys(this.drills)) {
      if (!(d in DRILLS)) throw new Error(`FaultDrills: ${d} is not a drill of stacks/drills.ts`);
    }
    this.registerOutputs({
      templateIds: Object.fromEntries(Object.entries(this.drills).map(([d, v]) => [d, v!.template.id])),
    });
  }
}

function rebootWithFailover(): Action {
  return {
    name: "failover-rds",
    actionId: "aws:rds:reboot-db-instances",
    target: { key: "DBInstances", value: "primary" },
    parameters: [{ key: "forceFailover", value: "true" }],
  };
}

function interruptCache(duration: string): Action {
  return {
    name: "interrupt-cache",
    actionId: "aws:elasticache:replicationgroup-interrupt-az-power",
    target: { key: "ReplicationGroups", value: "cache" },
    parameters: [{ key: "duration", value: duration }],
  };
}
