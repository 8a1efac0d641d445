/** Jest global teardown of the app tests: stops the replica and the primary, then removes their files. */
import { rm } from "node:fs/promises";
import { CLUSTER_ENV, readCluster, stopServer } from "../../../lib/servers/postgres-cluster";

export default async function globalTeardown(): Promise<void> {
  if (!process.env[CLUSTER_ENV]) return; // global setup failed before starting anything, and cleaned up itself
  const cluster = await readCluster();
  await stopServer(cluster.replica);
  await stopServer(cluster.primary);
  await rm(cluster.runDir, { recursive: true, force: true });
  delete process.env[CLUSTER_ENV];
}
