import { ladderGraph } from "../../lib/graph/graph-cache";
import { Graph, stackConfig } from "../../lib/graph/harness";
import { MOCK_AMI } from "../../lib/graph/mock-outputs";
import { T, ingressRules, plaintextSecretLeaks, sgIdOf, statementsOf } from "../../lib/graph/queries";

describe("step 1: single server", () => {
  let g: Graph;
  beforeAll(async () => {
    g = await ladderGraph(stackConfig(1), "dev");
  }, 300_000);

  it("is one EC2 instance, no database service, no load balancer", () => {
    expect(g.ofType(T.instance)).toHaveLength(1);
    expect(g.ofType(T.rds)).toHaveLength(0);
    expect(
      g.resources.filter((r) => r.type.startsWith("aws:lb/") || r.type.startsWith("aws:autoscaling/")),
    ).toHaveLength(0);
  });

  it("runs Amazon Linux 2023 for its architecture from the public SSM parameter, and keeps it", () => {
    const server = g.one(T.instance);
    expect(server.inputs.ami).toBe(MOCK_AMI);
    expect(server.inputs.instanceType).toBe("t4g.small");
    expect(server.ignoreChanges).toContain("ami");
  });

  it("requires IMDSv2 with a hop limit of 1", () => {
    expect(g.one(T.instance).inputs.metadataOptions).toMatchObject({
      httpTokens: "required",
      httpPutResponseHopLimit: 1,
      httpEndpoint: "enabled",
    });
  });

  it("has an encrypted gp3 root volume", () => {
    expect(g.one(T.instance).inputs.rootBlockDevice).toMatchObject({ encrypted: true, volumeType: "gp3" });
  });

  it("lives in a public subnet behind an Elastic IP, with no SSH key", () => {
    const server = g.one(T.instance);
    expect(server.inputs.subnetId).toMatch(/^subnet-pub0/);
    expect(server.inputs.keyName).toBeUndefined();
    const association = g.one(T.eipAssociation);
    expect(association.inputs.instanceId).toBe(g.outputs.serverInstanceId);
    expect(g.outputs.siteUrl).toBe("http://203.0.113.10/");
  });

  it("opens only HTTP to the world, and port 22 nowhere", () => {
    const rules = ingressRules(g);
    const web = g.one(T.sg, "use1-network-web-sg");
    expect(rules).toEqual([expect.objectContaining({ from: 80, to: 80, cidr: "0.0.0.0/0", groupId: sgIdOf(web) })]);
    for (const r of rules) expect(r.from <= 22 && 22 <= r.to).toBe(false);
  });

  it("uses Session Manager instead of SSH, and its role reads only its release and its secrets", () => {
    // The SSM agent's own policy, not AmazonSSMManagedInstanceCore (which grants ssm:GetParameter(s) on *).
    expect(g.ofType(T.attachment)).toEqual([]);
    expect(statementsOf(g, "use1-server-ssm-agent").flatMap((s) => s.Action)).toEqual(
      expect.arrayContaining(["ssm:UpdateInstanceInformation", "ssmmessages:OpenDataChannel"]),
    );
    const statements = statementsOf(g, "use1-server-policy");
    expect(statements.map((s) => s.Sid).sort()).toEqual(["ReadAppSecrets", "ReadCurrentRelease", "ReadReleases"]);
    for (const s of statements) {
      for (const a of s.Action) expect(a).not.toMatch(/\*/);
      for (const r of s.Resource) expect(r).not.toBe("*");
    }
    const releases = statements.find((s) => s.Sid === "ReadReleases")!;
    expect(releases.Resource).toEqual([
      expect.stringMatching(/^arn:aws:s3:::use1-artifact-bucket-[0-9a-f]+\/releases\/\*$/),
    ]);
  });

  it("installs Node 22 and PostgreSQL on the box and keeps every secret out of user data", () => {
    const userData: string = g.one(T.instance).inputs.userData;
    expect(userData).toMatch(/dnf install -y nodejs22 .*postgresql16-server/);
    expect(userData).toContain("openssl rand -hex 24 > /etc/shop/local-db-password");
    expect(userData).not.toContain("rds-ca.pem");
    expect(userData).toContain("ExecStartPre=+/opt/shop/bin/fetch-release");
    expect(userData).toContain('echo "TRUST_PROXY=false"'); // clients reach this server directly
    expect(plaintextSecretLeaks(g)).toEqual([]);
  });

  it("ships the app from a private, encrypted, versioned bucket", () => {
    const bucket = g.one(T.bucket).name;
    expect(g.one(T.bpa).inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(g.one(T.sse).inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("AES256");
    expect(g.one(T.versioning).inputs.versioningConfiguration.status).toBe("Enabled");
    expect(g.one(T.ownership).inputs.rule.objectOwnership).toBe("BucketOwnerEnforced");
    const policy = JSON.parse(g.one(T.bucketPolicy).inputs.policy);
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    ]);
    expect(bucket).toBe("use1-artifact-bucket");
    const release = g.one(T.bucketObject);
    expect(release.inputs.key).toMatch(/^releases\/shop-[0-9a-f]{16}\.tgz$/);
    expect(release.inputs.acl).toBeUndefined();
  });

  it("rolls a new release out through SSM without replacing the server", () => {
    const rollout = g.one(T.ssmAssociation);
    expect(rollout.inputs.parameters.commands).toContain(g.outputs.releaseUri);
    expect(g.one(T.instance).inputs.userData).not.toContain(g.outputs.releaseUri);
  });

  it("tags through the provider, not each resource", () => {
    const provider = g.one(T.awsProvider);
    // Provider config reaches the engine JSON-encoded.
    expect(provider.inputs.region).toBe("us-east-1");
    expect(JSON.parse(provider.inputs.defaultTags)).toEqual({
      tags: { project: "scale-ladder", stack: "dev", step: "1" },
    });
    for (const r of g.customResources.filter((x) => x.type.startsWith("aws:")))
      expect(r.provider).toMatch(/::aws-us-east-1::/);
  });

  it("puts DNS on the Elastic IP only when a domain is configured", async () => {
    expect(g.ofType(T.record)).toHaveLength(0);
    const withDns = await ladderGraph(
      stackConfig(1, {
        "scale-ladder:domain": "shop.example.com",
        "scale-ladder:hostedZoneId": "Z0123456789ABCDEFGHIJ",
      }),
      "dev",
    );
    expect(withDns.one(T.record).inputs).toMatchObject({
      type: "A",
      name: "shop.example.com",
      zoneId: "Z0123456789ABCDEFGHIJ",
      records: ["203.0.113.10"],
    });
    expect(withDns.outputs.siteUrl).toBe("http://shop.example.com/");
  });
});
