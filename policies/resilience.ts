/**
 * Surviving mistakes and failures: backups, standbys in another AZ, protection from deletion in production, logs
 * that expire, and queues whose poison messages go somewhere.
 */
import * as aws from "@pulumi/aws";
import {
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationPolicy,
  validateResourceOfType,
} from "@pulumi/policy";
import { CONTEXT_SCHEMA, fromStep, resourceContext, stackContext } from "./context";
import { T, isSet, isTrue, known, label, policyDocument, referrersOf, strings } from "./relations";

/** Steps from which a database, and a cache, must keep a standby in another AZ. */
export const MULTI_AZ_FROM = { databaseDev: 4, databaseProd: 2, cache: 5 } as const;

export const backupRetention: ResourceValidationPolicy = {
  name: "backup-retention",
  description: "Databases keep automated backups for at least 7 days.",
  severity: "high",
  configSchema: { properties: { minimumDays: { type: "integer", minimum: 1, maximum: 35, default: 7 } } },
  remediationSteps: "Set backupRetentionPeriod to 7 or more (RDS allows up to 35).",
  validateResource: [
    validateResourceOfType(aws.rds.Instance, (db, args, report) => {
      // Replicas take their backups from the source.
      if (isSet(() => db.replicateSourceDb)) return;
      const min = args.getConfig<{ minimumDays?: number }>().minimumDays ?? 7;
      if ((db.backupRetentionPeriod ?? 1) < min)
        report(
          `${args.name}: backupRetentionPeriod is ${db.backupRetentionPeriod ?? "unset (1 day)"}, under ${min} days.`,
        );
    }),
    validateResourceOfType(aws.rds.Cluster, (c, args, report) => {
      const min = args.getConfig<{ minimumDays?: number }>().minimumDays ?? 7;
      if ((c.backupRetentionPeriod ?? 1) < min)
        report(
          `${args.name}: backupRetentionPeriod is ${c.backupRetentionPeriod ?? "unset (1 day)"}, under ${min} days.`,
        );
    }),
  ],
};

export const multiAzDatabases: StackValidationPolicy = {
  name: "multi-az-databases",
  description:
    "From step 4 (step 2 in prod) every database has a standby in another AZ: Multi-AZ RDS primaries, Aurora " +
    "clusters of two or more instances.",
  severity: "high",
  configSchema: CONTEXT_SCHEMA,
  remediationSteps:
    "Set multiAz: true on the RDS primary (scale-ladder:dbMultiAz); give every Aurora cluster a writer and at " +
    "least one reader in different AZs.",
  validateStack: (args, report) => {
    const ctx = stackContext(args.getConfig(), args.resources);
    const from = ctx.environment === "prod" ? MULTI_AZ_FROM.databaseProd : MULTI_AZ_FROM.databaseDev;
    if (!fromStep(ctx.step, from))
      args.notApplicable(`step ${ctx.step} is below ${from}, where Multi-AZ starts in ${ctx.environment}`);
    for (const db of args.resources.filter((r) => r.type === T.rdsInstance)) {
      if (isSet(() => db.props.replicateSourceDb)) continue;
      if (!isTrue(known(() => db.props.multiAz, true)))
        report(
          `${label(db)}: multiAz is ${known(() => db.props.multiAz, undefined) ?? "unset (false)"} at step ` +
            `${ctx.step ?? "(unknown)"} in ${ctx.environment}.`,
          db.urn,
        );
    }
    for (const cluster of args.resources.filter((r) => r.type === T.rdsCluster)) {
      const members = referrersOf(args.resources, cluster, [T.rdsClusterInstance], "clusterIdentifier", [
        "clusterIdentifier",
        "id",
      ]);
      // A secondary cluster of a global database (it joins one and has no credentials of its own) is the other
      // region's standby: one reader lets it take over; its own second AZ is a cost the owner may choose.
      const secondary =
        isSet(() => cluster.props.globalClusterIdentifier) && !isSet(() => cluster.props.masterUsername);
      const needed = secondary ? 1 : 2;
      if (members.length < needed) {
        report(
          `${label(cluster)} has ${members.length} instance${members.length === 1 ? "" : "s"}; ` +
            (secondary
              ? "a secondary cluster needs a reader to take over."
              : "a writer and at least one reader in another AZ are needed for failover."),
          cluster.urn,
        );
        continue;
      }
      if (secondary) continue;
      const zones = members.map((m) => known(() => m.props.availabilityZone as string | undefined, undefined));
      if (zones.every((z) => z !== undefined) && new Set(zones).size < 2)
        report(`${label(cluster)}: all its instances are pinned to ${zones[0]}.`, cluster.urn);
    }
  },
};

