/**
 * PostgreSQL WAL positions (LSNs) as the server prints them, `16/B374D848`: the high and low 32 bits in hex.
 * The router compares them to know whether a replica has replayed a shopper's last write.
 */

/** An LSN in PostgreSQL's text form. */
export type Lsn = string;

const LSN_PATTERN = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i;

/** True when `value` is an LSN in PostgreSQL's text form. */
export function isLsn(value: unknown): value is Lsn {
  return typeof value === "string" && LSN_PATTERN.test(value);
}

/** The LSN as one 64-bit number, for comparisons. */
export function lsnToBigInt(lsn: Lsn): bigint {
  const match = LSN_PATTERN.exec(lsn);
  if (!match) throw new TypeError(`not a WAL position: ${JSON.stringify(lsn)}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** True when position `a` is at or past position `b`. */
export function lsnAtLeast(a: Lsn, b: Lsn): boolean {
  return lsnToBigInt(a) >= lsnToBigInt(b);
}

/** The later of two positions; `undefined` counts as "nothing written yet". */
export function laterLsn(a: Lsn | undefined, b: Lsn): Lsn {
  return a !== undefined && lsnAtLeast(a, b) ? a : b;
}
