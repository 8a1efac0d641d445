/**
 * What AWS refuses only at `pulumi up` (test/infra/deploy-rules.ts), over the graph of every built step in dev and
 * prod; one wrong program per rule to prove it fires; and the project and stack files as `pulumi` reads them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type * as Aws from "@pulumi/aws";
import { CONFIG_KEYS, ConfigKey, DefaultContext, ENVIRONMENTS, parseLadderConfig } from "../../stacks/config";
import { MAX_STEP, MIN_STEP } from "../../stacks/steps";
import { DEPLOY_RULES, DeployRule, View } from "./deploy-rules";
import { CASES, LADDER_HOOK_TIMEOUT_MS, evaluateLadder } from "./ladder-variants";
import { ACCOUNT, hex } from "../../lib/graph/mock-outputs";
import { Graph, runProgram } from "../../lib/graph/harness";

const root = path.resolve(__dirname, "../..");

/**
 * Problems the rules find in the program today, each waiting for a fix in the file named. An entry makes the
 * matching problems expected; once fixed, the entry fails the last test below and must go.
 */
const AWAITING_FIX: Array<{ rule: string; problem: RegExp; fix: string }> = [];
const awaiting = (rule: string, problem: string) =>
  AWAITING_FIX.find((f) => f.rule === rule && f.problem.test(problem));

const graphs = new Map<string, Graph>();
beforeAll(async () => {
  for (const [k, g] of await evaluateLadder()) graphs.set(k, g);
}, LADDER_HOOK_TIMEOUT_MS);

