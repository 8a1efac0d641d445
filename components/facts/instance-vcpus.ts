/**
 * vCPUs and memory of the EC2 types, RDS and Aurora classes and ElastiCache node types the ladder runs on: the
 * capacity model (lib/capacity/model.ts) gives each tier its vCPUs × its burstable baseline
 * (components/facts/burstable-baseline.ts). Read on 2026-12-02.
 *
 * Sources:
 * - EC2: Amazon EC2 Instance Types guide, "Specifications for Amazon EC2 general purpose instances"
 *   (https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html) and "... compute optimized" / "... memory
 *   optimized" (co.html, mo.html): T4g, T3 and T3a have 2 vCPUs from nano to large, 4 at xlarge, 8 at 2xlarge, and
 *   0.5, 1, 2, 4, 8, 16, 32 GiB; every other current family has 2 vCPUs at large and doubles with each size.
 * - RDS and Aurora: RDS User Guide, "Hardware specifications for DB instance classes"
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html): a `db.` class
 *   has the vCPUs of the EC2 type of the same name (db.t4g.micro 2 vCPUs, 1 GiB).
 * - ElastiCache: ElastiCache User Guide, "Supported node types"
 *   (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.SupportedTypes.html): cache.t4g.micro and
 *   cache.t4g.small 2 vCPUs, cache.t4g.medium 2, cache.m7g.large 2, then doubling with each size.
 */

/** vCPUs of the burstable sizes (T4g, T3, T3a). */
const BURSTABLE_VCPUS: Readonly<Record<string, number>> = {
  nano: 2,
  micro: 2,
  small: 2,
  medium: 2,
  large: 2,
  xlarge: 4,
  "2xlarge": 8,
};

/** vCPUs of every other current family's sizes (rds-max-connections.ts reads them too). */
export const SIZE_VCPUS: Readonly<Record<string, number>> = {
  medium: 1,
  large: 2,
  xlarge: 4,
  "2xlarge": 8,
  "4xlarge": 16,
  "8xlarge": 32,
  "12xlarge": 48,
  "16xlarge": 64,
  "24xlarge": 96,
  "32xlarge": 128,
  "48xlarge": 192,
};

/** The burstable families. */
const BURSTABLE = /^t[234]g?a?$/;

/**
 * vCPUs of an EC2 type (`t4g.small`), RDS or Aurora class (`db.r6g.large`) or ElastiCache node type
 * (`cache.t4g.micro`).
 * @throws naming the type and what this file knows, when it is not one of those shapes or sizes.
 */
export function vcpusOf(type: string): number {
  const m = /^(?:db\.|cache\.)?([a-z][a-z0-9-]*)\.([a-z0-9]+)$/.exec(type);
  const vcpus = m && (BURSTABLE.test(m[1]) ? BURSTABLE_VCPUS[m[2]] : SIZE_VCPUS[m[2]]);
  if (!vcpus)
    throw new Error(
      `${JSON.stringify(type)} has no vCPU fact in components/facts/instance-vcpus.ts: it knows <family>.<size> ` +
        `(optionally db. or cache.) for the burstable t3, t3a, t4g sizes nano to 2xlarge and the other families' ` +
        `sizes medium to 48xlarge`,
    );
  return vcpus;
}
