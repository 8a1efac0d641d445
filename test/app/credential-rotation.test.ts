/**
 * Issue 15, item 3: the database password changes under a running shop (the step 3 -> 4 switch to a generated
 * password, a rotation) and the shop keeps serving, with no restart. The app reads its credentials from their
 * secret (here a file, DATABASE_SECRET and ORDER_SHARDS_SECRET; Secrets Manager on AWS) when it opens a connection,
 * and reads them again when the server refuses the password.
 *
 * Real servers: the run's primary and replica hold the catalog, two more PostgreSQL servers are order shards. The
 * shop connects as a role of its own (the run's superuser is shared by every test file), whose password the test
 * changes the way a rotation does: the secret first, then the role on every server.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { FastifyInstance } from "fastify";
import type { Client } from "pg";
import { orderShardsMap } from "../../components/app-env";
import { assignBuckets } from "../../components/shard-map";
import { buildApp } from "../../app/src/app";
import { ConfigError, loadConfig } from "../../app/src/config";
import { credentialSource, isAuthenticationError } from "../../app/src/db/credentials";
import { prepareDatabase } from "../../app/src/db/prepare";
import { type DbRouter, createDbRouter } from "../../app/src/db/router";
import { MIGRATIONS_DIR } from "../../app/src/paths";
import { type ClusterInfo, type ServerInfo, clientFor, readCluster } from "../../lib/servers/postgres-cluster";
import { httpRequest } from "./support/http-client";
import { type ShardCluster, startShardCluster } from "./support/shard-cluster";
import { Shopper } from "./support/shopper";
import { shopperVisit } from "./support/shopper-visit";
import { type SuiteDatabase, createSuiteDatabase, lockReplica, waitForReplica } from "./support/test-database";
import { testEnv, testLogger } from "./support/test-app";

const ROLE = `shop_rotation_${randomBytes(3).toString("hex")}`;
const SHARDS = ["rotation-shard-0", "rotation-shard-1"];
const password = () => randomBytes(18).toString("hex");

let db: SuiteDatabase;
let unlock: () => Promise<void>;
let shards: ShardCluster;
let secretDir: string;
let secretFile: string;
let router: DbRouter;
let app: FastifyInstance;
let url: string;

/** Runs `sql` as the superuser on `server`, in `database`. */
async function admin(cluster: ClusterInfo, server: Pick<ServerInfo, "port">, database: string, sql: string[]) {
  const client: Client = clientFor(cluster, server, database);
  await client.connect();
  try {
    for (const statement of sql) await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Every server the shop connects to as {@link ROLE}, with the database it uses there. */
const servers = () => [
  { server: db.cluster.primary, database: db.name },
  ...shards.shards.map((shard) => ({ server: shard.server, database: "orders" })),
];

/** `postgres://ROLE:<pw>@127.0.0.1:<port>/<database>`: the password as the app got it at start. */
const roleUrl = (port: number, database: string, pw: string) =>
  `postgres://${ROLE}:${pw}@127.0.0.1:${port}/${database}`;

/** A rotation: the secret gets the new password first, then the role on every server (the replica by replay). */
async function rotate(newPassword: string): Promise<Date> {
  await writeFile(secretFile, JSON.stringify({ username: ROLE, password: newPassword }), { mode: 0o600 });
  const changedAt = new Date();
  for (const { server } of servers())
    await admin(db.cluster, server, "postgres", [`ALTER ROLE ${ROLE} PASSWORD '${newPassword}'`]);
  await waitForReplica(db.cluster);
  return changedAt;
}

/** Connections `application_name` opened on `server` since `since`. */
async function opened(server: Pick<ServerInfo, "port">, applicationName: string, since: Date): Promise<number> {
  const client = clientFor(db.cluster, server);
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND backend_start > $2",
      [applicationName, since],
    );
    return rows[0].n;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  const first = password();
  shards = await startShardCluster(SHARDS);
  // The lock first: creating the database waits for the replica, which an exclusive holder may have stopped.
  unlock = await lockReplica(await readCluster(), "shared");
  db = await createSuiteDatabase("credential-rotation");
  for (const { server, database } of servers())
    await admin(db.cluster, server, "postgres", [
      `CREATE ROLE ${ROLE} LOGIN PASSWORD '${first}'`,
      `ALTER DATABASE ${database} OWNER TO ${ROLE}`,
    ]);
  await waitForReplica(db.cluster);
  secretDir = await mkdtemp(path.join(tmpdir(), "shop-credentials-"));
  secretFile = path.join(secretDir, "database.json");
  await writeFile(secretFile, JSON.stringify({ username: ROLE, password: first }), { mode: 0o600 });
  const secret = pathToFileURL(secretFile).href;
  const map = orderShardsMap(
    assignBuckets(SHARDS.length),
    shards.shards.map((s) => ({
      name: s.name,
      url: roleUrl(s.server.port, "orders", first),
      readerUrl: roleUrl(s.server.port, "orders", first),
    })),
  );
  const config = loadConfig(
    testEnv(db, {
      DATABASE_URL: roleUrl(db.cluster.primary.port, db.name, first),
      DATABASE_REPLICA_URLS: roleUrl(db.cluster.replica.port, db.name, first),
      DATABASE_SECRET: secret,
      ORDER_SHARDS: JSON.stringify(map),
      ORDER_SHARDS_SECRET: secret,
      // Few connections per pool, so that the burst below has to open new ones.
      DB_POOL_MAX: "4",
      SEED_PRODUCTS: "20",
    }),
  );
  const logger = testLogger();
  router = createDbRouter(config, logger);
  await prepareDatabase(router.primaryPool, { migrationsDir: MIGRATIONS_DIR, seedProducts: 20, logger });
  await router.primaryPool.query("UPDATE products SET stock = 1000000");
  await waitForReplica(db.cluster);
  app = await buildApp(config, { router, logger });
  await app.listen({ host: "127.0.0.1", port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await app?.close();
  await router?.close();
  await db?.drop();
  if (db) await admin(db.cluster, db.cluster.primary, "postgres", [`DROP ROLE IF EXISTS ${ROLE}`]);
  await unlock?.();
  await shards?.close();
  if (secretDir) await rm(secretDir, { recursive: true, force: true });
});

/** One shopper's visit (support/shopper-visit.ts) to this test's app. */
function visit(productId: number): Promise<string[]> {
  return shopperVisit(new Shopper({ request: (r) => httpRequest(url, r) }), productId);
}

test("the password changes in the secret, then on every server: new connections work, no request fails", async () => {
  const failures: string[] = [];
  let visits = 0;
  let running = true;
  // A steady shopper throughout: before, during and after the change.
  const steady = (async () => {
    while (running) {
      failures.push(...(await visit(1 + (visits % 20))));
      visits += 1;
    }
  })();
  while (visits < 3) await new Promise((resolve) => setTimeout(resolve, 20));

  const changedAt = await rotate(password());
  // More shoppers at once than a pool holds connections: every pool opens new ones, with the new password. Forty,
  // not twelve: the shard of each shopper is drawn at random, and twelve once left one shard with too few checkouts
  // at once to need a new connection (a clean-clone CI run: "shop:shard-…" opened 0).
  const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => visit(1 + (i % 20))));
  const afterBurst = visits;
  while (visits < afterBurst + 3) await new Promise((resolve) => setTimeout(resolve, 20));
  running = false;
  await steady;

  expect([...failures, ...burst.flat()]).toEqual([]);
  expect(await opened(db.cluster.primary, "shop:primary", changedAt)).toBeGreaterThan(0);
  expect(await opened(db.cluster.replica, "shop:replica-1", changedAt)).toBeGreaterThan(0);
  // The shards' writers (checkout); a shopper's history is read where it was just written, so no reader is asked.
  for (const shard of shards.shards)
    expect(await opened(shard.server, `shop:${shard.name}`, changedAt)).toBeGreaterThan(0);
}, 60_000);

