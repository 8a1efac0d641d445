/**
 * How many connections a PostgreSQL server of each class accepts, for the catalog (RDS for PostgreSQL) and the
 * order shards (Aurora PostgreSQL): the facts the configuration's connection check (stacks/capacity-checks.ts)
 * holds the fleets' pools against. Read on 2026-12-02.
 *
 * Both engines' default parameter groups set `max_connections` to `LEAST({DBInstanceClassMemory/9531392}, 5000)`.
 * - RDS for PostgreSQL: RDS User Guide, "Quotas and constraints for Amazon RDS", section "Maximum number of database
 *   connections" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections),
 *   and AWS Prescriptive Guidance, "max_connections"
 *   (https://docs.aws.amazon.com/prescriptive-guidance/latest/tuning-postgresql-parameters/max-connections.html).
 * - `DBInstanceClassMemory` is "the number of bytes of memory allocated to the DB instance class ..., less the memory
 *   used by the Amazon RDS processes that manage the instance" (RDS User Guide, "DB parameter formula variables",
 *   https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ParamValuesRef.html); the quotas page adds that,
 *   "because of memory reserved for the operating system and RDS management processes, this memory size is smaller
 *   than the value in gibibytes (GiB) shown in Hardware specifications for DB instance classes". AWS does not say
 *   how much is reserved, so {@link reservedBytes} assumes it (see there).
 * - Aurora PostgreSQL publishes its own table of the resulting values (Aurora User Guide, "Maximum connections to an
 *   Aurora PostgreSQL DB instance",
 *   https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.Managing.html, section
 *   AuroraPostgreSQL.Managing.MaxConnections;
 *   the same table is in awsdocs/amazon-aurora-user-guide, doc_source/AuroraPostgreSQL.Managing.md):
 *   {@link AURORA_POSTGRES_MAX_CONNECTIONS}. A class it does not list falls back to the formula.
 *
 * Not every slot is the app's. RDS for PostgreSQL keeps `superuser_reserved_connections` (3) for `rdsadmin` and
 * `rds.rds_superuser_reserved_connections` (2) for members of `rds_superuser`: "the actual maximum number of
 * available connections to non-superusers is max_connections - superuser_reserved_connections -
 * rds.rds_superuser_reserved_connections" (AWS Knowledge Center, "Why am I getting the error 'FATAL: remaining
 * connection slots are reserved for non replicate superuser connections'",
 * https://repost.aws/knowledge-center/rds-postgresql-error-connection-slots). Aurora asks for "at least 3 more
 * connections to support AWS automation" (the Aurora page above). {@link RESERVED_CONNECTIONS} holds both.
 *
 * A class missing from {@link CLASS_MEMORY_GIB} has no fact here: the configuration refuses it until its memory is
 * added, with its source, below.
 */
import { SIZE_VCPUS } from "./instance-vcpus";

/** `max_connections`'s divisor in the default parameter groups (bytes per connection). */
export const BYTES_PER_CONNECTION = 9_531_392;
/** `max_connections`'s ceiling in the default parameter groups. */
export const MAX_CONNECTIONS_CEILING = 5000;

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** Burstable classes: memory by size (GiB); they have 2 vCPUs up to large, then 4 and 8. */
const BURSTABLE_GIB: Readonly<Record<string, number>> = {
  micro: 1,
  small: 2,
  medium: 4,
  large: 8,
  xlarge: 16,
  "2xlarge": 32,
};

/**
 * Memory per vCPU (GiB) of each non-burstable family the ladder accepts, and its largest size. General purpose (m)
 * has 4 GiB per vCPU, memory optimized (r) 8, x2g 16.
 *
 * Source (2026-12-02): RDS User Guide, "Hardware specifications for DB instance classes"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html), and for Aurora
 * the Aurora User Guide's page of the same name
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.Summary.html); e.g.
 * db.m7g.large 2 vCPU 8 GiB, db.r6g.large 2 vCPU 16 GiB, db.x2g.large 2 vCPU 32 GiB.
 */
const FAMILIES: Readonly<Record<string, { gibPerVcpu: number; largest: string }>> = {
  m5: { gibPerVcpu: 4, largest: "24xlarge" },
  m6g: { gibPerVcpu: 4, largest: "16xlarge" },
  m6i: { gibPerVcpu: 4, largest: "32xlarge" },
  m7g: { gibPerVcpu: 4, largest: "16xlarge" },
  m7i: { gibPerVcpu: 4, largest: "48xlarge" },
  r5: { gibPerVcpu: 8, largest: "24xlarge" },
  r6g: { gibPerVcpu: 8, largest: "16xlarge" },
  r6gd: { gibPerVcpu: 8, largest: "16xlarge" },
  r6i: { gibPerVcpu: 8, largest: "32xlarge" },
  r6id: { gibPerVcpu: 8, largest: "32xlarge" },
  r7g: { gibPerVcpu: 8, largest: "16xlarge" },
  r7i: { gibPerVcpu: 8, largest: "48xlarge" },
  r8g: { gibPerVcpu: 8, largest: "48xlarge" },
  r8gd: { gibPerVcpu: 8, largest: "48xlarge" },
  x2g: { gibPerVcpu: 16, largest: "16xlarge" },
};

