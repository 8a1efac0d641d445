/**
 * Data at rest and in transit: every store is encrypted, every client speaks TLS, no bucket can become public, and
 * no database password passes through Pulumi.
 */
import * as aws from "@pulumi/aws";
import {
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationPolicy,
  validateResourceOfType,
} from "@pulumi/policy";
import {
  BUCKET_TYPES,
  IamStatement,
  T,
  isSet,
  isTrue,
  known,
  label,
  policyDocument,
  referrersOf,
  statementsOf,
  strings,
  targetsOf,
} from "./relations";

export const rdsStorageEncrypted: ResourceValidationPolicy = {
  name: "rds-storage-encrypted",
  description: "RDS instances, Aurora clusters and global clusters encrypt their storage.",
  severity: "high",
  remediationSteps:
    "Set storageEncrypted: true (optionally kmsKeyId). It cannot be changed later: an unencrypted database has " +
    "to be restored from an encrypted snapshot copy.",
  validateResource: [
    validateResourceOfType(aws.rds.Instance, (db, args, report) => {
      // A replica inherits the source's encryption; it may only repeat it, never turn it off.
      const replica = isSet(() => db.replicateSourceDb);
      if (replica ? db.storageEncrypted === false : !isTrue(db.storageEncrypted))
        report(`${args.name}: storageEncrypted is ${db.storageEncrypted ?? "unset (false)"}.`);
    }),
    validateResourceOfType(aws.rds.Cluster, (c, args, report) => {
      if (!isTrue(c.storageEncrypted))
        report(`${args.name}: storageEncrypted is ${c.storageEncrypted ?? "unset (false for provisioned Aurora)"}.`);
    }),
    validateResourceOfType(aws.rds.GlobalCluster, (g, args, report) => {
      // Created from an existing cluster, the global cluster takes that cluster's encryption.
      if (!isSet(() => g.sourceDbClusterIdentifier) && !isTrue(g.storageEncrypted))
        report(`${args.name}: storageEncrypted is ${g.storageEncrypted ?? "unset (false)"}.`);
    }),
  ],
};

export const elasticacheEncryptedAtRest: ResourceValidationPolicy = {
  name: "elasticache-encrypted-at-rest",
  description: "ElastiCache replication groups encrypt data at rest; no stand-alone cache clusters.",
  severity: "high",
  remediationSteps: "Use aws.elasticache.ReplicationGroup with atRestEncryptionEnabled: true (fixed at creation).",
  validateResource: [
    validateResourceOfType(aws.elasticache.ReplicationGroup, (rg, args, report) => {
      if (!isTrue(rg.atRestEncryptionEnabled))
        report(`${args.name}: atRestEncryptionEnabled is ${rg.atRestEncryptionEnabled ?? "unset (false)"}.`);
    }),
    validateResourceOfType(aws.elasticache.Cluster, (c, args, report) => {
      if (!isSet(() => c.replicationGroupId))
        report(`${args.name}: a stand-alone cache cluster cannot encrypt at rest; use a replication group.`);
    }),
  ],
};

export const elasticacheEncryptedInTransit: ResourceValidationPolicy = {
  name: "elasticache-encrypted-in-transit",
  description: "ElastiCache replication groups require TLS and authenticate clients (AUTH token or RBAC user groups).",
  severity: "high",
  remediationSteps:
    'Set transitEncryptionEnabled: true (transitEncryptionMode "required" or unset) and an authToken from a ' +
    "generated secret, or userGroupIds.",
  validateResource: validateResourceOfType(aws.elasticache.ReplicationGroup, (rg, args, report) => {
    if (!isTrue(rg.transitEncryptionEnabled))
      report(
        `${args.name}: transitEncryptionEnabled is ${rg.transitEncryptionEnabled ?? "unset (false)"}; clients ` +
          `would talk in plain text.`,
      );
    if (rg.transitEncryptionMode !== undefined && rg.transitEncryptionMode !== "required")
      report(
        `${args.name}: transitEncryptionMode is "${rg.transitEncryptionMode}", which still accepts plain-text clients.`,
      );
    if (!isSet(() => rg.authToken) && !isSet(() => rg.userGroupIds))
      report(
        `${args.name}: neither authToken nor userGroupIds is set; any client inside the security group could connect.`,
      );
  }),
};

