import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { SHARD_BUCKETS, assignBuckets } from "../../components/shard-map";
import { BUSINESS_METRICS } from "../../components/telemetry";
import { GraphRequest, ladderGraphs } from "../../lib/graph/graph-cache";
import { Graph, runLadder, stackConfig } from "../../lib/graph/harness";
import { T, ingressRules, plaintextSecretLeaks, reveal, sgIdOf, statementsOf } from "../../lib/graph/queries";

const DNS = { "scale-ladder:domain": "shop.example.com", "scale-ladder:hostedZoneId": "Z0123456789ABCDEFGHIJ" };
const CLUSTER = T.cluster;
const userDataOf = (g: Graph, lt: string) => Buffer.from(g.one(T.lt, lt).inputs.userData, "base64").toString("utf8");

describe("shard map", () => {
  it("is balanced to within one bucket, and adding a shard moves buckets only to it", () => {
    for (let n = 1; n <= 8; n++) {
      const map = assignBuckets(n);
      expect(map).toHaveLength(SHARD_BUCKETS);
      const sizes = Array.from({ length: n }, (_, s) => map.filter((o) => o === s).length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      if (n > 1) {
        const before = assignBuckets(n - 1);
        const moved = map.map((o, b) => [o, b]).filter(([o, b]) => o !== before[b]);
        expect(moved.every(([o]) => o === n - 1)).toBe(true);
        expect(moved.length).toBe(sizes[n - 1]);
      }
    }
    expect(() => assignBuckets(0)).toThrow("shards must be an integer from 1 to 256, got 0");
  });
});

describe("steps 9–11", () => {
  const g: Record<string, Graph> = {};
  beforeAll(async () => {
    // From the graph cache, under the stack names the other files use, so that the graphs are shared.
    const stacks: Record<string, GraphRequest> = {
      ...Object.fromEntries([8, 9, 10, 11].map((step) => [step, { config: stackConfig(step), stack: "dev" }])),
      dns10: { config: stackConfig(10, DNS), stack: "dev" },
      dns11: { config: stackConfig(11, DNS), stack: "dev" },
      prod10: {
        config: stackConfig(10, {
          "scale-ladder:environment": "prod",
          "scale-ladder:alarmEmail": "oncall@example.com",
        }),
        stack: "prod",
      },
    };
    const graphs = await ladderGraphs(Object.values(stacks));
    Object.keys(stacks).forEach((k, i) => (g[k] = graphs[i]));
    // Seven graphs: on a loaded machine (several test files at once) this takes longer than jest's default minute.
  }, 300_000);

  describe("step 9: sharded Aurora", () => {
    it("creates an encrypted Aurora PostgreSQL cluster per shard, each a writer and a reader in different AZs", () => {
      const clusters = g[9].ofType(CLUSTER);
      expect(clusters.map((c) => c.name)).toEqual(["use1-shards-0", "use1-shards-1"]);
      for (const c of clusters) {
        expect(c.inputs).toMatchObject({
          engine: "aurora-postgresql",
          storageEncrypted: true,
          backupRetentionPeriod: 7,
          databaseName: "orders",
          masterUsername: "shop_admin",
        });
        const instances = g[9].ofType(T.clusterInstance).filter((i) => i.name.startsWith(`${c.name}-`));
        expect(instances.map((i) => i.name.slice(c.name.length + 1)).sort()).toEqual(["reader", "writer"]);
        expect(new Set(instances.map((i) => i.inputs.availabilityZone)).size).toBe(2);
        for (const i of instances) expect(i.inputs.publiclyAccessible).toBe(false);
      }
      expect(g[8].ofType(CLUSTER)).toHaveLength(0);
    });

    it("keeps the master password generated, secret, and out of everything but the cluster and its secret", () => {
      for (const c of g[9].ofType(CLUSTER)) expect(c.inputs.manageMasterUserPassword).toBeUndefined();
      expect(plaintextSecretLeaks(g[9], [T.secretVersion, T.rds, CLUSTER, T.cache, T.dist, T.listenerRule])).toEqual(
        [],
      );
      expect(g[9].one(T.cpg).inputs.parameters).toContainEqual({
        name: "rds.force_ssl",
        value: "1",
      });
    });

    it("admits only the web and worker tiers on 5432", () => {
      const shardSg = sgIdOf(g[9].one(T.sg, "use1-shards-sg"));
      const sources = ingressRules(g[9]).filter((r) => r.groupId === shardSg);
      expect(sources.map((r) => [r.from, r.sourceSg]).sort()).toEqual(
        [
          [5432, sgIdOf(g[9].one(T.sg, "use1-network-web-sg"))],
          [5432, sgIdOf(g[9].one(T.sg, "use1-network-worker-sg"))],
        ].sort(),
      );
      expect(sources.every((r) => r.cidr === undefined)).toBe(true);
    });

    it("publishes the bucket map in SSM and renders ORDER_SHARDS from it at boot", () => {
      const map = JSON.parse(reveal(g[9].one(T.ssmParameter, "use1-shards-map").inputs.value));
      expect(map).toEqual({
        version: 1,
        bucketCount: 256,
        buckets: assignBuckets(2),
        shards: ["use1-shards-0", "use1-shards-1"],
      });
      for (const lt of ["use1-web-lt", "use1-workers-lt"]) {
        const ud = userDataOf(g[9], lt);
        expect(ud).toContain(`--name '${g[9].outputs.shardMapParameterName}'`);
        expect(ud).toContain('echo "ORDER_SHARDS=$ORDER_SHARDS"');
        for (const writer of g[9].outputs.shardEndpoints) expect(ud).toContain(writer);
      }
      const sids = statementsOf(g[9], "use1-web-policy").map((s) => s.Sid);
      expect(sids).toEqual(expect.arrayContaining(["ReadShardCredentials", "ReadShardMap"]));
    });
  });

  describe("step 10: logging, metrics, automation", () => {
    it("keeps logs for a set time: 30 days in dev, 90 in prod", () => {
      // The telemetry's groups (the WAF's, kept logRetentionDays too, are test/infra/web-acl.test.ts's).
      const groups = g[10].ofType(T.logGroup).filter((l) => String(l.inputs.name).startsWith("/scale-ladder/"));
      expect(groups.map((l) => l.inputs.name).sort()).toEqual([
        "/scale-ladder/dev/use1/app",
        "/scale-ladder/dev/use1/metrics",
        "/scale-ladder/dev/use1/system",
        "/scale-ladder/dev/use1/worker",
      ]);
      for (const l of groups) expect(l.inputs.retentionInDays).toBe(30);
      for (const l of g.prod10.ofType(T.logGroup)) expect(l.inputs.retentionInDays).toBe(90);
    });

    it("configures the CloudWatch agent from SSM: memory, disk, the app's logs and the EMF listener", () => {
      const param = g[10].one(T.ssmParameter, "use1-telemetry-agent-config");
      expect(param.inputs.name).toBe("AmazonCloudWatch-scale-ladder-dev-use1-telemetry");
      const config = JSON.parse(reveal(param.inputs.value));
      expect(Object.keys(config.metrics.metrics_collected).sort()).toEqual(["disk", "mem"]);
      expect(config.logs.metrics_collected).toEqual({ emf: {} });
      const files = config.logs.logs_collected.files.collect_list.map(
        (f: { file_path: string; log_group_name: string }) => `${f.file_path} -> ${f.log_group_name}`,
      );
      expect(files).toEqual(
        expect.arrayContaining([
          "/var/log/shop/server.log -> /scale-ladder/dev/use1/app",
          "/var/log/shop/worker.log -> /scale-ladder/dev/use1/worker",
        ]),
      );
      const ud = userDataOf(g[10], "use1-web-lt");
      expect(ud).toContain(
        "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c " +
          "'ssm:AmazonCloudWatch-scale-ladder-dev-use1-telemetry'",
      );
      expect(ud).toContain("StandardOutput=append:/var/log/shop/server.log");
      expect(ud).toContain('echo "AWS_EMF_ENVIRONMENT=Agent"');
      expect(userDataOf(g[10], "use1-workers-lt")).toContain("StandardOutput=append:/var/log/shop/worker.log");
    });

    it("lets instances ship only to their log groups, and put metrics only in two namespaces", () => {
      const st = statementsOf(g[10], "use1-web-policy");
      const ship = st.find((s) => s.Sid === "ShipLogs")!;
      expect(
        ship.Resource.every((r) =>
          /^arn:aws:logs:us-east-1:123456789012:log-group:\/scale-ladder\/dev\/use1\/[a-z]+:\*$/.test(r),
        ),
      ).toBe(true);
      const put = st.find((s) => s.Sid === "PutAgentMetrics") as unknown as { Condition: unknown; Action: string[] };
      expect(put.Action).toEqual(["cloudwatch:PutMetricData"]);
      expect(put.Condition).toEqual({ StringEquals: { "cloudwatch:namespace": ["CWAgent", "ScaleLadder/Shop"] } });
    });

    it("has a dashboard that parses and names every metric of the three levels", () => {
      const body = JSON.parse(g[10].one(T.dashboard).inputs.dashboardBody);
      const names = new Set<string>();
      for (const w of body.widgets) {
        if (w.type !== "metric") continue;
        expect(w.properties.region).toBe("us-east-1");
        for (const m of w.properties.metrics) names.add(`${m[0]}/${m[1]}`);
      }
      const expected = [
        "AWS/EC2/CPUUtilization",
        "CWAgent/mem_used_percent",
        "CWAgent/disk_used_percent",
        "AWS/ApplicationELB/RequestCount",
        "AWS/ApplicationELB/HTTPCode_Target_5XX_Count",
        "AWS/ApplicationELB/TargetResponseTime",
        "AWS/RDS/CPUUtilization",
        "AWS/RDS/DatabaseConnections",
        "AWS/RDS/ReplicaLag",
        "AWS/RDS/AuroraReplicaLagMaximum",
        "AWS/ElastiCache/CacheHitRate",
        "AWS/ElastiCache/Evictions",
        "AWS/SQS/ApproximateNumberOfMessagesVisible",
        "AWS/SQS/ApproximateAgeOfOldestMessage",
        ...BUSINESS_METRICS.filter((m) => m !== "QueueLagSeconds").map((m) => `ScaleLadder/Shop/${m}`),
      ];
      for (const e of expected) expect({ metric: e, present: names.has(e) }).toEqual({ metric: e, present: true });
      const p99 = body.widgets.find(
        (w: { properties: { title?: string } }) => w.properties.title === "ALB p99 latency (s)",
      );
      expect(p99.properties.metrics[0][4]).toEqual({ stat: "p99" });
      const dbIds = body.widgets
        .find((w: { properties: { title?: string } }) => w.properties.title === "Replica lag (s)")
        .properties.metrics.map((m: string[]) => m[3]);
      expect(dbIds).toHaveLength(2);
      expect(g[10].outputs.dashboardUrl).toBe(
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1" +
          "#dashboards:name=scale-ladder-dev-use1-monitoring",
      );
    });

    it("wires every alarm to the encrypted topic, with an e-mail subscription only when configured", () => {
      const topic = g[10].one(T.topic);
      expect(topic.inputs.kmsMasterKeyId).toMatch(/^arn:aws:kms:us-east-1:123456789012:key\/[0-9a-f-]{36}$/);
      const alarms = g[10].ofType(T.alarm);
      const names = alarms.map((a) => a.name.replace("use1-monitoring-", "")).sort();
      expect(names).toEqual([
        "5xx-rate",
        "cache-cpu",
        "cache-evictions",
        "db-connections",
        "db-cpu",
        "dlq-not-empty",
        "orders-waiting",
        "p99-latency",
        "replica-cpu-0",
        "replica-cpu-1",
        "replica-lag-0",
        "replica-lag-1",
        "sessions-cpu",
        "sessions-memory",
        "shard-connections-0",
        "shard-connections-1",
        "shard-cpu-0",
        "shard-cpu-1",
        "shard-lag-0",
        "shard-lag-1",
        "web-cpu",
        "web-cpu-over-target",
      ]);
      for (const a of alarms) {
        expect(a.inputs.alarmActions).toEqual([
          expect.stringContaining(":sns:us-east-1:123456789012:use1-monitoring-alarms"),
        ]);
        expect((a.inputs.period ?? 60) * a.inputs.evaluationPeriods).toBeLessThanOrEqual(86400);
      }
      expect(g[10].ofType(T.topicSubscription)).toHaveLength(0);
      expect(g.prod10.one(T.topicSubscription).inputs).toMatchObject({
        protocol: "email",
        endpoint: "oncall@example.com",
      });
    });

    it("ships CI workflow templates that parse and call scripts that exist", () => {
      const root = path.resolve(__dirname, "../..");
      const dir = path.join(root, ".github", "workflows");
      const files = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".yml"))
        .sort();
      expect(files).toEqual(["ci.yml", "deploy.yml", "preview.yml"]);
      const scripts = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts as Record<
        string,
        string
      >;
      for (const f of files) {
        const wf = parse(fs.readFileSync(path.join(dir, f), "utf8"));
        expect(Object.keys(wf.jobs).length).toBeGreaterThan(0);
        for (const job of Object.values(wf.jobs) as Array<{
          steps?: Array<{ run?: string; uses?: string; with?: Record<string, string> }>;
          uses?: string;
        }>) {
          if (job.uses) expect(fs.existsSync(path.join(root, job.uses))).toBe(true);
          for (const step of job.steps ?? []) {
            for (const m of (step.run ?? "").matchAll(/npm run ([\w:-]+)/g))
              expect({ file: f, script: m[1], exists: m[1] in scripts }).toEqual({
                file: f,
                script: m[1],
                exists: true,
              });
            for (const m of (step.run ?? "").matchAll(/bash (\S+)/g))
              expect(fs.existsSync(path.join(root, m[1]))).toBe(true);
            if (step.uses?.startsWith("pulumi/actions")) {
              expect(step.with?.policyPacks).toBe("policies");
              expect(fs.existsSync(path.join(root, "policies"))).toBe(true);
            }
          }
        }
        // OIDC to AWS, never long-lived keys.
        expect(fs.readFileSync(path.join(dir, f), "utf8")).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/);
      }
      expect(parse(fs.readFileSync(path.join(dir, "deploy.yml"), "utf8")).permissions["id-token"]).toBe("write");
    });
  });

  describe("step 11: multiple regions", () => {
    const regionOfResource = (r: { provider?: string }) =>
      /::aws-([a-z0-9-]+?)(-certificates)?::/.exec(r.provider ?? "")?.[1];

    it("creates one provider per region and puts every regional resource under the right one", () => {
      const providers = g.dns11
        .ofType(T.awsProvider)
        .map((p) => `${p.name}=${p.inputs.region}`)
        .sort();
      expect(providers).toEqual(["aws-eu-west-1=eu-west-1", "aws-us-east-1=us-east-1"]);
      for (const r of g.dns11.customResources.filter((x) => x.type.startsWith("aws:"))) {
        // Resources of the secondary start with its code; of the peering, the accepting side's are the secondary's.
        const secondary =
          r.name.startsWith("euw1-") || r.name.startsWith("geo-euw1-") || /^use1-to-euw1-accept/.test(r.name);
        const expected = secondary ? "eu-west-1" : "us-east-1";
        expect({ name: r.name, region: regionOfResource(r) }).toEqual({ name: r.name, region: expected });
      }
      expect(regionOfResource(g.dns11.one(T.peeringAccepter))).toBe("eu-west-1");
    });

    it("keeps the primary's URNs: the second region is added beside it", () => {
      const urns = new Set(g.dns11.resources.map((r) => r.urn));
      const lost = g.dns10.resources.filter((r) => !urns.has(r.urn)).map((r) => r.name);
      expect(lost).toEqual([]);
    });

    it("replicates the catalog to the secondary region, encrypted with its key, the primary's credentials", () => {
      const replica = g.dns11.one(T.rds, "euw1-db");
      expect(replica.inputs.replicateSourceDb).toMatch(/^arn:aws:rds:us-east-1:123456789012:db:use1-db$/);
      expect(replica.inputs.kmsKeyId).toMatch(/^arn:aws:kms:eu-west-1:123456789012:/);
      expect(replica.inputs.username).toBeUndefined();
      expect(replica.inputs.password).toBeUndefined();
      const ud = userDataOf(g.dns11, "euw1-web-lt");
      // Its region's replica of the primary's secret (secondary-region.test.ts: nothing read from the primary).
      const secretReplica = String(g.dns11.outputs.databaseSecretArn).replace(":us-east-1:", ":eu-west-1:");
      expect(ud).toContain(`DB_SECRET=$(secret '${secretReplica}')`);
      expect(ud).toContain(g.dns11.outputs.databaseEndpoint.split(":")[0]); // writes go to the primary
      expect(ud).toContain("@euw1-db.c"); // reads stay local
    });

    // The secondaries' version is the global database's running one (databases-on-aws.test.ts checks the edge).
    it("makes each shard an Aurora global database: a secondary cluster in the other region, same engine", () => {
      const globals = g.dns11.ofType(T.globalCluster);
      expect(globals.map((x) => x.name)).toEqual(["use1-shards-0-global", "use1-shards-1-global"]);
      expect(globals.map((x) => x.inputs.globalClusterIdentifier)).toEqual([
        "scale-ladder-dev-use1-shards-0-global",
        "scale-ladder-dev-use1-shards-1-global",
      ]);
      const primaryClusters = g.dns11.ofType(CLUSTER).filter((c) => c.name.startsWith("use1-"));
      const secondaryClusters = g.dns11.ofType(CLUSTER).filter((c) => c.name.startsWith("euw1-"));
      expect(secondaryClusters).toHaveLength(2);
      secondaryClusters.forEach((c, i) => {
        expect(c.inputs.globalClusterIdentifier).toBe(`scale-ladder-dev-use1-shards-${i}-global`);
        expect(c.inputs.masterUsername).toBeUndefined();
        expect(c.inputs.kmsKeyId).toMatch(/^arn:aws:kms:eu-west-1:/);
        expect({ engine: c.inputs.engine, version: c.inputs.engineVersion }).toEqual({
          engine: primaryClusters[i].inputs.engine,
          version: primaryClusters[i].inputs.engineVersion,
        });
      });
      for (const c of primaryClusters) expect(c.ignoreChanges).toContain("globalClusterIdentifier");
    });

    it("peers the VPCs with non-overlapping CIDRs and routes between their private and isolated subnets", () => {
      const vpcs = g.dns11
        .ofType(T.vpc)
        .map((v) => v.inputs.cidrBlock)
        .sort();
      expect(vpcs).toEqual(["10.0.0.0/16", "10.1.0.0/16"]);
      expect(g.dns11.one(T.peering).inputs).toMatchObject({
        peerRegion: "eu-west-1",
      });
      const routes = g.dns11.ofType(T.route);
      expect(routes.filter((r) => r.inputs.destinationCidrBlock === "10.1.0.0/16")).toHaveLength(4);
      expect(routes.filter((r) => r.inputs.destinationCidrBlock === "10.0.0.0/16")).toHaveLength(4);
      const dbPeer = ingressRules(g.dns11)
        .filter((r) => r.cidr === "10.1.0.0/16")
        .map((r) => r.name)
        .sort();
      expect(dbPeer).toEqual(["use1-db-from-peer-0", "use1-shards-from-peer-0"]);
    });

    it("routes continents to regions by geolocation, with set identifiers, health checks and a default record", () => {
      const records = g.dns11.ofType(T.record).filter((r) => r.inputs.name === "origin.shop.example.com");
      for (const r of records) expect(r.inputs.setIdentifier).toBeTruthy();
      const byLocation = Object.fromEntries(
        records.map((r) => [
          r.inputs.geolocationRoutingPolicies[0].continent ??
            `country:${r.inputs.geolocationRoutingPolicies[0].country}`,
          r,
        ]),
      );
      expect(Object.keys(byLocation).sort()).toEqual(["AF", "AN", "AS", "EU", "NA", "OC", "SA", "country:*"]);
      expect(byLocation.EU.inputs.aliases[0].name).toMatch(/^euw1-web-alb-/);
      expect(byLocation.NA.inputs.aliases[0].name).toMatch(/^use1-web-alb-/);
      expect(byLocation["country:*"].name).toBe("use1-origin-dns");
      const checks = g.dns11.ofType(T.healthCheck);
      expect(checks.map((c) => c.inputs.cloudwatchAlarmRegion).sort()).toEqual(["eu-west-1", "us-east-1"]);
      for (const c of checks) expect(c.inputs.type).toBe("CLOUDWATCH_METRIC");
      for (const continent of ["AF", "AN", "AS", "EU", "NA", "OC", "SA"])
        expect(byLocation[continent].inputs.healthCheckId).toBeTruthy();
      const alarms = g.dns11.ofType(T.alarm).filter((a) => a.name.endsWith("-healthy-hosts"));
      for (const a of alarms)
        expect(a.inputs).toMatchObject({
          metricName: "HealthyHostCount",
          comparisonOperator: "LessThanThreshold",
          threshold: 1,
        });
    });

    it("puts the secondary behind the same CDN: CloudFront-only ingress and the same origin secret", () => {
      const rules = g.dns11.ofType(T.listenerRule);
      expect(rules).toHaveLength(2);
      const values = rules.map((r) => reveal(r.inputs.conditions)[0].httpHeader.values[0]);
      expect(values[0]).toBe(values[1]);
      expect(g.dns11.ofType(T.dist)).toHaveLength(1);
      expect(ingressRules(g.dns11).filter((r) => r.cidr !== undefined && r.cidr.startsWith("0.0.0.0"))).toEqual([]);
    });

    it("builds the regions without geolocation DNS when no domain is set, and says so", () => {
      expect(g[11].ofType(T.record)).toHaveLength(0);
      expect(g[11].warnings).toEqual([expect.stringMatching(/^step 11 without scale-ladder:domain/)]);
    });

    it("rejects a geolocation map that names a region the stack does not run", async () => {
      // Fresh, past the graph cache: the program is expected to throw, so there is no graph to cache.
      await expect(runLadder(stackConfig(11, { ...DNS, "scale-ladder:geoRouting": "EU=ap-south-1" }))).rejects.toThrow(
        "scale-ladder:geoRouting sends EU to ap-south-1, which must be aws:region or one of secondaryRegions " +
          "(us-east-1, eu-west-1)",
      );
    });
  });

  describe("climbing 8 → 9 → 10 → 11", () => {
    it("keeps every stateful resource of the step below", () => {
      const statefulTypes = [
        "rds",
        "s3/bucket:",
        "elasticache/replicationGroup",
        "secretsmanager/secret:",
        "sqs/queue",
        "ssm/parameter",
        "route53/record",
        "cloudwatch/logGroup",
      ];
      const stateful = new RegExp(`^aws:(${statefulTypes.join("|")})`);
      for (const [from, to] of [
        [8, 9],
        [9, 10],
        [10, 11],
      ]) {
        const urns = new Set(g[to].resources.map((r) => r.urn));
        expect({
          from,
          to,
          lost: g[from].resources.filter((r) => stateful.test(r.type) && !urns.has(r.urn)).map((r) => r.name),
        }).toEqual({ from, to, lost: [] });
      }
    });
  });
});
