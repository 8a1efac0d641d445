import { runProgram } from "../../lib/graph/harness";
import { T } from "../../lib/graph/queries";

const newNetwork = async (args: Record<string, unknown> = {}) => {
  const { Network } = await import("../../components/network");
  // A program of its own, not a ladder graph: evaluated fresh, past the graph cache.
  return runProgram(() => {
    new Network("net", { region: "eu-west-1", ...args });
  });
};

describe("Network", () => {
  it("builds a 2-AZ VPC with public, private and isolated subnets, cheap NAT and an S3 gateway endpoint", async () => {
    const g = await newNetwork();
    const vpc = g.one(T.vpc).inputs;
    expect(vpc).toMatchObject({
      cidrBlock: "10.0.0.0/16",
      numberOfAvailabilityZones: 2,
      natGateways: { strategy: "None" },
      subnetStrategy: "Auto",
      vpcEndpointStrategy: "Auto",
    });
    expect(vpc.subnetSpecs.map((s: { type: string }) => s.type)).toEqual(["Public", "Private", "Isolated"]);
    expect(vpc.vpcEndpointSpecs).toEqual([{ serviceName: "com.amazonaws.eu-west-1.s3", vpcEndpointType: "Gateway" }]);
  });

  it("takes the NAT strategy and AZ count it is given", async () => {
    const g = await newNetwork({ natGateways: "OnePerAz", availabilityZones: 3, cidrBlock: "10.20.0.0/16" });
    expect(g.one(T.vpc).inputs).toMatchObject({
      natGateways: { strategy: "OnePerAz" },
      numberOfAvailabilityZones: 3,
      cidrBlock: "10.20.0.0/16",
    });
  });

  it("gives each compute tier a group with no ingress and least-privilege egress", async () => {
    const g = await newNetwork({ tiers: ["web", "worker", "alb"] });
    expect(
      g
        .ofType(T.sg)
        .map((s) => s.name)
        .sort(),
    ).toEqual(["net-alb-sg", "net-web-sg", "net-worker-sg"]);
    expect(g.ofType(T.ingress)).toHaveLength(0);
    for (const sg of g.ofType(T.sg)) expect(sg.inputs.ingress ?? []).toEqual([]);
    const egress = g
      .ofType(T.egress)
      .map((e) => `${e.name} ${e.inputs.fromPort}-${e.inputs.toPort} ${e.inputs.cidrIpv4}`);
    expect(egress.sort()).toEqual([
      "net-web-https-out 443-443 0.0.0.0/0",
      "net-web-postgres-out 5432-5432 10.0.0.0/16",
      "net-web-redis-out 6379-6379 10.0.0.0/16",
      "net-worker-https-out 443-443 0.0.0.0/0",
      "net-worker-postgres-out 5432-5432 10.0.0.0/16",
      "net-worker-redis-out 6379-6379 10.0.0.0/16",
    ]);
  });

  it.each([
    [{ availabilityZones: 4 }, "Network: availabilityZones must be an integer from 2 to 3, got 4"],
    [{ natGateways: "Double" }, 'Network: natGateways must be one of None, Single, OnePerAz, got "Double"'],
    [{ tiers: ["db"] }, 'Network: tiers must be one of web, alb, worker, got "db"'],
  ])("rejects bad args with a message naming them (%j)", async (args, message) => {
    await expect(newNetwork(args)).rejects.toThrow(message);
  });

  it("says which tiers exist when asked for one it lacks", async () => {
    const { Network } = await import("../../components/network");
    // A program of its own, not a ladder graph: evaluated fresh, past the graph cache.
    await runProgram(() => {
      const net = new Network("net2", { region: "us-east-1" });
      expect(() => net.securityGroup("worker")).toThrow(
        'Network has no "worker" security group; it was created with tiers web',
      );
    });
  });
});
