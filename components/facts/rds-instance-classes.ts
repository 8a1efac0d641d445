/**
 * Which RDS and Aurora instance classes AWS accepts for which feature: the facts that `pulumi preview` cannot check
 * and `pulumi up` fails on (`InvalidParameterCombination`). The config schema, the database components and the
 * deploy rules (test/infra/deploy-rules.ts) all read these tables, so a fact is written down once, with its source.
 *
 * Read on 2026-12-01. AWS adds classes over time: a class missing here is refused by config until it is added, with
 * its source, in this file.
 */

/** A class as RDS spells it, split into family (`r6g`) and size (`large`). */
export interface InstanceClassParts {
  family: string;
  size: string;
}

/** `db.r6g.large` → `{ family: "r6g", size: "large" }`; undefined when it is not `db.<family>.<size>`. */
export function instanceClassParts(instanceClass: string): InstanceClassParts | undefined {
  const m = /^db\.([a-z][a-z0-9-]*)\.([a-z0-9]+)$/.exec(instanceClass);
  return m ? { family: m[1], size: m[2] } : undefined;
}

/**
 * Families an Aurora global database accepts (primary and secondary clusters alike): memory-optimized classes only.
 * Burstable classes (`db.t3`, `db.t4g`) are refused with `InvalidParameterCombination: The requested instance class
 * is not supported by global databases`.
 *
 * Source (2026-12-01): Aurora User Guide, "Configuration requirements of an Amazon Aurora global database"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.configuration.requirements.html):
 * "An Aurora global database requires DB instance classes that are optimized for memory-intensive applications ...
 * We recommend that you use a db.r5 or higher instance class." The memory-optimized families Aurora PostgreSQL 16
 * offers are from "Supported DB engines for DB instance classes"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.SupportAurora.html):
 * db.r5, db.r6g, db.r6i, db.r7g, db.r7i, db.r8g, db.x2g, and the Optimized Reads db.r6gd, db.r6id, db.r8gd.
 */
export const AURORA_GLOBAL_DATABASE_FAMILIES = [
  ...["r5", "r6g", "r6i", "r7g", "r7i", "r8g", "x2g"],
  ...["r6gd", "r6id", "r8gd"], // Optimized Reads
] as const;

/** The class the ladder uses for shards that are members of a global database (step 11), when none is configured. */
export const AURORA_GLOBAL_DEFAULT_CLASS = "db.r6g.large";

/**
 * Burstable classes Aurora PostgreSQL does not offer at all (it starts at medium).
 * Source (2026-12-01): "Supported DB engines for DB instance classes" (above): db.t4g and db.t3 rows for Aurora
 * PostgreSQL list medium and large only.
 */
export const AURORA_POSTGRES_UNOFFERED = /^db\.t[234]g?\.(micro|small)$/;

/** Whether Aurora PostgreSQL offers the class at all. */
export function auroraPostgresOffers(instanceClass: string): boolean {
  return instanceClassParts(instanceClass) !== undefined && !AURORA_POSTGRES_UNOFFERED.test(instanceClass);
}

/** Whether an Aurora global database accepts the class. */
export function auroraGlobalDatabaseAccepts(instanceClass: string): boolean {
  const parts = instanceClassParts(instanceClass);
  return parts !== undefined && (AURORA_GLOBAL_DATABASE_FAMILIES as readonly string[]).includes(parts.family);
}

/** What to say when a global database is given a class it refuses: the families, and an example. */
export const AURORA_GLOBAL_ALLOWED =
  `a memory-optimized class of the ${AURORA_GLOBAL_DATABASE_FAMILIES.map((f) => `db.${f}`).join(", ")} families ` +
  `(Aurora global databases refuse burstable db.t* classes), such as ${AURORA_GLOBAL_DEFAULT_CLASS}`;

/**
 * Performance Insights / Database Insights: classes it is not available on, per engine. The catalog database
 * (RDS for PostgreSQL) and the shards (Aurora PostgreSQL) turn it on, so a class listed here for their engine would
 * fail at create time.
 *
 * Source (2026-12-01): RDS User Guide, "Amazon RDS DB engine, Region, and instance class support for Database
 * Insights" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DatabaseInsights.Engines.html): MariaDB and
 * MySQL exclude db.t2/db.t3/db.t4g micro and small; PostgreSQL lists no restriction. Aurora User Guide, same page
 * for Aurora (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_DatabaseInsights.Engines.html):
 * Aurora MySQL excludes db.t2, db.t3 and db.t4g micro/small; Aurora PostgreSQL "Not applicable".
 */
export const PERFORMANCE_INSIGHTS_UNSUPPORTED: Readonly<Record<string, RegExp | undefined>> = {
  postgres: undefined,
  "aurora-postgresql": undefined,
  mysql: /^db\.t[234]g?\.(micro|small)$/,
  mariadb: /^db\.t[234]g?\.(micro|small)$/,
  "aurora-mysql": /^db\.(t2|t3)\.|^db\.t4g\.(micro|small)$/,
};

/** Whether Performance Insights can be turned on for `engine` on `instanceClass`. */
export function performanceInsightsSupported(engine: string, instanceClass: string): boolean {
  const refused = PERFORMANCE_INSIGHTS_UNSUPPORTED[engine];
  return refused === undefined || !refused.test(instanceClass);
}

/**
 * Multi-AZ for RDS for PostgreSQL comes in two kinds. A Multi-AZ *DB instance* deployment (one standby, what the
 * catalog database uses with `multiAz: true`) is offered on every class the engine offers. A Multi-AZ *DB cluster*
 * (two readable standbys, `aws.rds.Cluster` with engine `postgres`) only on these families; the ladder does not
 * use one, and the rule is here so that a change to one meets it.
 *
 * Source (2026-12-01): RDS User Guide, "Multi-AZ DB instance deployments" (no class restriction) and "Instance class
 * availability for Multi-AZ DB clusters"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/multi-az-db-clusters-concepts.InstanceAvailability.html):
 * db.m5d, db.m6gd, db.m6id, db.m6idn, db.r5d, db.r6gd, db.r6id, db.x2iedn, db.c6gd and their newer siblings.
 */
export const MULTI_AZ_DB_CLUSTER_FAMILIES = [
  ...["m5d", "m6gd", "m6id", "m6idn", "m7gd"],
  ...["r5d", "r6gd", "r6id", "r6idn", "r7gd", "r8gd"],
  ...["x2iedn", "c6gd"],
] as const;

/** Whether a Multi-AZ DB cluster (not instance) accepts the class. */
export function multiAzClusterAccepts(instanceClass: string): boolean {
  const parts = instanceClassParts(instanceClass);
  return parts !== undefined && (MULTI_AZ_DB_CLUSTER_FAMILIES as readonly string[]).includes(parts.family);
}
