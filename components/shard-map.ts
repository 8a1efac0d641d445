/**
 * The order shard map: a fixed number of logical buckets, each assigned to one shard. A shopper's orders live in
 * bucket `hash(shopperId) mod BUCKETS`, so the map — not the shard count — decides where they are, and adding a
 * shard moves whole buckets instead of rehashing every key. The app reads the same map (`ORDER_SHARDS`).
 */

/** Logical buckets. A power of two, large enough to rebalance finely and small enough to publish in one parameter. */
export const SHARD_BUCKETS = 256;

/**
 * Assigns buckets to `shards` shards as if they had been added one at a time: shard k, when added, takes from each
 * existing shard only its excess over the new even share (highest-numbered buckets first). So the map for n + 1
 * shards differs from the map for n only in the buckets the new shard takes — about BUCKETS / (n + 1) of them —
 * and shard sizes never differ by more than one bucket.
 */
export function assignBuckets(shards: number, buckets = SHARD_BUCKETS): number[] {
  if (!Number.isInteger(shards) || shards < 1 || shards > buckets)
    throw new Error(`shards must be an integer from 1 to ${buckets}, got ${shards}`);
  const owner = new Array<number>(buckets).fill(0);
  for (let added = 1; added < shards; added++) {
    const count = added + 1;
    // Even shares for `count` shards; the first `buckets % count` shards keep one extra.
    const share = (s: number) => Math.floor(buckets / count) + (s < buckets % count ? 1 : 0);
    for (let s = 0; s < added; s++) {
      const mine = owner.map((o, b) => (o === s ? b : -1)).filter((b) => b >= 0);
      const excess = mine.length - share(s);
      for (const b of mine.slice(mine.length - Math.max(0, excess))) owner[b] = added;
    }
  }
  return owner;
}

/** What the shard map parameter holds. */
export interface ShardMapDocument {
  version: 1;
  bucketCount: number;
  /** Shard index of each bucket. */
  buckets: number[];
  /** Shard names, by index (the Aurora cluster's logical name). */
  shards: string[];
}
