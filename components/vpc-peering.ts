import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** One side of a peering. */
export interface PeerSide {
  vpcId: pulumi.Input<string>;
  cidr: string;
  region: string;
  /** The provider of the side's region. */
  provider: aws.Provider;
  /**
   * How many private and isolated route tables the side's VPC has (awsx makes one per subnet: two per AZ); their
   * ids are looked up by awsx's `Name` tags and each gets a route to the other side.
   */
  routeTableCount: number;
}

/** Arguments for {@link VpcPeering}. */
export interface VpcPeeringArgs {
  /** The primary region's VPC, which requests the peering. */
  requester: PeerSide;
  /** A secondary region's VPC, which accepts it. */
  accepter: PeerSide;
}

/**
 * Step 11: a cross-region VPC peering between the primary region and a secondary one, so that the secondary's
 * servers write to the primary's databases (catalog writes, order shards) over AWS's network, never the internet.
 * Routes go into the private (fleets) and isolated (databases) route tables of both sides; public route tables get
 * none. Cross-region peering cannot reference security groups, so the databases admit the peer's CIDR.
 *
 * Cost: no hourly charge; $0.02/GB of inter-region transfer.
 */
export class VpcPeering extends pulumi.ComponentResource {
  public readonly connection: aws.ec2.VpcPeeringConnection;

  constructor(name: string, args: VpcPeeringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:network:VpcPeering", name, {}, opts);
    const { requester, accepter } = args;
    this.connection = new aws.ec2.VpcPeeringConnection(
      `${name}`,
      {
        vpcId: requester.vpcId,
        peerVpcId: accepter.vpcId,
        peerRegion: accepter.region,
        autoAccept: false,
        tags: { Name: name },
      },
      { parent: this, provider: requester.provider },
    );
    const accepted = new aws.ec2.VpcPeeringConnectionAccepter(
      `${name}-accept`,
      { vpcPeeringConnectionId: this.connection.id, autoAccept: true, tags: { Name: name } },
      { parent: this, provider: accepter.provider },
    );
    for (const [role, side, other] of [
      ["requester", requester, accepter],
      ["accepter", accepter, requester],
    ] as const) {
      const tables = aws.ec2.getRouteTablesOutput(
        { vpcId: side.vpcId, filters: [{ name: "tag:Name", values: ["*private*", "*isolated*"] }] },
        { parent: this, provider: side.provider },
      ).ids;
      for (let i = 0; i < side.routeTableCount; i++) {
        new aws.ec2.Route(
          `${name}-${role}-route-${i}`,
          {
            routeTableId: tables.apply((ids) => {
              if (ids.length !== side.routeTableCount) {
                throw new Error(
                  `VpcPeering ${name}: expected ${side.routeTableCount} private and isolated route tables in ` +
                    `${side.region}, found ${ids.length}`,
                );
              }
              return [...ids].sort()[i];
            }),
            destinationCidrBlock: other.cidr,
            vpcPeeringConnectionId: accepted.id,
          },
          { parent: this, provider: side.provider },
        );
      }
    }
    this.registerOutputs({ connectionId: this.connection.id });
  }
}
