/**
 * The vocabulary of the app's environment: for each variable, how its value is obtained — a literal, a field of a
 * Secrets Manager secret, the instance's region from its metadata, or a URL rendered from a secret and an endpoint.
 * The stack decides which variables a process gets (stacks/app-environment.ts); this module only knows how to turn
 * one value into shell for the boot script (AWS), into a string (local mode, tests), and into words (the docs).
 *
 * `T` is the type of a value that comes from a resource: `pulumi.Input<string>` while the program runs, `string`
 * once resolved (and always in local mode).
 */

/** A Secrets Manager secret the boot script reads; `label` names the shell variables it is kept in (`DB_SECRET`). */
export interface SecretRef<T> {
  arn: T;
  /** Upper-case word: `APP`, `DB`, `CACHE`, `SHARD`. */
  label: string;
}

/** The user name and password of a PostgreSQL URL. */
export type Credentials<T> =
  /** The JSON secret RDS (or the shard component) keeps: fields `username` and `password`. */
  | { kind: "secret"; secret: SecretRef<T> }
  /** Step 1 on AWS: a password generated on the box into a root-only file, never leaving it. */
  | { kind: "file"; user: string; passwordFile: string }
  /** Local mode: a password generated once per data directory. */
  | { kind: "literal"; user: string; password: string };

/** Verified TLS (`sslmode=verify-full`) against a CA bundle on the box. */
export interface PgTls {
  rootCert: string;
}

/** A PostgreSQL server's address. */
export interface PgEndpoint<T> {
  host: T | string;
  port: T | number;
}

/** Where the shard map's buckets come from. */
export type ShardBuckets<T> =
  /** The map the ShardedDatabase publishes in SSM, read at each start (resharding needs no new launch template). */
  | { kind: "ssm"; parameterName: T; region: string }
  /** The map itself (local mode, where nothing else publishes it). */
  | { kind: "literal"; buckets: number[] };

/** How one variable's value is obtained. */
export type EnvValue<T> =
  | { kind: "literal"; value: T | string | number | boolean }
  /** The region of the instance, from the instance metadata service (IMDSv2). */
  | { kind: "instanceRegion" }
  /** The id of the instance (`i-0abc…`), from the instance metadata service (IMDSv2): a stable name, not an address. */
  | { kind: "instanceId" }
  | { kind: "secretField"; secret: SecretRef<T>; field: string }
  | { kind: "postgres"; endpoint: PgEndpoint<T>; database: string; credentials: Credentials<T>; tls?: PgTls }
  /** Comma-separated URLs of servers that share one database name and one set of credentials. */
  | { kind: "postgresList"; endpoints: PgEndpoint<T>[]; database: string; credentials: Credentials<T>; tls?: PgTls }
  | {
      kind: "redis";
      endpoint: PgEndpoint<T>;
      auth: { kind: "secret"; secret: SecretRef<T>; field: string } | { kind: "literal"; password: string };
      tls: boolean;
    }
  /** `ORDER_SHARDS`: the buckets, and each shard's writer and reader URL (see {@link orderShardsMap}). */
  | {
      kind: "shardMap";
      buckets: ShardBuckets<T>;
      shards: { name: string; writer: PgEndpoint<T>; reader: PgEndpoint<T> }[];
      database: string;
      credentials: Credentials<T>;
      tls?: PgTls;
    };

/** One variable of the environment: its name, how its value is obtained, and why the process gets it. */
export interface EnvVar<T> {
  name: string;
  value: EnvValue<T>;
  why: string;
}

const pgQuery = (tls?: PgTls) => (tls ? `sslmode=verify-full&sslrootcert=${tls.rootCert}` : "");

/** A PostgreSQL URL; the user and password are URI-encoded (a generated password may hold any character). */
export function postgresUrl(p: {
  user: string;
  password: string;
  host: string;
  port: string | number;
  database: string;
  tls?: PgTls;
}): string {
  const query = pgQuery(p.tls);
  const credentials = `${encodeURIComponent(p.user)}:${encodeURIComponent(p.password)}`;
  return `postgres://${credentials}@${p.host}:${p.port}/${p.database}${query ? `?${query}` : ""}`;
}

/** One shard as `ORDER_SHARDS` names it. */
export interface ShardUrls {
  name: string;
  url: string;
  readerUrl: string;
}

