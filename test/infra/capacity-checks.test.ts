/**
 * Configurations that cannot work are refused at config time (stacks/capacity-checks.ts), each rule at its
 * boundary, and every step's defaults pass; the facts the rules read (components/facts/*) agree with what AWS
 * publishes.
 */
import { DB_POOL_MAX_DEFAULT, WORKER_JOB_TIMEOUT_MS } from "../../components/app-limits";
import { VALKEY_MAXMEMORY_BYTES, usableCacheBytes } from "../../components/facts/elasticache-node-memory";
import {
  AURORA_POSTGRES_MAX_CONNECTIONS,
  CLASS_MEMORY_GIB,
  connectionFact,
  defaultMaxConnections,
} from "../../components/facts/rds-max-connections";
import { loadWorkerConfig } from "../../app/src/config";
import { stackConfig } from "../../lib/graph/harness";
import { connectionBudgets } from "../../stacks/capacity-checks";
import { ConfigError, parseLadderConfig } from "../../stacks/config";
import { BUILT_STEPS, VARIANTS } from "./ladder-variants";

/** Parses `scale-ladder:*` keys at `step` (bare names), in us-east-1. */
const parse = (step: number, keys: Record<string, string> = {}) =>
  parseLadderConfig({
    "scale-ladder:step": String(step),
    ...Object.fromEntries(Object.entries(keys).map(([k, v]) => [`scale-ladder:${k}`, v])),
  });

/** The message a configuration is refused with; fails when it is accepted. */
function refusal(step: number, keys: Record<string, string>): string {
  try {
    parse(step, keys);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`accepted step ${step} ${JSON.stringify(keys)}`);
}

describe("the connections of the fleets' pools", () => {
  it("refuse webMaxSize=100 with the default pool on db.t4g.micro, naming the keys and the ways out", () => {
    const message = refusal(3, { webMaxSize: "100", dbInstanceClass: "db.t4g.micro" });
    expect(message).toContain("scale-ladder:dbInstanceClass db.t4g.micro cannot take the connections");
    expect(message).toContain(
      `the web fleet's 1000 (scale-ladder:webMaxSize 100 × DB_POOL_MAX ${DB_POOL_MAX_DEFAULT})`,
    );
    expect(message).toContain("gives the app 63 (max_connections 76 less 5 reserved");
    expect(message).toContain("Raise scale-ladder:dbInstanceClass, lower scale-ladder:webMaxSize");
    expect(message).toContain("lower DB_POOL_MAX (components/app-limits.ts), or put RDS Proxy in front");
  });

  it.each(BUILT_STEPS.flatMap((step) => VARIANTS.map((v) => [step, v.name] as const)))(
    "accept the defaults at step %i (%s)",
    (step, name) => {
      const { "aws:region": region, ...keys } = stackConfig(step, VARIANTS.find((v) => v.name === name)!.extra);
      const cfg = parseLadderConfig(keys, region);
      const { budgets, problems } = connectionBudgets(cfg);
      expect(problems).toEqual([]);
      for (const b of budgets) expect(b.total).toBeLessThanOrEqual(b.available);
      expect(budgets.length).toBe(step === 1 ? 0 : step >= 9 ? 2 : 1);
    },
  );

  it("hold the web fleet at the catalog's budget: 6 × 10 fits db.t4g.micro's 63, 7 × 10 does not", () => {
    expect(parse(3, { webMaxSize: "6" }).web.maxSize).toBe(6);
    expect(refusal(3, { webMaxSize: "7" })).toContain("the web fleet's 70");
  });

  it("add the workers from step 8: 12 web and 4 workers fit db.t4g.small's 161, 13 do not; step 7 has none", () => {
    expect(parse(8, { webMaxSize: "12" }).database.instanceClass).toBe("db.t4g.small");
    const message = refusal(8, { webMaxSize: "13" });
    expect(message).toContain("the web fleet's 130 (scale-ladder:webMaxSize 13 × DB_POOL_MAX 10)");
    expect(message).toContain("the workers' 40 (scale-ladder:workerMaxSize 4 × DB_POOL_MAX 10) = 170");
    expect(message).toContain("lower scale-ladder:webMaxSize or scale-ladder:workerMaxSize");
    // Step 7 has no workers: the same key is not counted.
    expect(refusal(7, { webMaxSize: "7", workerMaxSize: "100" })).not.toContain("workers");
  });

  it("count every region at step 11, where the regions write to one primary", () => {
    expect(parse(11, { workerMaxSize: "11" }).worker.maxSize).toBe(11); // 120 + 220 = 340 of 358
    const message = refusal(11, { workerMaxSize: "12" }); // 120 + 240 = 360
    expect(message).toContain("scale-ladder:dbInstanceClass db.t4g.medium");
    expect(message).toContain(
      "scale-ladder:workerMaxSize 12 × 2 regions (aws:region and scale-ladder:secondaryRegions)",
    );
    expect(message).toContain("= 360 connections to the catalog's primary, and it gives the app 358");
  });

  it("hold each shard's writer from step 9 against the Aurora class's own figure", () => {
    // db.t4g.medium: AWS's Aurora table says 405; less 3 for AWS automation and 41 headroom: 361.
    const roomy = { dbInstanceClass: "db.r6g.large" };
    expect(parse(9, { ...roomy, workerMaxSize: "30" }).shards.instanceClass).toBe("db.t4g.medium"); // 60 + 300
    const message = refusal(9, { ...roomy, workerMaxSize: "31" }); // 60 + 310
    expect(message).toContain("scale-ladder:shardInstanceClass db.t4g.medium cannot take the connections");
    expect(message).toContain("= 370 connections to each shard's writer, and it gives the app 361");
    expect(message).not.toContain("scale-ladder:dbInstanceClass");
  });

  it("refuse a class with no fact where it is used, naming the file to add it to", () => {
    expect(refusal(2, { dbInstanceClass: "db.z1d.large" })).toContain(
      "scale-ladder:dbInstanceClass db.z1d.large has no max_connections fact in " +
        "components/facts/rds-max-connections.ts",
    );
    expect(refusal(9, { shardInstanceClass: "db.r9g.large" })).toContain(
      "scale-ladder:shardInstanceClass db.r9g.large has no max_connections fact",
    );
    // Step 1 keeps the database on the server; step 8 has no shards: neither class is used there.
    expect(parse(1, { dbInstanceClass: "db.z1d.large" }).step).toBe(1);
    expect(parse(8, { shardInstanceClass: "db.r9g.large" }).step).toBe(8);
  });
});

