/**
 * `node scripts/run.mjs scripts/moved-buckets.ts FROM TO`: the order buckets whose shard changes when the shard
 * count goes from FROM to TO (comma-separated), i.e. the orders a reshard must copy (docs/steps/09-sharding.md).
 */
import { assignBuckets } from "../components/shard-map";

export function main(argv: string[]): number {
  const [from, to] = argv.map(Number);
  if (argv.length !== 2 || !Number.isInteger(from) || !Number.isInteger(to)) {
    process.stderr.write("usage: node scripts/run.mjs scripts/moved-buckets.ts FROM TO   (shard counts, e.g. 2 3)\n");
    return 2;
  }
  const before = assignBuckets(from);
  const moved = assignBuckets(to).flatMap((shard, bucket) => (shard !== before[bucket] ? [bucket] : []));
  process.stdout.write(`${moved.join(",")}\n`);
  return 0;
}
