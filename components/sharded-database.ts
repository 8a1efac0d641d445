import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { dataTierSecurityGroup } from "./data-security-group";
import { MASTER_USERNAME, POSTGRES_PORT, stackNamePrefix } from "./database";
import { DatabaseCredentials } from "./database-credentials";
import {
  AURORA_GLOBAL_ALLOWED,
  AURORA_GLOBAL_DEFAULT_CLASS,
  auroraGlobalDatabaseAccepts,
  auroraPostgresOffers,
} from "./facts/rds-instance-classes";
import {
  AURORA_POSTGRES_CREATE_VERSION,
  AURORA_POSTGRES_FAMILY,
  AURORA_VERSION_IGNORED,
} from "./facts/rds-engine-versions";
import { Statement } from "./iam";
import { SHARD_BUCKETS, ShardMapDocument, assignBuckets } from "./shard-map";
import { replicaSecretArn } from "./secret-replicas";
import { ArgumentError, requireRange } from "./validate";

/**
 * Aurora PostgreSQL version a new shard is created with (see `AURORA_POSTGRES_CREATE_VERSION`: after creation AWS
 * owns the minor version, and secondaries take the global cluster's running version).
 */
export const AURORA_ENGINE_VERSION = AURORA_POSTGRES_CREATE_VERSION;
export const AURORA_PARAMETER_FAMILY = AURORA_POSTGRES_FAMILY;

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
   * Instance class of each writer and reader. Aurora PostgreSQL needs at least a medium; members of a global
   * database (`globalDatabase`, `secondaryOf`) need a memory-optimized class (`AURORA_GLOBAL_DATABASE_FAMILIES`).
   * @default "db.t4g.medium", or "db.r6g.large" with `globalDatabase` or `secondaryOf`
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
   * cluster (one reader each), encrypted with this region's KMS key. Per shard, in order: the global cluster id,
   * its running engine version (`engineVersionActual`: a secondary must run exactly the primary's version), and
   * the primary's writer instance, which the secondary waits for (creating a global cluster from an existing
   * cluster returns before AWS has finished; the provider's global-cluster example adds the same dependency).
   * `map` and `secretArn` are the primary's shard map and credentials secret: this region gets its own copy of the
   * map (an SSM parameter here) and reads its replica of the secret, so its servers read nothing from the primary
   * region (the secret must be replicated here: the primary's `secretReplicaRegions`).
   */
  secondaryOf?: {
    globalClusterIds: pulumi.Input<string>[];
    engineVersions: pulumi.Input<string>[];
    primaryWriters: pulumi.Resource[];
    kmsKeyArn: pulumi.Input<string>;
    map: ShardMapDocument;
    secretArn: pulumi.Input<string>;
    /** This region's name, where the secret's replica is read. */
    region: string;
  };
  /**
   * Primary region, step 11: regions the credentials' secret is replicated to (the secondary regions).
   * @default []
   */
  secretReplicaRegions?: string[];
  /** @default 7 */
  recoveryWindowInDays?: number;
  /**
   * Prefix of the physical names this component gives explicitly (global cluster ids, which are unique in the
   * whole account; final snapshot ids, unique per region), so that two stacks in one account never collide.
   * Everything else is auto-named by Pulumi (a random suffix).
   * @default "<project>-<stack>", lower-cased (`stackNamePrefix()`)
   */
  namePrefix?: string;
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
 * Engine versions: a shard is created at `AURORA_ENGINE_VERSION`; after that `engineVersion` is ignored on every
 * cluster and instance, since auto minor upgrades move it (see `components/facts/rds-engine-versions.ts`).
 *
 * Cost: per shard two db.t4g.medium instances, about $105/month in us-east-1, plus storage and I/O; at step 11 two
 * db.r6g.large per shard in the primary region (about $380/month) and one in each secondary region.
 */
export class ShardedDatabase extends pulumi.ComponentResource {
  public readonly clusters: aws.rds.Cluster[];
  /** Each shard's writer instance (primary region), in order. */
  public readonly writers: aws.rds.ClusterInstance[];
  public readonly shards: ShardEndpoints[];
  public readonly securityGroup: aws.ec2.SecurityGroup;
  /** Global database of each shard (primary region with `globalDatabase`). */
  public readonly globalClusters: aws.rds.GlobalCluster[];
  /** SSM parameter holding the {@link ShardMapDocument}, in this component's region (a copy in a secondary). */
  public readonly shardMapParameterName?: pulumi.Output<string>;
  /** Secrets Manager secret with the shards' master credentials (in a secondary region, its replica there). */
  public readonly secretArn?: pulumi.Output<string>;
  public readonly map: ShardMapDocument;
  public readonly readStatements: Statement[];

  constructor(name: string, args: ShardedDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:database:ShardedDatabase", name, {}, opts);
    const count = args.shards ?? 2;
    requireRange("ShardedDatabase", "shards", count, 1, 16);
    const global = args.globalDatabase === true || args.secondaryOf !== undefined;
    const instanceClass = args.instanceClass ?? (global ? AURORA_GLOBAL_DEFAULT_CLASS : "db.t4g.medium");
    if (!auroraPostgresOffers(instanceClass)) {
      throw new ArgumentError(
        "ShardedDatabase",
        "instanceClass",
        instanceClass,
        "an Aurora PostgreSQL instance class of medium size or larger, such as db.t4g.medium",
      );
    }
    if (global && !auroraGlobalDatabaseAccepts(instanceClass)) {
      throw new ArgumentError(
        "ShardedDatabase",
        "instanceClass",
        instanceClass,
        `${AURORA_GLOBAL_ALLOWED} for a member of a global database`,
      );
    }
    const prefix = args.namePrefix ?? stackNamePrefix();
    const retention = args.backupRetentionDays ?? 7;
    requireRange("ShardedDatabase", "backupRetentionDays", retention, 7, 35);
    const azCount = args.availabilityZoneCount ?? 2;
    requireRange("ShardedDatabase", "availabilityZoneCount", azCount, 2, 6);
    const secondary = args.secondaryOf;
    for (const k of ["globalClusterIds", "engineVersions", "primaryWriters"] as const) {
      if (secondary && secondary[k].length !== count) {
        throw new Error(
          `ShardedDatabase: secondaryOf.${k} must list one entry per shard (${count}), got ${secondary[k].length}`,
        );
      }
    }
    if (secondary && args.globalDatabase)
      throw new Error("ShardedDatabase: globalDatabase and secondaryOf exclude each other");
    if (secondary && (args.secretReplicaRegions ?? []).length > 0)
      throw new Error("ShardedDatabase: secretReplicaRegions is the primary's; a secondary reads its replica");
    if (secondary && secondary.map.shards.length !== count)
      throw new Error(
        `ShardedDatabase: secondaryOf.map lists ${secondary.map.shards.length} shards, this region has ${count}`,
      );
    const production = args.deletionProtection ?? false;

    this.securityGroup = dataTierSecurityGroup(this, name, {
      vpcId: args.vpcId,
      description: "scale-ladder order shards: Postgres from the app tiers only",
      port: POSTGRES_PORT,
      service: "Postgres",
      clientSecurityGroupIds: args.clientSecurityGroupIds,
      clientCidrs: args.clientCidrs,
    });
    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      { subnetIds: args.subnetIds, description: "scale-ladder order shards, isolated subnets" },
      { parent: this },
    );
    const parameters = new aws.rds.ClusterParameterGroup(
      `${name}-params`,
      {
        family: AURORA_PARAMETER_FAMILY,
        description: "scale-ladder shards: TLS only",
        parameters: [{ name: "rds.force_ssl", value: "1" }],
      },
      { parent: this },
    );
    const credentials = secondary
      ? undefined
      : new DatabaseCredentials(
          `${name}-credentials`,
          {
            username: MASTER_USERNAME,
            recoveryWindowInDays: args.recoveryWindowInDays,
            replicaRegions: args.secretReplicaRegions,
          },
          { parent: this },
        );
    const zones = aws.getAvailabilityZonesOutput({ state: "available" }, { parent: this });
    const zone = (i: number) => zones.names.apply((n) => n.slice(0, azCount)[i % Math.min(azCount, n.length)]);

    this.clusters = [];
    this.writers = [];
    this.globalClusters = [];
    this.shards = [];
    for (let i = 0; i < count; i++) {
      const shardName = `${name}-${i}`;
      const cluster = new aws.rds.Cluster(
        shardName,
        {
          engine: "aurora-postgresql",
          engineVersion: secondary ? secondary.engineVersions[i] : AURORA_ENGINE_VERSION,
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
          finalSnapshotIdentifier: args.finalSnapshot ? `${prefix}-${shardName}-final` : undefined,
          applyImmediately: !production,
        },
        secondary
          ? {
              parent: this,
              // AWS reports the primary cluster's ARN as a secondary's replicationSourceIdentifier; clearing it
              // would promote the secondary out of the global database on the next `pulumi up`. The provider's
              // example ignores it and waits for the primary's writer: @pulumi/aws rds/globalCluster.d.ts,
              // "New PostgreSQL Global Cluster" (pulumi-aws 7.48.0, read 2026-12-01).
              ignoreChanges: ["replicationSourceIdentifier", ...AURORA_VERSION_IGNORED],
              dependsOn: [secondary.primaryWriters[i]],
            }
          : // Joining a global database (step 11) sets globalClusterIdentifier from the global side.
            { parent: this, ignoreChanges: ["globalClusterIdentifier", ...AURORA_VERSION_IGNORED] },
      );
      const roles = secondary ? ["reader"] : ["writer", "reader"];
      roles.forEach((role, r) => {
        const instance = new aws.rds.ClusterInstance(
          `${shardName}-${role}`,
          {
            clusterIdentifier: cluster.id,
            engine: "aurora-postgresql",
            engineVersion: cluster.engineVersion,
            instanceClass,
            availabilityZone: zone(i + r),
            promotionTier: r,
            publiclyAccessible: false,
            autoMinorVersionUpgrade: true,
            performanceInsightsEnabled: true,
            copyTagsToSnapshot: true,
            applyImmediately: !production,
          },
          { parent: this, ignoreChanges: [...AURORA_VERSION_IGNORED] },
        );
        if (role === "writer") this.writers.push(instance);
      });
      if (args.globalDatabase) {
        this.globalClusters.push(
          new aws.rds.GlobalCluster(
            `${shardName}-global`,
            {
              // Global cluster ids are unique in the whole account (the global database spans regions), so the
              // stack is part of the id. A step-11 stack deployed before this prefix existed would see its global
              // clusters replaced: see docs/steps/11-multi-region.md, "Decide before the first deploy".
              globalClusterIdentifier: `${prefix}-${shardName}-global`,
              sourceDbClusterIdentifier: cluster.arn,
              forceDestroy: true,
              deletionProtection: production,
            },
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

    // A secondary's copy lists the primary's shard names: the map names each shard once for every region, and
    // a region's servers pair each name with their own endpoints for it.
    this.map = secondary
      ? secondary.map
      : {
          version: 1,
          bucketCount: SHARD_BUCKETS,
          buckets: assignBuckets(count),
          shards: this.shards.map((s) => s.name),
        };
    this.secretArn = secondary ? replicaSecretArn(secondary.secretArn, secondary.region) : credentials!.secretArn;
    // Both regions' copies come from the same program run: resharding (the step 9 runbook) updates them together.
    const parameter = new aws.ssm.Parameter(
      `${name}-map`,
      {
        type: "String",
        value: JSON.stringify(this.map),
        description:
          `scale-ladder order shard map: ${SHARD_BUCKETS} buckets over ${count} shards` +
          (secondary ? " (this region's copy)" : ""),
      },
      { parent: this },
    );
    this.shardMapParameterName = parameter.name;
    this.readStatements = [
      { sid: "ReadShardCredentials", actions: ["secretsmanager:GetSecretValue"], resources: [this.secretArn] },
      { sid: "ReadShardMap", actions: ["ssm:GetParameter"], resources: [parameter.arn] },
    ];
    this.registerOutputs({
      shards: this.shards.map((s) => s.writer),
      shardMapParameterName: this.shardMapParameterName,
    });
  }
}
