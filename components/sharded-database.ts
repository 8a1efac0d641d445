import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { dataTierSecurityGroup } from "./data-security-group";
import { MASTER_USERNAME, POSTGRES_PORT } from "./database";
import { DatabaseCredentials } from "./database-credentials";
import { Statement } from "./iam";
import { SHARD_BUCKETS, ShardMapDocument, assignBuckets } from "./shard-map";
import { requireMatch, requireRange } from "./validate";

/** Aurora PostgreSQL version of the shards; every member of a global database must run the same one. */
export const AURORA_ENGINE_VERSION = "16.6";
export const AURORA_PARAMETER_FAMILY = "aurora-postgresql16";

/** One shard as the app and the operators see it. */
export interface ShardEndpoints {
  /** Logical name (the cluster's resource name), as the shard map lists it. */
  name: string;
  /** Writer endpoint (primary region) or the local reader endpoint (secondary regions). */
  writer: pulumi.Output<string>;
  reader: pulumi.Output<string>;
  clusterIdentifier: pulumi.Output<string>;
}

/** Arguments for {@link ShardedDatabase}. */
export interface ShardedDatabaseArgs {
  vpcId: pulumi.Input<string>;
  /** Isolated subnets in at least two AZs. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Security groups allowed on 5432 (web and workers), each by its own rule. */
  clientSecurityGroupIds: pulumi.Input<string>[];
  /** CIDRs allowed on 5432 as well: peered VPCs of other regions, which cannot be referenced by security group. */
  clientCidrs?: string[];
  /**
   * Number of shards. Raising it adds clusters and moves buckets to them (see `assignBuckets`); lowering it is
   * refused by the map only if data were stranded, which this component cannot know — follow the resharding runbook.
   * @default 2
   */
  shards?: number;
  /**
   * Instance class of each writer and reader (Aurora PostgreSQL needs at least a medium).
   * @default "db.t4g.medium"
   */
  instanceClass?: string;
  /** @default 7 */
  backupRetentionDays?: number;
  /** @default false */
  deletionProtection?: boolean;
  /** @default false */
  finalSnapshot?: boolean;
  /**
   * How many of the region's first AZs the VPC spans; a shard's writer and reader sit in different ones.
   * @default 2
   */
  availabilityZoneCount?: number;
  /**
   * Primary region, step 11: make each shard the primary cluster of an Aurora global database.
   * @default false
   */
  globalDatabase?: boolean;
  /**
   * Secondary regions, step 11: instead of new shards, join each shard's global database as a read-only secondary
   * cluster (one reader each), encrypted with this region's KMS key.
   */
  secondaryOf?: { globalClusterIds: pulumi.Input<string>[]; kmsKeyArn: pulumi.Input<string> };
  /** @default 7 */
  recoveryWindowInDays?: number;
}

/**
 * Step 9: orders sharded by shopper across `shards` Aurora PostgreSQL clusters, each with a writer and a reader in
 * different AZs, encrypted, backed up, reached only from the app tiers. The catalog stays on the step-2 database.
 *
 * The shard map — `SHARD_BUCKETS` buckets, each owned by one shard — is published as an SSM parameter
 * (`shardMapParameterName`) that the servers read at start to build `ORDER_SHARDS`; resharding is: add a shard,
 * copy the buckets that move, update the parameter, restart (docs: step 9 runbook).
 *
 * Credentials are generated (`DatabaseCredentials`) rather than managed by RDS, because clusters that are or will be
 * members of an Aurora global database (step 11) cannot have RDS-managed master passwords.
 *
 * Cost: per shard two db.t4g.medium instances, about $105/month in us-east-1, plus storage and I/O.
 */
export class ShardedDatabase extends pulumi.ComponentResource {
  public readonly clusters: aws.rds.Cluster[];
  public readonly shards: ShardEndpoints[];
  public readonly securityGroup: aws.ec2.SecurityGroup;
  /** Global database of each shard (primary region with `globalDatabase`). */
  public readonly globalClusters: aws.rds.GlobalCluster[];
  /** SSM parameter holding the {@link ShardMapDocument} (primary region). */
  public readonly shardMapParameterName?: pulumi.Output<string>;
  /** Secrets Manager secret with the shards' master credentials (primary region). */
  public readonly secretArn?: pulumi.Output<string>;
  public readonly map: ShardMapDocument;
  public readonly readStatements: Statement[];