/**
 * `ORDER_SHARDS` as the app reads it (app/src/shards/shard-map.ts): the bucket → shard-index map and each shard's
 * writer and reader URL. The one builder of its shape: local mode and the app tests call it, and the boot script's
 * jq program (see {@link renderEnvShell}) is tested to produce exactly what it produces.
 */
export function orderShardsMap(buckets: number[], shards: ShardUrls[]): { buckets: number[]; shards: ShardUrls[] } {
  return { buckets, shards: shards.map(({ name, url, readerUrl }) => ({ name, url, readerUrl })) };
}

/** What a concrete resolution needs from outside: secrets and the region (tests give fixtures; local mode none). */
export interface Lookups {
  secret?: (arn: string, field: string) => string;
  region?: () => string;
  /** The instance's id. */
  instanceId?: () => string;
  /** The published shard map's buckets. */
  ssmBuckets?: (parameterName: string) => number[];
  /** A file on the instance (step 1's database password). */
  file?: (path: string) => string;
}

function credentialsOf(c: Credentials<string>, look: Lookups): { user: string; password: string } {
  if (c.kind === "literal") return { user: c.user, password: c.password };
  if (c.kind === "secret")
    return {
      user: need(look.secret, "a secret")(c.secret.arn, "username"),
      password: need(look.secret, "a secret")(c.secret.arn, "password"),
    };
  return { user: c.user, password: need(look.file, `the file ${c.passwordFile}`)(c.passwordFile) };
}

function need<F>(f: F | undefined, what: string): F {
  if (!f) throw new Error(`resolveEnv: this value needs ${what}, which was not given`);
  return f;
}

/** The value of one variable as a string. Throws for a source that `look` does not provide. */
export function resolveValue(v: EnvValue<string>, look: Lookups = {}): string {
  switch (v.kind) {
    case "literal":
      return String(v.value);
    case "instanceRegion":
      return need(look.region, "the instance region")();
    case "instanceId":
      return need(look.instanceId, "the instance id")();
    case "secretField":
      return need(look.secret, "a secret")(v.secret.arn, v.field);
    case "postgres":
      return postgresUrl({
        ...credentialsOf(v.credentials, look),
        host: v.endpoint.host,
        port: v.endpoint.port,
        database: v.database,
        tls: v.tls,
      });
    case "postgresList": {
      const c = credentialsOf(v.credentials, look);
      return v.endpoints
        .map((e) => postgresUrl({ ...c, host: e.host, port: e.port, database: v.database, tls: v.tls }))
        .join(",");
    }
    case "redis": {
      const password =
        v.auth.kind === "literal" ? v.auth.password : need(look.secret, "a secret")(v.auth.secret.arn, v.auth.field);
      return `${v.tls ? "rediss" : "redis"}://:${password}@${v.endpoint.host}:${v.endpoint.port}`;
    }
    case "shardMap": {
      const c = credentialsOf(v.credentials, look);
      const buckets =
        v.buckets.kind === "literal"
          ? v.buckets.buckets
          : need(look.ssmBuckets, "the published shard map")(v.buckets.parameterName);
      const url = (e: PgEndpoint<string>) =>
        postgresUrl({ ...c, host: e.host, port: e.port, database: v.database, tls: v.tls });
      return JSON.stringify(
        orderShardsMap(
          buckets,
          v.shards.map((s) => ({ name: s.name, url: url(s.writer), readerUrl: url(s.reader) })),
        ),
      );
    }
  }
}

/** The whole environment as strings, in order. */
export function resolveEnv(vars: EnvVar<string>[], look: Lookups = {}): Record<string, string> {
  return Object.fromEntries(vars.map((v) => [v.name, resolveValue(v.value, look)]));
}

