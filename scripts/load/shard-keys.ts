/**
 * `npm run shard-keys`: the seed's sharding examples, measured. The classic ladder's seed splits products by category
 * and orders by day of the week, then warns about joining across shards; the ladder shards orders by shopper. Under
 * one simulated day of orders ({@link ORDER_DAY} of the load profile), each of the three keys places every order
 * line with the ladder's own shard function (app/src/shards/shard-map.ts `bucketOf`: sha256 of the key's value into
 * 256 buckets, then the bucket map of components/shard-map.ts for the ladder's shard count), and the table gives
 * the share of the day's written rows on the busiest shard and the share of checkouts that write to more than one
 * shard. The step-9 page carries the table (`npm run docs`); the shard-keys test regenerates it.
 */
import { bucketOf } from "../../app/src/shards/shard-map";
import { assignBuckets } from "../../components/shard-map";
import { Prng } from "../../lib/prng";
import { parseLadderConfig } from "../../stacks/config";
import { firstStepOf } from "../../stacks/steps";
import { ORDER_DAY, type OrderDay, categoryOf } from "./profile";

/** The three keys compared. */
export const SHARD_KEYS = ["shopper hash", "day of week", "product category"] as const;
export type ShardKey = (typeof SHARD_KEYS)[number];

/** The shard of a key's value: the app's bucket function, then the bucket map. */
export const shardOf = (value: string, buckets: readonly number[]): number => buckets[bucketOf(value)];

/** What one key gives over the day. */
export interface KeyMeasure {
  key: ShardKey;
  /** Rows written per shard: on each shard a checkout touches, its order row and the lines placed there. */
  rowsPerShard: number[];
  /** The busiest shard's share of every row written. */
  busiestShare: number;
  /** Checkouts that write to more than one shard, as a share of all checkouts. */
  crossShardShare: number;
}