describe("every built step passes every deploy-time rule", () => {
  const results = new Map<string, Map<string, { checked: number; problems: string[] }>>();
  beforeAll(() => {
    for (const [key, g] of graphs) {
      const v = new View(g);
      results.set(key, new Map(DEPLOY_RULES.map((r) => [r.name, r.check(v)])));
    }
  });

  it.each(CASES)("step %d, %s", (step, name) => {
    const found = [...results.get(`${step}:${name}`)!].flatMap(([rule, r]) =>
      r.problems.filter((p) => !awaiting(rule, p)).map((p) => `${rule}: ${p}`),
    );
    expect(found).toEqual([]);
  });

  it("has every rule check something at some step (no rule is vacuous)", () => {
    const idle = DEPLOY_RULES.filter((rule) => [...results.values()].every((m) => m.get(rule.name)!.checked === 0)).map(
      (r) => r.name,
    );
    expect(idle).toEqual([]);
  });

  it("still finds every problem listed as awaiting a fix (delete the entry once it is fixed)", () => {
    const seen = new Set(
      [...results.values()].flatMap((m) => [...m].flatMap(([rule, r]) => r.problems.map((p) => awaiting(rule, p)))),
    );
    expect(AWAITING_FIX.filter((f) => !seen.has(f)).map((f) => `${f.rule}: ${f.fix}`)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// One wrong program per rule.

type Program = (aws: typeof Aws) => void;
const postgres = {
  engine: "postgres",
  engineVersion: "16",
  instanceClass: "db.t4g.micro",
  allocatedStorage: 20,
  storageType: "gp3",
  username: "admin_user",
  storageEncrypted: true,
};
const NEGATIVES: Array<{ rule: string; title: string; program: Program; expected: string[] }> = [
  {
    rule: "elasticache-auth-token",
    title: "a token without TLS, from a generator that makes 12 characters",
    program: (aws) => {
      const random = require("@pulumi/random") as typeof import("@pulumi/random");
      const token = new random.RandomPassword("short", { length: 12, special: true });
      new aws.elasticache.ReplicationGroup("cache", {
        description: "c",
        engine: "valkey",
        engineVersion: "8.0",
        authToken: token.result,
      });
    },
    expected: [
      "cache: authToken without transitEncryptionEnabled",
      "cache: its token generator short makes 12 characters, not 16–128",
      'cache: short may generate / " or @',
    ],
  },
  {
    rule: "read-replica-credentials",
    title: "a replica with a username, of a source whose password RDS manages",
    program: (aws) => {
      const source = new aws.rds.Instance("primary", { ...postgres, manageMasterUserPassword: true });
      new aws.rds.Instance("replica", {
        instanceClass: "db.t4g.micro",
        replicateSourceDb: source.identifier,
        username: "admin_user",
      });
    },
    expected: [
      "replica: a read replica cannot set username",
      "replica: its source primary has manageMasterUserPassword, which RDS refuses to replicate",
    ],
  },
  {
    rule: "cloudfront-certificate-region",
    title: "a viewer certificate from eu-west-1",
    program: (aws) => {
      const eu = new aws.Provider("aws-eu-west-1", { region: "eu-west-1" });
      const cert = new aws.acm.Certificate(
        "cert",
        { domainName: "shop.example.com", validationMethod: "DNS" },
        { provider: eu },
      );
      new aws.cloudfront.Distribution("cdn", {
        enabled: true,
        aliases: ["shop.example.com"],
        origins: [
          {
            originId: "web",
            domainName: "origin.example.com",
            customOriginConfig: {
              httpPort: 80,
              httpsPort: 443,
              originProtocolPolicy: "https-only",
              originSslProtocols: ["TLSv1.2"],
            },
          },
        ],
        defaultCacheBehavior: {
          targetOriginId: "web",
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD"],
          cachedMethods: ["GET", "HEAD"],
        },
        restrictions: { geoRestriction: { restrictionType: "none" } },
        viewerCertificate: {
          acmCertificateArn: cert.arn,
          sslSupportMethod: "sni-only",
          minimumProtocolVersion: "TLSv1.2_2021",
        },
      });
    },
    expected: [
      `cdn: viewer certificate arn:aws:acm:eu-west-1:${ACCOUNT}:certificate/${hex("cert", 8)} is in eu-west-1`,
      "cdn: its viewer certificate comes from cert, created through a provider for eu-west-1",
    ],
  },
  {
    rule: "alb-subnets",
    title: "an ALB in one subnet",
    program: (aws) => void new aws.lb.LoadBalancer("alb", { loadBalancerType: "application", subnets: ["subnet-a"] }),
    expected: ["alb: 1 subnet(s)"],
  },
  {
    rule: "geolocation-records",
    title: "continent records beside a simple record, one without a set identifier, and no default",
    program: (aws) => {
      const base = {
        zoneId: "Z1",
        name: "origin.shop.example.com",
        type: "A",
        aliases: [{ name: "alb.example.com", zoneId: "Z35SXDOTRQ7X7K", evaluateTargetHealth: true }],
      };
      new aws.route53.Record("simple", base);
      new aws.route53.Record("eu", { ...base, setIdentifier: "eu", geolocationRoutingPolicies: [{ continent: "EU" }] });
      new aws.route53.Record("na", { ...base, geolocationRoutingPolicies: [{ continent: "NA" }] });
    },
    expected: [
      "Z1 origin.shop.example.com A: simple is a simple record beside geolocation records",
      "Z1 origin.shop.example.com A: na has no setIdentifier",
      'Z1 origin.shop.example.com A: no default record (country "*"); users outside the listed locations get no answer',
    ],
  },
  {
    rule: "aurora-global-members",
    title: "a secondary on another major version that also carries credentials",
    program: (aws) => {
      const eu = new aws.Provider("aws-eu-west-1", { region: "eu-west-1" });
      const primary = new aws.rds.Cluster("primary", {
        engine: "aurora-postgresql",
        engineVersion: "16.6",
        masterUsername: "admin_user",
        manageMasterUserPassword: true,
        storageEncrypted: true,
      });
      const global = new aws.rds.GlobalCluster("global", {
        globalClusterIdentifier: "orders-global",
        sourceDbClusterIdentifier: primary.arn,
      });
      new aws.rds.Cluster(
        "secondary",
        {
          engine: "aurora-postgresql",
          engineVersion: "15.8",
          globalClusterIdentifier: global.id,
          masterUsername: "admin_user",
          storageEncrypted: true,
          kmsKeyId: "arn:aws:kms:eu-west-1:1:key/x",
        },
        { provider: eu },
      );
    },
    expected: [
      "global: members mix major versions 16, 15",
      "global: 2 members carry credentials; exactly one (the primary) must",
    ],
  },
  {
    rule: "asg-joins-target-group",
    title: "a target group no group registers in",
    program: (aws) => void new aws.lb.TargetGroup("tg", { port: 3000, protocol: "HTTP", vpcId: "vpc-1" }),
    expected: ["tg: no auto-scaling group or attachment registers targets in it"],
  },
  {
    rule: "user-data-size",
    title: "17 KB of user data in a launch template, and an instance's user data",
    program: (aws) => {
      new aws.ec2.LaunchTemplate("lt", { userData: Buffer.from("#".repeat(17 * 1024)).toString("base64") });
      new aws.ec2.Instance("server", { ami: "ami-1", instanceType: "t4g.small", userData: "#".repeat(16 * 1024 + 1) });
    },
    expected: ["lt: user data is 17408 bytes, over 16384", "server: user data is 16385 bytes, over 16384"],
  },
  {
    rule: "names",
    title:
      "a load balancer, a replication group and an RDS instance whose autonames are too long, a bucket with capitals",
    program: (aws) => {
      new aws.lb.LoadBalancer("use1-storefront-public-alb", {
        loadBalancerType: "application",
        subnets: ["subnet-a", "subnet-b"],
      });
      new aws.elasticache.ReplicationGroup("use1-session-and-product-cache-tier", { description: "c" });
      new aws.rds.Instance("use1-orders-database-primary-with-a-very-long-descriptive-name", {
        ...postgres,
        manageMasterUserPassword: true,
      });
      new aws.s3.Bucket("assets", { bucket: "Shop-Assets" });
    },
    expected: [
      'use1-storefront-public-alb: name "use1-storefront-public-alb-abcdef0" is 34 characters; LoadBalancer ' +
        "allows 1–32",
      'use1-session-and-product-cache-tier: replicationGroupId "use1-session-and-product-cache-tier-abcdef0" is ' +
        "43 characters; ReplicationGroup allows 1–40",
      "use1-orders-database-primary-with-a-very-long-descriptive-name: identifier " +
        '"use1-orders-database-primary-with-a-very-long-descriptive-name-abcdef0" is 70 characters; Instance ' +
        "allows 1–63",
      'assets: bucket "Shop-Assets" is not lowercase letters, digits, dots and hyphens, starting and ending ' +
        "with a letter or digit",
    ],
  },
  {
    rule: "security-group-rules",
    title: "a rule with two sources, ports out of range, a description with a quote",
    program: (aws) => {
      new aws.vpc.SecurityGroupIngressRule("both", {
        securityGroupId: "sg-1",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "10.0.0.0/8",
        referencedSecurityGroupId: "sg-2",
      });
      new aws.vpc.SecurityGroupIngressRule("range", {
        securityGroupId: "sg-1",
        ipProtocol: "tcp",
        fromPort: 8080,
        toPort: 70000,
        cidrIpv4: "10.0.0.0/8",
        description: "app's port",
      });
    },
    expected: [
      "both: 2 sources/destinations (cidrIpv4, referencedSecurityGroupId); exactly one",
      "range: ports 8080-70000 are not a range within 0-65535",
      `range: description "app's port" has characters EC2 refuses or is over 255`,
    ],
  },
  {
    rule: "cloudwatch-alarms",
    title: "an alarm over two days, a period of 45 s",
    program: (aws) => {
      new aws.cloudwatch.MetricAlarm("slow", {
        comparisonOperator: "GreaterThanThreshold",
        evaluationPeriods: 48,
        period: 3600,
        metricName: "CPUUtilization",
        namespace: "AWS/EC2",
        statistic: "Average",
        threshold: 80,
      });
      new aws.cloudwatch.MetricAlarm("odd", {
        comparisonOperator: "GreaterThanThreshold",
        evaluationPeriods: 3,
        period: 45,
        metricName: "CPUUtilization",
        namespace: "AWS/EC2",
        statistic: "Average",
        threshold: 80,
        datapointsToAlarm: 4,
      });
    },
    expected: [
      "slow: 3600 s × 48 periods is over a day",
      "odd: period 45 s is not 10, 20, 30 or a multiple of 60",
      "odd: datapointsToAlarm 4 > evaluationPeriods 3",
    ],
  },
  {
    rule: "sqs-limits",
    title: "a visibility timeout over 12 hours, retention of 30 s, a FIFO queue with a standard DLQ",
    program: (aws) => {
      new aws.sqs.Queue("slow", { visibilityTimeoutSeconds: 50000, messageRetentionSeconds: 30 });
      const dlq = new aws.sqs.Queue("dlq", {});
      new aws.sqs.Queue("jobs.fifo", {
        name: "jobs.fifo",
        fifoQueue: true,
        redrivePolicy: dlq.arn.apply((arn) => JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 5 })),
      });
    },
    expected: [
      "slow: visibilityTimeoutSeconds 50000 is outside 0–43200",
      "slow: messageRetentionSeconds 30 is outside 60–1209600",
      "jobs.fifo: a FIFO queue needs a dead-letter queue of the same kind",
    ],
  },
  {
    rule: "rds-settings",
    title: "Multi-AZ pinned to an AZ, 36 days of backups, a ceiling 5% above storage, overlapping windows",
    program: (aws) =>
      void new aws.rds.Instance("db", {
        ...postgres,
        manageMasterUserPassword: true,
        multiAz: true,
        availabilityZone: "us-east-1a",
        backupRetentionPeriod: 36,
        allocatedStorage: 100,
        maxAllocatedStorage: 105,
        backupWindow: "04:00-05:00",
        maintenanceWindow: "sun:04:30-sun:05:30",
        skipFinalSnapshot: false,
      }),
    expected: [
      "db: backupRetentionPeriod 36 is outside 0–35",
      "db: a Multi-AZ instance cannot pin availabilityZone us-east-1a",
      "db: maxAllocatedStorage 105 is less than 10% above allocatedStorage 100",
      "db: backup window 04:00-05:00 overlaps maintenance window sun:04:30-sun:05:30",
      "db: skipFinalSnapshot is false but there is no finalSnapshotIdentifier (the delete fails)",
    ],
  },
  {
    rule: "elasticache-settings",
    title: "Multi-AZ without failover on one node",
    program: (aws) =>
      void new aws.elasticache.ReplicationGroup("cache", {
        description: "c",
        numCacheClusters: 1,
        multiAzEnabled: true,
        snapshotWindow: "03:00-03:30",
      }),
    expected: [
      "cache: multiAzEnabled needs automaticFailoverEnabled",
      "cache: snapshot window 03:00-03:30 is invalid or shorter than 60 minutes",
    ],
  },
  {
    rule: "parameter-group-family",
    title: "PostgreSQL 16 on a postgres15 group, Valkey 8 on a redis7 group",
    program: (aws) => {
      const pg = new aws.rds.ParameterGroup("pg15", { family: "postgres15" });
      new aws.rds.Instance("db", { ...postgres, manageMasterUserPassword: true, parameterGroupName: pg.name });
      const cpg = new aws.elasticache.ParameterGroup("redis7", { family: "redis7" });
      new aws.elasticache.ReplicationGroup("cache", {
        description: "c",
        engine: "valkey",
        engineVersion: "8.0",
        parameterGroupName: cpg.name,
      });
    },
    expected: [
      "db: parameter group pg15 is family postgres15, postgres 16 needs postgres16",
      "cache: parameter group redis7 is family redis7, valkey 8.0 needs valkey8",
    ],
  },
  {
    rule: "cloudfront-settings",
    title: "an alias on the default certificate, a behavior to an unknown origin caching POST",
    program: (aws) =>
      void new aws.cloudfront.Distribution("cdn", {
        enabled: true,
        aliases: ["shop.example.com"],
        origins: [
          {
            originId: "web",
            domainName: "origin.example.com",
            customOriginConfig: {
              httpPort: 80,
              httpsPort: 443,
              originProtocolPolicy: "https-only",
              originSslProtocols: ["TLSv1.2"],
            },
          },
        ],
        defaultCacheBehavior: {
          targetOriginId: "web",
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD"],
          cachedMethods: ["GET", "HEAD"],
        },
        orderedCacheBehaviors: [
          {
            pathPattern: "/api/*",
            targetOriginId: "api",
            viewerProtocolPolicy: "redirect-to-https",
            allowedMethods: ["GET", "HEAD"],
            cachedMethods: ["GET", "HEAD", "POST"],
          },
        ],
        restrictions: { geoRestriction: { restrictionType: "none" } },
        viewerCertificate: { cloudfrontDefaultCertificate: true },
      }),
    expected: [
      "cdn: aliases shop.example.com need a custom certificate",
      "cdn: behavior /api/* targets unknown origin api",
      "cdn: behavior /api/* caches POST, which it does not allow",
    ],
  },
  {
    rule: "load-balancer-settings",
    title:
      "an HTTPS listener without a certificate, a header value over 128 characters, a health check slower than " +
      "its interval",
    program: (aws) => {
      const tg = new aws.lb.TargetGroup("tg", {
        port: 3000,
        protocol: "HTTP",
        vpcId: "vpc-1",
        healthCheck: { interval: 10, timeout: 10 },
      });
      const l = new aws.lb.Listener("https", {
        loadBalancerArn: "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/x/y",
        port: 443,
        protocol: "HTTPS",
        defaultActions: [{ type: "forward", targetGroupArn: tg.arn }],
      });
      new aws.lb.ListenerRule("from-cdn", {
        listenerArn: l.arn,
        priority: 1,
        conditions: [{ httpHeader: { httpHeaderName: "X-Origin-Verify", values: ["x".repeat(129)] } }],
        actions: [{ type: "forward", targetGroupArn: tg.arn }],
      });
    },
    expected: [
      "https: an HTTPS listener needs a certificateArn",
      "from-cdn: a header value is 129 characters, over 128",
      "tg: health check timeout 10 is not below the interval 10",
    ],
  },
  {
    rule: "auto-scaling-settings",
    title: "desired above max, a refresh that may run at 250%",
    program: (aws) =>
      void new aws.autoscaling.Group("asg", {
        minSize: 1,
        maxSize: 2,
        desiredCapacity: 3,
        vpcZoneIdentifiers: ["subnet-a"],
        instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 90, maxHealthyPercentage: 250 } },
      }),
    expected: [
      "asg: not min 1 ≤ desired 3 ≤ max 2",
      "asg: maxHealthyPercentage 250 is outside 100–200",
      "asg: maxHealthyPercentage - minHealthyPercentage is 160, over 100",
    ],
  },
  {
    rule: "route53-settings",
    title: "an alias to CloudFront that evaluates target health, an alias with a TTL",
    program: (aws) => {
      new aws.route53.Record("site", {
        zoneId: "Z1",
        name: "shop.example.com",
        type: "A",
        aliases: [{ name: "d1.cloudfront.net", zoneId: "Z2FDTNDATAQYW2", evaluateTargetHealth: true }],
      });
      new aws.route53.Record("www", {
        zoneId: "Z1",
        name: "www.shop.example.com",
        type: "A",
        ttl: 60,
        aliases: [{ name: "alb.example.com", zoneId: "Z35SXDOTRQ7X7K", evaluateTargetHealth: true }],
      });
    },
    expected: [
      "site: evaluateTargetHealth is true on an alias to CloudFront, which Route 53 refuses",
      "www: an alias record takes no ttl or records",
    ],
  },
  {
    rule: "vpc-peering",
    title: "two regions on the same CIDR, a cross-region request that auto-accepts and has no accepter",
    program: (aws) => {
      const awsx = require("@pulumi/awsx") as typeof import("@pulumi/awsx");
      const eu = new aws.Provider("aws-eu-west-1", { region: "eu-west-1" });
      const us = new awsx.ec2.Vpc("us", { cidrBlock: "10.0.0.0/16" });
      const euVpc = new awsx.ec2.Vpc("eu", { cidrBlock: "10.0.128.0/17" }, { provider: eu });
      new aws.ec2.VpcPeeringConnection("us-to-eu", {
        vpcId: us.vpcId,
        peerVpcId: euVpc.vpcId,
        peerRegion: "eu-west-1",
        autoAccept: true,
      });
    },
    expected: [
      "us-to-eu: 10.0.0.0/16 and 10.0.128.0/17 overlap",
      "us-to-eu: autoAccept cannot be used with peerRegion eu-west-1",
      "us-to-eu: no accepter with autoAccept in eu-west-1; the connection stays pending",
    ],
  },
  {
    rule: "secrets-and-iam",
    title: "a 3-day recovery window, a statement id with a hyphen",
    program: (aws) => {
      new aws.secretsmanager.Secret("s", { recoveryWindowInDays: 3 });
      new aws.iam.RolePolicy("p", {
        role: "r",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "read-config",
              Effect: "Allow",
              Action: "ssm:GetParameter",
              Resource: "arn:aws:ssm:us-east-1:1:parameter/x",
            },
          ],
        }),
      });
    },
    expected: ["s: recoveryWindowInDays 3 is not 0 or 7–30", "p: Sid read-config is not alphanumeric"],
  },
  {
    rule: "instance-refresh-rollback",
    title: "auto rollback from a template whose image id is an SSM parameter, and from $Latest",
    program: (aws) => {
      const lt = new aws.ec2.LaunchTemplate("lt", {
        imageId: "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
        instanceType: "t4g.small",
      });
      const refresh = {
        strategy: "Rolling",
        preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 200, autoRollback: true },
      };
      new aws.autoscaling.Group("ssm", {
        minSize: 1,
        maxSize: 2,
        vpcZoneIdentifiers: ["subnet-a"],
        launchTemplate: { id: lt.id, version: "1" },
        instanceRefresh: refresh,
      });
      new aws.autoscaling.Group("latest", {
        minSize: 1,
        maxSize: 2,
        vpcZoneIdentifiers: ["subnet-a"],
        launchTemplate: { id: "lt-0abc", version: "$Latest" },
        instanceRefresh: refresh,
      });
    },
    expected: [
      "ssm: autoRollback with lt's image id " +
        "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64, an SSM parameter",
      "latest: autoRollback with launch template version $Latest",
    ],
  },
  {
    rule: "route53-record-owner",
    title: "two resources on one validation CNAME",
    program: (aws) => {
      const record = {
        zoneId: "Z1",
        name: "_abc.shop.example.com.",
        type: "CNAME",
        ttl: 300,
        records: ["_abc.acm-validations.aws."],
        allowOverwrite: true,
      };
      new aws.route53.Record("web-cert-validation", record);
      new aws.route53.Record("cdn-cert-validation", record);
    },
    expected: ["Z1 _abc.shop.example.com CNAME: 2 resources own it (web-cert-validation, cdn-cert-validation)"],
  },
  {
    rule: "alb-log-delivery",
    title: "an ALB in ap-southeast-4 whose log bucket admits a classic ELB account",
    program: (aws) => {
      const melbourne = new aws.Provider("aws-ap-southeast-4", { region: "ap-southeast-4" });
      const bucket = new aws.s3.Bucket("logs", {}, { provider: melbourne });
      new aws.s3.BucketPolicy(
        "logs-policy",
        {
          bucket: bucket.id,
          policy: bucket.arn.apply((arn) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Principal: { AWS: "arn:aws:iam::127311923021:root" },
                  Action: "s3:PutObject",
                  Resource: `${arn}/AWSLogs/*`,
                },
              ],
            }),
          ),
        },
        { provider: melbourne },
      );
      new aws.lb.LoadBalancer(
        "alb",
        {
          loadBalancerType: "application",
          subnets: ["subnet-a", "subnet-b"],
          accessLogs: { bucket: bucket.bucket, enabled: true },
        },
        { provider: melbourne },
      );
    },
    expected: [
      'alb: access-log bucket logs does not let {"Service":"logdelivery.elasticloadbalancing.amazonaws.com"} ' +
        "(ap-southeast-4's log writer) put objects",
    ],
  },
  {
    rule: "awsx-subnet-layout",
    title: "a /18 VPC over 2 AZs with a /24, a /20 and a /24 in each",
    program: () => {
      const awsx = require("@pulumi/awsx") as typeof import("@pulumi/awsx");
      new awsx.ec2.Vpc("vpc", {
        cidrBlock: "10.0.0.0/18",
        numberOfAvailabilityZones: 2,
        subnetStrategy: "Auto",
        subnetSpecs: [
          { type: "Public", cidrMask: 24 },
          { type: "Private", cidrMask: 20 },
          { type: "Isolated", cidrMask: 24 },
        ],
      });
    },
    expected: ["vpc: 10.0.0.0/18 cannot hold /24, /20, /24 in each of 2 AZs"],
  },
  {
    rule: "rds-instance-classes",
    title:
      "a global database on db.t4g.medium, Performance Insights on a MySQL db.t3.micro, a Multi-AZ DB cluster " +
      "on db.t4g.large",
    program: (aws) => {
      const primary = new aws.rds.Cluster("primary", {
        engine: "aurora-postgresql",
        engineVersion: "16.6",
        masterUsername: "admin_user",
        manageMasterUserPassword: true,
        storageEncrypted: true,
      });
      new aws.rds.ClusterInstance("primary-writer", {
        clusterIdentifier: primary.id,
        engine: "aurora-postgresql",
        instanceClass: "db.t4g.medium",
      });
      new aws.rds.GlobalCluster("global", {
        globalClusterIdentifier: "orders-global",
        sourceDbClusterIdentifier: primary.arn,
      });
      new aws.rds.Instance("mysql", {
        engine: "mysql",
        engineVersion: "8.0",
        instanceClass: "db.t3.micro",
        allocatedStorage: 20,
        username: "admin_user",
        manageMasterUserPassword: true,
        performanceInsightsEnabled: true,
      });
      new aws.rds.Cluster("maz", {
        engine: "postgres",
        dbClusterInstanceClass: "db.t4g.large",
        masterUsername: "admin_user",
        manageMasterUserPassword: true,
        allocatedStorage: 100,
        storageType: "io1",
        iops: 1000,
      });
    },
    expected: [
      "primary-writer: db.t4g.medium in global database global; it needs a memory-optimized class of the db.r5, " +
        "db.r6g, db.r6i, db.r7g, db.r7i, db.r8g, db.x2g, db.r6gd, db.r6id, db.r8gd families (Aurora global " +
        "databases refuse burstable db.t* classes), such as db.r6g.large",
      "mysql: Performance Insights is not offered for mysql on db.t3.micro",
      "maz: a Multi-AZ DB cluster is not offered on db.t4g.large",
    ],
  },
  {
    rule: "rds-engine-versions",
    title: "Aurora PostgreSQL 16.5, a pinned minor under auto upgrades, a secondary on another minor",
    program: (aws) => {
      const eu = new aws.Provider("aws-eu-west-1", { region: "eu-west-1" });
      const primary = new aws.rds.Cluster("primary", {
        engine: "aurora-postgresql",
        engineVersion: "16.5",
        masterUsername: "admin_user",
        manageMasterUserPassword: true,
        storageEncrypted: true,
      });
      new aws.rds.ClusterInstance("primary-writer", {
        clusterIdentifier: primary.id,
        engine: "aurora-postgresql",
        instanceClass: "db.r6g.large",
      });
      const global = new aws.rds.GlobalCluster("global", {
        globalClusterIdentifier: "orders-global",
        sourceDbClusterIdentifier: primary.arn,
      });
      new aws.rds.Cluster(
        "secondary",
        {
          engine: "aurora-postgresql",
          engineVersion: "16.6",
          globalClusterIdentifier: global.id,
          storageEncrypted: true,
          kmsKeyId: "arn:aws:kms:eu-west-1:1:key/x",
        },
        { provider: eu, ignoreChanges: ["engineVersion"] },
      );
      new aws.rds.Instance("db", { ...postgres, engineVersion: "16.3", manageMasterUserPassword: true });
    },
    expected: [
      "primary: aurora-postgresql 16.5 is not a version AWS offers",
      "primary: engineVersion is pinned to a minor version while auto minor upgrades are on; ignore " +
        "engineVersion after creation",
      "primary-writer: engineVersion is pinned to a minor version while auto minor upgrades are on; ignore " +
        "engineVersion after creation",
      "db: engineVersion 16.3 pins a minor version while AWS upgrades minors; give the major only or ignore " +
        "engineVersion",
      "global: members name different engine versions 16.5, 16.6; a secondary must run exactly the primary's",
    ],
  },
];

