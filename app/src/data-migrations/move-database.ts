/**
 * Step 1 -> 2: the catalog database moves from the server's own PostgreSQL to the new database (RDS on AWS, the
 * `primary` server locally). Run twice by a climb: once while the shop runs (the bulk of the rows), once after the
 * writes are fenced (what changed since, then the verification that the cutover waits for).
 *
 * One run:
 * 1. The target gets the app's schema migrations (the release's own files, under the schema lock), and its
 *    `schema_migrations` must then list exactly the source's: both sides run the same release.
 * 2. The source is read in one REPEATABLE READ transaction: every table, sequence and checksum comes from one
 *    snapshot, so rows that reference each other arrive together although the shop keeps writing.
 * 3. Each table of schema `public` but `schema_migrations` (session_handoff and data_migrations included), parents
 *    before children: when its row count and checksum already match the target's, nothing is read; otherwise it is
 *    walked in batches of its primary key, and in each batch the rows whose md5 differs or that the target lacks
 *    are upserted (one statement, committed on its own: a run killed midway keeps what it copied), and the rows only
 *    the target holds are deleted once every table has been upserted, children first. The target ends a copy of
 *    the source.
 * 4. Each sequence is set to the source's value.
 * 5. Verification: per table, count and checksum of the target (read now) against the snapshot's; any difference
 *    throws a {@link VerificationError} naming the table and both figures.
 *
 * A second run finds every table equal and copies nothing. The checksum is one statement per table and side (the
 * md5 of every row, joined in key order, into a sha256), which suits the size of a shop that still runs on one
 * server; a table of many millions of rows would want it batched.
 */
import type { Pool, PoolClient, PoolConfig } from "pg";
import { withAdvisoryLock, SCHEMA_LOCK_KEY } from "../db/advisory-lock";
import { migrate } from "../db/migrate";
import { createLogger } from "../logger";
import { MIGRATIONS_DIR } from "../paths";
import {
  DEFAULT_BATCH_SIZE,
  type MigrationReport,
  type TableReport,
  VerificationError,
  migrationPool,
  withRunLock,
} from "./report";
import { TableSql, describeTables } from "./tables";

/** Name of this migration in reports. */
export const MOVE_DATABASE = "move-database";

/** A batch that was written, for progress reports. */
export interface BatchEvent {
  table: string;
  /** 1 for the table's first batch written in this run. */
  batch: number;
  /** Rows this batch wrote. */
  rows: number;
}

/** Arguments of {@link moveDatabase}. */
export interface MoveDatabaseArgs {
  /** The database the shop has run on so far (step 1: the server's own PostgreSQL). */
  source: PoolConfig;
  /** The new database (step 2); migrated by this call, then made a copy of the source. */
  target: PoolConfig;
  /** Progress lines (one per table, one for the sequences and the verification). @default none */
  log?: (line: string) => void;
  /**
   * Rows per batch.
   * @default 500
   */
  batchSize?: number;
  /**
   * Called after each batch is committed on the target. An error it throws stops the run there, as a crash would
   * (the tests use it to stop a run midway). @default none
   */
  onBatch?: (event: BatchEvent) => void | Promise<void>;
}

/** Tables a data migration never copies: each side keeps the record of its own schema. */
const NOT_COPIED = ["schema_migrations"];