export const ebsEncrypted: ResourceValidationPolicy = {
  name: "ebs-encrypted",
  description:
    "EBS volumes are encrypted: stand-alone volumes, instance root and data volumes, launch template volumes.",
  severity: "high",
  remediationSteps:
    "Declare the root volume explicitly with encrypted: true (rootBlockDevice on instances, " +
    "blockDeviceMappings[].ebs on launch templates).",
  validateResource: [
    validateResourceOfType(aws.ebs.Volume, (v, args, report) => {
      if (!isTrue(v.encrypted)) report(`${args.name}: encrypted is ${v.encrypted ?? "unset"}.`);
    }),
    validateResourceOfType(aws.ec2.Instance, (i, args, report) => {
      if (!i.rootBlockDevice)
        report(`${args.name}: no rootBlockDevice, so the root volume is encrypted only if the AMI's snapshot is.`);
      else if (!isTrue(i.rootBlockDevice.encrypted))
        report(`${args.name}: rootBlockDevice.encrypted is ${i.rootBlockDevice.encrypted ?? "unset"}.`);
      (i.ebsBlockDevices ?? []).forEach((d, n) => {
        if (!isTrue(d.encrypted)) report(`${args.name}: ebsBlockDevices[${n}] (${d.deviceName}) is not encrypted.`);
      });
    }),
    validateResourceOfType(aws.ec2.LaunchTemplate, (lt, args, report) => {
      const volumes = (lt.blockDeviceMappings ?? []).filter((m) => m.ebs !== undefined);
      if (volumes.length === 0)
        report(
          `${args.name}: no blockDeviceMappings with ebs, so the root volume is encrypted only if the AMI's ` +
            `snapshot is.`,
        );
      for (const m of volumes)
        if (!isTrue(m.ebs!.encrypted))
          report(
            `${args.name}: blockDeviceMappings ${m.deviceName} has ebs.encrypted ` +
              `${JSON.stringify(m.ebs!.encrypted ?? "unset")}.`,
          );
    }),
  ],
};

export const sqsEncrypted: ResourceValidationPolicy = {
  name: "sqs-encrypted",
  description: "SQS queues use server-side encryption (SSE-SQS or a KMS key).",
  severity: "medium",
  remediationSteps: "Set sqsManagedSseEnabled: true, or kmsMasterKeyId for a customer-managed key.",
  validateResource: validateResourceOfType(aws.sqs.Queue, (q, args, report) => {
    if (!isTrue(q.sqsManagedSseEnabled) && !isSet(() => q.kmsMasterKeyId))
      report(`${args.name}: neither sqsManagedSseEnabled nor kmsMasterKeyId is set.`);
  }),
};

const SSE_ALGORITHMS = ["AES256", "aws:kms", "aws:kms:dsse"];

export const s3BucketEncrypted: StackValidationPolicy = {
  name: "s3-bucket-encrypted",
  description: "Every S3 bucket has a BucketServerSideEncryptionConfiguration of its own with a default algorithm.",
  severity: "medium",
  remediationSteps:
    "Add aws.s3.BucketServerSideEncryptionConfiguration for the bucket with " +
    'applyServerSideEncryptionByDefault.sseAlgorithm "AES256" or "aws:kms" (PrivateBucket does).',
  validateStack: (args, report) => {
    for (const bucket of args.resources.filter((r) => BUCKET_TYPES.includes(r.type))) {
      // Not the bucket's own serverSideEncryptionConfiguration output: since 2023 it reports AWS's default (SSE-S3)
      // for every bucket, so it says nothing about what the program decided.
      const configs = referrersOf(args.resources, bucket, [T.bucketSse, T.bucketSseV2], "bucket", ["id", "bucket"]);
      if (configs.length === 0) {
        report(`${label(bucket)} has no BucketServerSideEncryptionConfiguration.`, bucket.urn);
        continue;
      }
      const algorithms = configs.flatMap((c) =>
        known(
          () =>
            (c.props.rules ?? []).map(
              (r: { applyServerSideEncryptionByDefault?: { sseAlgorithm?: string } }) =>
                r.applyServerSideEncryptionByDefault?.sseAlgorithm,
            ),
          [SSE_ALGORITHMS[0]],
        ),
      );
      if (!algorithms.some((a) => a !== undefined && SSE_ALGORITHMS.includes(a)))
        report(
          `${label(bucket)}: its encryption configuration sets no default algorithm ` +
            `(${algorithms.join(", ") || "none"}).`,
          bucket.urn,
        );
    }
  },
};

const BPA_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

