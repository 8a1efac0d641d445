/**
 * What "climbing without replacing" means, in two tables: the inputs that make the provider replace a resource,
 * and the few replacements and removals the ladder intends.
 *
 * `REPLACED_ON` lists, per type, the inputs marked ForceNew in the Terraform AWS provider schema that pulumi-aws
 * bridges (internal/service/<service>/<resource>.go), plus what Pulumi itself replaces on (a provider's region,
 * random's inputs, awsx's subnet layout). Dotted keys are nested fields (`rootBlockDevice.encrypted`).
 */
import { Graph, Registration } from "./harness";
import { PolicyGraph } from "./policy-runner";

export interface ReplaceRule {
  /** Why a replacement of this type matters. */
  why: string;
  /** Inputs whose change replaces the resource. */
  keys: string[];
  /** Inputs that replace only under a condition of the resource's own inputs. */
  conditional?: Array<{ key: string; when: (inputs: Record<string, any>) => boolean; because: string }>;
}

/** The stateful resources a climb must keep, and what would replace them. */
export const REPLACED_ON: Record<string, ReplaceRule> = {
  "aws:rds/instance:Instance": {
    why: "the catalog database and its replicas: a replacement is a new, empty database",
    keys: [
      "availabilityZone",
      "characterSetName",
      "customIamInstanceProfile",
      "dbName",
      "engine",
      "identifier",
      "identifierPrefix",
      "kmsKeyId",
      "ncharCharacterSetName",
      "restoreToPointInTime",
      "s3Import",
      "snapshotIdentifier",
      "storageEncrypted",
      "timezone",
      "username",
      // Updatable in the provider, but it moves the instance to other subnets (a long, risky modification).
      "dbSubnetGroupName",
    ],
  },
  "aws:rds/cluster:Cluster": {
    why: "an order shard: a replacement is a new, empty cluster",
    keys: [
      "availabilityZones",
      "clusterIdentifier",
      "clusterIdentifierPrefix",
      "clusterScalabilityType",
      "databaseName",
      "dbSubnetGroupName",
      "dbSystemId",
      "engine",
      "engineMode",
      "kmsKeyId",
      "masterUsername",
      "restoreToPointInTime",
      "s3Import",
      "snapshotIdentifier",
      "sourceRegion",
      "storageEncrypted",
    ],
    conditional: [
      {
        key: "storageType",
        when: (i) => !String(i.engine ?? "").startsWith("aurora"),
        because: "only Aurora changes storage type in place",
      },
    ],
  },
  "aws:rds/clusterInstance:ClusterInstance": {
    why: "a shard's writer or reader: a replacement is a failover and a cold cache",
    keys: [
      "availabilityZone",
      "clusterIdentifier",
      "customIamInstanceProfile",
      "dbSubnetGroupName",
      "engine",
      "identifier",
      "identifierPrefix",
    ],
  },
  "aws:rds/globalCluster:GlobalCluster": {
    why: "a shard's global database: a replacement detaches every region",
    keys: ["databaseName", "engine", "globalClusterIdentifier", "sourceDbClusterIdentifier", "storageEncrypted"],
  },
  "aws:elasticache/replicationGroup:ReplicationGroup": {
    why: "the cache, which from step 7 holds every session",
    keys: [
      "atRestEncryptionEnabled",
      "dataTieringEnabled",
      "globalReplicationGroupId",
      "kmsKeyId",
      "networkType",
      "port",
      "replicationGroupId",
      "securityGroupNames",
      "snapshotArns",
      "snapshotName",
      "subnetGroupName",
    ],
    conditional: [
      {
        key: "transitEncryptionEnabled",
        when: (i) => i.engine === "redis" && /^[0-6]\.|^7\.0\.[0-4]$/.test(String(i.engineVersion ?? "")),
        because: "Redis before 7.0.5 sets TLS at creation only",
      },
    ],
  },
  "aws:s3/bucket:Bucket": {
    why: "releases, access logs and static assets",
    keys: ["bucket", "bucketPrefix", "objectLockEnabled"],
  },
  "aws:s3/bucketV2:BucketV2": { why: "a bucket (legacy type)", keys: ["bucket", "bucketPrefix", "objectLockEnabled"] },
  "aws:sqs/queue:Queue": {
    why: "the orders queue and its DLQ: a replacement drops every waiting order",
    keys: ["fifoQueue", "name", "namePrefix"],
  },
  "aws:cloudwatch/logGroup:LogGroup": {
    why: "application and system logs",
    keys: ["logGroupClass", "name", "namePrefix"],
  },
  "aws:secretsmanager/secret:Secret": {
    why: "app, database and cache secrets (their ARNs are in every server's boot)",
    keys: ["name", "namePrefix"],
  },
  "aws:ssm/parameter:Parameter": {
    why: "the current release pointer, the shard map, the agent config",
    keys: ["name"],
  },
  "aws:route53/record:Record": {
    why: "the site's and the origin's names: a delete-then-create leaves them unanswered",
    keys: ["name", "zoneId"],
  },
  "aws:ec2/eip:Eip": {
    why: "the single server's public address, which DNS points at",
    keys: ["address", "customerOwnedIpv4Pool", "domain", "ipamPoolId", "networkBorderGroup", "publicIpv4Pool"],
  },
  "aws:ec2/instance:Instance": {
    why: "the single server, which at step 1 holds the database",
    keys: [
      "ami",
      "associatePublicIpAddress",
      "availabilityZone",
      "ebsBlockDevices",
      "ephemeralBlockDevices",
      "hostId",
      "keyName",
      "networkInterfaces",
      "placementGroup",
      "privateIp",
      "rootBlockDevice.encrypted",
      "rootBlockDevice.kmsKeyId",
      "subnetId",
      "tenancy",
    ],
    conditional: [
      {
        key: "userData",
        when: (i) => i.userDataReplaceOnChange === true || i.userDataReplaceOnChange === "true",
        because: "userDataReplaceOnChange",
      },
      {
        key: "userDataBase64",
        when: (i) => i.userDataReplaceOnChange === true || i.userDataReplaceOnChange === "true",
        because: "userDataReplaceOnChange",
      },
    ],
  },
  "aws:lb/loadBalancer:LoadBalancer": {
    why: "the entry point: a new DNS name, and in prod its deletion protection refuses the replacement",
    keys: ["internal", "loadBalancerType", "name", "namePrefix"],
  },
  "random:index/randomPassword:RandomPassword": {
    why: "a generated secret: a new value locks out whoever holds the old one",
    keys: [
      "keepers",
      "length",
      "lower",
      "minLower",
      "minNumeric",
      "minSpecial",
      "minUpper",
      "number",
      "numeric",
      "overrideSpecial",
      "special",
      "upper",
    ],
  },
  "pulumi:providers:aws": {
    why: "a region's provider: changing its region replaces everything created through it",
    keys: ["region"],
  },
  "awsx:ec2:Vpc": {
    why: "the region's network: a new layout re-plans every subnet",
    keys: ["availabilityZoneNames", "cidrBlock", "numberOfAvailabilityZones", "subnetSpecs", "subnetStrategy"],
  },
};

