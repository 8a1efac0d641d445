/**
 * Entry point of the data migrations' command (dist/app/data-migrations.js in the release): `node
 * data-migrations.js move ...` or `node data-migrations.js backfill-order-shards`; see data-migrations/cli.ts.
 * Progress and the report go to stdout, errors to stderr; the exit code says how it went (0, 1 failed, 2 usage).
 */
import { runCommand } from "./data-migrations/cli";

runCommand(
  process.argv.slice(2),
  process.env,
  (line) => process.stdout.write(`${line}\n`),
  (line) => process.stderr.write(`${line}\n`),
).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`data-migrations: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
