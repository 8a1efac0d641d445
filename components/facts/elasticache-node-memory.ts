/**
 * How much data a Valkey node of each type holds: the fact the configuration's cache check
 * (stacks/capacity-checks.ts) holds `cacheWorkingSetMb` against. Read on 2026-12-02.
 *
 * `maxmemory` is "the maximum number of bytes available for data storage on the node"; it cannot be modified.
 * Source: ElastiCache User Guide, "Engine specific parameters", section "Valkey node-type specific parameters"
 * (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ParameterGroups.Engine.html). The ladder runs Valkey 8
 * (components/cache.ts); the previous-generation types (t2, m4, r4) are left out, so the configuration refuses them.
 *
 * Of `maxmemory`, `reserved-memory-percent` is kept for backups, replication and failover: "the rule of thumb is to
 * reserve 25% of a node type's maxmemory value by using the reserved-memory-percent parameter. This is the default
 * value" (ElastiCache User Guide, "Managing reserved memory for Valkey and Redis OSS",
 * https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/redis-memory-management.html). Our parameter groups
 * (family valkey8) keep that default. The same page recommends up to 50 % on micro types that run near their
 * limit; the check uses the default, which is what the stack runs.
 */

/** `maxmemory` in bytes of each node type the ladder accepts (Valkey node-type specific parameters). */
export const VALKEY_MAXMEMORY_BYTES: Readonly<Record<string, number>> = {
  "cache.t3.micro": 536_870_912,
  "cache.t3.small": 1_471_026_299,
  "cache.t3.medium": 3_317_862_236,
  "cache.t4g.micro": 536_870_912,
  "cache.t4g.small": 1_471_026_299,
  "cache.t4g.medium": 3_317_862_236,
  "cache.m5.large": 6_854_542_746,
  "cache.m5.xlarge": 13_891_921_715,
  "cache.m5.2xlarge": 27_966_669_210,
  "cache.m5.4xlarge": 56_116_178_125,
  "cache.m5.12xlarge": 168_715_971_994,
  "cache.m5.24xlarge": 337_500_562_842,
  "cache.m6g.large": 6_854_542_746,
  "cache.m6g.xlarge": 13_891_921_715,
  "cache.m6g.2xlarge": 27_966_669_210,
  "cache.m6g.4xlarge": 56_116_178_125,
  "cache.m6g.8xlarge": 111_325_552_312,
  "cache.m6g.12xlarge": 168_715_971_994,
  "cache.m6g.16xlarge": 225_000_375_228,
  "cache.m7g.large": 6_854_542_746,
  "cache.m7g.xlarge": 13_891_921_715,
  "cache.m7g.2xlarge": 27_966_669_210,
  "cache.m7g.4xlarge": 56_116_178_125,
  "cache.m7g.8xlarge": 111_325_552_312,
  "cache.m7g.12xlarge": 168_715_971_994,
  "cache.m7g.16xlarge": 225_000_375_228,
  "cache.m8g.large": 7_294_178_820,
  "cache.m8g.xlarge": 15_222_495_510,
  "cache.m8g.2xlarge": 31_866_224_640,
  "cache.m8g.4xlarge": 65_856_864_256,
  "cache.m8g.8xlarge": 133_838_143_488,
  "cache.m8g.12xlarge": 201_819_422_720,
  "cache.m8g.16xlarge": 269_800_701_952,
  "cache.r5.large": 14_037_181_030,
  "cache.r5.xlarge": 28_261_849_702,
  "cache.r5.2xlarge": 56_711_183_565,
  "cache.r5.4xlarge": 113_609_865_216,
  "cache.r5.12xlarge": 341_206_346_547,
  "cache.r5.24xlarge": 682_485_973_811,
  "cache.r6g.large": 14_037_181_030,
  "cache.r6g.xlarge": 28_261_849_702,
  "cache.r6g.2xlarge": 56_711_183_565,
  "cache.r6g.4xlarge": 113_609_865_216,
  "cache.r6g.8xlarge": 225_000_375_228,
  "cache.r6g.12xlarge": 341_206_346_547,
  "cache.r6g.16xlarge": 450_000_750_456,
  "cache.r7g.large": 14_037_181_030,
  "cache.r7g.xlarge": 28_261_849_702,
  "cache.r7g.2xlarge": 56_711_183_565,
  "cache.r7g.4xlarge": 113_609_865_216,
  "cache.r7g.8xlarge": 225_000_375_228,
  "cache.r7g.12xlarge": 341_206_346_547,
  "cache.r7g.16xlarge": 450_000_750_456,
  "cache.r8g.large": 15_222_495_510,
  "cache.r8g.xlarge": 31_866_224_640,
  "cache.r8g.2xlarge": 65_856_864_256,
  "cache.r8g.4xlarge": 133_838_143_488,
  "cache.r8g.8xlarge": 269_800_701_952,
  "cache.r8g.12xlarge": 405_763_260_416,
  "cache.r8g.16xlarge": 541_725_818_880,
  "cache.c7gn.large": 3_317_862_236,
  "cache.c7gn.xlarge": 6_854_542_746,
  "cache.c7gn.2xlarge": 13_891_921_715,
  "cache.c7gn.4xlarge": 27_966_669_210,
  "cache.c7gn.8xlarge": 56_116_178_125,
  "cache.c7gn.12xlarge": 84_357_985_997,
  "cache.c7gn.16xlarge": 113_609_865_216,
};

/** The default `reserved-memory-percent` our parameter groups keep. */
export const RESERVED_MEMORY_PERCENT = 25;

/**
 * Bytes a node of `nodeType` holds for data once the reserve is kept (`maxmemory` less `reserved-memory-percent`),
 * or undefined when this file has no fact for the type (the caller refuses it, naming this file).
 */
export function usableCacheBytes(nodeType: string): number | undefined {
  const maxmemory = VALKEY_MAXMEMORY_BYTES[nodeType];
  return maxmemory === undefined ? undefined : Math.floor((maxmemory * (100 - RESERVED_MEMORY_PERCENT)) / 100);
}