/** A version 4 UUID (canonical lower-case text, as the app's shopper ids) drawn from `random`. */
export function randomUuid(random: Prng): string {
  const bytes = Array.from({ length: 16 }, () => random.int(0, 255));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** One simulated checkout. */
export interface SimulatedOrder {
  shopperId: string;
  productIds: number[];
}

/** The day's orders: the same for the same {@link ORDER_DAY}. */
export function simulateOrders(day: OrderDay = ORDER_DAY): SimulatedOrder[] {
  const random = new Prng(day.seed);
  const shoppers = Array.from({ length: day.shoppers }, () => randomUuid(random));
  // Popularity ranks dealt to products in a random order (Fisher-Yates), then cumulative weights 1 / rank^zipf.
  const byRank = Array.from({ length: day.products }, (_, i) => i + 1);
  for (let i = byRank.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [byRank[i], byRank[j]] = [byRank[j], byRank[i]];
  }
  const cumulative: number[] = [];
  let total = 0;
  for (let rank = 1; rank <= day.products; rank++) cumulative.push((total += 1 / rank ** day.zipf));
  const product = () => {
    const x = random.next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return byRank[lo];
  };
  const sizes = Object.entries(day.basketLines).map(([lines, share]) => [Number(lines), share] as const);
  const basketSize = () => {
    let x = random.next();
    for (const [lines, share] of sizes) if ((x -= share) < 0) return lines;
    return sizes[sizes.length - 1][0];
  };
  return Array.from({ length: day.orders }, () => {
    const shopperId = random.pick(shoppers);
    const lines = new Set<number>();
    const size = basketSize();
    while (lines.size < size) lines.add(product());
    return { shopperId, productIds: [...lines] };
  });
}

/** English name of the day of `date` (`YYYY-MM-DD`), the day-of-week key's value. */
export const weekdayOf = (date: string): string =>
  new Date(`${date}T12:00:00Z`).toLocaleDateString("en-US", { weekday: "long", timeZone: "UTC" }).toLowerCase();

/** Measures each key over `orders` on `shards` shards. */
export function measureKeys(orders: SimulatedOrder[], shards: number, date = ORDER_DAY.date): KeyMeasure[] {
  const buckets = assignBuckets(shards);
  const weekday = weekdayOf(date);
  const lineShard: Record<ShardKey, (order: SimulatedOrder, productId: number) => number> = {
    "shopper hash": (order) => shardOf(order.shopperId, buckets),
    "day of week": () => shardOf(weekday, buckets),
    "product category": (_, productId) => shardOf(categoryOf(productId), buckets),
  };
  return SHARD_KEYS.map((key) => {
    const rowsPerShard = new Array<number>(shards).fill(0);
    let cross = 0;
    for (const order of orders) {
      const touched = new Set<number>();
      for (const id of order.productIds) {
        const shard = lineShard[key](order, id);
        rowsPerShard[shard]++; // the line
        if (!touched.has(shard)) rowsPerShard[shard]++; // the order's row on that shard
        touched.add(shard);
      }
      if (touched.size > 1) cross++;
    }
    const written = rowsPerShard.reduce((a, b) => a + b, 0);
    return {
      key,
      rowsPerShard,
      busiestShare: Math.max(...rowsPerShard) / written,
      crossShardShare: cross / orders.length,
    };
  });
}

const capitalized = (s: string) => s[0].toUpperCase() + s.slice(1);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const n = (x: number) => x.toLocaleString("en-US");

/** The Markdown table and its stated inputs, as the step-9 page carries it and `npm run shard-keys` prints it. */
export function shardKeyTable(
  shards: number,
  day: OrderDay = ORDER_DAY,
  shardsWhy = "the stack's `shards` default",
): string {
  const orders = simulateOrders(day);
  const measures = measureKeys(orders, shards, day.date);
  const lines = orders.reduce((a, o) => a + o.productIds.length, 0);
  const basket = Object.entries(day.basketLines)
    .map(([k, v]) => `${k}: ${pct(v)}`)
    .join(", ");
  return [
    `| shard key | rows written per shard | on the busiest shard | checkouts writing to 2+ shards |`,
    "| --- | --- | ---: | ---: |",
    ...measures.map(
      (m) =>
        `| ${m.key} | ${m.rowsPerShard.map((r, i) => `shard-${i} ${n(r)}`).join(", ")} | ${pct(m.busiestShare)} | ` +
        `${pct(m.crossShardShare)} |`,
    ),
    "",
    `One simulated day (${day.date}, a ${capitalized(weekdayOf(day.date))}; \`npm run shard-keys\`, ` +
      "scripts/load/shard-keys.ts): " +
      `${n(day.orders)} checkouts by ${n(day.shoppers)} shoppers drawn uniformly, ${n(lines)} order lines over the ` +
      `seed's ${n(day.products)} products in its ${day.categories.length} categories, product popularity Zipf ` +
      `(s = ${day.zipf}), lines per order ${basket}; PRNG seed ${day.seed}. ${shards} shards (${shardsWhy}), ` +
      "256 buckets. Every key's value goes through the ladder's own shard function: " +
      "`bucketOf` (sha256 into 256 buckets), then the bucket map. A row is an order line, or an order's row on a " +
      "shard it writes to (a checkout split by category writes one on each).",
  ].join("\n");
}

/** `npm run shard-keys [-- --shards N]` (through scripts/run.mjs). */
export function main(argv: string[]): number {
  let shards = parseLadderConfig({ step: String(firstStepOf("shards")) }).shards.count;
  if (argv.length > 0) {
    const value = Number(argv[1]);
    if (argv[0] !== "--shards" || argv.length !== 2 || !Number.isInteger(value) || value < 1 || value > 256) {
      process.stderr.write(
        `usage: npm run shard-keys [-- --shards N (1-256, default ${shards})]; got ${argv.join(" ")}\n`,
      );
      return 2;
    }
    shards = value;
  }
  process.stdout.write(`${shardKeyTable(shards, ORDER_DAY, argv.length > 0 ? "--shards" : undefined)}\n`);
  return 0;
}
