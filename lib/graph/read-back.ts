/**
 * What AWS reports when the provider reads a resource back (a `pulumi refresh`, or the read every `pulumi up` does
 * of a resource it changes) that the program never set, or set to something else: fields AWS fills in at creation
 * and fields AWS changes by itself later. The second-up simulation (`second-up.ts`) overlays these on the first
 * run's inputs to build the state the second `pulumi up` diffs against.
 *
 * How `@pulumi/aws` (the Terraform AWS provider, bridged) diffs: the new inputs against that state, property by
 * property. A property the program does not set, but that the state holds, is a diff that clears it, unless the
 * provider schema marks it `Computed` (then the state value is kept). A property the program sets is a diff when
 * the state holds another value, unless a `DiffSuppressFunc` of the provider hides it. `ignoreChanges` hides both.
 * So only rows whose field is not Computed, or that the program sets, can produce a change.
 *
 * ONE table. Each row: the type, the input property (Pulumi's camelCase), whether the provider schema marks it
 * Computed, what AWS reports, the provider's own normalisation or suppression where it has one, the source and
 * the date it was checked. Provider sources are `hashicorp/terraform-provider-aws` files at the commit named.
 */
import { RegisteredResource, canonical } from "./registered";
import { T } from "./resource-types";

/** What a row may look at besides the resource itself. */
export interface ReadBackContext {
  /** Every registration of the run the resource belongs to. */
  resources: readonly RegisteredResource[];
  /** The computed outputs the engine holds for a custom resource (`arn`, `id`...). */
  outputsOf(r: RegisteredResource): Record<string, unknown>;
}

export interface ReadBackRow {
  type: string;
  /** Top-level input property, camelCase as in `@pulumi/aws`. */
  property: string;
  /**
   * `Optional: true, Computed: true` in the provider schema: when the program does not set the property, the state
   * keeps what AWS reports and there is no diff.
   */
  computed: boolean;
  /** What AWS reports, in words. */
  reports: string;
  /**
   * The value the provider writes to state after reading this resource, or `undefined` when the row does not
   * apply to it (the state then keeps the first run's input).
   */
  read(r: RegisteredResource, ctx: ReadBackContext): unknown;
  /** The provider's `DiffSuppressFunc`: true when it hides the difference between the state and the new input. */
  suppress?(stateValue: unknown, newInput: unknown, newInputs: Record<string, any>): boolean;
  /** Where the rule comes from: provider file and commit, issue or pull request, AWS documentation. */
  source: string;
  /** When the source was read. */
  checked: string;
}

const CHECKED = "2026-12-01";
const TF = "hashicorp/terraform-provider-aws";
/** The type declarations of the installed SDK, whose doc comments are the provider's documentation. */
const SDK = "@pulumi/aws 7.48.0";
const CLUSTER_GO = `${TF} internal/service/rds/cluster.go@0168cf6844f393420326f1426bf18ed357b56a77`;

/** Registrations of a type. */
const ofType = (ctx: ReadBackContext, type: string) => ctx.resources.filter((x) => x.type === type);
const GLOBAL_CLUSTER = T.globalCluster;

/** An Aurora cluster that joins a global database as a secondary: it names the global cluster in its inputs. */
const isSecondaryCluster = (r: RegisteredResource) => typeof r.inputs.globalClusterIdentifier === "string";

/** The global cluster created from this (primary) cluster, if any. */
function globalClusterFrom(r: RegisteredResource, ctx: ReadBackContext): RegisteredResource | undefined {
  const arn = ctx.outputsOf(r).arn;
  return ofType(ctx, GLOBAL_CLUSTER).find((g) => arn !== undefined && g.inputs.sourceDbClusterIdentifier === arn);
}

/**
 * The engine version AWS runs after an automatic minor upgrade of `configured` (two minors later, or the `.2`
 * minor of a major-only value): the exact number does not matter, only that it is newer.
 */
export function upgradedMinor(configured: string): string {
  const [major, minor] = configured.split(".");
  return minor === undefined ? `${major}.2` : `${major}.${Number(minor) + 2}`;
}

/**
 * The provider's `compareActualEngineVersion` (internal/service/rds/engine_version.go): state keeps the configured
 * version when the running one only adds segments to it (`16` runs `16.4`), and takes the running one otherwise.
 */
