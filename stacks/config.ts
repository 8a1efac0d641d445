/**
 * The one typed configuration schema of the ladder.
 *
 * Every `scale-ladder:*` key is declared once in {@link CONFIG_KEYS}: its parser, its per-step default and its
 * documentation. `parseLadderConfig` is pure (strings in, typed config out) so tests and tools call it directly;
 * `readLadderConfig` feeds it from the Pulumi stack. A bad value fails before any resource is declared, as a
 * `pulumi.RunError` (the CLI prints the message, no stack trace) naming the key, the value and what is allowed.
 */
import * as pulumi from "@pulumi/pulumi";
import { MAXMEMORY_POLICIES, MaxmemoryPolicy } from "../components/cache";
import { PRICE_CLASSES, PriceClass } from "../components/cdn";
import {
  AURORA_GLOBAL_ALLOWED,
  AURORA_GLOBAL_DEFAULT_CLASS,
  auroraGlobalDatabaseAccepts,
  auroraPostgresOffers,
} from "../components/facts/rds-instance-classes";
import { awsxAutoLayout, largestVpcPrefix } from "../components/network";
import { capacityProblems } from "./capacity-checks";
import { MAX_STEP, MIN_STEP, featuresAt, highestBuiltStep } from "./steps";

export const CONFIG_NAMESPACE = "scale-ladder";

export const ENVIRONMENTS = ["dev", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** awsx NAT gateway strategies, as awsx spells them. */
export const NAT_STRATEGIES = ["None", "Single", "OnePerAz"] as const;
export type NatStrategy = (typeof NAT_STRATEGIES)[number];

/** What a per-step default may depend on. */
export interface DefaultContext {
  step: number;
  environment: Environment;
  /** The primary region (`aws:region`). */
  region: string;
}

/** Route 53 geolocation continent codes. */
export const CONTINENTS = ["AF", "AN", "AS", "EU", "NA", "OC", "SA"] as const;
export type Continent = (typeof CONTINENTS)[number];

/**
 * What a key's parser makes of the raw string Pulumi gives us: the typed value, or why not, phrased to follow the key
 * ("must be ..."). Plain functions rather than a schema library: five small parsers cover every key, and loading
 * zod cost ~50 ms of every `pulumi preview` (npm run bench:program).
 */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };
export type Parser<T> = (raw: string) => ParseResult<T>;

interface KeySpec<T> {
  /** One line for the config reference. */
  doc: string;
  /** Parses the raw string. */
  parse: Parser<T>;
  /** Default when the key is unset; `undefined` means the key is optional with no value. */
  default: (ctx: DefaultContext) => T | undefined;
}

const key = <T>(doc: string, parse: Parser<T>, dflt: (ctx: DefaultContext) => T | undefined): KeySpec<T> => ({
  doc,
  parse,
  default: dflt,
});

const accept = <T>(value: T): ParseResult<T> => ({ ok: true, value });
const refuse = (message: string): ParseResult<never> => ({ ok: false, message });

/** A whole number from min to max, surrounding spaces ignored. */
const integer =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    const text = raw.trim();
    const n = Number(text);
    return /^-?\d+$/.test(text) && n >= min && n <= max
      ? accept(n)
      : refuse(`must be an integer from ${min} to ${max}`);
  };

/** Exactly one of the values (no trimming: Pulumi passes what was set). */
const oneOf =
  <const T extends readonly [string, ...string[]]>(values: T): Parser<T[number]> =>
  (raw) =>
    values.includes(raw) ? accept(raw as T[number]) : refuse(`must be one of ${values.join(", ")}`);

const boolean = (): Parser<boolean> => (raw) =>
  raw === "true" || raw === "false" ? accept(raw === "true") : refuse("must be true or false");

/** The trimmed string, when it matches. */
const pattern =
  (re: RegExp, what: string): Parser<string> =>
  (raw) => {
    const text = raw.trim();
    return re.test(text) ? accept(text) : refuse(`must be ${what}`);
  };

