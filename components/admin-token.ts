/**
 * The rule an admin bearer token must meet, in one place: the app's configuration (app/src/config.ts) refuses a
 * weaker `ADMIN_TOKEN` at start-up. On AWS the token is never typed: components/app-secrets.ts generates it (40 random
 * letters and digits) and the servers read it from Secrets Manager, so no stack configuration key carries it. Plain
 * code without the Pulumi SDK, so that the app bundles it without the SDK.
 *
 * The token is the only credential of the catalog's write routes, so it must not be guessable: at least
 * {@link ADMIN_TOKEN_MIN_LENGTH} characters, and at least {@link ADMIN_TOKEN_MIN_BITS} bits by
 * {@link estimatedEntropyBits}. The estimate only sees the characters a token shows (it cannot tell a random token
 * from a clever phrase), so it catches what people type by hand: repeated words, one character, short phrases. A
 * token from `openssl rand -base64 32` (44 characters) or `-hex 32` (64) passes every time; so does the stack's
 * (40 random letters and digits). A 32-hex-digit token (`-hex 16`, 128 random bits) shows only about 115 bits, since
 * it repeats characters from an alphabet of 16, and is refused: ask for more characters.
 */

/** Fewest characters of an admin token. */
export const ADMIN_TOKEN_MIN_LENGTH = 32;
/** Fewest bits of an admin token, as {@link estimatedEntropyBits} counts them. */
export const ADMIN_TOKEN_MIN_BITS = 128;
/** How to make a token that passes, for error messages and docs. */
export const ADMIN_TOKEN_ADVICE = "generate one with `openssl rand -base64 32`";

/**
 * The entropy a token shows: its length times the Shannon entropy of its characters' frequencies (bits per
 * character). 40 distinct characters score 40 × log2(40) ≈ 213; `aaaa…` scores 0; `password` four times, 88.
 */
export function estimatedEntropyBits(token: string): number {
  const characters = Array.from(token);
  const counts = new Map<string, number>();
  for (const character of characters) counts.set(character, (counts.get(character) ?? 0) + 1);
  let bitsPerCharacter = 0;
  for (const count of counts.values()) {
    const p = count / characters.length;
    bitsPerCharacter -= p * Math.log2(p);
  }
  return bitsPerCharacter * characters.length;
}

/**
 * What is wrong with `token` as an admin token, as the end of a sentence that starts with its name
 * (`ADMIN_TOKEN must ...`), or undefined when it is good. Never repeats the token.
 */
export function adminTokenProblem(token: string): string | undefined {
  const length = Array.from(token).length;
  if (length < ADMIN_TOKEN_MIN_LENGTH)
    return `must be at least ${ADMIN_TOKEN_MIN_LENGTH} characters (got ${length}); ${ADMIN_TOKEN_ADVICE}`;
  const bits = Math.floor(estimatedEntropyBits(token));
  if (bits < ADMIN_TOKEN_MIN_BITS)
    return (
      `must be random: at least ${ADMIN_TOKEN_MIN_BITS} bits of entropy (got about ${bits}: too few distinct or too ` +
      `many repeated characters); ${ADMIN_TOKEN_ADVICE}`
    );
  return undefined;
}