export function rdsEngineVersionInState(configured: string, actual: string): string {
  return actual.startsWith(`${configured}.`) || actual === configured ? configured : actual;
}

/** Auto minor upgrades are on unless the program turns them off (the provider's and AWS's default is on). */
const autoMinor = (r: RegisteredResource) =>
  r.inputs.autoMinorVersionUpgrade !== false && r.inputs.autoMinorVersionUpgrade !== "false";

/** An engine version AWS moves by itself when auto minor upgrades are on. */
function rdsEngineVersionRow(type: string, file: string): ReadBackRow {
  return {
    type,
    property: "engineVersion",
    computed: true,
    reports:
      "a newer minor version after an automatic minor upgrade (16.6 → 16.8); the provider keeps the configured " +
      "value only when it is a prefix of the running one (16 runs 16.8), so a pinned minor reads back as the new one",
    read: (r) => {
      const configured = r.inputs.engineVersion;
      if (typeof configured !== "string" || !autoMinor(r)) return undefined;
      return rdsEngineVersionInState(configured, upgradedMinor(configured));
    },
    source:
      `${TF} ${file} (engine_version Optional+Computed, read through compareActualEngineVersion in ` +
      "internal/service/rds/engine_version.go); pull request #49396 (2026-08, suppresses the downgrade for " +
      "aws_rds_cluster only, in provider releases after it) and #49496 (open, aws_db_instance); issue #39579; " +
      "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_UpgradeDBInstance.PostgreSQL.Minor.html",
    checked: CHECKED,
  };
}

/** Policy and JSON documents: AWS stores its own serialisation; the provider compares them as JSON. */
function jsonDocumentRow(type: string, property: string, how: string): ReadBackRow {
  return {
    type,
    property,
    computed: false,
    reports: "the same document re-serialised by AWS (its own key order and spacing)",
    read: (r) => (typeof r.inputs[property] === "string" ? reserialise(r.inputs[property]) : undefined),
    suppress: (a, b) => typeof a === "string" && typeof b === "string" && sameJson(a, b),
    source: `${TF} ${how}`,
    checked: CHECKED,
  };
}

/** Key order reversed and spacing added: what a different serialiser of the same JSON makes. */
function reserialise(text: string): string {
  try {
    const reverse = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(reverse);
      if (!v || typeof v !== "object") return v;
      return Object.fromEntries(
        Object.entries(v)
          .reverse()
          .map(([k, x]) => [k, reverse(x)]),
      );
    };
    return JSON.stringify(reverse(JSON.parse(text)), null, 1);
  } catch {
    return text;
  }
}

function sameJson(a: string, b: string): boolean {
  try {
    return canonical(JSON.parse(a)) === canonical(JSON.parse(b));
  } catch {
    return a === b;
  }
}

const POLICY_EQ = "DiffSuppressFunc verify.SuppressEquivalentPolicyDiffs";
const JSON_EQ = "StateFunc NormalizeJsonString, DiffSuppressFunc verify.SuppressEquivalentJSONDiffs";