  constructor(name: string, args: ShardedDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:database:ShardedDatabase", name, {}, opts);
    const count = args.shards ?? 2;
    requireRange("ShardedDatabase", "shards", count, 1, 16);
    const instanceClass = args.instanceClass ?? "db.t4g.medium";
    requireMatch("ShardedDatabase", "instanceClass", instanceClass, /^db\.(?!t[234]g?\.(micro|small)$)[a-z][a-z0-9-]*\.[a-z0-9]+$/, "an Aurora instance class of medium size or larger, such as db.t4g.medium");
    const retention = args.backupRetentionDays ?? 7;
    requireRange("ShardedDatabase", "backupRetentionDays", retention, 7, 35);
    const azCount = args.availabilityZoneCount ?? 2;
    requireRange("ShardedDatabase", "availabilityZoneCount", azCount, 2, 6);
    const secondary = args.secondaryOf;
    if (secondary && secondary.globalClusterIds.length !== count) {
      throw new Error(`ShardedDatabase: secondaryOf.globalClusterIds must list one global cluster per shard (${count}), got ${secondary.globalClusterIds.length}`);
    }
    if (secondary && args.globalDatabase) throw new Error("ShardedDatabase: globalDatabase and secondaryOf exclude each other");
    const production = args.deletionProtection ?? false;

    this.securityGroup = dataTierSecurityGroup(this, name, {
      vpcId: args.vpcId,
      description: "scale-ladder order shards: Postgres from the app tiers only",
      port: POSTGRES_PORT,
      service: "Postgres",
      clientSecurityGroupIds: args.clientSecurityGroupIds,
      clientCidrs: args.clientCidrs,
    });
    const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, { subnetIds: args.subnetIds, description: "scale-ladder order shards, isolated subnets" }, { parent: this });
    const parameters = new aws.rds.ClusterParameterGroup(
      `${name}-params`,
      { family: AURORA_PARAMETER_FAMILY, description: "scale-ladder shards: TLS only", parameters: [{ name: "rds.force_ssl", value: "1" }] },
      { parent: this },
    );
    const credentials = secondary
      ? undefined
      : new DatabaseCredentials(`${name}-credentials`, { username: MASTER_USERNAME, recoveryWindowInDays: args.recoveryWindowInDays }, { parent: this });
    const zones = aws.getAvailabilityZonesOutput({ state: "available" }, { parent: this });
    const zone = (i: number) => zones.names.apply((n) => n.slice(0, azCount)[i % Math.min(azCount, n.length)]);

    this.clusters = [];
    this.globalClusters = [];
    this.shards = [];
    for (let i = 0; i < count; i++) {
      const shardName = `${name}-${i}`;
      const cluster = new aws.rds.Cluster(
        shardName,
        {
          engine: "aurora-postgresql",
          engineVersion: AURORA_ENGINE_VERSION,
          ...(secondary
            ? { globalClusterIdentifier: secondary.globalClusterIds[i], kmsKeyId: secondary.kmsKeyArn }
            : { databaseName: "orders", masterUsername: MASTER_USERNAME, masterPassword: credentials!.password }),
          storageEncrypted: true,
          port: POSTGRES_PORT,
          dbSubnetGroupName: subnetGroup.name,
          vpcSecurityGroupIds: [this.securityGroup.id],
          dbClusterParameterGroupName: parameters.name,
          backupRetentionPeriod: retention,
          preferredBackupWindow: "03:00-04:00",
          preferredMaintenanceWindow: "sun:04:30-sun:05:30",
          copyTagsToSnapshot: true,
          enabledCloudwatchLogsExports: ["postgresql"],
          deletionProtection: production,
          skipFinalSnapshot: !(args.finalSnapshot ?? false),
          finalSnapshotIdentifier: args.finalSnapshot ? `${shardName}-final` : undefined,
          applyImmediately: !production,
        },
        // Joining a global database (step 11) sets globalClusterIdentifier from the global side.
        { parent: this, ignoreChanges: secondary ? [] : ["globalClusterIdentifier"] },
      );
      const roles = secondary ? ["reader"] : ["writer", "reader"];
      roles.forEach((role, r) => {
        new aws.rds.ClusterInstance(
          `${shardName}-${role}`,
          {
            clusterIdentifier: cluster.id,
            engine: "aurora-postgresql",
            engineVersion: AURORA_ENGINE_VERSION,
            instanceClass,
            availabilityZone: zone(i + r),
            promotionTier: r,
            publiclyAccessible: false,
            autoMinorVersionUpgrade: true,
            performanceInsightsEnabled: true,
            copyTagsToSnapshot: true,
            applyImmediately: !production,
          },
          { parent: this },
        );
      });
      if (args.globalDatabase) {
        this.globalClusters.push(
          new aws.rds.GlobalCluster(
            `${shardName}-global`,
            { globalClusterIdentifier: `${shardName}-global`, sourceDbClusterIdentifier: cluster.arn, forceDestroy: true, deletionProtection: production },
            { parent: this },
          ),
        );
      }
      this.clusters.push(cluster);
      this.shards.push({
        name: shardName,
        writer: secondary ? cluster.readerEndpoint : cluster.endpoint,
        reader: cluster.readerEndpoint,
        clusterIdentifier: cluster.clusterIdentifier,
      });
    }

    this.map = { version: 1, bucketCount: SHARD_BUCKETS, buckets: assignBuckets(count), shards: this.shards.map((s) => s.name) };
    this.readStatements = [];
    if (credentials) {
      this.secretArn = credentials.secretArn;
      const parameter = new aws.ssm.Parameter(
        `${name}-map`,
        { type: "String", value: JSON.stringify(this.map), description: `scale-ladder order shard map: ${SHARD_BUCKETS} buckets over ${count} shards` },
        { parent: this },
      );
      this.shardMapParameterName = parameter.name;
      this.readStatements.push(
        { sid: "ReadShardCredentials", actions: ["secretsmanager:GetSecretValue"], resources: [credentials.secretArn] },
        { sid: "ReadShardMap", actions: ["ssm:GetParameter"], resources: [parameter.arn] },
      );
    }
    this.registerOutputs({ shards: this.shards.map((s) => s.writer), shardMapParameterName: this.shardMapParameterName });
  }
}