describe("credential source", () => {
  test("reuses a read password for its cache time, reads again after it or after invalidate()", async () => {
    const file = path.join(secretDir, "unit.json");
    let now = 0;
    const source = credentialSource({ kind: "file", path: file }, 1000, () => now);
    await writeFile(file, JSON.stringify({ username: "u", password: "one" }));
    expect(await source.password()).toBe("one");
    await writeFile(file, JSON.stringify({ username: "u", password: "two" }));
    now = 999;
    expect(await source.password()).toBe("one");
    now = 1000;
    expect(await source.password()).toBe("two");
    await writeFile(file, JSON.stringify({ username: "u", password: "three" }));
    source.invalidate();
    expect(await source.password()).toBe("three");
  });

  test("a secret without a password names the file and the field", async () => {
    const file = path.join(secretDir, "broken.json");
    await writeFile(file, JSON.stringify({ username: "u" }));
    await expect(credentialSource({ kind: "file", path: file }).password()).rejects.toThrow(
      `database credentials at ${file} have no "password" string`,
    );
  });

  test("only a refused login (28P01, 28000) counts as an authentication failure", () => {
    expect(isAuthenticationError({ code: "28P01" })).toBe(true);
    expect(isAuthenticationError({ code: "28000" })).toBe(true);
    expect(isAuthenticationError({ code: "57P01" })).toBe(false);
    expect(isAuthenticationError(new Error("x"))).toBe(false);
  });

  test("DATABASE_SECRET that is not a file URL is refused, naming the field and what is allowed", () => {
    const env = { ...testEnv(db), DATABASE_SECRET: "/etc/shop/db.json" };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/DATABASE_SECRET.*file:\/\/\/absolute\/path/);
  });
});
