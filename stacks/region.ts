import * as aws from "@pulumi/aws";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { AppArtifact } from "../components/app-artifact";
import { AppSecrets } from "../components/app-secrets";
import { Cache } from "../components/cache";
import { Database } from "../components/database";
import { DatabaseKey } from "../components/database-key";
import { Network } from "../components/network";
import { PrivateBucket } from "../components/private-bucket";
import { SingleServer } from "../components/single-server";
import { Cdn, CLOUDFRONT_ZONE_ID, ORIGIN_VERIFY_HEADER } from "../components/cdn";
import { Queue } from "../components/queue";
import { AppUserDataArgs, DatabaseSource, appUserData } from "../components/user-data";
import { APP_PORT, AppRole, AwsEnvFacts, awsAppEnvironment } from "./app-environment";
import { featuresAt } from "./steps";
import { WorkerFleet } from "../components/worker-fleet";
import * as random from "@pulumi/random";
import { listStaticFiles } from "./static-assets";
import { Monitoring } from "../components/monitoring";
import { ShardedDatabase } from "../components/sharded-database";
import { ShardMapDocument } from "../components/shard-map";
import { replicaSecretArn } from "../components/secret-replicas";
import { Telemetry } from "../components/telemetry";
import { WebFleet } from "../components/web-fleet";
import { WebAcl } from "../components/web-acl";
import { FaultDrills } from "../components/fault-drills";
import { LadderConfig } from "./config";
import { climbAlarms } from "./climb-signals";

/**
 * `<project>-<stack>` in the characters dashboard and SSM parameter names allow: the prefix that keeps the explicit
 * physical names of two stacks in one account and region apart (issue 12, defect 8).
 */
function physicalNamePrefix(): string {
  return `${pulumi.getProject()}-${pulumi.getStack()}`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 100);
}

/** A region the ladder runs in. */
export interface RegionTarget {
  /** AWS region name, e.g. `us-east-1`. */
  name: string;
  /** The provider every resource of the region is created through. */
  provider: aws.Provider;
  /**
   * A us-east-1 provider for what CloudFront reads from there only: its viewer certificate and its web ACL (the
   * region's own provider when it is us-east-1).
   */
  certificateProvider: aws.Provider;
  /** The providers' default tags, repeated where they do not reach (instances launched by auto-scaling). */
  tags: Record<string, string>;
}

/**
 * What a secondary region (step 11) takes from the primary: it reads its own replicas of the primary's secrets (the
 * ARNs here are the primary's; see components/secret-replicas.ts), keeps a copy of the shard map, replicates its
 * databases, writes to them over the peering, and sits behind the same CDN. Nothing a secondary's servers read at
 * boot or when they connect is in the primary region: they start and serve reads while it is down.
 */
export interface PrimaryShared {
  region: string;
  cidr: string;
  appSecretsArn: pulumi.Output<string>;
  originSecret: pulumi.Output<string>;
  /** The primary fleet's ACM validation records (one per domain name), which the secondaries' certificates reuse. */
  validationRecordFqdns?: Record<string, pulumi.Input<string>>;
  database: {
    arn: pulumi.Output<string>;
    address: pulumi.Output<string>;
    port: pulumi.Output<number>;
    dbName: string;
    secretArn: pulumi.Output<string>;
  };
  shards: {
    globalClusterIds: pulumi.Output<string>[];
    /** Each global database's running engine version: a secondary cluster must be created at exactly this one. */
    engineVersions: pulumi.Output<string>[];
    /** Each shard's primary writer instance, which the secondary clusters wait for. */
    writerInstances: pulumi.Resource[];
    writers: pulumi.Output<string>[];
    names: string[];
    secretArn: pulumi.Output<string>;
    /** The shard map the primary publishes; each secondary publishes its own copy. */
    map: ShardMapDocument;
  };
}

/** The primary region, or a secondary one beside it (step 11). */
export type RegionRole = { kind: "primary" } | { kind: "secondary"; primary: PrimaryShared };