/**
 * Resources a stateful resource depends on through a replacing input: if one of them were replaced, its name or id
 * would change and take the stateful resource with it.
 */
export const DEPENDENCY_REPLACED_ON: Record<string, string[]> = {
  "aws:rds/subnetGroup:SubnetGroup": ["name", "namePrefix"],
  "aws:elasticache/subnetGroup:SubnetGroup": ["name"],
  "aws:kms/key:Key": ["customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"],
  "aws:ec2/securityGroup:SecurityGroup": ["description", "name", "namePrefix", "vpcId"],
};

export interface ClimbException {
  /** The climb, N → N+1. */
  from: number;
  to: number;
  type: string;
  /** Logical name; `{region}` stands for the region code (`use1`, `euw1`, ...). */
  name: string;
  /** `removed`: gone at `to`. `replaced`: kept, but these replacing inputs change. */
  change: "removed" | "replaced";
  keys?: string[];
  reason: string;
}

/** The only stateful resources a climb may replace or remove. docs/climbing.md has the same table. */
export const CLIMB_EXCEPTIONS: readonly ClimbException[] = [
  {
    from: 1,
    to: 2,
    type: "aws:ec2/instance:Instance",
    name: "{region}-server",
    change: "replaced",
    keys: ["userData"],
    reason:
      "The database moves to RDS: the boot script stops installing PostgreSQL and reads the RDS credentials instead. cloud-init runs user data once, so the server is replaced (userDataReplaceOnChange) after the data is moved (docs, step 2).",
  },
  {
    from: 2,
    to: 3,
    type: "aws:ec2/instance:Instance",
    name: "{region}-server",
    change: "removed",
    reason:
      "The web fleet behind the load balancer takes over; the single server (with its role, profile, Elastic IP association and rollout association) leaves. It holds no data from step 2 on.",
  },
  {
    from: 2,
    to: 3,
    type: "aws:ec2/eip:Eip",
    name: "{region}-server-eip",
    change: "removed",
    reason:
      "The site's DNS record moves, in place, from the Elastic IP to an alias of the load balancer; the address is released with the server.",
  },
];

/** Reads `a.b.c` from inputs. */
export function inputAt(inputs: Record<string, any>, key: string): unknown {
  return key.split(".").reduce<any>((v, k) => (v === undefined || v === null ? undefined : v[k]), inputs);
}