describe("each deploy-time rule fires on a deliberately wrong program", () => {
  it("has a case for every rule", () => {
    expect([...new Set(NEGATIVES.map((n) => n.rule))].sort()).toEqual(DEPLOY_RULES.map((r) => r.name).sort());
  });

  it.each(NEGATIVES.map((n) => [n.rule, n.title, n] as const))("%s: %s", async (_rule, _title, n) => {
    // A program of its own, not a ladder graph: evaluated fresh, past the graph cache.
    const g = await runProgram(async () => n.program(await import("@pulumi/aws")));
    const rule = DEPLOY_RULES.find((r) => r.name === n.rule) as DeployRule;
    expect(rule.check(new View(g)).problems.sort()).toEqual([...n.expected].sort());
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Pulumi.yaml and the stack files, as `pulumi` reads them. (stack-files.test.ts evaluates each file, checks the
// step and region keys, that Pulumi.yaml's keys and defaults are the schema's, and that the comments are current.)

const project = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
  name: string;
  config: Record<string, { type: string; default?: unknown; description?: string }>;
};
const stackFiles = fs
  .readdirSync(path.join(root, "stacks"))
  .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
  .sort();
const stackConfigOf = (file: string) =>
  (parse(fs.readFileSync(path.join(root, "stacks", file), "utf8")) ?? {}) as {
    config?: Record<string, unknown>;
    [k: string]: unknown;
  };
/** Provider keys a stack file may set besides the ladder's own. */
const PROVIDER_KEYS = ["aws:region"];
const yamlType = (v: unknown) =>
  Number.isInteger(v) ? "integer" : typeof v === "boolean" ? "boolean" : Array.isArray(v) ? "array" : typeof v;

describe("Pulumi.yaml declarations", () => {
  it.each(Object.entries(project.config))(
    "%s: a type Pulumi knows, a description, and a default the schema accepts",
    (key, decl) => {
      expect(["string", "integer", "boolean", "array"]).toContain(decl.type);
      expect(key).not.toContain(":");
      expect((decl.description ?? "").length).toBeGreaterThan(10);
      const spec = CONFIG_KEYS[key as ConfigKey];
      if (decl.default !== undefined) {
        expect(yamlType(decl.default)).toBe(decl.type);
        expect(spec.parse(String(decl.default)).ok).toBe(true);
      }
      // What the declared type lets through, the schema must be ready for: an integer key parses integers.
      if (decl.type === "integer") expect(spec.parse("1.5").ok).toBe(false);
    },
  );
});

describe("stack files", () => {
  it("exist", () => {
    expect(stackFiles.length).toBeGreaterThan(0);
  });

  it.each(stackFiles)(
    "%s sets only keys the schema (or the AWS provider) knows, with values parseLadderConfig accepts",
    (file) => {
      const { config = {} } = stackConfigOf(file);
      const ours: Record<string, string> = {};
      for (const [key, value] of Object.entries(config)) {
        if (PROVIDER_KEYS.includes(key)) continue;
        const m = /^scale-ladder:(.+)$/.exec(key);
        expect({ key, known: m !== null && m[1] in CONFIG_KEYS }).toEqual({ key, known: true });
        // Committed stack files hold no secrets: a `secure:` value would be bound to one machine's passphrase.
        expect({ key, scalar: ["string", "integer", "number", "boolean"].includes(yamlType(value)) }).toEqual({
          key,
          scalar: true,
        });
        ours[key] = String(value);
      }
      const parsed = parseLadderConfig(ours, String(config["aws:region"] ?? "us-east-1"));
      expect(parsed.step).toBe(Number(/step(\d\d)/.exec(file)?.[1] ?? parsed.step));
    },
  );

  it.each(stackFiles)("%s gives declared keys the type Pulumi.yaml declares (pulumi up refuses a mismatch)", (file) => {
    const { config = {} } = stackConfigOf(file);
    for (const [key, value] of Object.entries(config)) {
      const decl = project.config[key.replace(/^scale-ladder:/, "")];
      if (!key.startsWith("scale-ladder:") || !decl) continue;
      expect({ key, type: yamlType(value) }).toEqual({ key, type: decl.type });
    }
  });

  it.each(stackFiles)(
    "%s carries no per-machine secrets configuration (encryptionsalt, secretsprovider, encryptedkey)",
    (file) => {
      const doc = stackConfigOf(file);
      expect(Object.keys(doc).filter((k) => ["encryptionsalt", "secretsprovider", "encryptedkey"].includes(k))).toEqual(
        [],
      );
    },
  );

  it.each(stackFiles)("%s: every commented knob, uncommented as shown, keeps the stack valid", (file) => {
    const text = fs.readFileSync(path.join(root, "stacks", file), "utf8");
    const { config = {} } = stackConfigOf(file);
    const base = Object.fromEntries(
      Object.entries(config)
        .filter(([k]) => k.startsWith("scale-ladder:"))
        .map(([k, v]) => [k, String(v)]),
    );
    const knobs = [...text.matchAll(/^\s*# (scale-ladder:[A-Za-z]+): (\S+)/gm)]
      .map((m) => [m[1], m[2]] as const)
      .filter(([, v]) => v !== "(unset)");
    expect(knobs.length).toBeGreaterThan(0);
    for (const [key, value] of knobs) {
      expect({ key, known: key.slice("scale-ladder:".length) in CONFIG_KEYS }).toEqual({ key, known: true });
      expect(() =>
        parseLadderConfig({ ...base, [key]: value }, String(config["aws:region"] ?? "us-east-1")),
      ).not.toThrow();
    }
  });
});

describe("the schema's own defaults", () => {
  it("are accepted by the schema at every step, in both environments", () => {
    const bad: string[] = [];
    for (let step = MIN_STEP; step <= MAX_STEP; step++) {
      for (const environment of ENVIRONMENTS) {
        const ctx: DefaultContext = { step, environment, region: "us-east-1" };
        for (const [key, spec] of Object.entries(CONFIG_KEYS) as [ConfigKey, (typeof CONFIG_KEYS)[ConfigKey]][]) {
          const value = (spec.default as (c: DefaultContext) => unknown)(ctx);
          if (value === undefined) continue;
          const raw = Array.isArray(value) ? value.join(",") : String(value);
          if (!spec.parse(raw).ok) bad.push(`${key} at step ${step} ${environment}: ${raw}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
