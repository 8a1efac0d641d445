/**
 * Forward-only SQL migrations: each file `NNNN_name.sql` in the migrations directory runs once, in its own
 * transaction, in file-name order, and is recorded in `schema_migrations` with a checksum of its text. Callers hold
 * the schema lock (see prepare.ts), so concurrent starts apply each file exactly once.
 */
import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import type { PoolClient } from "pg";
import type { Logger } from "../logger";

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** One migration file. */
export interface Migration {
  /** The four-digit prefix, e.g. `0001`. */
  version: string;
  /** The file name, e.g. `0001_catalog.sql`. */
  file: string;
  sql: string;
  /** sha256 of the file's text: an applied migration must never change. */
  checksum: string;
}

/** Raised when the migrations on disk and those recorded in the database disagree. */
export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}

/** Reads the migrations of `dir` in order; a `.sql` file with a name off the pattern is an error, not skipped. */
export async function readMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new MigrationError(`migration file ${file} does not match NNNN_name.sql`);
    if (migrations.some((m) => m.version === match[1])) {
      throw new MigrationError(`two migration files share version ${match[1]}`);
    }
    const sql = await readFile(path.join(dir, file), "utf8");
    migrations.push({ version: match[1], file, sql, checksum: createHash("sha256").update(sql).digest("hex") });
  }
  return migrations;
}

/**
 * Applies the migrations of `dir` that `schema_migrations` does not list yet. Returns the files it applied.
 * @throws {MigrationError} when an applied file was edited since (its checksum differs).
 */
export async function migrate(client: PoolClient, dir: string, logger: Logger): Promise<string[]> {
  const migrations = await readMigrations(dir);
  await client.query(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version    text        PRIMARY KEY,
      file       text        NOT NULL,
      checksum   text        NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  const { rows } = await client.query<{ version: string; file: string; checksum: string }>(
    "SELECT version, file, checksum FROM schema_migrations",
  );
  const applied = new Map(rows.map((row) => [row.version, row]));

  const done: string[] = [];
  for (const migration of migrations) {
    const recorded = applied.get(migration.version);
    if (recorded) {
      if (recorded.checksum !== migration.checksum) {
        throw new MigrationError(
          `migration ${migration.file} was changed after it was applied; add a new migration instead`,
        );
      }
      continue;
    }
    await client.query("BEGIN");
    try {
      await client.query(migration.sql);
      await client.query("INSERT INTO schema_migrations (version, file, checksum) VALUES ($1, $2, $3)", [
        migration.version,
        migration.file,
        migration.checksum,
      ]);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK");
      throw new MigrationError(`migration ${migration.file} failed: ${(error as Error).message}`);
    }
    logger.info({ migration: migration.file }, "migration applied");
    done.push(migration.file);
  }
  // A database migrated by a newer release than this one (during a rollback): the code still runs, so only say so.
  const known = new Set(migrations.map((m) => m.version));
  for (const row of rows) {
    if (!known.has(row.version))
      logger.warn({ migration: row.file }, "database has a migration this release does not know");
  }
  return done;
}
