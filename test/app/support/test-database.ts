/**
 * One database per test file on the shared cluster, and the helpers that keep the shared replica predictable.
 */
import { randomBytes } from "node:crypto";
import type { Client } from "pg";
import { pollUntil } from "../../../lib/servers/poll";
import { type ClusterInfo, clientFor, readCluster, urlFor } from "../../../lib/servers/postgres-cluster";

/** A test file's own database, on the primary and (by replication) on the replica. */
export interface SuiteDatabase {
  cluster: ClusterInfo;
  name: string;
  primaryUrl: string;
  replicaUrl: string;
  /** Drops the database (ending any session still in it). */
  drop(): Promise<void>;
}

/** Runs `work` with a superuser client on `server`, closed afterwards. */
export async function withClient<T>(
  cluster: ClusterInfo,
  server: ClusterInfo["primary"],
  database: string,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  const client = clientFor(cluster, server, database);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Waits until the replica has replayed everything the primary has written so far. A paused replica (see
 * {@link pauseReplay}) never catches up, so callers resume it first.
 */
export async function waitForReplica(cluster: ClusterInfo): Promise<void> {
  const target = await withClient(
    cluster,
    cluster.primary,
    "postgres",
    async (client) =>
      (await client.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn")).rows[0].lsn,
  );
  await withClient(cluster, cluster.replica, "postgres", (client) =>
    pollUntil("the replica to catch up", async () => {
      const { rows } = await client.query<{ caught: boolean }>(
        "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught",
        [target],
      );
      return rows[0].caught;
    }),
  );
}

/** Creates a database named after `label` (plus a random suffix) and waits until the replica has it too. */
export async function createSuiteDatabase(label: string): Promise<SuiteDatabase> {
  const cluster = await readCluster();
  const name = `shop_${label.replace(/[^a-z0-9]+/gi, "_").toLowerCase()}_${randomBytes(3).toString("hex")}`;
  await withClient(cluster, cluster.primary, "postgres", (client) => client.query(`CREATE DATABASE ${name}`));
  await waitForReplica(cluster);
  return {
    cluster,
    name,
    primaryUrl: urlFor(cluster, cluster.primary, name),
    replicaUrl: urlFor(cluster, cluster.replica, name),
    drop: () =>
      withClient(cluster, cluster.primary, "postgres", (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      ).then(() => undefined),
  };
}

/** Stops WAL replay on the replica: from now on it lags the primary by everything written, deterministically. */
export async function pauseReplay(cluster: ClusterInfo): Promise<void> {
  await withClient(cluster, cluster.replica, "postgres", async (client) => {
    await client.query("SELECT pg_wal_replay_pause()");
    await pollUntil("replay to pause", async () => {
      const { rows } = await client.query<{ state: string }>("SELECT pg_get_wal_replay_pause_state() AS state");
      return rows[0].state === "paused";
    });
  });
}

/** Resumes WAL replay on the replica and waits until it has caught up. */
export async function resumeReplay(cluster: ClusterInfo): Promise<void> {
  await withClient(cluster, cluster.replica, "postgres", (client) => client.query("SELECT pg_wal_replay_resume()"));
  await waitForReplica(cluster);
}

/**
 * The key of the "replica lock", an advisory lock in the primary's `postgres` database. Every test file holds it
 * shared while it runs; a test that pauses or stops the shared replica holds it exclusively, so that when jest
 * runs files in parallel no other file sees the replica paused or down behind its back.
 */
const REPLICA_LOCK_KEY = 4242;

/** Takes the replica lock (see {@link REPLICA_LOCK_KEY}); resolves with the function that releases it. */
export async function lockReplica(cluster: ClusterInfo, mode: "shared" | "exclusive"): Promise<() => Promise<void>> {
  const client = clientFor(cluster, cluster.primary);
  // The server ends this session when the cluster stops at the end of the run; that is expected, not an error.
  client.on("error", () => undefined);
  await client.connect();
  await client.query(mode === "shared" ? "SELECT pg_advisory_lock_shared($1)" : "SELECT pg_advisory_lock($1)", [
    REPLICA_LOCK_KEY,
  ]);
  // Ending the session releases the lock.
  return () => client.end();
}
