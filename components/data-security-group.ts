import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Arguments for {@link dataTierSecurityGroup}. */
export interface DataTierSecurityGroupArgs {
  vpcId: pulumi.Input<string>;
  /** The group's description (immutable in EC2: changing it replaces the group). */
  description: string;
  /** The one port the tier listens on. */
  port: number;
  /** What listens there, for rule descriptions ("Postgres", "Valkey"). */
  service: string;
  /** Security groups let in on `port`, one rule each. A plain list so every rule exists at preview. */
  clientSecurityGroupIds: pulumi.Input<string>[];
  /** CIDRs let in on `port`: peered VPCs of other regions, which cannot be referenced by security group. */
  clientCidrs?: string[];
}

/**
 * The security group of a data tier (database, shards, cache), created as children of `parent`: no rule but one
 * ingress rule per client group, and one per peered CIDR, on the tier's port. Nothing from the internet, no egress
 * needed (data tiers answer, they do not call out).
 */
export function dataTierSecurityGroup(
  parent: pulumi.Resource,
  name: string,
  args: DataTierSecurityGroupArgs,
): aws.ec2.SecurityGroup {
  const sg = new aws.ec2.SecurityGroup(
    `${name}-sg`,
    { vpcId: args.vpcId, description: args.description, tags: { Name: name } },
    { parent },
  );
  const rule = (
    suffix: string,
    source: { referencedSecurityGroupId: pulumi.Input<string> } | { cidrIpv4: string },
    what: string,
  ) =>
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-${suffix}`,
      {
        securityGroupId: sg.id,
        ipProtocol: "tcp",
        fromPort: args.port,
        toPort: args.port,
        description: `${args.service} from ${what}`,
        ...source,
      },
      { parent },
    );
  args.clientSecurityGroupIds.forEach((client, i) =>
    rule(`from-client-${i}`, { referencedSecurityGroupId: client }, "an app tier"),
  );
  (args.clientCidrs ?? []).forEach((cidr, i) => rule(`from-peer-${i}`, { cidrIpv4: cidr }, "a peered region"));
  return sg;
}
