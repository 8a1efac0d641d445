/**
 * Database credentials read from where they are kept, when a connection is opened, instead of once at start-up.
 *
 * A password that is read at start only makes every password change an outage for the servers already running:
 * their new connections are refused until they restart (a rotation; a stack climbed before this switched the
 * catalog to a generated password at step 3 -> 4). A {@link CredentialSource} is asked for the password each time a
 * pool opens a connection (node-postgres calls `password` as an async function then), keeps the answer for a short
 * while so a burst of connections reads it once, and is read again at once when the server refuses the password
 * (db/pool.ts retries that connection once with what it reads then).
 *
 * Where the secret lives: on AWS a Secrets Manager secret, named by its ARN and read with the instance role in the
 * ARN's region, which must be the server's own (at step 11 a secondary region reads its replica of the primary's
 * secret, so it reads nothing from the primary region: a region that is down cannot stop another one from opening
 * connections); locally a `file:///` JSON file the launcher writes (scripts/local).
 *
 * The secret is JSON shaped like the ones RDS and components/database-credentials.ts write:
 * `{"username": "...", "password": "..."}`. Only the password is taken; the user stays the connection URL's.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { EMULATOR_CREDENTIALS } from "../queue/sqs";

/** How long a read password is reused before the next connection reads it again, ms. */
export const CREDENTIALS_CACHE_MS = 30_000;

/** Where credentials live, as the app's configuration names them. */
export type CredentialLocation =
  | { kind: "file"; path: string }
  /** A Secrets Manager secret, read in `region` (the ARN's). */
  | { kind: "secretsManager"; arn: string; region: string };

/**
 * A secret's ARN: `arn:<partition>:secretsmanager:<region>:<12-digit account>:secret:<name>-<6 characters>`
 * (Secrets Manager appends the six random characters; names are letters, digits and `/_+=.@-`). A name alone,
 * or a partial ARN, is refused: it would find a secret of the same name in whatever region the client is in.
 */
const SECRET_ARN =
  /^arn:(aws|aws-cn|aws-us-gov):secretsmanager:([a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:secret:[\w/+=.@!-]+-[A-Za-z0-9]{6}$/;

/** The forms a credentials location may take, for error messages. */
export const CREDENTIAL_LOCATION_FORMS =
  "a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>) or a " +
  "file:///absolute/path URL of a JSON {username, password} file";

/** The password of the connections of one or more pools. */
export interface CredentialSource {
  /** The password: the cached one while it is fresh, else read now. */
  password(): Promise<string>;
  /** Forgets the cached password, so the next {@link password} reads it (after an authentication failure). */
  invalidate(): void;
}

/**
 * Parses a credentials location: a secret's ARN, or `file:///absolute/path.json`. Returns an error message naming
 * what is allowed when `value` is none of them (the message does not repeat the value).
 */
export function parseCredentialLocation(value: string): CredentialLocation | string {
  if (value.startsWith("file:")) {
    try {
      return { kind: "file", path: fileURLToPath(value) };
    } catch {
      return "must be a file:///absolute/path URL";
    }
  }
  const arn = SECRET_ARN.exec(value);
  if (arn) return { kind: "secretsManager", arn: value, region: arn[2] };
  return `must be ${CREDENTIAL_LOCATION_FORMS}`;
}

/** How the Secrets Manager client is built, beyond the secret's region. */
export interface SecretsManagerSettings {
  /**
   * An endpoint that speaks the Secrets Manager API on this machine (tests): the client then signs with fixed
   * dummy credentials and never looks for real ones. Unset on AWS, where the instance role signs.
   */
  endpoint?: string;
}

/** Reads the SecretString of `location` from Secrets Manager; an error names the ARN and what AWS answered. */
function secretsManagerReader(
  location: Extract<CredentialLocation, { kind: "secretsManager" }>,
  settings: SecretsManagerSettings,
): () => Promise<string> {
  let client: SecretsManagerClient | undefined;
  return async () => {
    client ??= new SecretsManagerClient({
      region: location.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint, credentials: EMULATOR_CREDENTIALS } : {}),
      // Throttling and 5xx are retried by the SDK; a connection that waits for its password is waiting meanwhile.
      maxAttempts: 3,
    });
    let text: string | undefined;
    try {
      text = (await client.send(new GetSecretValueCommand({ SecretId: location.arn }))).SecretString;
    } catch (error) {
      const { name, message } = error as Error;
      throw new Error(
        `database credentials: cannot read the secret ${location.arn} from Secrets Manager: ${name}: ${message}`,
        {
          cause: error,
        },
      );
    }
    if (text === undefined) throw new Error(`database credentials: the secret ${location.arn} has no SecretString`);
    return passwordOf(text, location.arn);
  };
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
 * @param secretsManager how a Secrets Manager location is read. @default `{}` (the SDK's endpoint and credentials)
 */
export function credentialSource(
  location: CredentialLocation,
  cacheMs = CREDENTIALS_CACHE_MS,
  now: () => number = Date.now,
  secretsManager: SecretsManagerSettings = {},
): CredentialSource {
  const read =
    location.kind === "file"
      ? async () => passwordOf(await readFile(location.path, "utf8"), location.path)
      : secretsManagerReader(location, secretsManager);
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

/**
 * The source a configuration names (DATABASE_SECRET, ORDER_SHARDS_SECRET), read through SECRETS_MANAGER_ENDPOINT
 * when that is set; `undefined` when the variable is unset (the URLs' passwords are used).
 */
export function configuredCredentials(
  location: CredentialLocation | undefined,
  config: { SECRETS_MANAGER_ENDPOINT?: string },
): CredentialSource | undefined {
  return (
    location &&
    credentialSource(location, CREDENTIALS_CACHE_MS, Date.now, { endpoint: config.SECRETS_MANAGER_ENDPOINT })
  );
}

/** SQLSTATEs of a refused login: invalid_password (28P01) and invalid_authorization_specification (28000). */
const AUTH_SQLSTATES = new Set(["28P01", "28000"]);

/** True when `error` is the server refusing the credentials (read by field: see db/failures.ts). */
export function isAuthenticationError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && AUTH_SQLSTATES.has(code);
}