/** The replacing inputs of a registration, honouring its `ignoreChanges`. */
export function replacingKeys(
  r: Registration,
  rule: { keys: string[]; conditional?: ReplaceRule["conditional"] },
): string[] {
  const keys = [...rule.keys, ...(rule.conditional ?? []).filter((c) => c.when(r.inputs)).map((c) => c.key)];
  return keys.filter((k) => !r.ignoreChanges.some((i) => i === k || k.startsWith(`${i}.`)));
}

const regionPattern = (name: string) =>
  new RegExp(`^${name.replace("{region}", "[a-z]{2,4}\\d").replace(/[.]/g, "\\.")}$`);

/** The exception that covers a change, if any. */
export function exceptionFor(
  from: number,
  type: string,
  name: string,
  change: ClimbException["change"],
  key?: string,
): ClimbException | undefined {
  return CLIMB_EXCEPTIONS.find(
    (e) =>
      e.from === from &&
      e.type === type &&
      e.change === change &&
      regionPattern(e.name).test(name) &&
      (key === undefined || (e.keys ?? []).includes(key)),
  );
}

export interface ClimbProblem {
  type: string;
  name: string;
  problem: string;
  exception?: ClimbException;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
/** A value for a message: JSON, cut short (user data runs to kilobytes). */
const brief = (v: unknown) => {
  const text = JSON.stringify(v) ?? "undefined";
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/**
 * The URNs a registration also answers to (its `aliases`), as the engine computes them: an alias spec names what
 * differs from the resource (name, type, parent, stack, project); the rest is the resource's own.
 */
export function aliasUrnsOf(r: Registration): string[] {
  const [, stack, project] = /^urn:pulumi:([^:]+)::([^:]+)::/.exec(r.urn) ?? [];
  const parentType = (urn: string | undefined) => (urn ? urn.split("::")[2] : undefined);
  return r.aliases.flatMap((a: any) => {
    const urn = a?.getUrn?.() ?? (typeof a === "string" ? a : undefined);
    if (urn) return [urn];
    const spec = a?.getSpec?.()?.toObject?.() ?? a?.spec;
    if (!spec) return [];
    const parent = spec.noparent ? undefined : parentType(spec.parenturn || r.parent);
    const type = `${parent ? `${parent}$` : ""}${spec.type || r.type}`;
    return [`urn:pulumi:${spec.stack || stack}::${spec.project || project}::${type}::${spec.name || r.name}`];
  });
}

/**
 * Everything a climb from `lower` (step `from`) to `upper` would replace or remove among stateful resources, with
 * the exception that allows it when there is one.
 */
export function climbProblems(from: number, lower: PolicyGraph, upper: PolicyGraph): ClimbProblem[] {
  const problems: ClimbProblem[] = [];
  const after = new Map(
    upper.graph.resources.flatMap((r) => [[r.urn, r] as const, ...aliasUrnsOf(r).map((u) => [u, r] as const)]),
  );
  const add = (r: Registration, change: ClimbException["change"], problem: string, key?: string) =>
    problems.push({ type: r.type, name: r.name, problem, exception: exceptionFor(from, r.type, r.name, change, key) });

  for (const before of lower.graph.resources) {
    const rule = REPLACED_ON[before.type];
    if (!rule) continue;
    const now = after.get(before.urn);
    if (!now) {
      add(before, "removed", "is removed");
      continue;
    }
    for (const key of replacingKeys(now, rule)) {
      const a = inputAt(before.inputs, key);
      const b = inputAt(now.inputs, key);
      if (!same(a, b)) {
        add(now, "replaced", `is replaced: ${key} changes from ${brief(a)} to ${brief(b)}`, key);
        continue;
      }
      // The value stays, but only because the mocks name things deterministically: a dependency behind it must
      // itself stay, with its own replacing inputs.
      for (const depUrn of lower.edgesOf(before).propertyDependencies[key.split(".")[0]] ?? []) {
        const dep = lower.graph.resources.find((r) => r.urn === depUrn);
        if (!dep) continue;
        const depNow = after.get(depUrn);
        if (!depNow) {
          add(now, "replaced", `is replaced: ${key} comes from ${dep.type} ${dep.name}, which is removed`, key);
          continue;
        }
        const depKeys = REPLACED_ON[dep.type]
          ? replacingKeys(depNow, REPLACED_ON[dep.type])
          : (DEPENDENCY_REPLACED_ON[dep.type] ?? []);
        for (const dk of depKeys) {
          if (!same(inputAt(dep.inputs, dk), inputAt(depNow.inputs, dk)))
            add(now, "replaced", `is replaced: ${key} comes from ${dep.name}, which is replaced (${dk} changes)`, key);
        }
      }
    }
  }
  return problems;
}

/** The stateful resources of a graph, for the record. */
export function statefulOf(g: Graph): Registration[] {
  return g.resources.filter((r) => REPLACED_ON[r.type] !== undefined);
}
