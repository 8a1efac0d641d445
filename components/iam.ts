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
      if (a === "*" || a.endsWith(":*")) throw new Error(`IAM statement ${s.sid}: action ${JSON.stringify(a)} is a wildcard; list the actions it needs`);
    }
  }
  return pulumi
    .all(statements.map((s) => pulumi.output(s.resources)))
    .apply((resources) =>
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

/** The AWS-managed policy Session Manager needs: shell access without SSH, and without opening port 22. */
export const SSM_CORE_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";

/** Arguments for {@link InstanceRole}. */
export interface InstanceRoleArgs {
  /** What the instances may do beyond Session Manager; each statement names its resources. */
  statements: Statement[];
}

/**
 * The identity of an EC2 tier: a role EC2 may assume, Session Manager core (instead of SSH), one inline policy with
 * only the statements the tier needs, and the instance profile to launch with.
 *
 * Cost: free.
 */
export class InstanceRole extends pulumi.ComponentResource {
  public readonly role: aws.iam.Role;
  public readonly instanceProfile: aws.iam.InstanceProfile;
  /** The instance profile's name, for `iamInstanceProfile`. */
  public readonly profileName: pulumi.Output<string>;

  constructor(name: string, args: InstanceRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:iam:InstanceRole", name, {}, opts);
    this.role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: ec2AssumeRolePolicy, description: `scale-ladder ${name} instances` }, { parent: this });
    new aws.iam.RolePolicyAttachment(`${name}-ssm`, { role: this.role.name, policyArn: SSM_CORE_POLICY_ARN }, { parent: this });
    if (args.statements.length > 0) {
      new aws.iam.RolePolicy(`${name}-policy`, { role: this.role.id, policy: policyDocument(args.statements) }, { parent: this });
    }
    this.instanceProfile = new aws.iam.InstanceProfile(`${name}-profile`, { role: this.role.name }, { parent: this });
    this.profileName = this.instanceProfile.name;
    this.registerOutputs({ roleArn: this.role.arn, profileName: this.profileName });
  }
}
