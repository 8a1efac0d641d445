import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { al2023AmiParameter } from "./instance-types";

/** What every fleet's instances share. */
export interface AppLaunchTemplateArgs {
  instanceType: string;
  /** Instance profile name. */
  profileName: pulumi.Input<string>;
  /** The tier's security group. */
  securityGroupId: pulumi.Input<string>;
  /** Plain-text boot script; encoded here. */
  userData: pulumi.Input<string>;
  /** Name tag of instances and volumes. */
  nameTag: string;
  /**
   * Tags for the instances and volumes the fleet launches: the provider's `defaultTags` tag the launch template
   * itself but do not reach what auto-scaling launches from it, so pass them here.
   * @default {}
   */
  launchTags?: Record<string, string>;
  /**
   * Root volume size, GiB.
   * @default 20
   */
  rootVolumeGb?: number;
}

/**
 * The launch template of an app fleet (web or worker): Amazon Linux 2023 resolved from the public SSM parameter at
 * each launch (`resolve:ssm:`, so new instances get patched AMIs without a template change; see
 * {@link ROLLING_REFRESH} for why this rules out refresh rollback), IMDSv2 required with hop limit 1, an encrypted
 * gp3 root volume, no public IP, detailed monitoring, and the tier's instance profile. Pass the role's policies as
 * `opts.dependsOn` (see `InstanceRole.policies`).
 */
export function appLaunchTemplate(
  name: string,
  args: AppLaunchTemplateArgs,
  opts: pulumi.CustomResourceOptions,
): aws.ec2.LaunchTemplate {
  return new aws.ec2.LaunchTemplate(
    name,
    {
      imageId: `resolve:ssm:${al2023AmiParameter(args.instanceType)}`,
      instanceType: args.instanceType,
      iamInstanceProfile: { name: args.profileName },
      networkInterfaces: [
        {
          deviceIndex: 0,
          associatePublicIpAddress: "false",
          securityGroups: [args.securityGroupId],
          deleteOnTermination: "true",
        },
      ],
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: "disabled",
      },
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: {
            volumeSize: args.rootVolumeGb ?? 20,
            volumeType: "gp3",
            encrypted: "true",
            deleteOnTermination: "true",
          },
        },
      ],
      monitoring: { enabled: true },
      userData: pulumi.output(args.userData).apply((s) => Buffer.from(s, "utf8").toString("base64")),
      updateDefaultVersion: true,
      tagSpecifications: ["instance", "volume"].map((resourceType) => ({
        resourceType,
        tags: { ...args.launchTags, Name: args.nameTag },
      })),
    },
    opts,
  );
}

/** What differs between the web and the worker groups. */
export interface AppGroupArgs {
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  launchTemplate: aws.ec2.LaunchTemplate;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  /** `ELB` behind a load balancer (its `/readyz` checks count), `EC2` otherwise. */
  healthCheckType: "ELB" | "EC2";
  targetGroupArns?: pulumi.Input<string>[];
  nameTag: string;
  /** Tags propagated to launched instances (see {@link AppLaunchTemplateArgs.launchTags}). @default {} */
  launchTags?: Record<string, string>;
}

/**
 * The Auto Scaling group of an app fleet: always on the launch template's latest version, so a new boot script or
 * release rolls out by instance refresh (launch before terminate); first boot gets five minutes before health
 * counts (it installs Node.js and fetches the release); the scaling policies own the running capacity once the
 * group exists, so `desiredCapacity` is only where a new group starts.
 */
export function appAutoScalingGroup(
  name: string,
  args: AppGroupArgs,
  opts: pulumi.CustomResourceOptions,
): aws.autoscaling.Group {
  return new aws.autoscaling.Group(
    name,
    {
      vpcZoneIdentifiers: args.subnetIds,
      minSize: args.minSize,
      maxSize: args.maxSize,
      desiredCapacity: args.desiredCapacity,
      launchTemplate: { id: args.launchTemplate.id, version: pulumi.interpolate`${args.launchTemplate.latestVersion}` },
      targetGroupArns: args.targetGroupArns,
      healthCheckType: args.healthCheckType,
      healthCheckGracePeriod: 300,
      defaultInstanceWarmup: 180,
      instanceRefresh: ROLLING_REFRESH,
      enabledMetrics: GROUP_METRICS,
      tags: Object.entries({ ...args.launchTags, Name: args.nameTag }).map(([key, value]) => ({
        key,
        value,
        propagateAtLaunch: true,
      })),
    },
    { ...opts, ignoreChanges: ["desiredCapacity"] },
  );
}

/**
 * Instance refresh that launches before it terminates: healthy capacity never drops below 100% during a rollout.
 *
 * No `autoRollback`. AWS does not support rollback when the launch template's image id is a Systems Manager
 * parameter (`resolve:ssm:`), which ours is: "A rollback is not supported in the following situations: ... The Auto
 * Scaling group has a launch template that uses an AWS Systems Manager parameter instead of an AMI ID for the ImageId
 * property" (Auto Scaling API Reference, RollbackInstanceRefresh,
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RollbackInstanceRefresh.html; User Guide, "Undo
 * changes with a manual or auto rollback", read 2026-12-01).
 *
 * Of the combinations AWS supports, this one keeps `resolve:ssm:` and drops rollback, because the other one (an AMI
 * id read at deploy time through `aws.ssm.getParameterOutput`) makes the template follow AWS's AMI releases: the
 * first `pulumi up` after AWS publishes an Amazon Linux image — every couple of weeks — would make a new template
 * version and roll the whole fleet, whatever the up was for; and pinning it with `ignoreChanges` would freeze the
 * fleet on its first AMI. With `resolve:ssm:` every launch (scale-out or refresh) gets the current patched AMI and a
 * second `pulumi up` changes nothing. What rollback would have protected is kept by launching first: with
 * `minHealthyPercentage: 100` no old instance is terminated until a new one passes the load balancer's health check,
 * so a bad release fails the refresh and leaves the old instances serving.
 */
export const ROLLING_REFRESH = {
  strategy: "Rolling",
  preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 200, instanceWarmup: "180", autoRollback: false },
};

/** Group metrics published to CloudWatch (dashboards at step 10). */
export const GROUP_METRICS: aws.autoscaling.Metric[] = [
  "GroupDesiredCapacity",
  "GroupInServiceInstances",
  "GroupMinSize",
  "GroupMaxSize",
  "GroupTotalInstances",
];