export const multiAzCache: ResourceValidationPolicy = {
  name: "multi-az-cache",
  description: "From step 5 the cache keeps a replica in another AZ with automatic failover.",
  severity: "medium",
  configSchema: CONTEXT_SCHEMA,
  remediationSteps:
    "Set numCacheClusters ≥ 2 (scale-ladder:cacheReplicas ≥ 1), automaticFailoverEnabled: true and " +
    "multiAzEnabled: true.",
  validateResource: validateResourceOfType(aws.elasticache.ReplicationGroup, (rg, args, report) => {
    const ctx = resourceContext(args.getConfig(), args.provider);
    if (!fromStep(ctx.step, MULTI_AZ_FROM.cache))
      args.notApplicable(`step ${ctx.step} is below ${MULTI_AZ_FROM.cache}`);
    const nodes = rg.numCacheClusters ?? (rg.replicasPerNodeGroup !== undefined ? 1 + rg.replicasPerNodeGroup : 1);
    if (nodes < 2)
      report(`${args.name}: ${nodes} node${nodes === 1 ? "" : "s"} per shard; a replica is needed for failover.`);
    if (!isTrue(rg.automaticFailoverEnabled))
      report(`${args.name}: automaticFailoverEnabled is ${rg.automaticFailoverEnabled ?? "unset (false)"}.`);
    if (!isTrue(rg.multiAzEnabled)) report(`${args.name}: multiAzEnabled is ${rg.multiAzEnabled ?? "unset (false)"}.`);
  }),
};

/** Skip a resource policy in dev: deletion protection is a production rule. */
function inProd(args: {
  getConfig<T extends object>(): T;
  provider?: Parameters<typeof resourceContext>[1];
  notApplicable(reason?: string): never;
}): void {
  const ctx = resourceContext(args.getConfig(), args.provider);
  if (ctx.environment !== "prod") args.notApplicable("a dev stack");
}

export const deletionProtectionInProd: ResourceValidationPolicy = {
  name: "deletion-protection-in-prod",
  description:
    "In prod, databases and load balancers refuse deletion, databases leave a final snapshot, buckets and " +
    "secrets are not destroyed with their contents.",
  severity: "high",
  configSchema: CONTEXT_SCHEMA,
  remediationSteps:
    "With scale-ladder:environment prod the components do this: deletionProtection / enableDeletionProtection " +
    "true, skipFinalSnapshot false with a finalSnapshotIdentifier, forceDestroy false, recoveryWindowInDays > 0.",
  validateResource: [
    validateResourceOfType(aws.rds.Instance, (db, args, report) => {
      inProd(args);
      if (!isTrue(db.deletionProtection))
        report(`${args.name}: deletionProtection is ${db.deletionProtection ?? "unset (false)"}.`);
      const primary = !isSet(() => db.replicateSourceDb);
      if (primary && (isTrue(db.skipFinalSnapshot) || !isSet(() => db.finalSnapshotIdentifier)))
        report(
          `${args.name}: no final snapshot on deletion (skipFinalSnapshot ${db.skipFinalSnapshot ?? "unset"}, ` +
            `finalSnapshotIdentifier ${db.finalSnapshotIdentifier ?? "unset"}).`,
        );
    }),
    validateResourceOfType(aws.rds.Cluster, (c, args, report) => {
      inProd(args);
      if (!isTrue(c.deletionProtection))
        report(`${args.name}: deletionProtection is ${c.deletionProtection ?? "unset (false)"}.`);
      // A secondary cluster of a global database (no credentials of its own) is deleted without a snapshot.
      if (isSet(() => c.masterUsername) && (isTrue(c.skipFinalSnapshot) || !isSet(() => c.finalSnapshotIdentifier)))
        report(`${args.name}: no final snapshot on deletion.`);
    }),
    validateResourceOfType(aws.rds.GlobalCluster, (g, args, report) => {
      inProd(args);
      if (!isTrue(g.deletionProtection))
        report(`${args.name}: deletionProtection is ${g.deletionProtection ?? "unset (false)"}.`);
    }),
    ...[aws.lb.LoadBalancer, aws.alb.LoadBalancer].map((cls) =>
      validateResourceOfType(cls, (lb, args, report) => {
        inProd(args);
        if (!isTrue(lb.enableDeletionProtection))
          report(`${args.name}: enableDeletionProtection is ${lb.enableDeletionProtection ?? "unset (false)"}.`);
      }),
    ),
    validateResourceOfType(aws.s3.Bucket, (b, args, report) => {
      inProd(args);
      if (isTrue(b.forceDestroy))
        report(`${args.name}: forceDestroy is true; \`pulumi destroy\` would delete every object with it.`);
    }),
    validateResourceOfType(aws.s3.BucketV2, (b, args, report) => {
      inProd(args);
      if (isTrue(b.forceDestroy))
        report(`${args.name}: forceDestroy is true; \`pulumi destroy\` would delete every object with it.`);
    }),
    validateResourceOfType(aws.secretsmanager.Secret, (s, args, report) => {
      inProd(args);
      if (s.recoveryWindowInDays === 0)
        report(`${args.name}: recoveryWindowInDays is 0; a deleted secret could not be recovered.`);
    }),
  ],
};

