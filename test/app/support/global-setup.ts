/**
 * Jest global setup of the app tests: starts one PostgreSQL primary and one streaming replica for the whole run,
 * and leaves their description in a JSON file named by SHOP_TEST_CLUSTER_FILE (inherited by the test workers).
 * Each test file then makes its own database on them (see test-database.ts). initdb runs once, into a template
 * that the primary, and every e2e topology's clusters (e2e/support/local-topology.ts), are copies of.
 */
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Client } from "pg";
import {
  CLUSTER_ENV,
  type ClusterInfo,
  REPLICATION_USER,
  clientFor,
  cloneCluster,
  createStandby,
  findNativeDir,
  freePort,
  initPrimary,
  linkLibraries,
  makeRunDir,
  postgresOwner,
  runnableNativeDir,
  startServer,
  stopServer,
} from "../../../lib/servers/postgres-cluster";

export default async function globalSetup(): Promise<void> {
  const owner = postgresOwner();
  const runDir = await makeRunDir();
  const nativeDir = await runnableNativeDir(findNativeDir(), runDir, owner);
  const libraryPath = await linkLibraries(nativeDir, path.join(runDir, "lib"));
  const templateDir = path.join(runDir, "template");

  const cluster: ClusterInfo = {
    runDir,
    password: randomBytes(12).toString("hex"),
    primary: {
      name: "primary",
      dataDir: path.join(runDir, "primary"),
      port: await freePort(),
      logFile: path.join(runDir, "primary.log"),
    },
    replica: {
      name: "replica_1",
      dataDir: path.join(runDir, "replica"),
      port: await freePort(),
      logFile: path.join(runDir, "replica.log"),
    },
    postgresBin: path.join(nativeDir, "bin", "postgres"),
    libraryPath,
    owner,
    templateDir,
  };
  try {
    await initPrimary({ nativeDir, libraryPath, dataDir: templateDir, password: cluster.password, owner });
    await cloneCluster(templateDir, cluster.primary.dataDir);
    await startServer(cluster, cluster.primary);
    const replicationPassword = randomBytes(12).toString("hex");
    const admin: Client = clientFor(cluster, cluster.primary);
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${REPLICATION_USER} WITH REPLICATION LOGIN PASSWORD '${replicationPassword}'`);
    } finally {
      await admin.end();
    }
    await createStandby(cluster, replicationPassword);
  } catch (error) {
    await stopServer(cluster.replica).catch(() => undefined);
    await stopServer(cluster.primary).catch(() => undefined);
    await rm(runDir, { recursive: true, force: true });
    throw error;
  }
  const file = path.join(runDir, "cluster.json");
  await writeFile(file, JSON.stringify(cluster, null, 2));
  process.env[CLUSTER_ENV] = file;
}
