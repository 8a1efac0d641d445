/**
 * Engine versions AWS offers for the two engines the ladder runs, and how a version is written so that AWS's own
 * minor upgrades never turn the next `pulumi up` into a downgrade. Read on 2026-12-01.
 */

/**
 * RDS for PostgreSQL: the major version only. RDS accepts a major version and picks its default minor
 * (CreateDBInstance EngineVersion), and the provider keeps a configured "16" without a diff once AWS reports "16.8":
 * terraform-provider-aws internal/service/rds/engine_version.go `compareActualEngineVersion` ("old and new versions
 * are not exactly equal, but match after accounting for an omitted patch value ... will not trigger a set"); the
 * running version is the `engineVersionActual` output. So auto minor upgrades stay on and never fight the program.
 */
export const POSTGRES_MAJOR = "16";

/** RDS for PostgreSQL majors AWS offers today (RDS User Guide, "Supported PostgreSQL major versions", 2026-12-01). */
export const POSTGRES_MAJORS = ["13", "14", "15", "16", "17"] as const;

/**
 * Aurora PostgreSQL 16 minor versions AWS lists as creatable or upgrade targets (Aurora User Guide, "Getting a list of
 * available versions in your AWS Region", upgrade-target table, 2026-12-01). AWS retires old minors for creation
 * (e.g. 15.8 in 2026), which is one more reason the program only uses the pin when it creates a cluster.
 */
export const AURORA_POSTGRES_16_MINORS = ["16.1", "16.2", "16.3", "16.4", "16.6", "16.8", "16.9", "16.10"] as const;

/**
 * The version a new shard cluster is created with. Aurora takes a full `major.minor` here. After creation the
 * program ignores `engineVersion` on every cluster and cluster instance (`AURORA_VERSION_IGNORED`): with auto minor
 * upgrades on, AWS moves the clusters to newer minors, and a pinned minor would otherwise make the next `pulumi up`
 * ask for a downgrade (`Cannot upgrade aurora-postgresql from 16.8 to 16.6`). Secondary clusters of a global
 * database are created with the global cluster's running version (`engineVersionActual`), so they match the
 * primary exactly even when AWS upgraded it before step 11. This is what the provider recommends for global
 * clusters: @pulumi/aws rds/globalCluster.d.ts, "Upgrading Engine Versions" (`ignoreChanges: ["engineVersion"]` on
 * the `aws.rds.Cluster`).
 */
export const AURORA_POSTGRES_CREATE_VERSION = "16.6";

/** Parameter group family of the shards (the engine and major version). */
export const AURORA_POSTGRES_FAMILY = "aurora-postgresql16";

/** The inputs a shard cluster and its instances leave to AWS after creation (see above). */
export const AURORA_VERSION_IGNORED = ["engineVersion"] as const;

/** Whether `version` is one AWS offers for `engine`, as far as these tables know (undefined: not tabled). */
export function engineVersionOffered(engine: string, version: string): boolean | undefined {
  if (engine === "postgres") return (POSTGRES_MAJORS as readonly string[]).includes(version.split(".")[0]);
  if (engine === "aurora-postgresql" && version.split(".")[0] === "16") {
    return (AURORA_POSTGRES_16_MINORS as readonly string[]).includes(version);
  }
  return undefined;
}