/** Nominal memory (GiB) of every class this file knows: the burstable t3/t4g sizes and the families above. */
export const CLASS_MEMORY_GIB: Readonly<Record<string, number>> = Object.fromEntries([
  ...["t3", "t4g"].flatMap((family) =>
    Object.entries(BURSTABLE_GIB).map(([size, gib]) => [`db.${family}.${size}`, gib]),
  ),
  ...Object.entries(FAMILIES).flatMap(([family, { gibPerVcpu, largest }]) => {
    // The memory-optimized classes start at large (a medium is a general-purpose size).
    const sizes = Object.keys(SIZE_VCPUS).filter((size) => size !== "medium");
    return sizes
      .slice(0, sizes.indexOf(largest) + 1)
      .map((size) => [`db.${family}.${size}`, SIZE_VCPUS[size] * gibPerVcpu]);
  }),
]);

/**
 * Memory the operating system and RDS keep for themselves, which `DBInstanceClassMemory` leaves out. AWS does not
 * publish it; we assume 300 MiB plus 3 % of the class's memory. The assumption is calibrated to be on the safe side
 * of the figures we could check: AWS's Aurora PostgreSQL table (db.t4g.medium 405 against our 404, db.t4g.large 844
 * against 841, db.r6g.large 1722 against 1715, db.x2g.large 3479 against 3463; a test holds every row of the t3,
 * t4g, r6g and x2g families; its db.r5.large 1600 and db.r5.xlarge 3300 are the db.r4 figures, 15.25 and 30.5 GiB,
 * and the table's own figures are used for those) and the `SHOW max_connections` of RDS for PostgreSQL published in
 * https://gist.github.com/guizmaii/1cacffef793c2ba9645083c3e18b3d8c (db.t2.small 198 against our 185, db.t2.medium
 * 413 against 404, db.t2.large 856 against 841). It gives db.t4g.micro 76, where the issue that asked for this check
 * says "roughly 80". Check a running instance with `SHOW max_connections;`.
 */
export function reservedBytes(memoryBytes: number): number {
  return 300 * MIB + Math.floor(memoryBytes * 0.03);
}

/** `LEAST({DBInstanceClassMemory/9531392}, 5000)` for a class of `memoryGib` nominal memory. */
export function defaultMaxConnections(memoryGib: number): number {
  const bytes = memoryGib * GIB;
  return Math.min(Math.floor((bytes - reservedBytes(bytes)) / BYTES_PER_CONNECTION), MAX_CONNECTIONS_CEILING);
}

/**
 * Aurora PostgreSQL's own table of the default `max_connections` per class (source in the module comment). These
 * figures win over the formula for the classes they name.
 */
export const AURORA_POSTGRES_MAX_CONNECTIONS: Readonly<Record<string, number>> = {
  "db.t3.medium": 420,
  "db.t3.large": 844,
  "db.t4g.medium": 405,
  "db.t4g.large": 844,
  "db.r5.large": 1600,
  "db.r5.xlarge": 3300,
  ...Object.fromEntries(
    ["2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"].map((s) => [`db.r5.${s}`, 5000]),
  ),
  "db.r6g.large": 1722,
  "db.r6g.xlarge": 3479,
  ...Object.fromEntries(["2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"].map((s) => [`db.r6g.${s}`, 5000])),
  "db.x2g.large": 3479,
  ...Object.fromEntries(
    ["xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"].map((s) => [`db.x2g.${s}`, 5000]),
  ),
};

/** Slots the engine keeps from the app: superuser_reserved_connections and rds_superuser's (RDS), AWS automation's. */
export const RESERVED_CONNECTIONS = { postgres: 3 + 2, "aurora-postgresql": 3 } as const;

/** The engines whose connections this file knows. */
export type PostgresEngine = keyof typeof RESERVED_CONNECTIONS;

/** What a class gives the app. */
export interface ConnectionFact {
  /** The default parameter group's `max_connections`. */
  maxConnections: number;
  /** Of those, the slots the engine keeps for superusers and AWS automation. */
  reserved: number;
  /** Where `maxConnections` comes from. */
  source: "aurora-table" | "formula";
}

/**
 * The connections of `instanceClass` under `engine`'s default parameter group, or undefined when this file has no
 * fact for the class (the caller refuses it, naming this file).
 */
export function connectionFact(engine: PostgresEngine, instanceClass: string): ConnectionFact | undefined {
  const reserved = RESERVED_CONNECTIONS[engine];
  const published = engine === "aurora-postgresql" ? AURORA_POSTGRES_MAX_CONNECTIONS[instanceClass] : undefined;
  if (published !== undefined) return { maxConnections: published, reserved, source: "aurora-table" };
  const gib = CLASS_MEMORY_GIB[instanceClass];
  return gib === undefined ? undefined : { maxConnections: defaultMaxConnections(gib), reserved, source: "formula" };
}