export const s3BlockPublicAccess: StackValidationPolicy = {
  name: "s3-block-public-access",
  description: "Every S3 bucket has a public access block with all four switches on.",
  severity: "critical",
  remediationSteps:
    "Add aws.s3.BucketPublicAccessBlock for the bucket with blockPublicAcls, blockPublicPolicy, " +
    "ignorePublicAcls and restrictPublicBuckets all true. CloudFront reads through OAC, never through a public " +
    "bucket.",
  validateStack: (args, report) => {
    const allOn = (r: PolicyResource) => BPA_FLAGS.filter((f) => !isTrue(known(() => r.props[f], true)));
    const account = args.resources.find((r) => r.type === T.accountPublicAccessBlock && allOn(r).length === 0);
    if (account) return;
    for (const bucket of args.resources.filter((r) => BUCKET_TYPES.includes(r.type))) {
      const blocks = referrersOf(args.resources, bucket, [T.bucketPublicAccessBlock], "bucket", ["id", "bucket"]);
      if (blocks.length === 0) {
        report(`${label(bucket)} has no BucketPublicAccessBlock.`, bucket.urn);
        continue;
      }
      const off = blocks.map(allOn).reduce((a, b) => (a.length <= b.length ? a : b));
      if (off.length > 0) report(`${label(bucket)}: its public access block leaves ${off.join(", ")} off.`, bucket.urn);
    }
  },
};

/** The TLS-only setting of each engine family's parameter group. */
const TLS_PARAMETERS: Array<{ engines: RegExp; parameter: string; values: string[] }> = [
  { engines: /^(aurora-)?postgres(ql)?$/, parameter: "rds.force_ssl", values: ["1"] },
  { engines: /^sqlserver/, parameter: "rds.force_ssl", values: ["1"] },
  { engines: /^(aurora-)?mysql$|^aurora$|^mariadb$/, parameter: "require_secure_transport", values: ["1", "ON", "on"] },
];

function engineOf(db: PolicyResource, resources: readonly PolicyResource[]): string | undefined {
  const own = known(() => db.props.engine as string | undefined, undefined);
  if (own) return own;
  const sources = targetsOf(resources, db, "replicateSourceDb", [T.rdsInstance], ["identifier", "arn", "id"]);
  return sources.length > 0 ? engineOf(sources[0], resources) : undefined;
}

function checkTls(
  owner: PolicyResource,
  engine: string | undefined,
  groups: PolicyResource[],
  prop: string,
  report: (m: string, urn?: string) => void,
): void {
  const rule = TLS_PARAMETERS.find((t) => engine !== undefined && t.engines.test(engine));
  if (!rule) {
    if (engine === undefined)
      report(
        `${label(owner)}: its engine cannot be told (no engine, no source database in this stack), so TLS ` +
          `enforcement cannot be checked.`,
        owner.urn,
      );
    return; // engines without a TLS parameter (Oracle, Db2) are out of scope
  }
  if (groups.length === 0) {
    report(
      `${label(owner)}: ${prop} does not name a parameter group of this stack with ` +
        `${rule.parameter}=${rule.values[0]}; the default group may accept plain-text connections.`,
      owner.urn,
    );
    return;
  }
  for (const g of groups) {
    const params = known(
      () => (g.props.parameters ?? []) as Array<{ name: string; value: string }>,
      [{ name: rule.parameter, value: rule.values[0] }],
    );
    const p = params.find((x) => x.name === rule.parameter);
    if (!p || !rule.values.includes(String(p.value)))
      report(
        `${label(owner)}: parameter group ${g.name} sets ${rule.parameter}=${p ? p.value : "(default)"}, not ` +
          `${rule.values[0]}.`,
        owner.urn,
      );
  }
}

export const rdsForceSsl: StackValidationPolicy = {
  name: "rds-force-ssl",
  description:
    "RDS and Aurora refuse unencrypted connections (rds.force_ssl / require_secure_transport in a parameter " +
    "group of the stack).",
  severity: "high",
  remediationSteps:
    'Give the instance (or the Aurora cluster) a parameter group with { name: "rds.force_ssl", value: "1" } for ' +
    "PostgreSQL, require_secure_transport=ON for MySQL.",
  validateStack: (args, report) => {
    for (const db of args.resources.filter((r) => r.type === T.rdsInstance)) {
      checkTls(
        db,
        engineOf(db, args.resources),
        targetsOf(args.resources, db, "parameterGroupName", [T.rdsParameterGroup], ["name", "id"]),
        "parameterGroupName",
        report,
      );
    }
    for (const cluster of args.resources.filter((r) => r.type === T.rdsCluster)) {
      const engine = known(() => cluster.props.engine as string | undefined, undefined);
      checkTls(
        cluster,
        engine,
        targetsOf(args.resources, cluster, "dbClusterParameterGroupName", [T.rdsClusterParameterGroup], ["name", "id"]),
        "dbClusterParameterGroupName",
        report,
      );
    }
  },
};

const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";