describe("the cache's memory", () => {
  it("must hold cacheWorkingSetMb: cache.t4g.micro holds 384 MiB, 385 is refused with the keys named", () => {
    expect(parse(5, { cacheWorkingSetMb: "384" }).cache.workingSetMb).toBe(384);
    const message = refusal(5, { cacheWorkingSetMb: "385" });
    expect(message).toContain(
      "scale-ladder:cacheWorkingSetMb 385 does not fit scale-ladder:cacheNodeType cache.t4g.micro",
    );
    expect(message).toContain("it holds 384 MiB of data (maxmemory less the 25 % reserved-memory-percent");
    expect(parse(5, { cacheWorkingSetMb: "1000", cacheNodeType: "cache.t4g.small" }).cache.nodeType).toBe(
      "cache.t4g.small",
    );
  });

  it("is not checked when the working set is unset or before step 5", () => {
    expect(parse(5).cache.workingSetMb).toBeUndefined();
    expect(parse(4, { cacheWorkingSetMb: "100000" }).step).toBe(4);
  });

  it("needs a fact for each node type in use", () => {
    expect(refusal(5, { cacheNodeType: "cache.m4.large" })).toContain(
      "scale-ladder:cacheNodeType cache.m4.large has no memory fact in components/facts/elasticache-node-memory.ts",
    );
    expect(refusal(7, { sessionNodeType: "cache.t2.micro" })).toContain("scale-ladder:sessionNodeType cache.t2.micro");
    expect(parse(6, { sessionNodeType: "cache.t2.micro" }).step).toBe(6);
  });
});

describe("the queue's visibility timeout", () => {
  const least = WORKER_JOB_TIMEOUT_MS / 1000 + 10;

  it(`stays above the worker's job timeout: ${least} s is accepted, ${least - 1} s refused naming the key`, () => {
    expect(parse(8, { queueVisibilityTimeoutSeconds: String(least) }).queue.visibilityTimeoutSeconds).toBe(least);
    expect(refusal(8, { queueVisibilityTimeoutSeconds: String(least - 1) })).toContain(
      `scale-ladder:queueVisibilityTimeoutSeconds must be at least ${least}, got ${least - 1}: the worker waits up ` +
        `to ${WORKER_JOB_TIMEOUT_MS / 1000} s on a job (WORKER_JOB_TIMEOUT_MS, components/app-limits.ts)`,
    );
  });

  it("is not checked before step 8, where there is no queue", () => {
    expect(parse(7, { queueVisibilityTimeoutSeconds: "10" }).step).toBe(7);
  });
});

describe("the facts", () => {
  it("DB_POOL_MAX defaults to the pool size the check counts", () => {
    expect(loadWorkerConfig({ DATABASE_URL: "postgres://localhost/shop" }).DB_POOL_MAX).toBe(DB_POOL_MAX_DEFAULT);
  });

  it("the RDS formula never promises more than AWS's Aurora table for the classes of its memory", () => {
    const rows = Object.entries(AURORA_POSTGRES_MAX_CONNECTIONS).filter(([c]) => /^db\.(t3|t4g|r6g|x2g)\./.test(c));
    expect(rows.length).toBeGreaterThan(10);
    for (const [instanceClass, published] of rows)
      expect([instanceClass, defaultMaxConnections(CLASS_MEMORY_GIB[instanceClass])]).toEqual([
        instanceClass,
        Math.min(published, defaultMaxConnections(CLASS_MEMORY_GIB[instanceClass])),
      ]);
  });

  it("Aurora uses its own table where it has a row, the formula elsewhere; RDS always the formula", () => {
    expect(connectionFact("aurora-postgresql", "db.t4g.medium")).toEqual({
      maxConnections: 405,
      reserved: 3,
      source: "aurora-table",
    });
    expect(connectionFact("aurora-postgresql", "db.r7g.large")).toEqual({
      maxConnections: defaultMaxConnections(16),
      reserved: 3,
      source: "formula",
    });
    expect(connectionFact("postgres", "db.t4g.micro")).toEqual({ maxConnections: 76, reserved: 5, source: "formula" });
    expect(connectionFact("postgres", "db.m7i.48xlarge")?.maxConnections).toBe(5000);
  });

  it("a Valkey node holds its maxmemory less the 25 % reserve", () => {
    expect(VALKEY_MAXMEMORY_BYTES["cache.t4g.micro"]).toBe(536_870_912);
    expect(usableCacheBytes("cache.t4g.micro")).toBe(402_653_184);
    expect(usableCacheBytes("cache.m4.large")).toBeUndefined();
  });
});
