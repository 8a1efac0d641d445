import * as aws from "@pulumi/aws";
// awsx's ec2 module alone: the package index also loads its classic components (ECS, with the AWS SDK's ECS client),
// about 0.15 s of CPU in every program run, plan and test file. The namespace import is for the types only.
import type * as awsx from "@pulumi/awsx";
import { Vpc } from "@pulumi/awsx/ec2";
import * as pulumi from "@pulumi/pulumi";
import { requireOneOf, requireRange } from "./validate";

/** Compute tiers that get a security group from the network. Data tiers own theirs (see `Database`). */
export const COMPUTE_TIERS = ["web", "alb", "worker"] as const;
export type ComputeTier = (typeof COMPUTE_TIERS)[number];

/** Ports of the data tiers that compute tiers may reach, inside the VPC only. */
export const DATA_PORTS = { postgres: 5432, redis: 6379 } as const;

/**
 * The subnets Network asks awsx for in every AZ, in order: public /24, private /20, isolated /24. Fixed from step 1
 * so that climbing never re-plans a subnet.
 */
export const NETWORK_SUBNET_MASKS = [24, 20, 24] as const;
const SUBNET_TYPES = ["Public", "Private", "Isolated"] as const;

const ipToInt = (ip: string) => ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
const intToIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

/**
 * Where awsx's `subnetStrategy: "Auto"` puts {@link NETWORK_SUBNET_MASKS} in a VPC, replayed: each AZ gets an equal
 * block (the VPC prefix plus ceil(log2(AZs)) bits), and inside it each subnet starts at the next boundary of its own
 * size after the previous one (pulumi/pulumi-awsx, awsx/ec2/subnetDistributorNew.ts: `allocateSubnetCidrBlocks`,
 * `nextNetmask`, `newBits`; read 2026-12-01). awsx only checks that the subnets' sizes add up to the AZ block, not
 * where alignment puts them: a /24 then a /20 then a /24 span 8,448 addresses, so with /19 AZ blocks the isolated
 * subnet lands on the next AZ's public one and AWS refuses the overlap at `pulumi up`. `fits` says whether every
 * subnet stays inside its AZ's block.
 */
export function awsxAutoLayout(
  cidr: string,
  availabilityZones: number,
  masks: readonly number[] = NETWORK_SUBNET_MASKS,
): { fits: boolean; subnets: string[] } {
  const [address, bits] = cidr.split("/");
  const vpcPrefix = Number(bits);
  const size = (prefix: number) => 2 ** (32 - prefix);
  const vpcBase = ipToInt(address) - (ipToInt(address) % size(vpcPrefix));
  const azPrefix = vpcPrefix + Math.ceil(Math.log2(availabilityZones));
  const subnets: string[] = [];
  let fits = true;
  for (let az = 0; az < availabilityZones; az++) {
    const azBase = vpcBase + az * size(azPrefix);
    let next = azBase;
    for (const mask of masks) {
      const base = Math.ceil(next / size(mask)) * size(mask);
      subnets.push(`${intToIp(base)}/${mask}`);
      next = base + size(mask);
      if (mask < azPrefix || next > azBase + size(azPrefix)) fits = false;
    }
  }
  return { fits, subnets };
}

/** The longest VPC prefix (smallest VPC) whose {@link awsxAutoLayout} fits, for a number of AZs. */
export function largestVpcPrefix(availabilityZones: number): number {
  let prefix = 8;
  while (prefix < 28 && awsxAutoLayout(`10.0.0.0/${prefix + 1}`, availabilityZones).fits) prefix++;
  return prefix;
}

