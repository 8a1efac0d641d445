/** Brings a database up to date before the server takes traffic: migrations, then the seed, under one lock. */
import type { Pool } from "pg";
import type { Logger } from "../logger";
import { SCHEMA_LOCK_KEY, withAdvisoryLock } from "./advisory-lock";
import { migrate } from "./migrate";
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
