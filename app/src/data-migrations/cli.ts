/**
 * The data migrations as a command (dist/app/data-migrations.js in the release), for the runbooks that run them on a
 * server (on AWS through SSM Run Command), where local mode's climb calls the functions directly:
 *
 *   node data-migrations.js move --source <postgres URL> --target <postgres URL>
 *                                [--source-secret <secret>] [--target-secret <secret>] [--batch-size <n>]
 *   node data-migrations.js backfill-order-shards [--batch-size <n>]
 *
 * `move` (step 1 -> 2) copies the source's catalog into the target (move-database.ts). A `--*-secret` (a Secrets
 * Manager secret's ARN, or a file:/// URL of a JSON {username, password}, as DATABASE_SECRET takes) holds the
 * password of that side, read when a connection opens; the URL's own password, if any, is then not used.
 * `backfill-order-shards` (step 9) reads the app's own environment, as the worker does: DATABASE_URL,
 * DATABASE_SECRET, ORDER_SHARDS, ORDER_SHARDS_SECRET (backfill-order-shards.ts).
 *
 * Prints one line per step while it runs, then the report: per table its rows and checksum, the rows written and
 * the time. Exits 0 when verified, 1 when the migration failed (a failed verification names the table and both
 * checksums), 2 on a usage error (naming the argument and what it takes).
 */
import type { PoolConfig } from "pg";
import { ConfigError, loadWorkerConfig } from "../config";
import { type CredentialLocation, configuredCredentials, parseCredentialLocation } from "../db/credentials";
import { isPostgresUrl } from "../db/postgres-url";
import { backfillOrderShards } from "./backfill-order-shards";
import { moveDatabase } from "./move-database";
import { type MigrationReport, withoutPassword } from "./report";

/** The usage text, printed with every usage error and for `--help`. */
export const USAGE = `usage:
  node data-migrations.js move --source <postgres URL> --target <postgres URL>
                               [--source-secret <secret>] [--target-secret <secret>] [--batch-size <n>]
      step 1 -> 2: copy the catalog from the source database into the target, then verify it
  node data-migrations.js backfill-order-shards [--batch-size <n>]
      step 9: copy the orders on the catalog database (DATABASE_URL, DATABASE_SECRET) to their shards
      (ORDER_SHARDS, ORDER_SHARDS_SECRET), verify, and record it done

  <secret>: a Secrets Manager secret ARN or a file:///absolute/path.json holding {"username", "password"}`;

/** A command line that cannot be run as given; its message names the argument and what it takes. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A parsed command line. */
export type Command =
  | {
      command: "move";
      source: string;
      target: string;
      sourceSecret?: CredentialLocation;
      targetSecret?: CredentialLocation;
      batchSize?: number;
    }
  | { command: "backfill-order-shards"; batchSize?: number }
  | { command: "help" };

const OPTIONS: Record<Exclude<Command["command"], "help">, string[]> = {
  move: ["--source", "--target", "--source-secret", "--target-secret", "--batch-size"],
  "backfill-order-shards": ["--batch-size"],
};