/** What `parse` accepts, turned into something else. */
const then =
  <A, B>(parse: Parser<A>, into: (value: A) => B): Parser<B> =>
  (raw) => {
    const r = parse(raw);
    return r.ok ? accept(into(r.value)) : r;
  };

/** A comma-separated list that `parse` accepts as a whole, split. */
const list = (parse: Parser<string>): Parser<string[]> => then(parse, (v) => v.split(","));

/** The trimmed string, when something is left. */
const nonEmpty =
  (what: string): Parser<string> =>
  (raw) => {
    const text = raw.trim();
    return text.length > 0 ? accept(text) : refuse(`must be ${what}`);
  };

const isProd = (c: DefaultContext) => c.environment === "prod";

/**
 * Every key of the `scale-ladder` namespace. Adding a key here is all it takes for it to be parsed, defaulted,
 * rejected when wrong and listed in the docs.
 */
export const CONFIG_KEYS = {
  step: key(
    "Which rung of the ladder this stack is on (1–11). Required.",
    integer(MIN_STEP, MAX_STEP),
    () => undefined,
  ),
  environment: key(
    "`dev` or `prod`. `prod` turns on deletion protection, final snapshots and Multi-AZ from step 2.",
    oneOf(ENVIRONMENTS),
    () => "dev" as Environment,
  ),
  domain: key(
    "Optional site hostname (e.g. `shop.example.com`); with `hostedZoneId`, DNS points at the site.",
    pattern(
      /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
      "a lowercase DNS name such as shop.example.com",
    ),
    () => undefined,
  ),
  hostedZoneId: key(
    "Route 53 hosted zone that holds `domain`. Required when `domain` is set.",
    pattern(/^Z[A-Z0-9]{1,31}$/, "a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ"),
    () => undefined,
  ),
  vpcCidr: key(
    "IPv4 CIDR of each region's VPC: a /16 or /17 with 2 AZs, a /16 with 3 (each AZ holds a public /24, a " +
      "private /20 and an isolated /24).",
    pattern(/^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|20)$/, "an IPv4 CIDR from /16 to /20 such as 10.0.0.0/16"),
    () => "10.0.0.0/16",
  ),
  availabilityZones: key("How many AZs the VPC spans (2 or 3).", integer(2, 3), () => 2),
  availabilityZoneNames: key(
    "Zones each region's VPC spans, by name, availabilityZones per region (e.g. `us-east-1a,us-east-1c`; list a " +
      "secondary region's too at step 11). Unset: the region's first zones, as stacks built before this key have. " +
      "Pick zones that offer the instance types (Graviton types are not in every zone); changing it on a running " +
      "stack replaces every subnet.",
    list(
      pattern(
        /^[a-z]{2}-[a-z]+-\d[a-z](,[a-z]{2}-[a-z]+-\d[a-z])*$/,
        "a comma-separated list of zone names such as us-east-1a,us-east-1b",
      ),
    ),
    () => undefined,
  ),
  natGateways: key(
    "NAT gateway strategy (awsx): `None` while nothing private needs the internet (steps 1–2), `Single` from " +
      "step 3, `OnePerAz` in prod.",
    oneOf(NAT_STRATEGIES),
    (c) => (!featuresAt(c.step).fleet ? "None" : isProd(c) ? "OnePerAz" : "Single") as NatStrategy,
  ),
  serverInstanceType: key(
    "EC2 type of the single server (steps 1–2). Graviton (`*g.*`) picks the arm64 AMI.",
    pattern(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "an EC2 instance type such as t4g.small"),
    () => "t4g.small",
  ),
  dbInstanceClass: key(
    "RDS instance class of the catalog database: `db.t4g.micro` to step 7, `db.t4g.small` from step 8 (the " +
      "workers' pools join the web fleet's), `db.t4g.medium` at step 11 (every region's processes write to the one " +
      "primary). A class whose connections the fleets' pools do not fit is refused (stacks/capacity-checks.ts).",
    pattern(/^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$/, "an RDS instance class such as db.t4g.micro"),
    (c) =>
      featuresAt(c.step).multiRegion ? "db.t4g.medium" : featuresAt(c.step).queue ? "db.t4g.small" : "db.t4g.micro",
  ),
  dbAllocatedStorageGb: key("Initial gp3 storage of the database, GiB.", integer(20, 65536), () => 20),
  dbMaxAllocatedStorageGb: key(
    "Storage autoscaling ceiling, GiB (≥ dbAllocatedStorageGb).",
    integer(20, 65536),
    () => 100,
  ),
  dbBackupRetentionDays: key("Automated backup retention, days (7–35).", integer(7, 35), () => 7),
  dbMultiAz: key(
    "Multi-AZ standby for the primary: on in prod, and from step 4 (read replicas) in dev.",
    boolean(),
    (c) => featuresAt(c.step).separateDatabase && (isProd(c) || featuresAt(c.step).replicas),
  ),
  webInstanceType: key(
    "EC2 type of the web fleet (step 3 on).",
    pattern(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "an EC2 instance type such as t4g.small"),
    () => "t4g.small",
  ),
  webMinSize: key("Fewest web instances (step 3 on); at least 2 keeps a server in each AZ.", integer(1, 100), () => 2),
  webMaxSize: key("Most web instances (step 3 on).", integer(1, 100), () => 6),
  webDesiredCapacity: key(
    "Web instances a new fleet starts with; the scaling policies own it afterwards.",
    integer(1, 100),
    () => 2,
  ),
  webCpuTargetPercent: key("Average CPU the fleet's target-tracking policy aims for.", integer(10, 90), () => 50),
  dbReplicas: key("Read replicas of the catalog database: 2 from step 4.", integer(0, 5), (c) =>
    featuresAt(c.step).replicas ? 2 : 0,
  ),
  cacheNodeType: key(
    "ElastiCache node type (step 5 on).",
    pattern(/^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$/, "an ElastiCache node type such as cache.t4g.micro"),
    () => "cache.t4g.micro",
  ),
  cacheReplicas: key(
    "Cache replicas beside the primary; 1 or more turns on Multi-AZ failover.",
    integer(0, 5),
    () => 1,
  ),
  cacheMaxmemoryPolicy: key(
    "Valkey eviction policy when the cache is full.",
    oneOf(MAXMEMORY_POLICIES),
    () => "allkeys-lru" as MaxmemoryPolicy,
  ),
  cacheSnapshotRetentionDays: key("Days of cache snapshots kept (0 for none).", integer(0, 35), () => 7),
  cacheTtlSeconds: key("TTL of cached product reads in the app, seconds.", integer(1, 86400), () => 60),
  cacheWorkingSetMb: key(
    "Product reads the cache must hold, MiB (step 5 on). Unset, nothing is checked; set, a cacheNodeType whose " +
      "memory (less the 25 % ElastiCache keeps for backups and failover) is smaller is refused.",
    integer(1, 1_000_000),
    () => undefined,
  ),
  sessionNodeType: key(
    "ElastiCache node type of the sessions' own Valkey group (step 7 on). It never evicts (full, it refuses new " +
      "carts), so size it for every open cart: a session is about 1 KB.",
    pattern(/^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$/, "an ElastiCache node type such as cache.t4g.micro"),
    () => "cache.t4g.micro",
  ),
  webRequestsPerTarget: key(
    "ALB requests per target per minute the step-7 policy aims for.",
    integer(10, 100000),
    () => 1000,
  ),
  cdnPriceClass: key("CloudFront price class (step 6 on).", oneOf(PRICE_CLASSES), () => "PriceClass_100" as PriceClass),
  wafRateLimit: key(
    "Requests one client address may make in 5 minutes before AWS WAF answers 429 (step 3 on: the ALB's web " +
      "ACL; step 6 on: CloudFront's too). 2000 is about 6.7 a second sustained.",
    integer(10, 2_000_000_000),
    () => 2000,
  ),
  workerInstanceType: key(
    "EC2 type of the worker fleet (step 8 on).",
    pattern(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "an EC2 instance type such as t4g.small"),
    () => "t4g.small",
  ),
  workerMinSize: key("Fewest workers (step 8 on).", integer(1, 100), () => 1),
  workerMaxSize: key("Most workers (step 8 on).", integer(1, 100), () => 4),
  workerBacklogPerInstance: key("Queued orders per worker the backlog policy aims for.", integer(1, 100000), () => 100),
  queueVisibilityTimeoutSeconds: key(
    "Seconds a received order stays hidden from other workers.",
    integer(10, 43200),
    () => 60,
  ),
  shards: key("Order shards, each an Aurora PostgreSQL cluster (step 9 on).", integer(1, 16), () => 2),
  shardInstanceClass: key(
    "Instance class of each shard's writer and reader: `db.t4g.medium` at steps 9–10; at step 11 a " +
      "memory-optimized class (Aurora global databases refuse burstable ones), `db.r6g.large` by default. The " +
      "climb to 11 changes the class in place.",
    pattern(/^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$/, "an Aurora instance class such as db.t4g.medium"),
    (c) => (featuresAt(c.step).multiRegion ? AURORA_GLOBAL_DEFAULT_CLASS : "db.t4g.medium"),
  ),
  logRetentionDays: key(
    "Days CloudWatch keeps logs: the WAF logs from step 3, the app's and the servers' from step 10. 30 in dev, " +
      "90 in prod.",
    then(oneOf(["1", "3", "5", "7", "14", "30", "60", "90", "120", "150", "180", "365"] as const), Number),
    (c) => (isProd(c) ? 90 : 30),
  ),
  alarmEmail: key(
    "E-mail address that alarms are sent to (step 10 on); unset sends them to the SNS topic only.",
    pattern(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, "an e-mail address"),
    () => undefined,
  ),
  secondaryRegions: key(
    "Comma-separated regions beside the primary at step 11 (at most 3): eu-west-1, or us-east-1 when the " +
      "primary is eu-west-1.",
    list(
      pattern(
        /^[a-z]{2}(-gov)?-[a-z]+-\d(,[a-z]{2}(-gov)?-[a-z]+-\d){0,2}$/,
        "a comma-separated list of 1 to 3 AWS regions such as eu-west-1,ap-southeast-2",
      ),
    ),
    (c) => (c.region === "eu-west-1" ? ["us-east-1"] : ["eu-west-1"]),
  ),
  geoRouting: key(
    "Continent → region for step 11's geolocation DNS, e.g. NA=us-east-1,EU=eu-west-1; continents left out (and " +
      "the rest of the world) go to the primary. Unset: EU, AF and AS go to the first secondary region, the rest " +
      "to the primary.",
    pattern(
      /^(AF|AN|AS|EU|NA|OC|SA)=[a-z]{2}(-gov)?-[a-z]+-\d(,(AF|AN|AS|EU|NA|OC|SA)=[a-z]{2}(-gov)?-[a-z]+-\d)*$/,
      "a list such as NA=us-east-1,EU=eu-west-1 (continents AF, AN, AS, EU, NA, OC, SA)",
    ),
    () => undefined,
  ),
  staticDir: key(
    "Static files the build makes, published through the CDN (step 6 on).",
    nonEmpty("a directory path"),
    () => "dist/app/static",
  ),
  artifactPath: key(
    "Path of the app build that `npm run build` makes, relative to the project.",
    nonEmpty("a file path"),
    () => "dist/shop.tgz",
  ),
  seedProducts: key(
    "How many demo products the app seeds into an empty catalog (0 for none).",
    integer(0, 1_000_000),
    () => 10_000,
  ),
} as const;

