/**
 * Issue 15, item 3 on AWS: the app reads the database password from its Secrets Manager secret (DATABASE_SECRET is
 * the secret's ARN) when a pool opens a connection, keeps it 30 s, reads it again when the server refuses it, and
 * says clearly when the secret cannot be read.
 *
 * Real parts: the run's PostgreSQL primary, and the app's real `@aws-sdk/client-secrets-manager` client. There is no
 * Secrets Manager emulator on this machine, so the client talks to support/secrets-manager-endpoint.ts, a local HTTP
 * endpoint that answers GetSecretValue in the service's JSON protocol: explicit endpoint (SECRETS_MANAGER_ENDPOINT),
 * fixed credentials, AWS_EC2_METADATA_DISABLED, nothing leaves 127.0.0.1.
 */
import { randomBytes } from "node:crypto";
import { ConfigError, loadConfig, loadWorkerConfig } from "../../app/src/config";
import { type DbRouter, createDbRouter } from "../../app/src/db/router";
import { pollUntil } from "../../lib/servers/poll";
import { readCluster } from "../../lib/servers/postgres-cluster";
import {
  type SecretsManagerEndpoint,
  secretArn,
  startSecretsManagerEndpoint,
} from "./support/secrets-manager-endpoint";
import { type SuiteDatabase, createSuiteDatabase, lockReplica, withClient } from "./support/test-database";
import { testEnv, testLogger } from "./support/test-app";

const REGION = "eu-west-1";
const ARN = secretArn(REGION, "shop/db");
const ROLE = `shop_sm_${randomBytes(3).toString("hex")}`;
const password = () => randomBytes(18).toString("hex");

let db: SuiteDatabase;
let unlock: () => Promise<void>;
let endpoint: SecretsManagerEndpoint;
let router: DbRouter | undefined;

/** Runs `sql` as the superuser on the primary. */
const admin = (sql: string) => withClient(db.cluster, db.cluster.primary, "postgres", (c) => c.query(sql));

/** The environment of a server whose DATABASE_URL names the role but carries a password that was never right. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  const wrong = `postgres://${ROLE}:not-the-password@127.0.0.1:${db.cluster.primary.port}/${db.name}`;
  return testEnv(db, {
    DATABASE_URL: wrong,
    DATABASE_REPLICA_URLS: "",
    DATABASE_SECRET: ARN,
    SECRETS_MANAGER_ENDPOINT: endpoint.url,
    AWS_REGION: REGION,
    ...extra,
  });
}

/** GetSecretValue calls for {@link ARN} so far. */
const reads = () => endpoint.requests.filter((r) => r.secretId === ARN).length;