/** Parses `argv` (without node and the script). @throws {UsageError} naming the bad argument. */
export function parseCommand(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help")
    return { command: "help" };
  if (command !== "move" && command !== "backfill-order-shards")
    throw new UsageError(`unknown command "${command}": the commands are move and backfill-order-shards`);
  const values = new Map<string, string>();
  for (let i = 0; i < rest.length; i += 2) {
    const [name, value] = [rest[i], rest[i + 1]];
    if (!OPTIONS[command].includes(name))
      throw new UsageError(`${command} takes ${OPTIONS[command].join(", ")}; not "${name}"`);
    if (value === undefined || value.startsWith("--")) throw new UsageError(`${name} needs a value`);
    if (values.has(name)) throw new UsageError(`${name} is given twice`);
    values.set(name, value);
  }
  const batch = values.get("--batch-size");
  const batchSize = batch === undefined ? undefined : Number(batch);
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 10_000))
    throw new UsageError("--batch-size must be a whole number from 1 to 10000");
  if (command === "backfill-order-shards") return { command, ...(batchSize !== undefined && { batchSize }) };
  const url = (name: "--source" | "--target") => {
    const value = values.get(name);
    if (value === undefined) throw new UsageError(`move needs ${name} <postgres URL>`);
    // The value may hold a password: never repeated.
    if (!isPostgresUrl(value)) throw new UsageError(`${name} must be a postgres:// or postgresql:// URL`);
    return value;
  };
  const secret = (name: "--source-secret" | "--target-secret") => {
    const value = values.get(name);
    if (value === undefined) return undefined;
    const parsed = parseCredentialLocation(value);
    if (typeof parsed === "string") throw new UsageError(`${name} ${parsed}`);
    return parsed;
  };
  const [source, target] = [url("--source"), url("--target")];
  if (source === target) throw new UsageError("--source and --target name the same database");
  const [sourceSecret, targetSecret] = [secret("--source-secret"), secret("--target-secret")];
  return {
    command,
    source,
    target,
    ...(sourceSecret && { sourceSecret }),
    ...(targetSecret && { targetSecret }),
    ...(batchSize !== undefined && { batchSize }),
  };
}

/** Pool settings for `url`, with the password read from `secret` when one is given (the URL's own then unused). */
function poolConfig(url: string, secret: CredentialLocation | undefined, endpoint?: string): PoolConfig {
  const credentials = configuredCredentials(secret, { SECRETS_MANAGER_ENDPOINT: endpoint });
  if (!credentials) return { connectionString: url };
  return { connectionString: withoutPassword(url), password: () => credentials.password() };
}

/** The report as printed: a table of rows and checksums, then the totals. */
export function formatReport(report: MigrationReport): string {
  const width = Math.max(5, ...report.tables.map((table) => table.table.length));
  const rows = report.tables.map(
    (table) => `${table.table.padEnd(width)}  ${String(table.rows).padStart(9)}  ${table.checksum}`,
  );
  return [
    `${report.name}: verified`,
    `${"table".padEnd(width)}  ${"rows".padStart(9)}  checksum (sha256)`,
    ...rows,
    `${report.copied} rows written in ${report.ms} ms`,
  ].join("\n");
}

/**
 * Runs `argv` with `env` (the process's environment), writing progress and the report to `out` and errors to
 * `err`; resolves with the exit code.
 */
export async function runCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err(`data-migrations: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (command.command === "help") {
    out(USAGE);
    return 0;
  }
  try {
    let report: MigrationReport;
    if (command.command === "move") {
      report = await moveDatabase({
        source: poolConfig(command.source, command.sourceSecret, env.SECRETS_MANAGER_ENDPOINT),
        target: poolConfig(command.target, command.targetSecret, env.SECRETS_MANAGER_ENDPOINT),
        batchSize: command.batchSize,
        log: out,
      });
    } else {
      const config = loadWorkerConfig(env);
      if (!config.ORDER_SHARDS)
        throw new UsageError("backfill-order-shards needs ORDER_SHARDS in the environment: the app's shard map");
      const shardCredentials = configuredCredentials(config.ORDER_SHARDS_SECRET, config);
      report = await backfillOrderShards({
        catalog: poolConfig(config.DATABASE_URL, config.DATABASE_SECRET, config.SECRETS_MANAGER_ENDPOINT),
        shards: config.ORDER_SHARDS,
        shardPool: shardCredentials && { password: () => shardCredentials.password() },
        batchSize: command.batchSize,
        log: out,
      });
    }
    out(formatReport(report));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      err(`data-migrations: ${error.message}\n${USAGE}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      err(`data-migrations: the environment is not the app's: ${error.message}`);
      return 2;
    }
    err(`data-migrations: ${(error as Error).message}`);
    return 1;
  }
}
