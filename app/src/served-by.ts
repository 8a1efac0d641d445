/**
 * Which tiers served one request: the data-access modules fill it in where they decide (the product cache: hit or
 * miss; the primary/replica router: which database; the shard router: which shard), and the access log writes it
 * once, in the request's one line (http/access-log.ts). It is a plain object handed down with the read, so these
 * modules know nothing of Fastify; a caller that does not care passes none.
 */

/** The tiers of one request; a field is absent when that tier was not involved. */
export interface ServedBy {
  /**
   * The product cache (step 5 on): `hit` when Redis held the answer, `miss` when the database did (and the entry
   * was filled), `bypass` when Redis was down or slow and the database answered.
   */
  cache?: "hit" | "miss" | "bypass";
  /**
   * The database targets that answered the request's reads, in order, comma-separated when more than one:
   * `replica-1`, `primary` (no replica fitted, or a read-your-writes read before the replica caught up),
   * `shard-1-reader`. Writes always run on a primary and are not listed.
   */
  db?: string;
  /** The order shard of the request's shopper: `main` (the catalog database) before step 9, else `shard-<i>`. */
  shard?: string;
}

/** Adds database target `name` to `served.db`, once. */
export function servedByDatabase(served: ServedBy | undefined, name: string): void {
  if (served === undefined) return;
  const db = served.db;
  if (db === undefined) served.db = name;
  else if (db !== name && !db.split(",").includes(name)) served.db = `${db},${name}`;
}

/** Copies what `from` recorded into `to` (a request joining a load another request started). */
export function copyServedBy(from: ServedBy, to: ServedBy | undefined): void {
  if (to === undefined) return;
  if (from.cache !== undefined) to.cache = from.cache;
  if (from.db !== undefined) for (const name of from.db.split(",")) servedByDatabase(to, name);
  if (from.shard !== undefined) to.shard = from.shard;
}