/** Every field this program's resources have that AWS fills in or changes by itself. */
export const READ_BACK: readonly ReadBackRow[] = [
  // Aurora global database (step 11).
  {
    type: T.cluster,
    property: "replicationSourceIdentifier",
    computed: false,
    reports: "on a secondary cluster of a global database: the ARN of the primary cluster it replicates from",
    read: (r, ctx) => {
      if (!isSecondaryCluster(r)) return undefined;
      const id = r.inputs.globalClusterIdentifier;
      const g = ofType(ctx, GLOBAL_CLUSTER).find((x) => x.inputs.globalClusterIdentifier === id);
      return g?.inputs.sourceDbClusterIdentifier ?? `arn:aws:rds:primary:cluster:of-${String(id)}`;
    },
    source:
      `${CLUSTER_GO}: replication_source_identifier is Optional only (not Computed); Read sets it from ` +
      "DescribeDBClusters; Update calls PromoteReadReplicaDBCluster when it becomes empty. " +
      `${SDK} rds/cluster.d.ts: "Removing this attribute after creation will promote the read replica to a ` +
      'standalone cluster. If DB Cluster is part of a Global Cluster, use the ignoreChanges resource option". ' +
      "Pull request #40921 (the global-cluster example ignores it on the secondary); issues #43214, #13715",
    checked: CHECKED,
  },
  {
    type: T.cluster,
    property: "globalClusterIdentifier",
    computed: false,
    reports: "on the primary cluster a global database was created from (sourceDbClusterIdentifier): its id",
    read: (r, ctx) => {
      if (isSecondaryCluster(r)) return r.inputs.globalClusterIdentifier;
      return globalClusterFrom(r, ctx)?.inputs.globalClusterIdentifier;
    },
    source:
      `${CLUSTER_GO}: global_cluster_identifier is Optional only; Read sets it from ` +
      "findGlobalClusterByDBClusterARN. The provider's aws_rds_global_cluster example with " +
      "source_db_cluster_identifier ignores it on the primary; cloudposse/terraform-aws-rds-cluster issue #281",
    checked: CHECKED,
  },
  {
    type: T.cluster,
    property: "masterUsername",
    computed: true,
    reports: "on a secondary cluster: the primary's master user name, which the secondary inherits",
    read: (r) => (isSecondaryCluster(r) ? "postgres" : undefined),
    source: `${CLUSTER_GO}: master_username Optional+Computed+ForceNew; Read sets it from DescribeDBClusters`,
    checked: CHECKED,
  },
  {
    type: T.cluster,
    property: "databaseName",
    computed: true,
    reports: "on a secondary cluster: the primary's database name",
    read: (r) => (isSecondaryCluster(r) ? "orders" : undefined),
    source: `${CLUSTER_GO}: database_name Optional+Computed+ForceNew; Read sets it when the API returns one`,
    checked: CHECKED,
  },
  {
    type: T.cluster,
    property: "availabilityZones",
    computed: true,
    reports: "three AZs for the cluster volume: AWS adds AZs up to three when the program lists fewer",
    read: (r) => {
      const given: string[] = Array.isArray(r.inputs.availabilityZones) ? r.inputs.availabilityZones : [];
      return given.length >= 3 ? given : [...given, ...["zone-a", "zone-b", "zone-c"].slice(given.length)];
    },
    source:
      `${CLUSTER_GO}: availability_zones Optional+Computed+ForceNew; ${SDK} rds/cluster.d.ts: "RDS ` +
      "automatically assigns 3 AZs if less than 3 AZs are configured, which will show as a difference requiring " +
      'resource recreation next pulumi up"',
    checked: CHECKED,
  },
  {
    type: T.cluster,
    property: "kmsKeyId",
    computed: true,
    reports: "the ARN of the key that encrypts the cluster (aws/rds when none was given)",
    read: (r) => r.inputs.kmsKeyId ?? "arn:aws:kms:region:123456789012:key/aws-rds-default",
    source: `${CLUSTER_GO}: kms_key_id Optional+Computed+ForceNew`,
    checked: CHECKED,
  },
  {
    type: GLOBAL_CLUSTER,
    property: "databaseName",
    computed: true,
    reports: "the database name of the source cluster it was created from",
    read: (r) => (r.inputs.sourceDbClusterIdentifier !== undefined ? (r.inputs.databaseName ?? "orders") : undefined),
    source:
      `${TF} internal/service/rds/global_cluster.go: database_name became Computed in pull request #40469 ` +
      "(provider v5.81, 2024-12; before it every second apply replaced the global cluster: issues #28187, #39368)",
    checked: CHECKED,
  },
  {
    type: GLOBAL_CLUSTER,
    property: "engineVersion",
    computed: true,
    reports: "the source cluster's engine version",
    read: (r, ctx) => {
      const source = ofType(ctx, T.cluster).find((c) => ctx.outputsOf(c).arn === r.inputs.sourceDbClusterIdentifier);
      return r.inputs.engineVersion ?? source?.inputs.engineVersion;
    },
    source: `${TF} internal/service/rds/global_cluster.go: engine, engine_version, storage_encrypted Optional+Computed`,
    checked: CHECKED,
  },
  // Engine versions that AWS moves by itself.
  rdsEngineVersionRow(T.cluster, "internal/service/rds/cluster.go"),
  rdsEngineVersionRow(T.clusterInstance, "internal/service/rds/cluster_instance.go"),
  rdsEngineVersionRow(T.rds, "internal/service/rds/instance.go"),
  {
    type: T.cache,
    property: "engineVersion",
    computed: true,
    reports: "a newer patch version after a service update (8.0.1 → 8.0.2); the provider stores major.minor",
    read: (r) => {
      const v = r.inputs.engineVersion;
      return typeof v === "string" ? v.split(".").slice(0, 2).join(".") : undefined;
    },
    source:
      `${TF} internal/service/elasticache/engine_version.go: setEngineVersionValkey and setEngineVersionRedis ` +
      "keep <major>.<minor> in engine_version and the full version in engine_version_actual",
    checked: CHECKED,
  },
  // Capacity that AWS moves by itself.
  {
    type: T.rds,
    property: "allocatedStorage",
    computed: true,
    reports: "a larger size after storage autoscaling (up to maxAllocatedStorage)",
    read: (r) => {
      const { allocatedStorage, maxAllocatedStorage } = r.inputs;
      const autoscaled = typeof allocatedStorage === "number" && typeof maxAllocatedStorage === "number";
      return autoscaled ? maxAllocatedStorage : undefined;
    },
    // The provider's DiffSuppressFunc: suppressed when the state is above the configuration and storage
    // autoscaling (max_allocated_storage) reaches above it too.
    suppress: (state, next, inputs) => {
      if (typeof state !== "number" || typeof next !== "number") return false;
      return state > next && Number(inputs.maxAllocatedStorage ?? 0) > next;
    },
    source:
      `${TF} internal/service/rds/instance.go: allocated_storage Optional+Computed, with a DiffSuppressFunc ` +
      "that reads max_allocated_storage",
    checked: CHECKED,
  },
  {
    type: T.asg,
    property: "desiredCapacity",
    computed: true,
    reports: "the capacity the scaling policies set last (here: maxSize, after a busy day)",
    read: (r) => {
      if (r.inputs.desiredCapacity === undefined) return undefined;
      return r.inputs.maxSize ?? Number(r.inputs.desiredCapacity) + 1;
    },
    source:
      `${TF} internal/service/autoscaling/group.go: desired_capacity Optional+Computed; scaling policies change it ` +
      "(https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scale-based-on-demand.html)",
    checked: CHECKED,
  },
  // Fields that separate resources manage. Computed, so the owning resource does not fight them.
  {
    type: T.sg,
    property: "ingress",
    computed: true,
    reports: "every rule of the group, including those created by SecurityGroupIngressRule resources",
    read: (r) => r.inputs.ingress ?? [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
    source: `${SDK} ec2/securityGroup.d.ts: ingress and egress are "processed in attribute-as-blocks mode" (Computed)`,
    checked: CHECKED,
  },
  {
    type: T.sg,
    property: "egress",
    computed: true,
    reports: "every egress rule, including AWS's default allow-all until a rule resource replaces it",
    read: (r) => r.inputs.egress ?? [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
    source: `${SDK} ec2/securityGroup.d.ts: ingress and egress are "processed in attribute-as-blocks mode" (Computed)`,
    checked: CHECKED,
  },
  {
    type: T.role,
    property: "managedPolicyArns",
    computed: true,
    reports: "the managed policies attached by RolePolicyAttachment resources",
    read: (r) => r.inputs.managedPolicyArns ?? ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
    source:
      `${SDK} iam/role.d.ts: "If you use this resource's managedPolicyArns argument ..., this resource will take ` +
      'over exclusive management" (only then: the field is Computed)',
    checked: CHECKED,
  },
  {
    type: T.queue,
    property: "policy",
    computed: true,
    reports: "the policy a QueuePolicy resource set",
    read: (r) => r.inputs.policy ?? '{"Version":"2012-10-17","Statement":[]}',
    source:
      `${SDK} sqs/queue.d.ts: "The provider will only perform drift detection of its value when present in a ` +
      'configuration"',
    checked: CHECKED,
  },
  {
    type: T.queue,
    property: "redriveAllowPolicy",
    computed: true,
    reports: "the redrive-allow policy a RedriveAllowPolicy resource set on the dead-letter queue",
    read: (r) => r.inputs.redriveAllowPolicy ?? '{"redrivePermission":"byQueue"}',
    source: `${TF} internal/service/sqs/queue.go: redrive_allow_policy Optional+Computed`,
    checked: CHECKED,
  },
  {
    type: T.topic,
    property: "policy",
    computed: true,
    reports: "the default topic policy AWS writes at creation",
    read: (r) => r.inputs.policy ?? '{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[]}',
    source: `${TF} internal/service/sns/topic.go: policy Optional+Computed`,
    checked: CHECKED,
  },
  {
    type: T.bucket,
    property: "serverSideEncryptionConfiguration",
    computed: true,
    reports: "the encryption a BucketServerSideEncryptionConfiguration resource set (SSE-S3 by default since 2023)",
    read: (r) => {
      const sseS3 = { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } } };
      return r.inputs.serverSideEncryptionConfiguration ?? sseS3;
    },
    source:
      `${TF} internal/service/s3/bucket.go: server_side_encryption_configuration, versioning, lifecycle_rule, ` +
      "policy Optional+Computed (deprecated in favour of the separate resources)",
    checked: CHECKED,
  },
  {
    type: T.bucket,
    property: "versioning",
    computed: true,
    reports: "the versioning a BucketVersioning resource set",
    read: (r) => r.inputs.versioning ?? { enabled: true, mfaDelete: false },
    source: `${TF} internal/service/s3/bucket.go: versioning Optional+Computed`,
    checked: CHECKED,
  },
  {
    type: T.lifecycle,
    property: "transitionDefaultMinimumObjectSize",
    computed: true,
    reports: "all_storage_classes_128K, S3's default for lifecycle configurations written since September 2024",
    read: (r) => r.inputs.transitionDefaultMinimumObjectSize ?? "all_storage_classes_128K",
    source:
      `${TF} pull requests #39578 (the argument, Optional+Computed) and #41159 (removing it sets the default); ` +
      "https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html",
    checked: CHECKED,
  },
  {
    type: T.webAclLogging,
    property: "redactedFields",
    computed: false,
    reports: "each redacted single header's name in lower case, whatever case the program sent",
    read: (r) => {
      const fields = r.inputs.redactedFields;
      if (!Array.isArray(fields)) return undefined;
      return fields.map((f: Record<string, any>) =>
        f?.singleHeader?.name
          ? { ...f, singleHeader: { ...f.singleHeader, name: f.singleHeader.name.toLowerCase() } }
          : f,
      );
    },
    source:
      `${TF} internal/service/wafv2/web_acl_logging_configuration.go@012f18cf44eca0a93072002dafc5e45823fc281e ` +
      '(single_header name: "The value is returned in lower case by the API. Trying to solve it with StateFunc ' +
      'and/or DiffSuppressFunc resulted in hash problem"); https://docs.aws.amazon.com/waf/latest/APIReference/' +
      "API_SingleHeader.html",
    checked: "2026-12-02",
  },
  {
    type: T.secret,
    property: "replicas",
    computed: true,
    reports:
      "each replica with the key that encrypts it: alias/aws/secretsmanager when the program named none (and its " +
      "status, status message and last access, which are Computed inside the replica and never a diff)",
    read: (r) => {
      const replicas = r.inputs.replicas;
      if (!Array.isArray(replicas)) return undefined;
      return replicas.map((x: Record<string, unknown>) => ({
        ...x,
        kmsKeyId: x.kmsKeyId ?? "alias/aws/secretsmanager",
      }));
    },
    source:
      "pulumi/pulumi-aws#2270 (a secret with replicas and no kmsKeyId showed an update on every pulumi up); " +
      "terraform-aws-modules/terraform-aws-secrets-manager#18 (AWS reports kms_key_id alias/aws/secretsmanager); " +
      "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ReplicaRegionType.html",
    checked: "2026-12-02",
  },
  // Documents AWS stores in its own serialisation; the provider compares them as JSON or as policies.
  jsonDocumentRow(T.role, "assumeRolePolicy", `${POLICY_EQ} (internal/service/iam/role.go)`),
  jsonDocumentRow(T.rolePolicy, "policy", `${POLICY_EQ} (internal/service/iam/role_policy.go)`),
  jsonDocumentRow(T.bucketPolicy, "policy", `${POLICY_EQ} (internal/service/s3/bucket_policy.go)`),
  jsonDocumentRow(T.queuePolicy, "policy", `${POLICY_EQ} (internal/service/sqs/queue_policy.go)`),
  jsonDocumentRow(T.queue, "redrivePolicy", `${JSON_EQ} (internal/service/sqs/queue.go)`),
  jsonDocumentRow(T.dashboard, "dashboardBody", `${JSON_EQ} (internal/service/cloudwatch/dashboard.go)`),
];

/** The rows of a type. */
export function readBackRowsOf(type: string): ReadBackRow[] {
  return READ_BACK.filter((row) => row.type === type);
}