/** What the ladder needs from a region beyond its stack outputs (peering, geolocation DNS). */
export interface RegionParts {
  code: string;
  vpcId: pulumi.Output<string>;
  web?: {
    dnsName: pulumi.Output<string>;
    zoneId: pulumi.Output<string>;
    arnSuffix: pulumi.Output<string>;
    targetGroupArnSuffix: pulumi.Output<string>;
  };
  /** Set on the primary from step 11. */
  shared?: PrimaryShared;
}

/** What a region hands back to the stack outputs; absent keys do not apply at the step. */
export interface RegionOutputs {
  siteUrl: pulumi.Output<string>;
  serverInstanceId?: pulumi.Output<string>;
  sessionCommand?: pulumi.Output<string>;
  loadBalancerDnsName?: pulumi.Output<string>;
  webGroupName?: pulumi.Output<string>;
  databaseEndpoint?: pulumi.Output<string>;
  databaseSecretArn?: pulumi.Output<string>;
  databaseReplicaEndpoints?: pulumi.Output<string[]>;
  cacheEndpoint?: pulumi.Output<string>;
  cdnDomainName?: pulumi.Output<string>;
  orderQueueUrl?: pulumi.Output<string>;
  deadLetterQueueUrl?: pulumi.Output<string>;
  workerGroupName?: pulumi.Output<string>;
  shardEndpoints?: pulumi.Output<string[]>;
  shardMapParameterName?: pulumi.Output<string>;
  dashboardUrl?: pulumi.Output<string>;
  alarmTopicArn?: pulumi.Output<string>;
  artifactBucket: pulumi.Output<string>;
  releaseUri: pulumi.Output<string>;
  /** The primary's admin token (secondaries share it). */
  adminToken?: pulumi.Output<string>;
}

/** `us-east-1` → `use1`: short, stable prefixes so that several regions' resources never collide. */
export function regionCode(region: string): string {
  const m = /^([a-z]{2})(?:-gov)?-([a-z]+)-(\d)$/.exec(region);
  if (!m) throw new Error(`not an AWS region name: ${JSON.stringify(region)}`);
  const direction = m[2]
    .replace(/(north|south)(east|west)/, (_, a: string, b: string) => a[0] + b[0])
    .replace(/^(central|east|west|north|south)$/, (d) => d[0]);
  return `${m[1]}${direction}${m[3]}`;
}

/**
 * Builds one region's platform for the configured step. Every resource is named `<region code>-<role>` and created
 * through the region's provider, so a second region (step 11) is added beside this one without renaming anything.
 */