export const dbMasterPasswordGenerated: StackValidationPolicy = {
  name: "db-master-password-generated",
  description:
    "Database master passwords are never written by hand: RDS manages them (manageMasterUserPassword) or the " +
    "stack generates them (random.RandomPassword).",
  severity: "high",
  remediationSteps:
    "Set manageMasterUserPassword: true, or — where RDS cannot manage it (a source of read replicas) — pass the " +
    "result of a random.RandomPassword, kept as a Pulumi secret and in Secrets Manager (DatabaseCredentials).",
  validateStack: (args, report) => {
    const check = (db: PolicyResource, passwordProp: string) => {
      if (isTrue(known(() => db.props.manageMasterUserPassword, false))) return;
      if (!isSet(() => db.props[passwordProp])) {
        report(`${label(db)}: neither manageMasterUserPassword nor a ${passwordProp} is set.`, db.urn);
        return;
      }
      const generated = (db.propertyDependencies[passwordProp] ?? []).some((d) => d.type === RANDOM_PASSWORD);
      if (!generated)
        report(
          `${label(db)}: ${passwordProp} is not generated by a RandomPassword of this stack; a typed or ` +
            `configured password is in the program's history and every operator's shell.`,
          db.urn,
        );
    };
    for (const db of args.resources.filter((r) => r.type === T.rdsInstance)) {
      // Replicas and restores take the source's credentials.
      if (
        isSet(() => db.props.replicateSourceDb) ||
        isSet(() => db.props.snapshotIdentifier) ||
        isSet(() => db.props.restoreToPointInTime)
      )
        continue;
      check(db, "password");
    }
    // Secondary clusters of a global database carry no credentials of their own.
    for (const c of args.resources.filter((r) => r.type === T.rdsCluster && isSet(() => r.props.masterUsername)))
      check(c, "masterPassword");
  },
};

function deniesInsecureTransport(doc: { Statement?: unknown } | undefined, service: string): boolean {
  return statementsOf(doc).some((s: IamStatement) => {
    if (s.Effect !== "Deny") return false;
    const secure = s.Condition?.Bool?.["aws:SecureTransport"];
    if (!strings(secure).includes("false")) return false;
    const actions = strings(s.Action);
    const principals = s.Principal === "*" ? ["*"] : strings((s.Principal as { AWS?: unknown } | undefined)?.AWS);
    return principals.includes("*") && (actions.includes("*") || actions.includes(`${service}:*`));
  });
}

export const denyInsecureTransport: StackValidationPolicy = {
  name: "deny-insecure-transport",
  description:
    "Every bucket and queue has a resource policy that denies requests without TLS (aws:SecureTransport false).",
  severity: "medium",
  remediationSteps:
    'Attach a BucketPolicy / QueuePolicy with { Effect: "Deny", Principal: "*", Action: "s3:*" (or "sqs:*"), ' +
    'Condition: { Bool: { "aws:SecureTransport": "false" } } }.',
  validateStack: (args, report) => {
    const check = (owner: PolicyResource, policies: PolicyResource[], service: string) => {
      if (policies.length === 0) {
        report(`${label(owner)} has no ${service === "s3" ? "BucketPolicy" : "QueuePolicy"}.`, owner.urn);
        return;
      }
      // The document is usually computed (it names the resource's ARN); until `up` its presence is what is known.
      const docs = policies.map((p) =>
        known<{ Statement?: unknown } | null | "unknown">(() => policyDocument(p.props.policy) ?? null, "unknown"),
      );
      if (docs.includes("unknown")) return;
      if (!docs.some((d) => d !== null && d !== "unknown" && deniesInsecureTransport(d, service)))
        report(
          `${label(owner)}: no statement of its policy denies ${service}:* when aws:SecureTransport is false.`,
          owner.urn,
        );
    };
    for (const bucket of args.resources.filter((r) => BUCKET_TYPES.includes(r.type)))
      check(bucket, referrersOf(args.resources, bucket, [T.bucketPolicy], "bucket", ["id", "bucket"]), "s3");
    for (const queue of args.resources.filter((r) => r.type === T.queue))
      check(queue, referrersOf(args.resources, queue, [T.queuePolicy], "queueUrl", ["url", "id"]), "sqs");
  },
};

export const DATA_POLICIES = [
  rdsStorageEncrypted,
  elasticacheEncryptedAtRest,
  elasticacheEncryptedInTransit,
  ebsEncrypted,
  sqsEncrypted,
  s3BucketEncrypted,
  s3BlockPublicAccess,
  rdsForceSsl,
  dbMasterPasswordGenerated,
  denyInsecureTransport,
];
