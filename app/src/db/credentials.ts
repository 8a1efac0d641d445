/**
 * Database credentials read from where they are kept, when a connection is opened, instead of once at start-up.
 *
 * A password that is read at start only makes every password change an outage for the servers already running:
 * their new connections are refused until they restart (step 3 -> 4 switches the primary to a generated password;
 * rotation changes it again). A {@link CredentialSource} is asked for the password each time a pool opens a
 * connection (node-postgres calls `password` as an async function then), keeps the answer for a short while so a
 * burst of connections reads it once, and is read again at once when the server refuses the password
 * (db/pool.ts retries that connection once with what it reads then).
 *
 * The secret is JSON shaped like the ones RDS and components/database-credentials.ts write:
 * `{"username": "...", "password": "..."}`. Only the password is taken; the user stays the connection URL's.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** How long a read password is reused before the next connection reads it again, ms. */
export const CREDENTIALS_CACHE_MS = 30_000;

/** Where credentials live, as the app's configuration names them. */
export type CredentialLocation = { kind: "file"; path: string };

/** The password of the connections of one or more pools. */
export interface CredentialSource {
  /** The password: the cached one while it is fresh, else read now. */
  password(): Promise<string>;
  /** Forgets the cached password, so the next {@link password} reads it (after an authentication failure). */
  invalidate(): void;
}

/**
 * Parses a credentials location: `file:///absolute/path.json`. Returns an error message naming what is allowed
 * when `value` is none of them.
 */
export function parseCredentialLocation(value: string): CredentialLocation | string {
  if (value.startsWith("file:")) {
    try {
      return { kind: "file", path: fileURLToPath(value) };
    } catch {
      return "must be a file:///absolute/path URL";
    }
  }
  return "must be a file:///absolute/path URL of a JSON {username, password} file";
}

/** Reads `{ password }` from the JSON text of a secret, naming `where` when it is not there. */
function passwordOf(text: string, where: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`database credentials at ${where} are not JSON`);
  }
  const password = (parsed as { password?: unknown } | null)?.password;
  if (typeof password !== "string" || password === "")
    throw new Error(`database credentials at ${where} have no "password" string`);
  return password;
}

/**
 * A source that reads `location` at most once per `cacheMs` (and at once after {@link CredentialSource.invalidate}).
 * Concurrent callers share one read.
 * @param cacheMs how long a read password is reused. @default {@link CREDENTIALS_CACHE_MS}
 * @param now the clock (tests).
 */
export function credentialSource(
  location: CredentialLocation,
  cacheMs = CREDENTIALS_CACHE_MS,
  now: () => number = Date.now,
): CredentialSource {
  const read = async () => passwordOf(await readFile(location.path, "utf8"), location.path);
  let cached: { password: string; at: number } | undefined;
  let reading: Promise<string> | undefined;
  return {
    password() {
      if (cached && now() - cached.at < cacheMs) return Promise.resolve(cached.password);
      reading ??= read()
        .then((password) => {
          cached = { password, at: now() };
          return password;
        })
        .finally(() => {
          reading = undefined;
        });
      return reading;
    },
    invalidate() {
      cached = undefined;
      // A read already under way may have started before the change: the next caller starts a new one.
      reading = undefined;
    },
  };
}

/** SQLSTATEs of a refused login: invalid_password (28P01) and invalid_authorization_specification (28000). */
const AUTH_SQLSTATES = new Set(["28P01", "28000"]);

/** True when `error` is the server refusing the credentials (read by field: see db/failures.ts). */
export function isAuthenticationError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && AUTH_SQLSTATES.has(code);
}