export function buildRegion(
  cfg: LadderConfig,
  region: RegionTarget,
  role: RegionRole = { kind: "primary" },
): { outputs: RegionOutputs; parts: RegionParts } {
  const code = regionCode(region.name);
  const primary = role.kind === "secondary" ? role.primary : undefined;
  const f = featuresAt(cfg.builtStep);
  const multiRegion = f.multiRegion;
  // Secondary regions write to the primary's databases over the peering: those admit the secondaries' CIDRs.
  const peerCidrs = multiRegion && !primary ? cfg.regions.secondaries.map((r) => cfg.regions.cidrs[r]) : [];
  const opts: pulumi.ComponentResourceOptions = { providers: [region.provider] };
  const prod = cfg.environment === "prod";
  const fleet = f.fleet;

  const network = new Network(
    `${code}-network`,
    {
      region: region.name,
      cidrBlock: cfg.regions.cidrs[region.name] ?? cfg.network.cidr,
      availabilityZones: cfg.network.availabilityZones,
      availabilityZoneNames: cfg.network.zoneNames[region.name],
      natGateways: cfg.network.natGateways,
      tiers: f.queue ? ["web", "alb", "worker"] : fleet ? ["web", "alb"] : ["web"],
      peerCidrs: primary ? [primary.cidr] : [],
    },
    opts,
  );
  const web = network.securityGroup("web");
  // Step 8: workers reach the database and the cache too.
  const appTiers = f.queue ? [web.id, network.securityGroup("worker").id] : [web.id];
  // Prod: S3 server access logs of the artifact and static-asset buckets, kept 90 days.
  const s3AccessLogs = prod
    ? new PrivateBucket(
        `${code}-s3-access-logs`,
        { versioned: false, expireAfterDays: 90, receivesServerAccessLogs: true },
        opts,
      )
    : undefined;
  const artifact = new AppArtifact(
    `${code}-artifact`,
    { path: path.resolve(cfg.app.artifactPath), forceDestroy: !prod, accessLogBucket: s3AccessLogs?.bucketName },
    opts,
  );
  // One set of app secrets for every region (sessions signed in one region are valid in another), replicated to the
  // secondary regions, whose servers read their own replica.
  const secretReplicaRegions = multiRegion && !primary ? cfg.regions.secondaries : [];
  const appSecretsReplica = primary && replicaSecretArn(primary.appSecretsArn, region.name);
  const secrets = appSecretsReplica
    ? {
        secretArn: appSecretsReplica,
        adminToken: undefined,
        readStatements: [
          { sid: "ReadAppSecrets", actions: ["secretsmanager:GetSecretValue"], resources: [appSecretsReplica] },
        ],
      }
    : new AppSecrets(
        `${code}-secrets`,
        { recoveryWindowInDays: prod ? 30 : 7, replicaRegions: secretReplicaRegions },
        opts,
      );
  // This region's replica of the catalog's credentials (a secondary's database is a replica of the primary's).
  const catalogSecretReplica = primary && replicaSecretArn(primary.database.secretArn, region.name);
  // Cross-region replicas must be encrypted with a key of their own region: a customer-managed key of ours, since
  // alias/aws/rds exists only once RDS has encrypted something in the region. Choose it before the first step-11
  // deploy: a new kmsKeyId replaces the replica and the secondary clusters (see DatabaseKey).
  const rdsKey = primary
    ? new DatabaseKey(`${code}-db-key`, { region: region.name, purpose: "RDS replica and Aurora secondaries" }, opts)
        .arn
    : undefined;

  // Step 2: the database leaves the server. Step 4: Multi-AZ (config default) and read replicas.
  const database = f.separateDatabase
    ? new Database(
        `${code}-db`,
        {
          vpcId: network.vpcId,
          subnetIds: network.isolatedSubnetIds,
          clientSecurityGroupIds: appTiers,
          clientCidrs: peerCidrs,
          replicaOf: primary
            ? { sourceArn: primary.database.arn, kmsKeyArn: rdsKey!, sourceSecretArn: catalogSecretReplica! }
            : undefined,
          instanceClass: cfg.database.instanceClass,
          allocatedStorageGb: cfg.database.allocatedStorageGb,
          maxAllocatedStorageGb: cfg.database.maxAllocatedStorageGb,
          backupRetentionDays: cfg.database.backupRetentionDays,
          multiAz: primary ? false : cfg.database.multiAz,
          replicas: primary ? 0 : cfg.database.replicas,
          crossRegionReplicas: multiRegion && !primary,
          // Generated from step 2, not managed by RDS: one secret for the life of the stack. RDS cannot replicate an
          // instance whose password it manages (step 4's replicas, step 11's), and turning management off sets a new
          // password and deletes RDS's secret, which the running servers read their password from: the 3 -> 4 climb
          // was an outage of new connections until the instance refresh had replaced every server (issue 15, item
          // 3). Rotation: replace the RandomPassword; the app reads the new one from the secret, no restart.
          passwordManagement: "generated",
          secretReplicaRegions,
          recoveryWindowInDays: prod ? 30 : 7,
          availabilityZoneCount: cfg.network.availabilityZones,
          deletionProtection: prod,
          finalSnapshot: prod,
        },
        opts,
      )
    : undefined;
  // A secondary region writes to the primary and reads its local replica.
  const databaseSource: DatabaseSource = primary
    ? {
        kind: "rds",
        host: primary.database.address,
        port: primary.database.port,
        dbName: primary.database.dbName,
        secretArn: catalogSecretReplica!,
      }
    : database
      ? {
          kind: "rds",
          host: database.address,
          port: database.port,
          dbName: database.dbName,
          secretArn: database.secretArn,
        }
      : { kind: "local" };
  const replicaHosts = primary && database ? [database.address] : database?.replicaAddresses;

  // Step 5: the cache tier.
  const cache = f.cache
    ? new Cache(
        `${code}-cache`,
        {
          vpcId: network.vpcId,
          subnetIds: network.isolatedSubnetIds,
          clientSecurityGroupIds: appTiers,
          nodeType: cfg.cache.nodeType,
          replicas: cfg.cache.replicas,
          maxmemoryPolicy: cfg.cache.maxmemoryPolicy,
          snapshotRetentionDays: cfg.cache.snapshotRetentionDays,
          recoveryWindowInDays: prod ? 30 : 7,
          applyImmediately: !prod,
        },
        opts,
      )
    : undefined;
  // Step 7: the sessions' own Valkey group. Under the cache's allkeys-lru a visitor filling the cache through many
  // list pages evicted every cart (issue 14); here nothing is evicted: a full group refuses new sessions (the app
  // answers 503) and keeps the carts it holds. Only the web tier reaches it: workers never read a session.
  const sessionStore = f.redisSessions
    ? new Cache(
        `${code}-sessions`,
        {
          purpose: "sessions",
          nodeType: cfg.sessions.nodeType,
          vpcId: network.vpcId,
          subnetIds: network.isolatedSubnetIds,
          clientSecurityGroupIds: [web.id],
          maxmemoryPolicy: "noeviction",
          // A day of snapshots restores the carts after losing the group; sessions are gone after 7 days anyway.
          snapshotRetentionDays: 1,
          recoveryWindowInDays: prod ? 30 : 7,
          applyImmediately: !prod,
        },
        opts,
      )
    : undefined;

  // Step 8: the orders queue.
  const queue = f.queue
    ? new Queue(`${code}-orders`, { visibilityTimeoutSeconds: cfg.queue.visibilityTimeoutSeconds }, opts)
    : undefined;

  // Step 9: orders sharded by shopper across Aurora clusters; the catalog stays on the step-2 database.
  const shards = f.shards
    ? new ShardedDatabase(
        `${code}-shards`,
        {
          vpcId: network.vpcId,
          subnetIds: network.isolatedSubnetIds,
          clientSecurityGroupIds: appTiers,
          clientCidrs: peerCidrs,
          globalDatabase: multiRegion && !primary,
          secretReplicaRegions,
          secondaryOf: primary
            ? {
                globalClusterIds: primary.shards.globalClusterIds,
                engineVersions: primary.shards.engineVersions,
                primaryWriters: primary.shards.writerInstances,
                kmsKeyArn: rdsKey!,
                map: primary.shards.map,
                secretArn: primary.shards.secretArn,
                region: region.name,
              }
            : undefined,
          shards: cfg.shards.count,
          instanceClass: cfg.shards.instanceClass,
          backupRetentionDays: cfg.database.backupRetentionDays,
          availabilityZoneCount: cfg.network.availabilityZones,
          deletionProtection: prod,
          finalSnapshot: prod,
          recoveryWindowInDays: prod ? 30 : 7,
        },
        opts,
      )
    : undefined;

  // Step 10: log groups and the CloudWatch agent's configuration, which the fleets' boot scripts use.
  const telemetry = f.telemetry
    ? new Telemetry(
        `${code}-telemetry`,
        {
          logGroupPrefix: `/scale-ladder/${pulumi.getStack()}/${code}`,
          namePrefix: physicalNamePrefix(),
          logRetentionDays: cfg.observability.logRetentionDays,
        },
        opts,
      )
    : undefined;

  // Step 6: the CDN's origin secret is shared by the distribution (sends it) and the ALB (requires it).
  const originSecret = primary
    ? primary.originSecret
    : f.cdn
      ? pulumi.secret(new random.RandomPassword(`${code}-cdn-origin-secret`, { length: 48, special: false }).result)
      : undefined;

  const statements = [
    ...artifact.readStatements,
    ...secrets.readStatements,
    ...(database?.readStatements ?? []),
    ...(cache?.readStatements ?? []),
    ...(shards?.readStatements ?? []),
    ...(telemetry?.instanceStatements ?? []),
  ];
  // What the region's resources give the app's environment (stacks/app-environment.ts decides the variables).
  const envFacts: AwsEnvFacts = {
    database:
      databaseSource.kind === "rds"
        ? {
            kind: "rds",
            host: databaseSource.host,
            port: pulumi.output(databaseSource.port).apply(String),
            dbName: databaseSource.dbName,
            secretArn: databaseSource.secretArn,
          }
        : { kind: "local" },
    replicaHosts: replicaHosts ?? [],
    appSecretsArn: secrets.secretArn,
    cache: cache ? { host: cache.primaryAddress, port: cache.port, secretArn: cache.authSecretArn } : undefined,
    sessions: sessionStore
      ? { host: sessionStore.primaryAddress, port: sessionStore.port, secretArn: sessionStore.authSecretArn }
      : undefined,
    queueUrl: queue?.url,
    // A secondary reads its own copy of the map and its replica of the secret (both in its region).
    shards: primary
      ? {
          mapParameterName: shards!.shardMapParameterName!,
          mapRegion: region.name,
          secretArn: shards!.secretArn!,
          endpoints: primary.shards.names.map((name, i) => ({
            name,
            writer: primary.shards.writers[i],
            reader: shards!.shards[i].reader,
          })),
        }
      : shards && shards.shardMapParameterName && shards.secretArn
        ? {
            mapParameterName: shards.shardMapParameterName,
            mapRegion: region.name,
            secretArn: shards.secretArn,
            endpoints: shards.shards.map((s) => ({ name: s.name, writer: s.writer, reader: s.reader })),
          }
        : undefined,
    metricsLogGroupName: telemetry?.metricsLogGroupName,
  };
  const userData = (role: AppRole, extra: Partial<AppUserDataArgs> = {}) =>
    appUserData({
      releaseParameterName: artifact.releaseParameterName,
      database: databaseSource,
      environment: awsAppEnvironment(cfg, role, envFacts),
      observability: telemetry ? { agentConfigParameterName: telemetry.agentConfigParameterName } : undefined,
      ...extra,
    });

  const common = {
    artifactBucket: artifact.bucket.bucketName,
    releaseUri: artifact.uri,
    adminToken: secrets.adminToken ?? undefined,
    databaseEndpoint: database ? pulumi.interpolate`${database.address}:${database.port}` : undefined,
    databaseSecretArn: database?.secretArn,
    databaseReplicaEndpoints:
      database && database.replicas.length > 0 ? pulumi.all(database.replicaAddresses) : undefined,
    cacheEndpoint: cache ? pulumi.interpolate`${cache.primaryAddress}:${cache.port}` : undefined,
  };

  if (!fleet) {
    const server = new SingleServer(
      `${code}-server`,
      {
        subnetId: network.publicSubnetIds.apply((ids) => ids[0]),
        securityGroupId: web.id,
        instanceType: cfg.server.instanceType,
        userData: userData("web"),
        statements,
        releaseUri: artifact.uri,
      },
      opts,
    );
    const record = siteRecord(cfg, code, region, { records: [server.publicIp] });
    const outputs: RegionOutputs = {
      ...common,
      siteUrl: record ? pulumi.interpolate`http://${record.fqdn}/` : server.url,
      serverInstanceId: server.instanceId,
      sessionCommand: pulumi.interpolate`aws ssm start-session --region ${region.name} --target ${server.instanceId}`,
    };
    return { outputs, parts: { code, vpcId: network.vpcId } };
  }

  // Step 3: AWS WAF on the ALB, in every region's own region. It stays from step 6, behind CloudFront: CloudFront's
  // origin-facing addresses reach the ALB for every CloudFront customer, so an origin header that leaks lets
  // another distribution around the edge ACL (see WebFleetArgs.webAclArn); and the climb keeps its log group. Behind
  // CloudFront every connection comes from a CloudFront server, so the rate rule counts X-Forwarded-For's address.
  const albAcl = new WebAcl(
    `${code}-waf`,
    {
      scope: "REGIONAL",
      region: region.name,
      aclName: `${physicalNamePrefix()}-${code}-alb`,
      rateLimit: cfg.waf.rateLimit,
      clientAddress: originSecret ? "forwarded" : "source",
      logRetentionDays: cfg.observability.logRetentionDays,
    },
    opts,
  );
  // Step 3: the single server leaves (the one intended replacement of the climb); a fleet behind an ALB takes over.
  const webFleet = new WebFleet(
    `${code}-web`,
    {
      region: region.name,
      vpcId: network.vpcId,
      publicSubnetIds: network.publicSubnetIds,
      privateSubnetIds: network.privateSubnetIds,
      albSecurityGroupId: network.securityGroup("alb").id,
      webSecurityGroupId: web.id,
      userData: userData("web", { releaseUri: artifact.uri }),
      statements: [...statements, ...(sessionStore?.readStatements ?? []), ...(queue?.sendStatements ?? [])],
      instanceType: cfg.web.instanceType,
      minSize: cfg.web.minSize,
      maxSize: cfg.web.maxSize,
      desiredCapacity: cfg.web.desiredCapacity,
      cpuTargetPercent: cfg.web.cpuTargetPercent,
      sticky: !f.redisSessions,
      requestsPerTarget: f.redisSessions ? cfg.web.requestsPerTarget : undefined,
      // A secondary region's certificate waits on the primary's validation records: one record per name (see
      // WebFleetDns).
      dns: cfg.dns && { ...cfg.dns, validationRecordFqdns: primary?.validationRecordFqdns },
      deletionProtection: prod,
      webAclArn: albAcl.arn,
      launchTags: region.tags,
      // Step 6: only CloudFront reaches the ALB, and only with our header.
      viewerPrefixListId: originSecret
        ? aws.ec2.getManagedPrefixListOutput(
            { name: "com.amazonaws.global.cloudfront.origin-facing" },
            { provider: region.provider },
          ).id
        : undefined,
      originVerifyHeader: originSecret ? { name: ORIGIN_VERIFY_HEADER, value: originSecret } : undefined,
    },
    opts,
  );

  const workers =
    queue &&
    new WorkerFleet(
      `${code}-workers`,
      {
        subnetIds: network.privateSubnetIds,
        securityGroupId: network.securityGroup("worker").id,
        userData: userData("worker", { mode: "worker", releaseUri: artifact.uri }),
        // Workers serve no HTTP API, sign no cookies and use no cache: everything the web tier reads but the app's
        // secrets and the cache's token (their environment, stacks/app-environment.ts, reads neither).
        statements: [
          ...statements.filter((s) => s.sid !== "ReadAppSecrets" && s.sid !== "ReadCacheToken"),
          ...queue.consumeStatements,
        ],
        queueName: queue.name,
        instanceType: cfg.worker.instanceType,
        minSize: cfg.worker.minSize,
        maxSize: cfg.worker.maxSize,
        backlogPerInstance: cfg.worker.backlogPerInstance,
        launchTags: region.tags,
      },
      opts,
    );
  // Step 10: dashboards and alarms over everything the region runs.
  const monitoring =
    telemetry &&
    new Monitoring(
      `${code}-monitoring`,
      {
        region: region.name,
        namePrefix: physicalNamePrefix(),
        alarmEmail: cfg.observability.alarmEmail,
        // "When to climb" (stacks/climb-signals.ts): a secondary's database is a replica, its shards readers.
        climb: climbAlarms(cfg, primary !== undefined),
        watched: {
          webGroupName: webFleet.group.name,
          workerGroupName: workers?.group.name,
          loadBalancer: {
            arnSuffix: webFleet.loadBalancer.arnSuffix,
            targetGroupArnSuffix: webFleet.targetGroup.arnSuffix,
          },
          databaseIdentifiers: database
            ? [database.instance.identifier, ...database.replicas.map((r) => r.identifier)]
            : undefined,
          shardClusterIdentifiers: shards?.shards.map((s) => s.clusterIdentifier),
          cacheGroupId: cache?.group.id,
          sessionGroupId: sessionStore?.group.id,
          queueName: queue?.name,
          deadLetterQueueName: queue?.deadLetterName,
        },
      },
      opts,
    );
  // The fault drills of stacks/drills.ts, as FIS templates, in the primary region (a secondary's database is a
  // single-AZ replica: nothing to fail over). Each stops on the step-10 alarms once they exist.
  if (!primary) {
    new FaultDrills(
      `${code}-drills`,
      {
        region: region.name,
        namePrefix: `${physicalNamePrefix()}-${code}`,
        // Not `step`: instances launched before a climb keep the step they were launched at.
        instanceTags: { project: region.tags.project, stack: region.tags.stack },
        webGroupName: webFleet.group.name,
        workerGroupName: workers?.group.name,
        databaseArn: f.replicas && cfg.database.multiAz ? database?.instance.arn : undefined,
        cacheGroupArn: cache?.group.arn,
        subnetIds: pulumi
          .all([network.publicSubnetIds, network.privateSubnetIds, network.isolatedSubnetIds])
          .apply((lists) => lists.flat()),
        // The first of the VPC's zones: awsx takes the first N available zones when none are named.
        zone:
          cfg.network.zoneNames[region.name]?.[0] ??
          aws.getAvailabilityZonesOutput({ state: "available" }, { provider: region.provider }).names[0],
        stopAlarmArns: monitoring?.alarms.map((a) => a.arn),
      },
      opts,
    );
  }
  const observabilityOutputs = monitoring
    ? { dashboardUrl: monitoring.dashboardUrl, alarmTopicArn: monitoring.topic.arn }
    : {};
  const shardOutputs = shards
    ? {
        shardEndpoints: pulumi.all(shards.shards.map((s) => s.writer)),
        shardMapParameterName: shards.shardMapParameterName,
      }
    : {};
  const queueOutputs =
    queue && workers
      ? { orderQueueUrl: queue.url, deadLetterQueueUrl: queue.deadLetterQueue.url, workerGroupName: workers.group.name }
      : {};

  const parts: RegionParts = {
    code,
    vpcId: network.vpcId,
    web: {
      dnsName: webFleet.dnsName,
      zoneId: webFleet.zoneId,
      arnSuffix: webFleet.loadBalancer.arnSuffix,
      targetGroupArnSuffix: webFleet.targetGroup.arnSuffix,
    },
  };
  const fleetOutputs = {
    ...common,
    ...queueOutputs,
    ...shardOutputs,
    ...observabilityOutputs,
    loadBalancerDnsName: webFleet.dnsName,
    webGroupName: webFleet.group.name,
  };
  if (!originSecret) {
    siteRecord(cfg, code, region, { alias: { name: webFleet.dnsName, zoneId: webFleet.zoneId } });
    return { outputs: { ...fleetOutputs, siteUrl: webFleet.url }, parts };
  }
  // A secondary region sits behind the primary's CDN; geolocation DNS (the ladder's) sends it its continents.
  if (primary) return { outputs: { ...fleetOutputs, siteUrl: webFleet.url }, parts };

  // Step 6: CloudFront in front. With a domain it reaches the ALB as origin.<domain> (covered by the ALB's
  // certificate) over HTTPS; without one, by the ALB's own name over HTTP (no certificate matches that name).
  // The origin record is a geolocation *default* record from the start: step 11 adds per-continent records for the
  // same name beside it, which Route 53 refuses next to a simple record.
  let originDomain: pulumi.Input<string> = webFleet.dnsName;
  if (cfg.dns) {
    originDomain = new aws.route53.Record(
      `${code}-origin-dns`,
      {
        zoneId: cfg.dns.hostedZoneId,
        name: `origin.${cfg.dns.domain}`,
        type: "A",
        setIdentifier: "default",
        geolocationRoutingPolicies: [{ country: "*" }],
        aliases: [{ name: webFleet.dnsName, zoneId: webFleet.zoneId, evaluateTargetHealth: true }],
      },
      { provider: region.provider },
    ).fqdn;
  }
  // Step 6: the same rules at the edge, where the viewer's own address is seen. CloudFront reads web ACLs from
  // us-east-1 only; one ACL for the one distribution, also at step 11.
  const edgeAcl = new WebAcl(
    `${code}-edge-waf`,
    {
      scope: "CLOUDFRONT",
      region: "us-east-1",
      aclName: `${physicalNamePrefix()}-edge`,
      rateLimit: cfg.waf.rateLimit,
      clientAddress: "source",
      logRetentionDays: cfg.observability.logRetentionDays,
    },
    { providers: [region.certificateProvider] },
  );
  const cdn = new Cdn(
    `${code}-cdn`,
    {
      albOriginDomain: originDomain,
      albOriginHttps: cfg.dns !== undefined,
      originSecret,
      staticFiles: listStaticFiles(path.resolve(cfg.app.staticDir)),
      // The viewer certificate's name is the fleet's: the fleet owns its validation record.
      dns: cfg.dns && { ...cfg.dns, validationRecordFqdns: webFleet.validationRecordFqdns },
      certificateProvider: region.certificateProvider,
      webAclArn: edgeAcl.arn,
      responseHeadersPolicyName: `${physicalNamePrefix()}-security-headers`,
      priceClass: cfg.cdn.priceClass,
      forceDestroy: !prod,
      accessLogBucket: s3AccessLogs?.bucketName,
    },
    opts,
  );
  siteRecord(cfg, code, region, { alias: { name: cdn.domainName, zoneId: CLOUDFRONT_ZONE_ID } });
  if (multiRegion && database && shards && secrets instanceof AppSecrets) {
    parts.shared = {
      region: region.name,
      cidr: cfg.regions.cidrs[region.name],
      appSecretsArn: secrets.secretArn,
      originSecret,
      validationRecordFqdns: webFleet.validationRecordFqdns,
      database: {
        arn: database.instance.arn,
        address: database.address,
        port: database.port,
        dbName: database.dbName,
        secretArn: database.secretArn,
      },
      shards: {
        globalClusterIds: shards.globalClusters.map((g) => g.id),
        engineVersions: shards.globalClusters.map((g) => g.engineVersionActual),
        writerInstances: shards.writers,
        writers: shards.shards.map((s) => s.writer),
        names: shards.shards.map((s) => s.name),
        secretArn: shards.secretArn!,
        map: shards.map,
      },
    };
  }
  return { outputs: { ...fleetOutputs, siteUrl: cdn.url, cdnDomainName: cdn.domainName }, parts };
}

export { APP_PORT };

/**
 * The site's DNS record, one resource for the life of the stack: an A record on the Elastic IP at steps 1–2, an
 * alias to the load balancer from step 3. Keeping one record (same URN, updated in place) avoids deleting and
 * re-creating the same name, which Route 53 would refuse or briefly leave unanswered.
 */
function siteRecord(
  cfg: LadderConfig,
  code: string,
  region: RegionTarget,
  target: { records: pulumi.Input<string>[] } | { alias: { name: pulumi.Input<string>; zoneId: pulumi.Input<string> } },
): aws.route53.Record | undefined {
  if (!cfg.dns) return undefined;
  return new aws.route53.Record(
    `${code}-site-dns`,
    {
      zoneId: cfg.dns.hostedZoneId,
      name: cfg.dns.domain,
      type: "A",
      ...("records" in target
        ? { ttl: 60, records: target.records }
        : {
            // Route 53 refuses to evaluate a CloudFront distribution's health; a load balancer's it can.
            aliases: [
              {
                name: target.alias.name,
                zoneId: target.alias.zoneId,
                evaluateTargetHealth: target.alias.zoneId !== CLOUDFRONT_ZONE_ID,
              },
            ],
          }),
    },
    { provider: region.provider },
  );
}
