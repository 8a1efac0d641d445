import { KEEP_ALIVE_TIMEOUT_MS } from "../../app/src/http/timeouts";
import { ALB_IDLE_TIMEOUT_SECONDS } from "../../components/load-balancer-timeouts";
import { GraphRequest, ladderGraph, ladderGraphs } from "../../lib/graph/graph-cache";
import { Graph, runLadder, runProgram, stackConfig } from "../../lib/graph/harness";
import { hex } from "../../lib/graph/mock-outputs";
import {
  SECRET_SIG_KEY,
  SECRET_SIG_VALUE,
  T,
  ingressRules,
  reveal,
  plaintextSecretLeaks,
  sgIdOf,
  statementsOf,
} from "../../lib/graph/queries";

const DNS = { "scale-ladder:domain": "shop.example.com", "scale-ladder:hostedZoneId": "Z0123456789ABCDEFGHIJ" };

describe("steps 3–5", () => {
  const g: Record<string, Graph> = {};
  beforeAll(async () => {
    // From the graph cache, under the stack names the other files use, so that the graphs are shared.
    const stacks: Record<string, GraphRequest> = {
      ...Object.fromEntries([2, 3, 4, 5].map((step) => [step, { config: stackConfig(step), stack: "dev" }])),
      dns3: { config: stackConfig(3, DNS), stack: "dev" },
      prod5: { config: stackConfig(5, { "scale-ladder:environment": "prod" }), stack: "prod" },
    };
    const graphs = await ladderGraphs(Object.values(stacks));
    Object.keys(stacks).forEach((k, i) => (g[k] = graphs[i]));
  }, 300_000);

  describe("step 3: load balancer + web fleet", () => {
    it("replaces the single server with a fleet behind an ALB", () => {
      expect(g[3].ofType(T.instance)).toHaveLength(0);
      expect(g[3].one(T.lb).inputs).toMatchObject({
        loadBalancerType: "application",
        internal: false,
        dropInvalidHeaderFields: true,
        enableDeletionProtection: false,
      });
      expect(g.prod5.one(T.lb).inputs.enableDeletionProtection).toBe(true);
    });

    it("closes idle connections before the app does, so it never reuses one the app has closed", () => {
      expect(g[3].one(T.lb).inputs.idleTimeout).toBe(ALB_IDLE_TIMEOUT_SECONDS);
      expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(ALB_IDLE_TIMEOUT_SECONDS * 1000);
    });

    it("spans at least two AZs: the ALB in public subnets, the instances in private ones", () => {
      const alb = g[3].one(T.lb).inputs;
      expect(alb.subnets.length).toBeGreaterThanOrEqual(2);
      for (const s of alb.subnets) expect(s).toMatch(/^subnet-pub/);
      const asg = g[3].one(T.asg).inputs;
      expect(asg.vpcZoneIdentifiers.length).toBeGreaterThanOrEqual(2);
      for (const s of asg.vpcZoneIdentifiers) expect(s).toMatch(/^subnet-prv/);
    });

    it("admits the world only on the ALB's 80 (and 443 with a domain), and the web tier only from the ALB", () => {
      for (const graph of [g[3], g[5]]) {
        const alb = sgIdOf(graph.one(T.sg, "use1-network-alb-sg"));
        const web = sgIdOf(graph.one(T.sg, "use1-network-web-sg"));
        const world = ingressRules(graph).filter((r) => r.cidr !== undefined);
        expect(world).toEqual([expect.objectContaining({ from: 80, to: 80, cidr: "0.0.0.0/0", groupId: alb })]);
        expect(ingressRules(graph).filter((r) => r.groupId === web)).toEqual([
          expect.objectContaining({ from: 3000, to: 3000, sourceSg: alb }),
        ]);
        for (const r of ingressRules(graph)) expect(r.from <= 22 && 22 <= r.to).toBe(false);
      }
      const world = ingressRules(g.dns3)
        .filter((r) => r.cidr !== undefined)
        .map((r) => r.from);
      expect(world.sort()).toEqual([443, 80]);
    });

    it("serves HTTPS with an ACM certificate and redirects HTTP when a domain is set", () => {
      const listeners = g.dns3.ofType(T.listener);
      const https = listeners.find((l) => l.inputs.port === 443)!;
      expect(https.inputs).toMatchObject({ protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" });
      expect(https.inputs.certificateArn).toMatch(/^arn:aws:acm:us-east-1:/);
      const http = listeners.find((l) => l.inputs.port === 80)!;
      expect(http.inputs.defaultActions[0]).toMatchObject({
        type: "redirect",
        redirect: { protocol: "HTTPS", statusCode: "HTTP_301" },
      });
      expect(g.dns3.one(T.acmCert).inputs).toMatchObject({
        domainName: "shop.example.com",
        validationMethod: "DNS",
      });
      expect(g.dns3.outputs.siteUrl).toBe("https://shop.example.com/");
      // Without a domain: plain HTTP forward, the documented fallback.
      expect(g[3].one(T.listener).inputs.defaultActions[0].type).toBe("forward");
    });

    it("keeps one DNS record for the site, now an alias to the ALB", () => {
      // That it is the same record as at step 2 (same URN) is asserted in the climb tests below.
      const record = g.dns3.one(T.record, "use1-site-dns");
      expect(record.inputs.aliases).toEqual([
        expect.objectContaining({ zoneId: "Z35SXDOTRQ7X7K", evaluateTargetHealth: true }),
      ]);
      expect(record.inputs.records).toBeUndefined();
    });

    it("writes access logs to a private encrypted bucket the ELB account may write to", () => {
      const alb = g[3].one(T.lb).inputs;
      expect(alb.accessLogs).toMatchObject({ enabled: true, prefix: "alb" });
      const policy = JSON.parse(g[3].one(T.bucketPolicy, "use1-web-access-logs-policy").inputs.policy);
      expect(policy.Statement).toContainEqual(
        expect.objectContaining({
          Sid: "AlbLogDelivery",
          Principal: { AWS: "arn:aws:iam::127311923021:root" },
          Action: "s3:PutObject",
          Resource: expect.stringMatching(
            /^arn:aws:s3:::use1-web-access-logs-[0-9a-f]+\/alb\/AWSLogs\/123456789012\/\*$/,
          ),
        }),
      );
      expect(g[3].one(T.bpa, "use1-web-access-logs-public-access").inputs.restrictPublicBuckets).toBe(true);
    });

    it("health-checks /readyz and keeps sessions sticky (sessions still live in each server)", () => {
      const tg = g[3].one(T.tg).inputs;
      expect(tg).toMatchObject({ port: 3000, protocol: "HTTP", targetType: "instance", deregistrationDelay: 30 });
      expect(tg.healthCheck).toMatchObject({
        path: "/readyz",
        matcher: "200",
        healthyThreshold: 2,
        unhealthyThreshold: 3,
        interval: 10,
      });
      for (const step of [3, 4, 5])
        expect(g[step].one(T.tg).inputs.stickiness).toMatchObject({
          type: "lb_cookie",
          enabled: true,
        });
    });

    it("launches AL2023 with IMDSv2, encrypted gp3 and no public IP", () => {
      const lt = g[3].one(T.lt).inputs;
      expect(lt.imageId).toBe("resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64");
      expect(lt.metadataOptions).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
      expect(lt.blockDeviceMappings[0].ebs).toMatchObject({ encrypted: "true", volumeType: "gp3" });
      expect(lt.networkInterfaces).toEqual([expect.objectContaining({ associatePublicIpAddress: "false" })]);
      expect(lt.keyName).toBeUndefined();
      // Provider default tags do not reach what auto-scaling launches: the template and the group repeat them.
      for (const spec of lt.tagSpecifications)
        expect(spec.tags).toEqual({ project: "scale-ladder", stack: "dev", step: "3", Name: "use1-web" });
      const asgTags = g[3]
        .one(T.asg)
        .inputs.tags.map(
          (t: { key: string; value: string; propagateAtLaunch: boolean }) =>
            `${t.key}=${t.value}:${t.propagateAtLaunch}`,
        );
      expect(asgTags.sort()).toEqual([
        "Name=use1-web:true",
        "project=scale-ladder:true",
        "stack=dev:true",
        "step=3:true",
      ]);
      const userData = Buffer.from(lt.userData, "base64").toString("utf8");
      expect(userData).toContain("PORT=3000");
      expect(userData).toContain('echo "TRUST_PROXY=true"'); // behind the ALB: X-Forwarded-* are the ALB's
      expect(userData).toContain('echo "COOKIE_SECURE=false"'); // no domain, no HTTPS listener
      expect(userData).toContain(`# release: ${g[3].outputs.releaseUri}`);
    });

    it("joins the target group, checks ELB health, rolls out on template change and tracks CPU", () => {
      const asg = g[3].one(T.asg);
      const tg = g[3].one(T.tg);
      expect(asg.inputs.targetGroupArns).toEqual([expect.stringContaining(":targetgroup/use1-web-tg/")]);
      expect(tg.name).toBe("use1-web-tg");
      expect(asg.inputs).toMatchObject({ healthCheckType: "ELB", minSize: 2, maxSize: 6, desiredCapacity: 2 });
      expect(asg.inputs.instanceRefresh).toMatchObject({
        strategy: "Rolling",
        preferences: { minHealthyPercentage: 100 },
      });
      expect(asg.inputs.launchTemplate.version).toBe("1");
      expect(asg.ignoreChanges).toContain("desiredCapacity");
      const cpu = g[3].one(T.asgPolicy).inputs;
      expect(cpu).toMatchObject({
        policyType: "TargetTrackingScaling",
        targetTrackingConfiguration: {
          targetValue: 50,
          predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
        },
      });
    });

    it("gives instances only Session Manager, their release and their secrets", () => {
      // Session Manager through the agent's own policy (components/iam.ts SSM_AGENT_STATEMENTS), no managed policy.
      expect(g[3].ofType(T.attachment)).toEqual([]);
      expect(statementsOf(g[3], "use1-web-ssm-agent").map((s) => s.Sid)).toEqual([
        "SsmAgentCore",
        "SessionManagerChannels",
        "RunCommandMessages",
      ]);
      expect(
        statementsOf(g[3], "use1-web-policy")
          .map((s) => s.Sid)
          .sort(),
      ).toEqual(["ReadAppSecrets", "ReadCurrentRelease", "ReadDatabaseCredentials", "ReadReleases"]);
      expect(plaintextSecretLeaks(g[3], [T.password, T.secretVersion, T.rds])).toEqual([]);
    });
  });

  describe("step 4: read replicas", () => {
    const replicas = (graph: Graph) => graph.ofType(T.rds).filter((r) => r.name.includes("-replica-"));

    it("adds two replicas of the primary, with no credentials, spread across AZs", () => {
      const primary = g[4].one(T.rds, "use1-db");
      const rs = replicas(g[4]);
      expect(rs.map((r) => r.name)).toEqual(["use1-db-replica-0", "use1-db-replica-1"]);
      for (const r of rs) {
        // The primary's identifier, as the mock assigned it.
        expect(r.inputs.replicateSourceDb).toBe(`use1-db-${hex("use1-db", 7)}`);
        expect(r.inputs.username).toBeUndefined();
        expect(r.inputs.password).toBeUndefined();
        expect(r.inputs.manageMasterUserPassword).toBeUndefined();
        expect(r.inputs.dbName).toBeUndefined();
        expect(r.inputs).toMatchObject({ publiclyAccessible: false, storageEncrypted: true });
      }
      expect(new Set(rs.map((r) => r.inputs.availabilityZone))).toEqual(new Set(["us-east-1a", "us-east-1b"]));
      expect(primary.inputs.multiAz).toBe(true);
      expect(replicas(g[3])).toHaveLength(0);
      expect(g[3].one(T.rds).inputs.multiAz).toBe(false);
    });

    it("keeps the generated password it has had since step 2: the replicas copy it, nothing switches", async () => {
      // RDS cannot replicate an instance whose password it manages; switching at 3 -> 4 was an outage (issue 15).
      expect(g[3].one(T.rds, "use1-db").inputs.password).toEqual(g[4].one(T.rds, "use1-db").inputs.password);
      expect(g[3].outputs.databaseSecretArn).toBe(g[4].outputs.databaseSecretArn);
      const primary = g[4].one(T.rds, "use1-db").inputs;
      expect(primary.manageMasterUserPassword).toBeUndefined();
      expect(primary.password).toEqual({
        [SECRET_SIG_KEY]: SECRET_SIG_VALUE,
        value: expect.stringMatching(/^MockSecret/),
      });
      const stored = JSON.parse(
        reveal(g[4].one(T.secretVersion, "use1-db-credentials-secret-value").inputs.secretString),
      );
      expect(stored).toEqual({ username: "shop_admin", password: primary.password.value });
      expect(g[4].outputs.databaseSecretArn).toMatch(/:secret:use1-db-credentials-secret-/);
      expect(plaintextSecretLeaks(g[4], [T.secretVersion, T.rds])).toEqual([]);
      const { Database } = await import("../../components/database");
      await expect(
        // A program of its own, not a ladder graph: evaluated fresh, past the graph cache.
        runProgram(
          () =>
            new Database("bad", {
              vpcId: "vpc-1",
              subnetIds: ["subnet-1", "subnet-2"],
              clientSecurityGroupIds: [],
              replicas: 1,
            }),
        ),
      ).rejects.toThrow(
        'Database: passwordManagement must be "generated" when replicas > 0 (RDS cannot create a read replica ' +
          'of an instance whose master password it manages), got "rds"',
      );
    });

    it("hands the replica endpoints to the app as DATABASE_REPLICA_URLS", () => {
      const userData = Buffer.from(g[4].one(T.lt).inputs.userData, "base64").toString("utf8");
      for (const host of g[4].outputs.databaseReplicaEndpoints)
        expect(userData).toContain(`@${host}:5432/shop?$DB_TLS`);
      expect(userData).toContain('echo "DATABASE_REPLICA_URLS=$DATABASE_REPLICA_URLS"');
    });
  });

  describe("step 5: cache tier", () => {
    it("is a Valkey replication group with Multi-AZ failover, TLS with an AUTH token, and encryption at rest", () => {
      const rg = g[5].one(T.cache).inputs;
      expect(rg).toMatchObject({
        engine: "valkey",
        numCacheClusters: 2,
        automaticFailoverEnabled: true,
        multiAzEnabled: true,
        transitEncryptionEnabled: true,
        atRestEncryptionEnabled: true,
        snapshotRetentionLimit: 7,
      });
      // The token reaches the provider marked as a Pulumi secret (encrypted in state, masked in output).
      expect(rg.authToken).toEqual({ [SECRET_SIG_KEY]: SECRET_SIG_VALUE, value: expect.stringMatching(/^MockSecret/) });
      expect(g[4].ofType(T.cache)).toHaveLength(0);
    });

    it("keeps the auth token secret: Secrets Manager and the replication group, nowhere else", () => {
      expect(plaintextSecretLeaks(g[5], [T.secretVersion, T.rds, T.cache])).toEqual([]);
      const userData = Buffer.from(g[5].one(T.lt).inputs.userData, "base64").toString("utf8");
      expect(userData).toContain('REDIS_URL="rediss://:$CACHE_TOKEN@master.use1-cache.');
      expect(userData).toContain("CACHE_TTL_SECONDS=60");
      expect(statementsOf(g[5], "use1-web-policy").map((s) => s.Sid)).toContain("ReadCacheToken");
    });

    it("applies the configured eviction policy and rejects one Valkey does not know", async () => {
      expect(g[5].one(T.cachePg).inputs.parameters).toEqual([{ name: "maxmemory-policy", value: "allkeys-lru" }]);
      const lfu = await ladderGraph(stackConfig(5, { "scale-ladder:cacheMaxmemoryPolicy": "allkeys-lfu" }), "dev");
      expect(lfu.one(T.cachePg).inputs.parameters).toEqual([{ name: "maxmemory-policy", value: "allkeys-lfu" }]);
      // Fresh, past the graph cache: the program is expected to throw, so there is no graph to cache.
      await expect(runLadder(stackConfig(5, { "scale-ladder:cacheMaxmemoryPolicy": "lru" }))).rejects.toThrow(
        "scale-ladder:cacheMaxmemoryPolicy must be one of noeviction, allkeys-lru, allkeys-lfu, allkeys-random, " +
          'volatile-lru, volatile-lfu, volatile-random, volatile-ttl, got "lru"',
      );
    });

    it("admits only the web tier on 6379", () => {
      const cacheSg = sgIdOf(g[5].one(T.sg, "use1-cache-sg"));
      const web = sgIdOf(g[5].one(T.sg, "use1-network-web-sg"));
      expect(ingressRules(g[5]).filter((r) => r.groupId === cacheSg)).toEqual([
        expect.objectContaining({ from: 6379, to: 6379, sourceSg: web, cidr: undefined }),
      ]);
      for (const s of g[5].one(T.cacheSubnetGroup).inputs.subnetIds) expect(s).toMatch(/^subnet-iso/);
    });
  });

  describe("climbing 2 → 3 → 4 → 5", () => {
    // Inputs whose change makes RDS replace the instance (ForceNew in the provider).
    const REPLACING = [
      "engine",
      "dbName",
      "username",
      "storageEncrypted",
      "kmsKeyId",
      "availabilityZone",
      "dbSubnetGroupName",
      "identifier",
      "snapshotIdentifier",
      "replicateSourceDb",
      "characterSetName",
      "timezone",
    ];

    it("keeps the RDS primary's URN and replacement-relevant inputs identical", () => {
      const primaries = [2, 3, 4, 5].map((s) => g[s].one(T.rds, "use1-db"));
      for (const p of primaries) {
        expect(p.urn).toBe(primaries[0].urn);
        for (const k of REPLACING)
          expect({ step: p.inputs, key: k, value: p.inputs[k] }).toEqual({
            step: p.inputs,
            key: k,
            value: primaries[0].inputs[k],
          });
      }
    });

    it("keeps every stateful resource of the step below, except the single server at step 3", () => {
      const stateful = /^aws:(rds|s3|elasticache|secretsmanager|ssm\/parameter|ec2\/eip:|route53)/;
      const lost = (from: Graph, to: Graph) => {
        const urns = new Set(to.resources.map((r) => r.urn));
        return from.resources
          .filter((r) => stateful.test(r.type) && !urns.has(r.urn))
          .map((r) => `${r.type} ${r.name}`);
      };
      // Step 3 removes the server and its Elastic IP (documented); nothing else.
      expect(lost(g[2], g[3])).toEqual(["aws:ec2/eip:Eip use1-server-eip"]);
      expect(lost(g[3], g[4])).toEqual([]);
      expect(lost(g[4], g[5])).toEqual([]);
    });

    it("moves the site record from the Elastic IP to the ALB in place", async () => {
      const before = (await ladderGraph(stackConfig(2, DNS), "dev")).one(T.record, "use1-site-dns");
      const after = g.dns3.one(T.record, "use1-site-dns");
      expect(after.urn).toBe(before.urn);
      expect(before.inputs.records).toEqual(["203.0.113.10"]);
      expect({ name: after.inputs.name, type: after.inputs.type, zoneId: after.inputs.zoneId }).toEqual({
        name: before.inputs.name,
        type: before.inputs.type,
        zoneId: before.inputs.zoneId,
      });
    });
  });
});
