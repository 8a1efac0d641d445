import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** One IAM policy statement whose resources may come from other resources. */
export interface Statement {
  /** Short id, shown in the policy and in test failures. */
  sid: string;
  /** Explicit actions: never `*`, never `service:*`. */
  actions: string[];
  /** Resource ARNs the actions apply to. */
  resources: pulumi.Input<pulumi.Input<string>[]>;
  /** IAM condition block, for actions that have no resource-level permissions. */
  conditions?: Record<string, Record<string, string | string[]>>;
}

/** Renders statements as a policy document, refusing wildcard actions so least privilege cannot erode quietly. */
export function policyDocument(statements: Statement[]): pulumi.Output<string> {
  for (const s of statements) {
    for (const a of s.actions) {
      if (a === "*" || a.endsWith(":*"))
        throw new Error(`IAM statement ${s.sid}: action ${JSON.stringify(a)} is a wildcard; list the actions it needs`);
    }
  }
  return pulumi.all(statements.map((s) => pulumi.output(s.resources))).apply((resources) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: statements.map((s, i) => ({
        Sid: s.sid,
        Effect: "Allow",
        Action: s.actions,
        Resource: resources[i],
        ...(s.conditions ? { Condition: s.conditions } : {}),
      })),
    }),
  );
}

/** Trust policy that lets EC2 instances assume a role. */
export const ec2AssumeRolePolicy = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/**
 * What the SSM agent needs for Session Manager and State Manager associations (the single server's release rollout),
 * and nothing that reads data. It is AWS's `AmazonSSMManagedInstanceCore` (v2) without the actions that undo this
 * project's scoped statements or serve features the ladder does not use:
 * - `ssm:GetParameter`, `ssm:GetParameters` on `*`: every parameter of the account, including the ones the scoped
 *   statements exist to fence off; the program grants the parameters it needs by ARN.
 * - `ssm:GetManifest`, `ssm:PutConfigurePackageResult` (Distributor), `ssm:GetDeployablePatchSnapshotForInstance`
 *   (Patch Manager) and `ssm:PutInventory` (Inventory).
 * Kept: agent registration (`UpdateInstanceInformation`), the State Manager calls that run an association and report
 * on it, and the `ssmmessages` / `ec2messages` channels that carry sessions and commands.
 *
 * Sources (read 2026-12-01): AWS Managed Policy Reference, "AmazonSSMManagedInstanceCore"
 * (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedInstanceCore.html, version v2);
 * Systems Manager User Guide, "Reference: ec2messages, ssmmessages, and other API operations"
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-setting-up-messageAPIs.html).
 * These actions have no resource-level permissions that the agent could use, hence `*` (as in the managed policy).
 */
export const SSM_AGENT_STATEMENTS: Statement[] = [
  {
    sid: "SsmAgentCore",
    actions: [
      "ssm:UpdateInstanceInformation",
      "ssm:ListAssociations",
      "ssm:ListInstanceAssociations",
      "ssm:DescribeAssociation",
      "ssm:GetDocument",
      "ssm:DescribeDocument",
      "ssm:UpdateAssociationStatus",
      "ssm:UpdateInstanceAssociationStatus",
      "ssm:PutComplianceItems",
    ],
    resources: ["*"],
  },
  {
    sid: "SessionManagerChannels",
    actions: [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ],
    resources: ["*"],
  },
  {
    sid: "RunCommandMessages",
    actions: [
      "ec2messages:AcknowledgeMessage",
      "ec2messages:DeleteMessage",
      "ec2messages:FailMessage",
      "ec2messages:GetEndpoint",
      "ec2messages:GetMessages",
      "ec2messages:SendReply",
    ],
    resources: ["*"],
  },
];

/** Arguments for {@link InstanceRole}. */
export interface InstanceRoleArgs {
  /** What the instances may do beyond Session Manager; each statement names its resources. */
  statements: Statement[];
}

/**
 * The identity of an EC2 tier: a role EC2 may assume, the SSM agent's own policy (Session Manager instead of SSH; see
 * {@link SSM_AGENT_STATEMENTS}), one inline policy with only the statements the tier needs, and the instance profile
 * to launch with.
 *
 * Launch nothing from the profile before {@link InstanceRole.policies} exist: the profile can be ready while the
 * policies are not, and the first boot then reads no secret. Pass them as `dependsOn`.
 *
 * Cost: free.
 */
export class InstanceRole extends pulumi.ComponentResource {
  public readonly role: aws.iam.Role;
  public readonly instanceProfile: aws.iam.InstanceProfile;
  /** The instance profile's name, for `iamInstanceProfile`. */
  public readonly profileName: pulumi.Output<string>;
  /** The role's policies: what whatever launches with the profile must depend on. */
  public readonly policies: aws.iam.RolePolicy[];

  constructor(name: string, args: InstanceRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:iam:InstanceRole", name, {}, opts);
    this.role = new aws.iam.Role(
      `${name}-role`,
      { assumeRolePolicy: ec2AssumeRolePolicy, description: `scale-ladder ${name} instances` },
      { parent: this },
    );
    this.policies = [
      new aws.iam.RolePolicy(
        `${name}-ssm-agent`,
        { role: this.role.id, policy: policyDocument(SSM_AGENT_STATEMENTS) },
        { parent: this },
      ),
    ];
    if (args.statements.length > 0) {
      this.policies.push(
        new aws.iam.RolePolicy(
          `${name}-policy`,
          { role: this.role.id, policy: policyDocument(args.statements) },
          { parent: this },
        ),
      );
    }
    this.instanceProfile = new aws.iam.InstanceProfile(`${name}-profile`, { role: this.role.name }, { parent: this });
    this.profileName = this.instanceProfile.name;
    this.registerOutputs({ roleArn: this.role.arn, profileName: this.profileName });
  }
}

/**
 * The first statement of every customer-managed key policy here, as in KMS's default key policy.
 * The account (its IAM policies) administers and uses the key; without it a key can become unmanageable
 * (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
 */
export function accountAdministersKey(partition: string, account: string): Record<string, unknown> {
  return {
    Sid: "AccountAdministersKey",
    Effect: "Allow",
    Principal: { AWS: `arn:${partition}:iam::${account}:root` },
    Action: "kms:*",
    Resource: "*",
  };
}
