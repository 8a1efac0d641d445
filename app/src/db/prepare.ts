/**
 * Brings a database up to date before the server takes traffic: migrations, then the seed, under one lock; or, when
 * the primary cannot be reached, starts from a replica at this release's schema ({@link prepareOrServeReads}).
 */
import type { Pool } from "pg";
import type { Logger } from "../logger";
import { SCHEMA_LOCK_KEY, withAdvisoryLock } from "./advisory-lock";
import { isUnavailableError } from "./failures";
import { migrate, readMigrations } from "./migrate";
import type { DbRouter } from "./router";
import { seedProducts } from "./seed";

/** What {@link prepareDatabase} did. */
export interface PrepareResult {
  /** Migration files applied by this call (empty when another server had already applied them). */
  applied: string[];
  /** Products seeded by this call. */
  seeded: number;
}

/**
 * Applies pending migrations from `migrationsDir` and seeds `seedProducts` products into an empty catalog, holding
 * the schema advisory lock throughout, so that servers starting at the same time take turns.
 */
export async function prepareDatabase(
  primary: Pool,
  options: { migrationsDir: string; seedProducts: number; logger: Logger },
): Promise<PrepareResult> {
  return withAdvisoryLock(primary, SCHEMA_LOCK_KEY, async (client) => {
    const applied = await migrate(client, options.migrationsDir, options.logger);
    const seeded = await seedProducts(client, options.seedProducts, options.logger);
    return { applied, seeded };
  });
}

/** What {@link prepareOrServeReads} did: prepared the primary, or found it unreachable and a replica ready. */
export type StartingPoint = { primary: PrepareResult } | { primaryUnreachable: true; replica: string };

/**
 * Why the schema `pool` holds is not this release's (a migration missing, or recorded with another checksum), or
 * undefined when it is. Read-only: it runs on a replica.
 */
export async function schemaProblem(pool: Pool, migrationsDir: string): Promise<string | undefined> {
  const migrations = await readMigrations(migrationsDir);
  const { rows } = await pool
    .query<{ version: string; checksum: string }>("SELECT version, checksum FROM schema_migrations")
    .catch((error: unknown) => {
      // 42P01 undefined_table: a database nothing has migrated yet.
      if ((error as { code?: unknown }).code === "42P01") return { rows: [] };
      throw error;
    });
  const applied = new Map(rows.map((row) => [row.version, row.checksum]));
  const missing = migrations.filter((m) => applied.get(m.version) !== m.checksum).map((m) => m.file);
  return missing.length > 0 ? `its schema lacks ${missing.join(", ")}` : undefined;
}

/**
 * Start-up's database step: {@link prepareDatabase} on the primary, as always. When the primary cannot be reached
 * (a secondary region whose primary region is down, or an outage of the primary during a deploy), the server may
 * still start and serve reads if a replica already holds this release's schema (which only a primary migrated by
 * this release, or a later one, can have given it): the router marks the primary down, so writes fail at once with
 * a 503 naming it, and go to it again as soon as it answers. Nothing is migrated or seeded then; the primary's next
 * start does it. Any other failure, or no replica at this release's schema, fails the start as before.
 */
export async function prepareOrServeReads(
  router: DbRouter,
  options: { migrationsDir: string; seedProducts: number; logger: Logger },
): Promise<StartingPoint> {
  try {
    return { primary: await prepareDatabase(router.primaryPool, options) };
  } catch (error) {
    if (!isUnavailableError(error) || router.replicas.length === 0) throw error;
    const problems: string[] = [];
    for (const replica of router.replicas) {
      const problem = await schemaProblem(replica.pool, options.migrationsDir).catch(
        (replicaError: Error) => `it is not reachable (${replicaError.message})`,
      );
      if (problem === undefined) {
        router.markPrimaryDown(error as Error);
        options.logger.warn(
          { replica: replica.name, reason: (error as Error).message },
          "primary unreachable at start: serving reads from the replicas (schema at this release's version), " +
            "writes refused until the primary answers; nothing migrated",
        );
        return { primaryUnreachable: true, replica: replica.name };
      }
      problems.push(`${replica.name}: ${problem}`);
    }
    throw new Error(
      `the primary is not reachable (${(error as Error).message}) and no replica can serve this release ` +
        `(${problems.join("; ")})`,
      { cause: error },
    );
  }
}