/** See the module comment. */
export async function moveDatabase(args: MoveDatabaseArgs): Promise<MigrationReport> {
  const started = performance.now();
  const log = args.log ?? (() => undefined);
  const batchSize = args.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer`);
  const source = migrationPool(args.source, "source");
  const target = migrationPool(args.target, "target");
  try {
    // One run per target at a time: a second one would race this one's deletes.
    return await withRunLock(target, async () => {
      const applied = await withAdvisoryLock(target, SCHEMA_LOCK_KEY, (client) =>
        migrate(client, MIGRATIONS_DIR, createLogger("shop-data-migrations", "silent")),
      );
      if (applied.length) log(`target: migrations applied: ${applied.join(", ")}`);
      const snapshot = await source.connect();
      try {
        await snapshot.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        await sameSchema(snapshot, target);
        const tables = (await describeTables(snapshot, NOT_COPIED)).map((shape) => new TableSql(shape));
        const expected = new Map<string, TableReport>();
        const deletes: Array<{ table: TableSql; keys: string[] }> = [];
        let copied = 0;
        for (const table of tables) {
          const tableStarted = performance.now();
          const [want, have] = await Promise.all([checksum(snapshot, table), checksum(target, table)]);
          expected.set(table.shape.name, want);
          if (want.rows === have.rows && want.checksum === have.checksum) {
            log(`${table.shape.name}: ${want.rows} rows, already equal`);
            continue;
          }
          const result = await copyTable(snapshot, target, table, batchSize, args.onBatch);
          copied += result.upserted;
          if (result.deletes.length) deletes.push({ table, keys: result.deletes });
          log(
            `${table.shape.name}: ${want.rows} rows, ${result.upserted} written, ${result.deletes.length} to delete ` +
              `(${Math.round(performance.now() - tableStarted)} ms)`,
          );
        }
        for (const { table, keys } of deletes.reverse()) {
          for (let i = 0; i < keys.length; i += batchSize) {
            const batch = keys.slice(i, i + batchSize);
            const { rowCount } = await target.query(table.deleteStatement, [`[${batch.join(",")}]`]);
            copied += rowCount ?? 0;
          }
        }
        await copySequences(snapshot, target, log);
        const report: TableReport[] = [];
        for (const table of tables) {
          const want = expected.get(table.shape.name)!;
          const have = await checksum(target, table);
          if (have.rows !== want.rows || have.checksum !== want.checksum)
            throw new VerificationError(table.shape.name, want, have);
          report.push(want);
        }
        await snapshot.query("COMMIT");
        const ms = Math.round(performance.now() - started);
        log(`verified: ${report.length} tables equal; ${copied} rows written in ${ms} ms`);
        return { name: MOVE_DATABASE, tables: report, copied, ms };
      } finally {
        // A failed run leaves the snapshot's transaction open: ending it with the connection is enough.
        snapshot.release(true);
      }
    });
  } finally {
    await Promise.all([source.end(), target.end()]);
  }
}

/** Throws unless the source's applied migrations are exactly the target's. */
async function sameSchema(snapshot: PoolClient, target: Pool): Promise<void> {
  const versions = async (runner: { query: PoolClient["query"] }) =>
    (await runner.query<{ version: string }>("SELECT version FROM schema_migrations ORDER BY version")).rows
      .map((row) => row.version)
      .join(", ");
  const [mine, theirs] = await Promise.all([versions(snapshot), versions(target as unknown as PoolClient)]);
  if (mine !== theirs)
    throw new Error(
      `the source's schema is at migrations [${mine}] and the target's at [${theirs}]: ` +
        "run the same release on both (start the source's server on this release first)",
    );
}

async function checksum(runner: { query: PoolClient["query"] }, table: TableSql): Promise<TableReport> {
  const { rows } = await runner.query<{ rows: number; checksum: string }>(table.checksumQuery);
  return { table: table.shape.name, rows: rows[0].rows, checksum: rows[0].checksum };
}

/** A row's key (canonical JSON) and the md5 of its text. */
interface KeyHash {
  k: string;
  h: string;
}

/**
 * Keys compared per round trip: a chunk of the source's keys and hashes, then the target's in the same key range.
 * Comparing costs ~70 bytes a row, so a large chunk keeps the round trips few (a quiet table of 10,000 rows is one).
 */
const COMPARE_CHUNK = 10_000;

/**
 * Walks `table` in key chunks: upserts the snapshot's rows the target lacks or holds otherwise (in batches of
 * `batchSize`, each one statement committed on its own), and returns the keys only the target holds, to delete once
 * every table is written.
 */
async function copyTable(
  snapshot: PoolClient,
  target: Pool,
  table: TableSql,
  batchSize: number,
  onBatch: MoveDatabaseArgs["onBatch"],
): Promise<{ upserted: number; deletes: string[] }> {
  let after: string | null = null;
  let upserted = 0;
  let batchNumber = 0;
  const deletes: string[] = [];
  for (;;) {
    const mine: KeyHash[] = (await snapshot.query<KeyHash>(table.hashesQuery, [after, COMPARE_CHUNK, null])).rows;
    // The last chunk reaches to the end of the key space, so the target's rows after the source's last go too.
    const upTo: string | null = mine.length === COMPARE_CHUNK ? mine[mine.length - 1].k : null;
    // No LIMIT on the target's side (NULL is LIMIT ALL): the range decides.
    const theirs: KeyHash[] = (await target.query<KeyHash>(table.hashesQuery, [after, null, upTo])).rows;
    const have = new Map(theirs.map((row) => [row.k, row.h]));
    const wanted = new Set(mine.map((row) => row.k));
    const stale = mine.filter((row) => have.get(row.k) !== row.h).map((row) => row.k);
    for (const row of theirs) if (!wanted.has(row.k)) deletes.push(row.k);
    for (let i = 0; i < stale.length; i += batchSize) {
      const batch = stale.slice(i, i + batchSize);
      const { rows } = await snapshot.query<{ rows: string }>(table.rowsQuery, [`[${batch.join(",")}]`]);
      await target.query(table.upsertStatement, [rows[0].rows]);
      upserted += batch.length;
      batchNumber += 1;
      await onBatch?.({ table: table.shape.name, batch: batchNumber, rows: batch.length });
    }
    if (upTo === null) return { upserted, deletes };
    after = upTo;
  }
}

/** Sets every sequence of the target to the source's value, so the next id the target makes is a new one. */
async function copySequences(snapshot: PoolClient, target: Pool, log: (line: string) => void): Promise<void> {
  const { rows } = await snapshot.query<{ name: string; last_value: string | null; start_value: string }>(
    "SELECT sequencename AS name, last_value::text, start_value::text FROM pg_sequences WHERE schemaname = 'public'",
  );
  for (const row of rows) {
    await target.query("SELECT setval(format('public.%I', $1::text)::regclass, $2::bigint, $3)", [
      row.name,
      row.last_value ?? row.start_value,
      row.last_value !== null,
    ]);
  }
  log(`sequences: ${rows.length} set`);
}
