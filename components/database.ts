import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Statement } from "./iam";
import { dataTierSecurityGroup } from "./data-security-group";
import { DatabaseCredentials } from "./database-credentials";
import { POSTGRES_MAJOR } from "./facts/rds-engine-versions";
import { ArgumentError, requireMatch, requireOneOf, requireRange } from "./validate";

/**
 * The Postgres major version of the catalog database; RDS applies minor versions itself, and the provider keeps a
 * major-only version without a diff after it does (see `components/facts/rds-engine-versions.ts`).
 */
export { POSTGRES_MAJOR };
export const POSTGRES_PORT = 5432;
export const MASTER_USERNAME = "shop_admin";

/**
 * `<project>-<stack>` in the characters RDS identifiers allow (lowercase letters, digits, single hyphens, a letter
 * first): the prefix of every physical name the database components give explicitly, so that two stacks in one
 * account and region (dev beside prod, one stack per step) never collide.
 */
export function stackNamePrefix(): string {
  const raw = `${pulumi.getProject()}-${pulumi.getStack()}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return /^[a-z]/.test(raw) ? raw : `s-${raw}`;
}

/** Arguments for {@link Database}. */
export interface DatabaseArgs {
  /** VPC the security group lives in. */
  vpcId: pulumi.Input<string>;
  /** Isolated subnets (no route out) in at least two AZs, as RDS subnet groups require. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Security groups allowed to connect on 5432, each by its own ingress rule. Nothing else gets in: there is no
   * CIDR rule at all. A plain list so that every rule exists at preview time.
   */
  clientSecurityGroupIds: pulumi.Input<string>[];
  /**
   * CIDRs allowed on 5432 as well: peered VPCs of other regions, which cannot be referenced by security group.
   * @default []
   */
  clientCidrs?: string[];
  /**
   * Step 11, secondary regions: instead of a primary, a cross-region read replica of `sourceArn`, encrypted with
   * this region's `kmsKeyArn` (cross-region encrypted replicas must name a key of their own region). Credentials
   * stay the primary's: `sourceSecretArn` is this region's replica of the primary's secret (`secretReplicaRegions`),
   * so that servers here read nothing from the primary region.
   */
  replicaOf?: {
    sourceArn: pulumi.Input<string>;
    kmsKeyArn: pulumi.Input<string>;
    sourceSecretArn: pulumi.Input<string>;
  };
  /**
   * Instance class.
   * @default "db.t4g.micro"
   */
  instanceClass?: string;
  /**
   * Initial gp3 storage, GiB.
   * @default 20
   */
  allocatedStorageGb?: number;
  /**
   * Storage autoscaling ceiling, GiB.
   * @default 100
   */
  maxAllocatedStorageGb?: number;
  /**
   * Automated backup retention in days; 7 is the floor this blueprint accepts.
   * @default 7
   */
  backupRetentionDays?: number;
  /**
   * A synchronous standby in another AZ with automatic failover.
   * @default false
   */
  multiAz?: boolean;
  /**
   * Refuse deletion (turn on in prod).
   * @default false
   */
  deletionProtection?: boolean;
  /**
   * Take a final snapshot when the instance is deleted (turn on in prod).
   * @default false
   */
  finalSnapshot?: boolean;
  /**
   * Read replicas (step 4). They copy the primary's data and users, so they take no credentials of their own.
   * RDS refuses to create a replica of a source whose master password it manages, so replicas need
   * `passwordManagement: "generated"`.
   * @default 0
   */
  replicas?: number;
  /**
   * A read replica of this instance runs in another region (step 11). Like `replicas`, it needs
   * `passwordManagement: "generated"`.
   * @default false
   */
  crossRegionReplicas?: boolean;
  /**
   * Prefix of the physical names given explicitly (the final snapshot id, unique per account and region).
   * @default "<project>-<stack>", lower-cased (`stackNamePrefix()`)
   */
  namePrefix?: string;
  /**
   * Who holds the master password: `"rds"` — RDS generates it, keeps it in Secrets Manager and rotates it weekly
   * (`manageMasterUserPassword`); `"generated"` — `@pulumi/random` generates it into a Secrets Manager secret of the
   * same shape (see `DatabaseCredentials`). Switching `"rds"` → `"generated"` modifies the instance in place.
   * @default "rds"
   */
  passwordManagement?: "rds" | "generated";
  /**
   * Days Secrets Manager keeps a deleted generated-credentials secret recoverable.
   * @default 7
   */
  recoveryWindowInDays?: number;
  /**
   * Regions the generated credentials' secret is replicated to (step 11: the secondary regions). Needs
   * `passwordManagement: "generated"`: a secret RDS manages is RDS's, and not replicated by us.
   * @default []
   */
  secretReplicaRegions?: string[];
  /**
   * How many of the region's first AZs the VPC spans (as awsx picks them); replicas are spread across these,
   * starting with the second, so no single AZ holds all the read capacity.
   * @default 2
   */
  availabilityZoneCount?: number;
  /**
   * Database created on the instance.
   * @default "shop"
   */
  dbName?: string;
}

/**
 * The catalog database from step 2 on: RDS for PostgreSQL 16 in isolated subnets, never publicly accessible, reached
 * only from the security groups it is given. Storage is encrypted gp3 with autoscaling; the master password is
 * generated and rotated by RDS in Secrets Manager (`manageMasterUserPassword`), or generated into a Secrets Manager
 * secret of ours (`passwordManagement: "generated"`, which anything that replicates from the instance needs: RDS
 * cannot replicate an instance whose password it manages) — so no password appears in user data, config or
 * outputs; `rds.force_ssl` refuses unencrypted connections; 7-day backups, Performance Insights, and PostgreSQL logs
 * in CloudWatch.
 *
 * From step 4, `replicas` read replicas take the app's plain reads (promotion runbook: docs, step 4).
 *
 * Cost: db.t4g.micro single-AZ with 20 GiB gp3 is about $14/month in us-east-1; Multi-AZ doubles the instance price.
 */
export class Database extends pulumi.ComponentResource {
  public readonly instance: aws.rds.Instance;
  public readonly securityGroup: aws.ec2.SecurityGroup;
  /** Hostname of the primary. */
  public readonly address: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  public readonly dbName: string;
  /** ARN of the Secrets Manager secret RDS keeps the master credentials in (`{"username","password"}`). */
  public readonly secretArn: pulumi.Output<string>;
  /** What a server needs to read the credentials. */
  public readonly readStatements: Statement[];
  /** The read replicas, in order. */
  public readonly replicas: aws.rds.Instance[];
  /** Hostnames of the read replicas, in order. */
  public readonly replicaAddresses: pulumi.Output<string>[];

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:database:Database", name, {}, opts);
    const instanceClass = args.instanceClass ?? "db.t4g.micro";
    requireMatch(
      "Database",
      "instanceClass",
      instanceClass,
      /^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$/,
      "an RDS instance class such as db.t4g.micro",
    );
    const allocated = args.allocatedStorageGb ?? 20;
    requireRange("Database", "allocatedStorageGb", allocated, 20, 65536);
    const maxAllocated = args.maxAllocatedStorageGb ?? 100;
    // RDS storage autoscaling wants the ceiling at least 10% above the allocated size.
    requireRange("Database", "maxAllocatedStorageGb", maxAllocated, Math.ceil((allocated * 11) / 10), 65536);
    const retention = args.backupRetentionDays ?? 7;
    requireRange("Database", "backupRetentionDays", retention, 7, 35);
    this.dbName = args.dbName ?? "shop";
    const replicaCount = args.replicas ?? 0;
    requireRange("Database", "replicas", replicaCount, 0, 15);
    const passwordManagement = args.passwordManagement ?? "rds";
    requireOneOf("Database", "passwordManagement", passwordManagement, ["rds", "generated"]);
    if (replicaCount > 0 && passwordManagement === "rds") {
      throw new ArgumentError(
        "Database",
        "passwordManagement",
        passwordManagement,
        '"generated" when replicas > 0 (RDS cannot create a read replica of an instance whose master password ' +
          "it manages)",
      );
    }
    if (args.crossRegionReplicas === true && passwordManagement === "rds") {
      throw new ArgumentError(
        "Database",
        "passwordManagement",
        passwordManagement,
        '"generated" with crossRegionReplicas (RDS cannot create a read replica of an instance whose master ' +
          "password it manages)",
      );
    }
    const prefix = args.namePrefix ?? stackNamePrefix();
    const azCount = args.availabilityZoneCount ?? 2;
    requireRange("Database", "availabilityZoneCount", azCount, 1, 6);
    requireMatch(
      "Database",
      "dbName",
      this.dbName,
      /^[a-z][a-z0-9_]{0,62}$/,
      "a lowercase identifier of at most 63 characters",
    );

    this.securityGroup = dataTierSecurityGroup(this, name, {
      vpcId: args.vpcId,
      description: "scale-ladder database: Postgres from the app tiers only",
      port: POSTGRES_PORT,
      service: "Postgres",
      clientSecurityGroupIds: args.clientSecurityGroupIds,
      clientCidrs: args.clientCidrs,
    });

    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      { subnetIds: args.subnetIds, description: "scale-ladder database, isolated subnets" },
      { parent: this },
    );
    const parameters = new aws.rds.ParameterGroup(
      `${name}-params`,
      {
        family: `postgres${POSTGRES_MAJOR}`,
        description: "scale-ladder: TLS only, slow query log",
        parameters: [
          { name: "rds.force_ssl", value: "1" },
          { name: "log_min_duration_statement", value: "500" },
        ],
      },
      { parent: this },
    );

    const production = args.deletionProtection ?? false;
    const crossRegion = args.replicaOf;
    const secretReplicaRegions = args.secretReplicaRegions ?? [];
    if (secretReplicaRegions.length > 0 && (passwordManagement !== "generated" || crossRegion))
      throw new Error(
        `Database ${name}: secretReplicaRegions needs passwordManagement "generated" on a primary ` +
          "(RDS's own secret is not ours to replicate; a replica reads its source's secret)",
      );
    const credentials =
      passwordManagement === "generated" && !crossRegion
        ? new DatabaseCredentials(
            `${name}-credentials`,
            {
              username: MASTER_USERNAME,
              recoveryWindowInDays: args.recoveryWindowInDays,
              replicaRegions: secretReplicaRegions,
            },
            { parent: this },
          )
        : undefined;
    // What the primary, its replicas and a cross-region replica share.
    const common = {
      instanceClass,
      storageType: "gp3",
      storageEncrypted: true,
      maxAllocatedStorage: maxAllocated,
      vpcSecurityGroupIds: [this.securityGroup.id],
      parameterGroupName: parameters.name,
      publiclyAccessible: false,
      autoMinorVersionUpgrade: true,
      performanceInsightsEnabled: true,
      performanceInsightsRetentionPeriod: 7,
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      caCertIdentifier: "rds-ca-rsa2048-g1",
      copyTagsToSnapshot: true,
      deletionProtection: production,
      // In dev a climb should take effect now; in prod changes wait for the maintenance window.
      applyImmediately: !production,
    };
    this.instance = crossRegion
      ? new aws.rds.Instance(
          `${name}`,
          {
            ...common,
            replicateSourceDb: crossRegion.sourceArn,
            kmsKeyId: crossRegion.kmsKeyArn,
            dbSubnetGroupName: subnetGroup.name,
            multiAz: args.multiAz ?? false,
            backupRetentionPeriod: retention,
            skipFinalSnapshot: true,
          },
          { parent: this },
        )
      : new aws.rds.Instance(
          `${name}`,
          {
            ...common,
            engine: "postgres",
            engineVersion: POSTGRES_MAJOR,
            allocatedStorage: allocated,
            dbName: this.dbName,
            username: MASTER_USERNAME,
            ...(credentials ? { password: credentials.password } : { manageMasterUserPassword: true }),
            port: POSTGRES_PORT,
            dbSubnetGroupName: subnetGroup.name,
            multiAz: args.multiAz ?? false,
            backupRetentionPeriod: retention,
            backupWindow: "03:00-04:00",
            maintenanceWindow: "sun:04:30-sun:05:30",
            skipFinalSnapshot: !(args.finalSnapshot ?? false),
            // Snapshot ids are unique per account and region: the stack is part of it. Changing it is an update.
            finalSnapshotIdentifier: args.finalSnapshot ? `${prefix}-${name}-final` : undefined,
          },
          { parent: this },
        );
    // Order (prod, applyImmediately=false): a replica takes the primary's identifier, so it is created only after the
    // primary's update in the same `pulumi up` has returned, and that update includes the switch to a generated
    // password. The switch is not held for the maintenance window: ModifyDBInstance applies MasterUserPassword
    // "asynchronously ... as soon as possible" whatever ApplyImmediately says (RDS API Reference, ModifyDBInstance,
    // MasterUserPassword and ManageMasterUserPassword, read 2026-12-01), and the provider waits for the instance to
    // be available again before it returns. So prod keeps its maintenance window for everything else.
    // Replicas: same engine, storage and encryption as the primary (inherited through replicateSourceDb); no
    // username, password or database name, which RDS rejects on a replica. A Multi-AZ primary moves between AZs on
    // failover, so "a different AZ from the primary" cannot be pinned; spreading across AZs is what holds.
    const zones = aws.getAvailabilityZonesOutput({ state: "available" }, { parent: this });
    this.replicas = [];
    for (let i = 0; i < replicaCount; i++) {
      this.replicas.push(
        new aws.rds.Instance(
          `${name}-replica-${i}`,
          {
            ...common,
            replicateSourceDb: this.instance.identifier,
            availabilityZone: zones.names.apply((n) => n.slice(0, azCount)[(i + 1) % Math.min(azCount, n.length)]),
            skipFinalSnapshot: true,
          },
          { parent: this },
        ),
      );
    }
    this.replicaAddresses = this.replicas.map((r) => r.address);

    this.address = this.instance.address;
    this.port = this.instance.port;
    this.secretArn = crossRegion
      ? pulumi.output(crossRegion.sourceSecretArn)
      : credentials
        ? credentials.secretArn
        : this.instance.masterUserSecrets.apply((s) => {
            const arn = s?.[0]?.secretArn;
            if (!arn) throw new Error(`Database ${name}: RDS returned no managed master user secret`);
            return arn;
          });
    this.readStatements = [
      { sid: "ReadDatabaseCredentials", actions: ["secretsmanager:GetSecretValue"], resources: [this.secretArn] },
    ];
    this.registerOutputs({
      address: this.address,
      port: this.port,
      secretArn: this.secretArn,
      securityGroupId: this.securityGroup.id,
    });
  }
}
