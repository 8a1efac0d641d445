/**
 * Cache-aside for the catalog's public reads (`GET /api/products/:id` and every list page, by category and
 * cursor). What is cached is the response body itself, as JSON text, so a hit costs one Redis round trip and no
 * JSON work at all.
 *
 * Keys (after the cache's prefix, `shop:cache:v1:`):
 *
 *   catalog:gen                          the catalog generation, bumped by every product write
 *   catalog:lsn                          WAL position of the latest product write
 *   product:<id>                         one product's body, or `null` for an id that does not exist
 *   products:<gen>:<category|*>:<after>:<limit>   one list page under generation <gen>
 *
 * A write DELetes the product's key and bumps the generation, which retires every list page at once without
 * knowing which pages held the product (old pages are never read again and expire). Three details make a
 * read never cache what a write has already replaced:
 *
 * - Fills read the database at `catalog:lsn` or later (the router's read-your-writes): a replica serves a fill
 *   only once it has replayed the latest product write, otherwise the primary does. So a miss right after a write
 *   never caches the lagging replica's old row.
 * - A product fill is written only if the generation is still the one read before the database was asked
 *   (one Lua script), so a fill that raced a write is dropped instead of outliving the DEL.
 * - Loads in flight in this process are forgotten on a write, so later requests do not join an older load.
 *
 * The process also remembers the latest write position it has seen (its own writes, and `catalog:lsn` as Redis
 * gives it). Reads that bypass Redis while it is down, and fills after it comes back empty (without `catalog:lsn`),
 * read at that position or later: the instance that wrote a product never reads the old row back, with or without
 * Redis. (Another instance's write made while Redis is down is not known here; such a read may see a replica's
 * lag, as any read without the cache does.)
 *
 * Concurrent misses for one key in one process share one database query (single flight). When Redis is down or
 * slow, reads go to the database (still single-flighted) and nothing fails; see cache/cache.ts.
 *
 * The scripts build page keys from the generation, so they need Redis with cluster mode disabled (as ElastiCache
 * replication groups are by default). A checkout changes stock, so it is a product write like the admin's: the
 * orders route calls {@link ProductCache.productsWritten} with the products it took. (Stock given back by a
 * released reservation, step 9's failure path, shows within the TTL: the worker that settles most of them has no
 * cache.) The cart and checkout always read the database.
 */
import { randomInt } from "node:crypto";
import { type Cache, UNAVAILABLE, luaScript } from "../cache/cache";
import { SingleFlight } from "../cache/single-flight";
import type { DbRouter, ReadOptions } from "../db/router";
import { type Lsn, isLsn, laterLsn } from "../db/lsn";
import { type ServedBy, copyServedBy } from "../served-by";
import { pageBody } from "./cursor";
import { getProduct, listProducts } from "./products";

/**
 * What one load produced: the body, and the tiers that served it, which every request that joined the load
 * records as its own.
 */
interface Loaded {
  body: string;
  served: ServedBy;
}

/** One list page's parameters, as the route has validated them. */
export interface PageQuery {
  category?: string;
  afterId: number;
  limit: number;
}

/** KEYS: generation, last write LSN. ARGV: a fresh generation, and optionally a page key's prefix and suffix. */
const READ_STATE = luaScript(`
local gen = redis.call('GET', KEYS[1])
if not gen then
  gen = ARGV[1]
  redis.call('SET', KEYS[1], gen)
end
local value = false
if ARGV[2] then value = redis.call('GET', ARGV[2] .. gen .. ARGV[3]) end
return { gen, redis.call('GET', KEYS[2]), value }
`);

/** KEYS: generation, product key. ARGV: the generation read before the load, the body, its TTL in ms. */
const FILL_IF_GENERATION = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`);

/** KEYS: generation, last write LSN, then the product keys to drop. ARGV: a fresh generation, the write's LSN. */
const RECORD_WRITE = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCR', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[1]) end
local function position(lsn)
  local high, low = string.match(lsn or '', '^(%x+)/(%x+)$')
  if not high then return nil end
  return tonumber(high, 16), tonumber(low, 16)
end
local ch, cl = position(redis.call('GET', KEYS[2]))
local nh, nl = position(ARGV[2])
if ch == nil or nh > ch or (nh == ch and nl > cl) then redis.call('SET', KEYS[2], ARGV[2]) end
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
return 1
`);

/** What a hit records: shared, never written to (copyServedBy only reads it). */
const HIT: Readonly<ServedBy> = Object.freeze({ cache: "hit" });

/**
 * A generation for a catalog that has none yet (a new or flushed Redis, or an evicted key): random, so it cannot
 * bring back pages cached under an earlier generation.
 */
function freshGeneration(): string {
  return String(randomInt(1, 2 ** 47));
}

/** Options of {@link ProductCache}. */
export interface ProductCacheOptions {
  cache: Cache;
  router: DbRouter;
  /** Told of each read served from Redis (`hit`) and each one the database served (`miss`), e.g. for metrics. */
  events?: { hit(): void; miss(): void };
}

/** See the module comment. */
export class ProductCache {
  private readonly cache: Cache;
  private readonly router: DbRouter;
  private readonly events?: ProductCacheOptions["events"];
  private readonly products = new SingleFlight<Loaded>();
  private readonly pages = new SingleFlight<Loaded>();
  private readonly generationKey: string;
  private readonly lsnKey: string;
  private readonly pagePrefix: string;
  /** The latest product write position this process knows of (see the module comment). */
  private latestWrite: Lsn | undefined;