export type ConfigKey = keyof typeof CONFIG_KEYS;
type Parsed<K extends ConfigKey> = (typeof CONFIG_KEYS)[K] extends KeySpec<infer T> ? T : never;
type RawConfig = Partial<Record<ConfigKey, Parsed<ConfigKey>>>;

/** The typed configuration the program composes from. */
export interface LadderConfig {
  /** The step the stack asks for. */
  step: number;
  /** The highest step this version builds that is not above `step` (what is actually composed). */
  builtStep: number;
  environment: Environment;
  /** Primary region, from `aws:region`. */
  region: string;
  /** Site DNS, when configured. */
  dns?: { domain: string; hostedZoneId: string };
  network: {
    cidr: string;
    availabilityZones: number;
    natGateways: NatStrategy;
    /** Region → the zones its VPC spans; a region not listed gets its first `availabilityZones` zones. */
    zoneNames: Record<string, string[]>;
  };
  server: { instanceType: string };
  web: {
    instanceType: string;
    minSize: number;
    maxSize: number;
    desiredCapacity: number;
    cpuTargetPercent: number;
    requestsPerTarget: number;
  };
  cdn: { priceClass: PriceClass };
  /** AWS WAF web ACLs (step 3 on). */
  waf: { rateLimit: number };
  worker: { instanceType: string; minSize: number; maxSize: number; backlogPerInstance: number };
  queue: { visibilityTimeoutSeconds: number };
  shards: { count: number; instanceClass: string };
  /** Step 11: the regions, their VPC CIDRs, and which region serves each continent. */
  regions: { secondaries: string[]; cidrs: Record<string, string>; geo: Partial<Record<Continent, string>> };
  observability: { logRetentionDays: number; alarmEmail?: string };
  /** Step 7: the sessions' own Valkey group. */
  sessions: { nodeType: string };
  cache: {
    nodeType: string;
    replicas: number;
    maxmemoryPolicy: MaxmemoryPolicy;
    snapshotRetentionDays: number;
    ttlSeconds: number;
    /** MiB of product reads the node must hold (`cacheWorkingSetMb`); unset, not checked. */
    workingSetMb?: number;
  };
  database: {
    instanceClass: string;
    allocatedStorageGb: number;
    maxAllocatedStorageGb: number;
    backupRetentionDays: number;
    multiAz: boolean;
    replicas: number;
  };
  app: { artifactPath: string; staticDir: string; seedProducts: number };
}

