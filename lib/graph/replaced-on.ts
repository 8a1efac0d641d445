import { T } from "./resource-types";
/**
 * The inputs that make the provider replace a stateful resource instead of updating it in place: the climb test's
 * table (`test/infra/climb-rules.ts`) and the plan's (`scripts/plan/force-new.ts`) both read it.
 *
 * `REPLACED_ON` lists, per type, the inputs marked ForceNew in the Terraform AWS provider schema that pulumi-aws
 * bridges (internal/service/<service>/<resource>.go), plus what Pulumi itself replaces on (a provider's region,
 * random's inputs, awsx's subnet layout). Dotted keys are nested fields (`rootBlockDevice.encrypted`).
 */
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
  [T.rds]: {
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
  [T.cluster]: {
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
  [T.clusterInstance]: {
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
  [T.globalCluster]: {
    why: "a shard's global database: a replacement detaches every region",
    keys: ["databaseName", "engine", "globalClusterIdentifier", "sourceDbClusterIdentifier", "storageEncrypted"],
  },
  [T.cache]: {
    why: "the product cache (a cold cache), and from step 7 the sessions' own group (every cart)",
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
  [T.bucket]: {
    why: "releases, access logs and static assets",
    keys: ["bucket", "bucketPrefix", "objectLockEnabled"],
  },
  [T.bucketV2]: { why: "a bucket (legacy type)", keys: ["bucket", "bucketPrefix", "objectLockEnabled"] },
  [T.queue]: {
    why: "the orders queue and its DLQ: a replacement drops every waiting order",
    keys: ["fifoQueue", "name", "namePrefix"],
  },
  [T.logGroup]: {
    why: "application and system logs",
    keys: ["logGroupClass", "name", "namePrefix"],
  },
  [T.secret]: {
    why: "app, database and cache secrets (their ARNs are in every server's boot)",
    keys: ["name", "namePrefix"],
  },
  [T.ssmParameter]: {
    why: "the current release pointer, the shard map, the agent config",
    keys: ["name"],
  },
  [T.record]: {
    why: "the site's and the origin's names: a delete-then-create leaves them unanswered",
    keys: ["name", "zoneId"],
  },
  [T.eip]: {
    why: "the single server's public address, which DNS points at",
    keys: ["address", "customerOwnedIpv4Pool", "domain", "ipamPoolId", "networkBorderGroup", "publicIpv4Pool"],
  },
  [T.instance]: {
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
  [T.lb]: {
    why: "the entry point: a new DNS name, and in prod its deletion protection refuses the replacement",
    keys: ["internal", "loadBalancerType", "name", "namePrefix"],
  },
  [T.password]: {
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
  [T.awsProvider]: {
    why: "a region's provider: changing its region replaces everything created through it",
    keys: ["region"],
  },
  [T.vpc]: {
    why: "the region's network: a new layout re-plans every subnet",
    keys: ["availabilityZoneNames", "cidrBlock", "numberOfAvailabilityZones", "subnetSpecs", "subnetStrategy"],
  },
};

/**
 * Resources a stateful resource depends on through a replacing input: if one of them were replaced, its name or id
 * would change and take the stateful resource with it.
 */
export const DEPENDENCY_REPLACED_ON: Record<string, string[]> = {
  [T.dbSubnetGroup]: ["name", "namePrefix"],
  [T.cacheSubnetGroup]: ["name"],
  [T.kmsKey]: ["customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"],
  [T.sg]: ["description", "name", "namePrefix", "vpcId"],
};

/** Reads `a.b.c` from inputs. */
export function inputAt(inputs: Record<string, any>, key: string): unknown {
  return key.split(".").reduce<any>((v, k) => (v === undefined || v === null ? undefined : v[k]), inputs);
}

/** The replacing inputs of a registration, honouring its `ignoreChanges`. */
export function replacingKeys(
  r: { inputs: Record<string, any>; ignoreChanges: string[] },
  rule: { keys: string[]; conditional?: ReplaceRule["conditional"] },
): string[] {
  const keys = [...rule.keys, ...(rule.conditional ?? []).filter((c) => c.when(r.inputs)).map((c) => c.key)];
  return keys.filter((k) => !r.ignoreChanges.some((i) => i === k || k.startsWith(`${i}.`)));
}