/** One line, for the docs (Markdown): where the value comes from. */
export function describeValue(v: EnvValue<string>): string {
  const c = (x: unknown) => `\`${String(x)}\``;
  const creds = (k: Credentials<string>) =>
    k.kind === "secret"
      ? `user and password from the secret ${c(k.secret.arn)}`
      : k.kind === "file"
        ? `password from ${c(k.passwordFile)} on the instance`
        : "a local password";
  const tls = (t?: PgTls) => (t ? ", TLS verify-full" : "");
  switch (v.kind) {
    case "literal":
      return c(v.value);
    case "instanceRegion":
      return "the instance's region, from the instance metadata (IMDSv2)";
    case "instanceId":
      return "the instance's id, from the instance metadata (IMDSv2)";
    case "secretField":
      return `field ${c(v.field)} of the secret ${c(v.secret.arn)}`;
    case "postgres":
      return `${c(`${v.endpoint.host}:${v.endpoint.port}/${v.database}`)}, ${creds(v.credentials)}${tls(v.tls)}`;
    case "postgresList":
      return (
        `${v.endpoints.map((e) => c(`${e.host}:${e.port}/${v.database}`)).join(", ")}, ` +
        `${creds(v.credentials)}${tls(v.tls)}`
      );
    case "redis":
      return (
        `${c(`${v.tls ? "rediss" : "redis"}://${v.endpoint.host}:${v.endpoint.port}`)}, AUTH token ` +
        `${v.auth.kind === "secret" ? `from the secret ${c(v.auth.secret.arn)}` : "generated locally"}`
      );
    case "shardMap":
      return (
        `buckets ` +
        `${v.buckets.kind === "ssm" ? `from the SSM parameter ${c(v.buckets.parameterName)}` : "assigned locally"}; ` +
        `each shard's writer and reader ${c(`/${v.database}`)}, ${creds(v.credentials)}${tls(v.tls)}`
      );
  }
}

