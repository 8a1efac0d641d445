/**
 * The order shard map as the app reads it from `ORDER_SHARDS`: 256 logical buckets, each owned by one shard, and
 * each shard's writer and reader URLs. The infrastructure publishes the map (components/shard-map.ts
 * `assignBuckets`); the app only hashes shoppers into buckets and looks the bucket up.
 *
 * Placement: `bucket = uint32_be(sha256(shopperId)[0..4]) mod 256`, where `shopperId` is the shopper's UUID in its
 * canonical lower-case text form, hashed as UTF-8. The hash is stable across processes, releases and languages
 * (any SHA-256 gives the same bucket), spreads UUIDs evenly, and does not depend on the shard count: resharding
 * moves whole buckets by editing the map, never by changing this function. (256 divides 2^32, so the modulo adds
 * no bias.)
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { isPostgresUrl } from "../db/postgres-url";

/** Logical buckets; the same number as components/shard-map.ts `SHARD_BUCKETS`. */
export const SHARD_BUCKETS = 256;

/** The bucket of a shopper's orders. See the module comment for the exact function. */
export function bucketOf(shopperId: string): number {
  const digest = createHash("sha256").update(shopperId.toLowerCase(), "utf8").digest();
  return digest.readUInt32BE(0) % SHARD_BUCKETS;
}

/** One order shard: a name for logs and errors, the writer and (optionally) a reader endpoint. */
export interface ShardSpec {
  name: string;
  url: string;
  readerUrl?: string;
}

/** The parsed `ORDER_SHARDS`. */
export interface ShardMap {
  /** Shard index of each of the {@link SHARD_BUCKETS} buckets. */
  buckets: number[];
  shards: ShardSpec[];
}

const postgresUrl = z.string().refine(isPostgresUrl, { error: "must be a postgres:// or postgresql:// URL" });

/** The shape of `ORDER_SHARDS`; messages never repeat a value (the URLs hold passwords). */
const shardMapSchema = z
  .object({
    buckets: z
      .array(z.number().int().min(0), { error: "must be an array of shard indexes" })
      .length(SHARD_BUCKETS, { error: `must list ${SHARD_BUCKETS} buckets` }),
    shards: z
      .array(
        z.object({
          name: z.string().regex(/^[A-Za-z0-9_.-]{1,63}$/, { error: "must be 1-63 letters, digits, '.', '_' or '-'" }),
          url: postgresUrl,
          readerUrl: postgresUrl.optional(),
        }),
      )
      .min(1, { error: "must name at least one shard" }),
  })
  .superRefine((map, ctx) => {
    const bad = map.buckets.findIndex((shard) => shard >= map.shards.length);
    if (bad >= 0)
      ctx.addIssue({
        code: "custom",
        path: ["buckets", bad],
        message: `names shard ${map.buckets[bad]}, but only ${map.shards.length} are listed`,
      });
    const names = map.shards.map((shard) => shard.name);
    if (new Set(names).size !== names.length)
      ctx.addIssue({ code: "custom", path: ["shards"], message: "shard names must be unique" });
  });

/** `ORDER_SHARDS` as a config field: JSON text parsed and checked into a {@link ShardMap}. */
export const shardMapField = () =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: 'must be JSON: {"buckets": [...], "shards": [...]}' });
        return z.NEVER;
      }
    })
    .pipe(shardMapSchema);