export const logGroupRetention: ResourceValidationPolicy = {
  name: "log-group-retention",
  description: "Every CloudWatch log group expires its events (retentionInDays set).",
  severity: "low",
  remediationSteps: "Set retentionInDays (e.g. 30 in dev, 365 in prod); without it logs are kept, and billed, forever.",
  validateResource: validateResourceOfType(aws.cloudwatch.LogGroup, (g, args, report) => {
    if (!g.retentionInDays) report(`${args.name}: retentionInDays is ${g.retentionInDays ?? "unset"} (never expire).`);
  }),
};

/** Queues some other queue's redrive policy, or a redrive-allow policy, names as their dead-letter queue. */
function deadLetterQueues(resources: readonly PolicyResource[]): Set<string> {
  const queues = resources.filter((r) => r.type === T.queue);
  const dlqs = new Set<string>();
  for (const q of queues) {
    for (const dep of q.propertyDependencies.redrivePolicy ?? [])
      if (dep.type === T.queue && dep.urn !== q.urn) dlqs.add(dep.urn);
    const target = known(() => policyDocumentTarget(q.props.redrivePolicy), undefined);
    if (target) for (const other of queues) if (known(() => other.props.arn, undefined) === target) dlqs.add(other.urn);
  }
  for (const allow of resources.filter((r) => r.type === T.redriveAllowPolicy)) {
    for (const q of queues)
      if (referrersOf([allow], q, [T.redriveAllowPolicy], "queueUrl", ["url", "id"]).length > 0) dlqs.add(q.urn);
  }
  return dlqs;
}

function policyDocumentTarget(redrivePolicy: unknown): string | undefined {
  const doc = policyDocument(redrivePolicy) as { deadLetterTargetArn?: string } | undefined;
  return doc?.deadLetterTargetArn;
}

export const sqsDeadLetterQueue: StackValidationPolicy = {
  name: "sqs-dead-letter-queue",
  description: "Every SQS queue that is not itself a dead-letter queue has one (redrivePolicy with maxReceiveCount).",
  severity: "medium",
  remediationSteps:
    "Create a second queue and set redrivePolicy: JSON { deadLetterTargetArn: dlq.arn, maxReceiveCount: 5 } " +
    "(the Queue component does).",
  validateStack: (args, report) => {
    const dlqs = deadLetterQueues(args.resources);
    for (const q of args.resources.filter((r) => r.type === T.queue && !dlqs.has(r.urn))) {
      if (!isSet(() => q.props.redrivePolicy)) {
        report(`${label(q)} has no redrivePolicy: a message that always fails is retried until it expires.`, q.urn);
        continue;
      }
      const doc = known(
        () =>
          policyDocument(q.props.redrivePolicy) as
            { deadLetterTargetArn?: string; maxReceiveCount?: number } | undefined,
        { deadLetterTargetArn: "(unknown)", maxReceiveCount: 1 },
      );
      if (!doc || !doc.deadLetterTargetArn || !(Number(doc.maxReceiveCount) >= 1))
        report(
          `${label(q)}: redrivePolicy ${strings(q.props.redrivePolicy).join("")} names no dead-letter queue ` +
            `with a maxReceiveCount.`,
          q.urn,
        );
    }
  },
};

export const RESILIENCE_POLICIES = [
  backupRetention,
  multiAzDatabases,
  multiAzCache,
  deletionProtectionInProd,
  logGroupRetention,
  sqsDeadLetterQueue,
];