/** Thrown for a configuration that cannot be used; every line names a key. */
export class ConfigError extends pulumi.RunError {
  constructor(public readonly problems: string[]) {
    super(`invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

const REGION_RE = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

/**
 * The partition of a region name, by its prefix (AWS General Reference, "AWS partitions"; read 2026-12-01). The
 * ladder supports the `aws` partition only: step 6 needs CloudFront with a us-east-1 certificate, which GovCloud does
 * not offer and China offers only with an ICP licence and other endpoints; and the program writes `arn:aws:` ARNs.
 */
export function partitionOf(region: string): "aws" | "aws-us-gov" | "aws-cn" {
  return region.startsWith("cn-") ? "aws-cn" : /^[a-z]{2}-gov-/.test(region) ? "aws-us-gov" : "aws";
}

/**
 * Parses raw stack configuration.
 * @param values `scale-ladder:*` keys (with or without the namespace) to their raw string values.
 * @param region The `aws:region` value; `us-east-1` when unset, like the stack files.
 */
export function parseLadderConfig(values: Record<string, string | undefined>, region = "us-east-1"): LadderConfig {
  const problems: string[] = [];
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    const bare = k.startsWith(`${CONFIG_NAMESPACE}:`) ? k.slice(CONFIG_NAMESPACE.length + 1) : k;
    if (!(bare in CONFIG_KEYS)) {
      problems.push(
        `${CONFIG_NAMESPACE}:${bare} is not a known key; known keys are ${Object.keys(CONFIG_KEYS).join(", ")}`,
      );
      continue;
    }
    raw[bare] = v;
  }

  const parsed: RawConfig = {};
  for (const [name, spec] of Object.entries(CONFIG_KEYS) as [ConfigKey, KeySpec<unknown>][]) {
    if (raw[name] === undefined) continue;
    const result = spec.parse(raw[name]);
    if (result.ok) (parsed as Record<string, unknown>)[name] = result.value;
    else problems.push(`${CONFIG_NAMESPACE}:${name} ${result.message}, got ${JSON.stringify(raw[name])}`);
  }
  if (raw.step === undefined) {
    problems.push(`${CONFIG_NAMESPACE}:step is required: run \`pulumi config set ${CONFIG_NAMESPACE}:step 1\``);
  }
  if (!REGION_RE.test(region))
    problems.push(`aws:region must be an AWS region such as us-east-1, got ${JSON.stringify(region)}`);
  else if (partitionOf(region) !== "aws") {
    problems.push(
      `aws:region ${region} is in the ${partitionOf(region)} partition; scale-ladder supports the aws partition ` +
        `only (CloudFront with a us-east-1 certificate, aws ARNs)`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const step = parsed.step as number;
  const ctx: DefaultContext = { step, environment: (parsed.environment as Environment | undefined) ?? "dev", region };
  const get = <K extends ConfigKey>(k: K): Parsed<K> =>
    (parsed[k] !== undefined ? parsed[k] : (CONFIG_KEYS[k] as KeySpec<unknown>).default(ctx)) as Parsed<K>;

  const domain = get("domain") as string | undefined;
  const hostedZoneId = get("hostedZoneId") as string | undefined;
  if ((domain === undefined) !== (hostedZoneId === undefined)) {
    problems.push(
      `${CONFIG_NAMESPACE}:domain and ${CONFIG_NAMESPACE}:hostedZoneId go together: set both or neither, got ` +
        `domain=${JSON.stringify(domain ?? null)} hostedZoneId=${JSON.stringify(hostedZoneId ?? null)}`,
    );
  }
  const allocated = get("dbAllocatedStorageGb") as number;
  const maxAllocated = get("dbMaxAllocatedStorageGb") as number;
  // RDS storage autoscaling wants the ceiling at least 10% above the allocated size.
  const minCeiling = Math.ceil((allocated * 11) / 10);
  if (maxAllocated < minCeiling) {
    problems.push(
      `${CONFIG_NAMESPACE}:dbMaxAllocatedStorageGb must be at least 10% above dbAllocatedStorageGb ` +
        `(${allocated}), so ${minCeiling} or more, got ${maxAllocated}`,
    );
  }
  const web = {
    instanceType: get("webInstanceType") as string,
    minSize: get("webMinSize") as number,
    maxSize: get("webMaxSize") as number,
    desiredCapacity: get("webDesiredCapacity") as number,
    cpuTargetPercent: get("webCpuTargetPercent") as number,
    requestsPerTarget: get("webRequestsPerTarget") as number,
  };
  if (featuresAt(step).redisSessions && web.minSize < 2)
    problems.push(
      `${CONFIG_NAMESPACE}:webMinSize must be at least 2 from step 7 (a stateless tier keeps two servers), got ` +
        `${web.minSize}`,
    );
  const worker = {
    instanceType: get("workerInstanceType") as string,
    minSize: get("workerMinSize") as number,
    maxSize: get("workerMaxSize") as number,
    backlogPerInstance: get("workerBacklogPerInstance") as number,
  };
  if (worker.maxSize < worker.minSize)
    problems.push(
      `${CONFIG_NAMESPACE}:workerMaxSize must be at least workerMinSize (${worker.minSize}), got ${worker.maxSize}`,
    );
  if (web.maxSize < web.minSize)
    problems.push(`${CONFIG_NAMESPACE}:webMaxSize must be at least webMinSize (${web.minSize}), got ${web.maxSize}`);
  if (web.desiredCapacity < web.minSize || web.desiredCapacity > web.maxSize) {
    problems.push(
      `${CONFIG_NAMESPACE}:webDesiredCapacity must be from webMinSize (${web.minSize}) to webMaxSize ` +
        `(${web.maxSize}), got ${web.desiredCapacity}`,
    );
  }
  const natGateways = get("natGateways") as NatStrategy;
  if (featuresAt(step).fleet && natGateways === "None") {
    problems.push(
      `${CONFIG_NAMESPACE}:natGateways must be Single or OnePerAz from step 3 (the fleet in private subnets ` +
        `needs egress), got "None"`,
    );
  }
  const shardClass = get("shardInstanceClass") as string;
  if (!auroraPostgresOffers(shardClass)) {
    problems.push(
      `${CONFIG_NAMESPACE}:shardInstanceClass must be an Aurora PostgreSQL class of medium size or larger (no ` +
        `micro or small), got ${JSON.stringify(shardClass)}`,
    );
  } else if (featuresAt(step).multiRegion && !auroraGlobalDatabaseAccepts(shardClass)) {
    problems.push(
      `${CONFIG_NAMESPACE}:shardInstanceClass must be ${AURORA_GLOBAL_ALLOWED} at step 11 (Aurora global ` +
        `database), got ${JSON.stringify(shardClass)}`,
    );
  }
  const secondaries = get("secondaryRegions") as string[];
  if (secondaries.includes(region) || new Set(secondaries).size !== secondaries.length) {
    problems.push(
      `${CONFIG_NAMESPACE}:secondaryRegions must be distinct regions other than aws:region (${region}), got ` +
        `${JSON.stringify(secondaries.join(","))}`,
    );
  }
  for (const r of secondaries.filter((x) => partitionOf(x) !== "aws")) {
    problems.push(
      `${CONFIG_NAMESPACE}:secondaryRegions names ${r}, in the ${partitionOf(r)} partition; scale-ladder ` +
        `supports the aws partition only`,
    );
  }
  const cidr = get("vpcCidr") as string;
  const availabilityZones = get("availabilityZones") as number;
  if (!awsxAutoLayout(cidr, availabilityZones).fits) {
    problems.push(
      `${CONFIG_NAMESPACE}:vpcCidr ${cidr} is too small for ${availabilityZones} AZs: each AZ holds a public ` +
        `/24, a private /20 and an isolated /24 as awsx lays them out; use a ` +
        `/${largestVpcPrefix(availabilityZones)} or larger`,
    );
  }
  const zoneNames = parseZoneNames(
    get("availabilityZoneNames") as string[] | undefined,
    [region, ...secondaries],
    availabilityZones,
    problems,
  );
  const cidrs = Object.fromEntries([region, ...secondaries].map((r, i) => [r, shiftCidr(cidr, i)]));
  const geo = parseGeoRouting(get("geoRouting") as string | undefined, region, secondaries, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const config: LadderConfig = {
    step,
    builtStep: highestBuiltStep(step),
    environment: ctx.environment,
    region,
    dns: domain && hostedZoneId ? { domain, hostedZoneId } : undefined,
    network: { cidr, availabilityZones, natGateways, zoneNames },
    server: { instanceType: get("serverInstanceType") as string },
    web,
    cdn: { priceClass: get("cdnPriceClass") as PriceClass },
    waf: { rateLimit: get("wafRateLimit") as number },
    worker,
    queue: { visibilityTimeoutSeconds: get("queueVisibilityTimeoutSeconds") as number },
    shards: { count: get("shards") as number, instanceClass: shardClass },
    regions: { secondaries, cidrs, geo },
    observability: {
      logRetentionDays: get("logRetentionDays") as number,
      alarmEmail: get("alarmEmail") as string | undefined,
    },
    sessions: { nodeType: get("sessionNodeType") as string },
    cache: {
      nodeType: get("cacheNodeType") as string,
      replicas: get("cacheReplicas") as number,
      maxmemoryPolicy: get("cacheMaxmemoryPolicy") as MaxmemoryPolicy,
      snapshotRetentionDays: get("cacheSnapshotRetentionDays") as number,
      ttlSeconds: get("cacheTtlSeconds") as number,
      workingSetMb: get("cacheWorkingSetMb") as number | undefined,
    },
    database: {
      instanceClass: get("dbInstanceClass") as string,
      allocatedStorageGb: allocated,
      maxAllocatedStorageGb: maxAllocated,
      backupRetentionDays: get("dbBackupRetentionDays") as number,
      multiAz: get("dbMultiAz") as boolean,
      replicas: get("dbReplicas") as number,
    },
    app: {
      artifactPath: get("artifactPath") as string,
      staticDir: get("staticDir") as string,
      seedProducts: get("seedProducts") as number,
    },
  };
  // Checks of the whole configuration against the facts (stacks/capacity-checks.ts), once each key is valid.
  const capacity = capacityProblems(config);
  if (capacity.length > 0) throw new ConfigError(capacity);
  return config;
}

/**
 * The VPC CIDR of the i-th region: the configured block moved up by i blocks of its own size, so regions never
 * overlap and can be peered (10.0.0.0/16 → 10.1.0.0/16 → 10.2.0.0/16).
 */
export function shiftCidr(cidr: string, i: number): string {
  const [address, bits] = cidr.split("/");
  const prefix = Number(bits);
  const value = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const shifted = value + i * 2 ** (32 - prefix);
  if (shifted >= 2 ** 32)
    throw new ConfigError([`${CONFIG_NAMESPACE}:vpcCidr ${cidr} leaves no room for region ${i + 1}'s block`]);
  const octets = [24, 16, 8, 0].map((s) => Math.floor(shifted / 2 ** s) % 256);
  return `${octets.join(".")}/${prefix}`;
}

/** Region → zone names, from `availabilityZoneNames`: each named region gets exactly `count` distinct zones of its own.
 * */
function parseZoneNames(
  names: string[] | undefined,
  regions: string[],
  count: number,
  problems: string[],
): Record<string, string[]> {
  const byRegion: Record<string, string[]> = {};
  for (const zone of names ?? []) {
    const region = zone.slice(0, -1);
    if (!regions.includes(region)) {
      problems.push(
        `${CONFIG_NAMESPACE}:availabilityZoneNames names ${zone}, which is in none of the stack's regions ` +
          `(${regions.join(", ")})`,
      );
      continue;
    }
    if (byRegion[region]?.includes(zone))
      problems.push(`${CONFIG_NAMESPACE}:availabilityZoneNames names ${zone} twice`);
    byRegion[region] = [...(byRegion[region] ?? []), zone];
  }
  for (const [region, zones] of Object.entries(byRegion)) {
    if (zones.length !== count) {
      problems.push(
        `${CONFIG_NAMESPACE}:availabilityZoneNames lists ${zones.length} zone${zones.length === 1 ? "" : "s"} ` +
          `of ${region}; it needs exactly availabilityZones (${count})`,
      );
    }
  }
  return byRegion;
}

/**
 * Continent → region. Unset: Europe, Africa and Asia go to the first secondary region, the rest to the primary.
 * Every named region must be one the stack runs in.
 */
function parseGeoRouting(
  value: string | undefined,
  primary: string,
  secondaries: string[],
  problems: string[],
): Partial<Record<Continent, string>> {
  if (value === undefined) {
    const east = secondaries[0];
    return { NA: primary, SA: primary, OC: primary, AN: primary, EU: east, AF: east, AS: east };
  }
  const geo: Partial<Record<Continent, string>> = {};
  for (const pair of value.split(",")) {
    const [continent, region] = pair.split("=") as [Continent, string];
    if (region !== primary && !secondaries.includes(region)) {
      problems.push(
        `${CONFIG_NAMESPACE}:geoRouting sends ${continent} to ${region}, which must be aws:region or one of ` +
          `secondaryRegions (${[primary, ...secondaries].join(", ")})`,
      );
    }
    if (geo[continent]) problems.push(`${CONFIG_NAMESPACE}:geoRouting names ${continent} twice`);
    geo[continent] = region;
  }
  return geo;
}

/** Reads the stack's configuration through the Pulumi runtime and parses it. */
export function readLadderConfig(): LadderConfig {
  const all = pulumi.runtime.allConfig();
  const ours: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) if (k.startsWith(`${CONFIG_NAMESPACE}:`)) ours[k] = v;
  return parseLadderConfig(ours, all["aws:region"] ?? "us-east-1");
}