/** Arguments for {@link Network}. */
export interface NetworkArgs {
  /**
   * The region's name, as configured on the provider passed in `opts`. awsx takes endpoint service names as plain
   * strings, so the S3 gateway endpoint (`com.amazonaws.<region>.s3`) needs it spelled out.
   * @example "us-east-1"
   */
  region: string;
  /**
   * IPv4 CIDR of the VPC.
   * @default "10.0.0.0/16"
   */
  cidrBlock?: string;
  /**
   * Availability zones to span (2 or 3). Changing it later re-plans subnets, so pick it before step 1.
   * @default 2
   */
  availabilityZones?: number;
  /**
   * The zones to span, by name, instead of the region's first `availabilityZones` (awsx's pick). Pick zones that
   * offer the instance types the stack uses (`aws ec2 describe-instance-type-offerings --location-type
   * availability-zone`). Changing it on a running stack replaces every subnet and what lives in them.
   * @default undefined (the region's first `availabilityZones` zones)
   * @example ["us-east-1a", "us-east-1c"]
   */
  availabilityZoneNames?: string[];
  /**
   * awsx NAT strategy. `None` is free and fine while nothing in the private subnets needs the internet (steps 1–2:
   * the server is public, the database isolated). `Single` costs one NAT gateway (~$32/month + data);
   * `OnePerAz` survives the loss of an AZ.
   * @default "None"
   */
  natGateways?: "None" | "Single" | "OnePerAz";
  /**
   * Compute tiers to create security groups for. Each group starts with no ingress; the component that fronts a
   * tier adds the one rule that lets its callers in.
   * @default ["web"]
   */
  tiers?: readonly ComputeTier[];
  /**
   * CIDRs of peered VPCs (other regions at step 11) whose data tiers the compute tiers may reach as well.
   * @default []
   */
  peerCidrs?: string[];
}

/**
 * One region's network: an awsx VPC with public, private and isolated subnets in every AZ, a free S3 gateway
 * endpoint (artifact downloads and Amazon Linux package repositories stay off the NAT), and one security group per
 * compute tier with least-privilege egress.
 *
 * The subnet layout is fixed from step 1 (public /24, private /20, isolated /24 per AZ) so that climbing the ladder
 * never re-plans a subnet: later steps only add NAT gateways and routes.
 *
 * Cost: the VPC, subnets and gateway endpoint are free; each NAT gateway is about $32/month plus $0.045/GB in
 * us-east-1.
 */
export class Network extends pulumi.ComponentResource {
  /** The awsx VPC, for anything this component does not expose. */
  public readonly vpc: awsx.ec2.Vpc;
  public readonly vpcId: pulumi.Output<string>;
  /** Subnets with a route to the internet gateway: load balancers, the step-1 server, NAT gateways. */
  public readonly publicSubnetIds: pulumi.Output<string[]>;
  /** Subnets with egress through NAT: the web and worker fleets. */
  public readonly privateSubnetIds: pulumi.Output<string[]>;
  /** Subnets with no route out at all: databases and caches. */
  public readonly isolatedSubnetIds: pulumi.Output<string[]>;
  /** The VPC CIDR, for egress rules that stay inside the VPC. */
  public readonly cidrBlock: string;
  /** One security group per requested compute tier. */
  public readonly securityGroups: Partial<Record<ComputeTier, aws.ec2.SecurityGroup>>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:network:Network", name, args, opts);
    const cidrBlock = args.cidrBlock ?? "10.0.0.0/16";
    const azs = args.availabilityZones ?? 2;
    requireRange("Network", "availabilityZones", azs, 2, 3);
    const zoneNames = args.availabilityZoneNames;
    if (zoneNames !== undefined && (zoneNames.length !== azs || zoneNames.some((z) => !z.startsWith(args.region)))) {
      throw new Error(
        `Network: availabilityZoneNames must be ${azs} zones of ${args.region}, got ${JSON.stringify(zoneNames)}`,
      );
    }
    if (!awsxAutoLayout(cidrBlock, azs).fits) {
      throw new Error(
        `Network: cidrBlock ${cidrBlock} cannot hold a /24, a /20 and a /24 in each of ${azs} AZs; use a ` +
          `/${largestVpcPrefix(azs)} or larger`,
      );
    }
    const natGateways = args.natGateways ?? "None";
    requireOneOf("Network", "natGateways", natGateways, ["None", "Single", "OnePerAz"]);
    const tiers = args.tiers ?? ["web"];
    for (const t of tiers) requireOneOf("Network", "tiers", t, COMPUTE_TIERS);
    this.cidrBlock = cidrBlock;