beforeAll(async () => {
  // The SDK must never go looking for the instance metadata address.
  process.env.AWS_EC2_METADATA_DISABLED = "true";
  unlock = await lockReplica(await readCluster(), "shared");
  db = await createSuiteDatabase("secrets-manager");
  const first = password();
  await admin(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${first}'`);
  endpoint = await startSecretsManagerEndpoint();
  endpoint.put(ARN, JSON.stringify({ username: ROLE, password: first }));
}, 60_000);

afterEach(async () => {
  await router?.close();
  router = undefined;
});

afterAll(async () => {
  await endpoint?.close();
  await db?.drop();
  await admin(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined);
  await unlock?.();
});

test("a new connection reads the password from the secret, signed for the ARN's region", async () => {
  const before = endpoint.requests.length;
  router = createDbRouter(loadConfig(env()), testLogger());
  expect(endpoint.requests.length).toBe(before); // nothing is read until a connection opens
  const { rows } = await router.primaryPool.query<{ user: string }>("SELECT current_user AS user");
  expect(rows[0].user).toBe(ROLE);
  const [request] = endpoint.requests.slice(before);
  expect(request).toMatchObject({ target: "secretsmanager.GetSecretValue", secretId: ARN });
  expect(String(request.headers.authorization)).toMatch(
    new RegExp(`^AWS4-HMAC-SHA256 Credential=local/\\d{8}/${REGION}/secretsmanager/aws4_request`),
  );
});

test("a burst of new connections reads the secret once (kept 30 s)", async () => {
  router = createDbRouter(loadConfig(env({ DB_POOL_MAX: "6" })), testLogger());
  const before = reads();
  // Six queries at once, each holding its connection a moment: the pool opens six connections.
  await Promise.all(Array.from({ length: 6 }, () => router!.primaryPool.query("SELECT pg_sleep(0.05)")));
  expect(router.primaryPool.totalCount).toBe(6);
  expect(reads() - before).toBe(1);
});

test("after a rotation, the refused connection reads the secret again and the query succeeds", async () => {
  router = createDbRouter(loadConfig(env()), testLogger());
  const pool = router.primaryPool;
  await pool.query("SELECT 1");
  const before = reads();
  // The rotation: the secret's new version first, then the role's password.
  const second = password();
  endpoint.put(ARN, JSON.stringify({ username: ROLE, password: second }));
  await admin(`ALTER ROLE ${ROLE} PASSWORD '${second}'`);
  // The pool's connections go (as after a failover); the next query must open one with the password still cached.
  await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${ROLE}'`);
  await pollUntil("the pool to drop its ended connections", async () => pool.totalCount === 0);
  const { rows } = await pool.query<{ user: string }>("SELECT current_user AS user");
  expect(rows[0].user).toBe(ROLE);
  expect(reads() - before).toBe(1);
});

test("a secret that cannot be read fails the connection with an error naming it and AWS's answer", async () => {
  router = createDbRouter(loadConfig(env()), testLogger());
  endpoint.fail(ARN, "AccessDeniedException");
  try {
    await expect(router.primaryPool.query("SELECT 1")).rejects.toThrow(
      `database credentials: cannot read the secret ${ARN} from Secrets Manager: AccessDeniedException:`,
    );
  } finally {
    endpoint.fail(ARN, undefined);
  }
  // A failed read is not kept: once the secret is readable again, the next connection opens.
  await expect(router.primaryPool.query("SELECT 1")).resolves.toBeDefined();
});

test("a secret with no password is refused by name", async () => {
  const other = secretArn(REGION, "shop/no-password");
  endpoint.put(other, JSON.stringify({ username: ROLE }));
  router = createDbRouter(loadConfig(env({ DATABASE_SECRET: other })), testLogger());
  await expect(router.primaryPool.query("SELECT 1")).rejects.toThrow(
    `database credentials at ${other} have no "password" string`,
  );
});

describe("configuration", () => {
  const problems = (load: () => unknown): string[] => {
    try {
      load();
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it.each([
    ["a secret's name", "shop/db"],
    ["a partial ARN (no random suffix)", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db"],
    ["an SSM parameter's ARN", "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/db"],
    ["an https URL", "https://secretsmanager.eu-west-1.amazonaws.com/shop/db"],
  ])("refuses %s, naming the variable and the forms allowed", (_, value) => {
    for (const name of ["DATABASE_SECRET", "ORDER_SHARDS_SECRET"]) {
      const expected =
        `${name}: must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:` +
        "<name>-<suffix>) or a file:///absolute/path URL of a JSON {username, password} file";
      expect(problems(() => loadConfig(env({ [name]: value })))).toEqual([expected]);
      expect(problems(() => loadWorkerConfig(env({ [name]: value })))).toEqual([expected]);
    }
  });

  it("refuses a secret of another region than AWS_REGION (a secondary region reads its own replica)", () => {
    const primaryRegion = secretArn("us-east-1", "shop/db");
    const expected =
      "DATABASE_SECRET: names a secret in us-east-1, but AWS_REGION is eu-west-1: give the ARN of this region's " +
      "replica of the secret";
    expect(problems(() => loadConfig(env({ DATABASE_SECRET: primaryRegion })))).toEqual([expected]);
    expect(problems(() => loadWorkerConfig(env({ DATABASE_SECRET: primaryRegion })))).toEqual([expected]);
  });

  it("accepts an ARN of every partition, and reads it in the ARN's region", () => {
    for (const arn of [
      secretArn("us-east-1", "rds!db-0123abcd"),
      "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:shop/db-AbC123",
      "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:shop_db.v2@x-AbC123",
    ]) {
      const region = arn.split(":")[3];
      expect(loadConfig(env({ DATABASE_SECRET: arn, AWS_REGION: region })).DATABASE_SECRET).toEqual({
        kind: "secretsManager",
        arn,
        region,
      });
    }
  });
});