  constructor(options: ProductCacheOptions) {
    this.cache = options.cache;
    this.router = options.router;
    this.events = options.events;
    this.generationKey = this.cache.key("catalog:gen");
    this.lsnKey = this.cache.key("catalog:lsn");
    this.pagePrefix = this.cache.key("products:");
  }

  /** Counters of the underlying cache. */
  get stats() {
    return this.cache.stats;
  }

  /** Reads that joined a load already in flight in this process (single flight) instead of starting their own. */
  get coalesced(): number {
    return this.products.joined + this.pages.joined;
  }

  /** `ok` while Redis is in use, `degraded` while reads go to the database. */
  status(): "ok" | "degraded" {
    return this.cache.status();
  }

  /**
   * Product `id`'s response body as JSON text, or `"null"` when there is no such product. `served` records the
   * cache's answer (`hit`, `miss`, `bypass`) and, when the database answered, which target.
   */
  async productJson(id: number, served?: ServedBy): Promise<string> {
    const loaded = await this.products.run(String(id), async (): Promise<Loaded> => {
      const key = this.cache.key(`product:${id}`);
      const hit = await this.cache.attempt("get product", (client) => client.get(key));
      if (typeof hit === "string") {
        this.hit();
        return { body: hit, served: HIT };
      }
      if (hit === UNAVAILABLE) return this.loadProduct(id, this.readOptions(), "bypass");
      const state = await this.readState();
      if (state === UNAVAILABLE) return this.loadProduct(id, this.readOptions(), "bypass");
      const loaded = await this.loadProduct(id, state.readOptions, "miss");
      this.cache.stats.misses += 1;
      await this.cache.runScript(
        "fill product",
        FILL_IF_GENERATION,
        [this.generationKey, key],
        [state.generation, loaded.body, String(this.cache.entryTtlMs())],
      );
      return loaded;
    });
    copyServedBy(loaded.served, served);
    return loaded.body;
  }

  /** A list page's response body (`{ items, nextCursor }`) as JSON text; `served` as for {@link productJson}. */
  async pageJson(query: PageQuery, served?: ServedBy): Promise<string> {
    const suffix = `:${query.category ?? "*"}:${query.afterId}:${query.limit}`;
    const loaded = await this.pages.run(suffix, async (): Promise<Loaded> => {
      const state = await this.readState(suffix);
      if (state === UNAVAILABLE) return this.loadPage(query, this.readOptions(), "bypass");
      if (state.value !== null) {
        this.hit();
        return { body: state.value, served: HIT };
      }
      const loaded = await this.loadPage(query, state.readOptions, "miss");
      this.cache.stats.misses += 1;
      const key = `${this.pagePrefix}${state.generation}${suffix}`;
      const ttl = this.cache.entryTtlMs();
      await this.cache.attempt("fill page", (client) =>
        client.set(key, loaded.body, { expiration: { type: "PX", value: ttl } }),
      );
      return loaded;
    });
    copyServedBy(loaded.served, served);
    return loaded.body;
  }

  /**
   * Call after products `ids` were written (committed at `lsn`): drops their entries and retires every list page.
   * Never fails; if Redis cannot be told, what it holds expires within the TTL.
   */
  async productsWritten(ids: number[], lsn: Lsn): Promise<void> {
    this.latestWrite = laterLsn(this.latestWrite, lsn);
    for (const id of ids) this.products.forget(String(id));
    this.pages.forgetAll();
    await this.cache.runScript(
      "invalidate products",
      RECORD_WRITE,
      [this.generationKey, this.lsnKey, ...ids.map((id) => this.cache.key(`product:${id}`))],
      [freshGeneration(), lsn],
      { ignoreBreaker: true },
    );
  }

  private async readState(pageSuffix?: string) {
    const args = pageSuffix === undefined ? [freshGeneration()] : [freshGeneration(), this.pagePrefix, pageSuffix];
    const reply = await this.cache.runScript<[string, string | null, string | null]>(
      pageSuffix === undefined ? "read catalog state" : "get page",
      READ_STATE,
      [this.generationKey, this.lsnKey],
      args,
    );
    if (reply === UNAVAILABLE) return UNAVAILABLE;
    const [generation, lsn, value] = reply;
    if (isLsn(lsn)) this.latestWrite = laterLsn(this.latestWrite, lsn);
    return { generation: String(generation), readOptions: this.readOptions(), value };
  }

  /** Reads at the latest write position known here, or anywhere when there was none. */
  private readOptions(): ReadOptions {
    return this.latestWrite === undefined ? {} : { after: this.latestWrite };
  }

  private hit(): void {
    this.cache.stats.hits += 1;
    this.events?.hit();
  }

  /** Every database read of this class: a miss, or a read while Redis is unavailable (`bypass`). */
  private async loadProduct(id: number, options: ReadOptions, cache: "miss" | "bypass"): Promise<Loaded> {
    this.events?.miss();
    const served: ServedBy = { cache };
    const product = await getProduct(this.router, id, { ...options, served });
    return { body: JSON.stringify(product ?? null), served };
  }

  private async loadPage(query: PageQuery, options: ReadOptions, cache: "miss" | "bypass"): Promise<Loaded> {
    this.events?.miss();
    const served: ServedBy = { cache };
    const page = await listProducts(this.router, query, { ...options, served });
    return { body: JSON.stringify(pageBody(page)), served };
  }
}