    this.vpc = new Vpc(
      `${name}-vpc`,
      {
        cidrBlock,
        // awsx takes one or the other; stacks built before availabilityZoneNames existed keep the number (same zones).
        ...(zoneNames !== undefined ? { availabilityZoneNames: zoneNames } : { numberOfAvailabilityZones: azs }),
        enableDnsHostnames: true,
        enableDnsSupport: true,
        subnetStrategy: "Auto",
        subnetSpecs: SUBNET_TYPES.map((type, i) => ({ type, cidrMask: NETWORK_SUBNET_MASKS[i] })),
        natGateways: { strategy: natGateways },
        // "Auto" attaches the gateway endpoint to every route table the VPC creates.
        vpcEndpointStrategy: "Auto",
        vpcEndpointSpecs: [{ serviceName: `com.amazonaws.${args.region}.s3`, vpcEndpointType: "Gateway" }],
        tags: { Name: `${name}-vpc` },
      },
      { parent: this },
    );
    this.vpcId = this.vpc.vpcId;
    this.publicSubnetIds = this.vpc.publicSubnetIds;
    this.privateSubnetIds = this.vpc.privateSubnetIds;
    this.isolatedSubnetIds = this.vpc.isolatedSubnetIds;

    this.securityGroups = {};
    for (const tier of tiers) {
      const sg = new aws.ec2.SecurityGroup(
        `${name}-${tier}-sg`,
        {
          vpcId: this.vpcId,
          description: `scale-ladder ${tier} tier`,
          // Rules are separate resources so that a step can add or drop one without touching the group.
          tags: { Name: `${name}-${tier}` },
        },
        { parent: this },
      );
      this.securityGroups[tier] = sg;
      if (tier === "alb") continue; // the load balancer's egress is added with its targets
      // Compute tiers talk HTTPS to AWS APIs and package repositories, and to data tiers inside the VPC only.
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-${tier}-https-out`,
        {
          securityGroupId: sg.id,
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          cidrIpv4: "0.0.0.0/0",
          description: "HTTPS to AWS APIs and package repositories",
        },
        { parent: this },
      );
      for (const [service, port] of Object.entries(DATA_PORTS)) {
        new aws.vpc.SecurityGroupEgressRule(
          `${name}-${tier}-${service}-out`,
          {
            securityGroupId: sg.id,
            ipProtocol: "tcp",
            fromPort: port,
            toPort: port,
            cidrIpv4: cidrBlock,
            description: `${service} inside the VPC`,
          },
          { parent: this },
        );
      }
      // Writes from a secondary region go to the primary's databases over the peering (step 11).
      (args.peerCidrs ?? []).forEach((peer, i) => {
        new aws.vpc.SecurityGroupEgressRule(
          `${name}-${tier}-postgres-peer-${i}`,
          {
            securityGroupId: sg.id,
            ipProtocol: "tcp",
            fromPort: DATA_PORTS.postgres,
            toPort: DATA_PORTS.postgres,
            cidrIpv4: peer,
            description: "postgres in a peered region",
          },
          { parent: this },
        );
      });
    }

    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      isolatedSubnetIds: this.isolatedSubnetIds,
    });
  }

  /** The security group of a tier this network was asked to create; throws with the tiers it has otherwise. */
  securityGroup(tier: ComputeTier): aws.ec2.SecurityGroup {
    const sg = this.securityGroups[tier];
    if (!sg)
      throw new Error(
        `Network has no "${tier}" security group; it was created with tiers ` +
          `${Object.keys(this.securityGroups).join(", ")}`,
      );
    return sg;
  }
}