/** Inside `echo "…"` nothing may expand: `\`, `"`, `$` and backquote are escaped. */
const dq = (s: string) => s.replace(/[\\"$`]/g, (c) => `\\${c}`);
/** Everything the boot script builds shell from comes from AWS (hosts, ARNs) or the program; refuse anything odd. */
function shellSafe(what: string, s: string | number): string {
  const text = String(s);
  if (!/^[A-Za-z0-9._:/@,+=-]*$/.test(text))
    throw new Error(`renderEnvShell: ${what} ${JSON.stringify(text)} has characters the boot script does not quote`);
  return text;
}
/**
 * For a value the script puts in single quotes, where only `'` could end the quoting. (RDS names the secrets it
 * manages `rds!db-…`, and `!` is harmless there.)
 */
function singleQuotable(what: string, s: string): string {
  if (s.includes("'") || s.includes("\n"))
    throw new Error(`renderEnvShell: ${what} ${JSON.stringify(s)} cannot be single-quoted`);
  return s;
}

/**
 * The boot script's part of the environment (bash, run at every service start): `prelude` computes what needs a
 * secret or an endpoint into shell variables, `echoes` writes one `echo "NAME=…"` line per variable, in order.
 * The script around it defines `secret <arn>` (the SecretString), `REGION` and `INSTANCE_ID` (from IMDSv2).
 */
export function renderEnvShell(vars: EnvVar<string>[]): { prelude: string; echoes: string[] } {
  const prelude: string[] = [];
  const done = new Set<string>();
  const once = (key: string, lines: () => string[]) => {
    if (done.has(key)) return;
    done.add(key);
    prelude.push(...lines());
  };
  const readSecret = (s: SecretRef<string>) => {
    shellSafe("secret label", s.label);
    once(`secret:${s.label}`, () => [`${s.label}_SECRET=$(secret '${singleQuotable("secret ARN", s.arn)}')`]);
    return `${s.label}_SECRET`;
  };
  const userPass = (c: Credentials<string>): string => {
    if (c.kind === "file") return `${shellSafe("user", c.user)}:$(cat ${shellSafe("password file", c.passwordFile)})`;
    if (c.kind === "literal") throw new Error("renderEnvShell: a literal password never goes into a boot script");
    const v = readSecret(c.secret);
    const l = c.secret.label;
    once(`creds:${l}`, () => [
      `${l}_USER=$(jq -r '.username | @uri' <<<"$${v}")`,
      `${l}_PASS=$(jq -r '.password | @uri' <<<"$${v}")`,
    ]);
    return `$${l}_USER:$${l}_PASS`;
  };
  const query = (tls?: PgTls) => {
    if (!tls) return "";
    once("tls", () => [`DB_TLS="sslmode=verify-full&sslrootcert=${shellSafe("CA bundle", tls.rootCert)}"`]);
    return "?$DB_TLS";
  };
  const at = (e: PgEndpoint<string>) => `${shellSafe("host", e.host)}:${shellSafe("port", e.port)}`;
  const echoes: string[] = [];
  for (const { name, value: v } of vars) {
    shellSafe("variable name", name);
    switch (v.kind) {
      case "literal":
        echoes.push(`echo "${name}=${dq(String(v.value))}"`);
        break;
      case "instanceRegion":
        echoes.push(`echo "${name}=$REGION"`);
        break;
      case "instanceId":
        echoes.push(`echo "${name}=$INSTANCE_ID"`);
        break;
      case "secretField":
        echoes.push(`echo "${name}=$(jq -r .${shellSafe("field", v.field)} <<<"$${readSecret(v.secret)}")"`);
        break;
      case "postgres": {
        const database = shellSafe("database", v.database);
        prelude.push(`${name}="postgres://${userPass(v.credentials)}@${at(v.endpoint)}/${database}${query(v.tls)}"`);
        echoes.push(`echo "${name}=$${name}"`);
        break;
      }
      case "postgresList": {
        const up = userPass(v.credentials);
        const q = query(v.tls);
        const database = shellSafe("database", v.database);
        prelude.push(`${name}="${v.endpoints.map((e) => `postgres://${up}@${at(e)}/${database}${q}`).join(",")}"`);
        echoes.push(`echo "${name}=$${name}"`);
        break;
      }
      case "redis": {
        if (v.auth.kind === "literal")
          throw new Error("renderEnvShell: a literal Redis password never goes into a boot script");
        const s = readSecret(v.auth.secret);
        const token = `${v.auth.secret.label}_TOKEN`;
        once(`token:${token}`, () => [
          `${token}=$(jq -r .${shellSafe("field", (v.auth as { field: string }).field)} <<<"$${s}")`,
        ]);
        // The token is letters and digits only, so it needs no escaping in the URL.
        prelude.push(`${name}="${v.tls ? "rediss" : "redis"}://:$${token}@${at(v.endpoint)}"`);
        echoes.push(`echo "${name}=$${name}"`);
        break;
      }
      case "shardMap":
        prelude.push(...shardMapShell(name, v, userPass(v.credentials), query(v.tls)));
        echoes.push(`echo "${name}=$${name}"`);
        break;
    }
  }
  return { prelude: prelude.join("\n"), echoes };
}

/**
 * The shard map at boot: the published map's buckets, and for each shard it names (in the map's order) a writer
 * and a reader URL — the shape of {@link orderShardsMap}, built by jq from the SSM parameter.
 */
function shardMapShell(
  name: string,
  v: Extract<EnvValue<string>, { kind: "shardMap" }>,
  userPass: string,
  query: string,
): string[] {
  if (v.buckets.kind !== "ssm") throw new Error("renderEnvShell: the boot script reads the shard map from SSM");
  const endpoints = JSON.stringify(
    v.shards.map((s) => ({ name: shellSafe("shard name", s.name), writer: at(s.writer), reader: at(s.reader) })),
  );
  const [user, pass] = userPass.split(":");
  return [
    `SHARD_MAP=$(aws ssm get-parameter --region '${shellSafe("region", v.buckets.region)}' --name ` +
      `'${singleQuotable("parameter", v.buckets.parameterName)}' --query Parameter.Value --output text)`,
    `${name}=$(jq -c --argjson endpoints '${endpoints}' --arg user "${user}" --arg pass "${pass}" --arg query ` +
      `"${query.replace(/^\?/, "")}" '`,
    `  { buckets: .buckets,`,
    `    shards: [ .shards[] as $name | $endpoints[] | select(.name == $name)`,
    `      | { name, url: "postgres://\\($user):\\($pass)@\\(.writer)/${shellSafe("database", v.database)}\\(if ` +
      `$query == "" then "" else "?" + $query end)",`,
    `          readerUrl: "postgres://\\($user):\\($pass)@\\(.reader)/${v.database}\\(if $query == "" then "" ` +
      `else "?" + $query end)" } ] }' <<<"$SHARD_MAP")`,
  ];

  function at(e: PgEndpoint<string>) {
    return `${shellSafe("host", e.host)}:${shellSafe("port", e.port)}`;
  }
}
