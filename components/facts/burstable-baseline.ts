/**
 * The baseline CPU of burstable instances: the share of its vCPUs a T instance can use without end. Above it the
 * instance spends CPU credits, and in standard mode it is held at the baseline once they are gone; in unlimited
 * mode (the T4g and T3 default) it keeps bursting and pays for surplus credits. Sustained CPU above the baseline is
 * the "when to climb" signal of the tiers that run on them (stacks/climb-signals.ts). Read on 2026-12-02.
 *
 * Source: Amazon EC2 User Guide, "Key concepts and definitions for burstable performance instances", credit table
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/burstable-credits-baseline-concepts.html): baseline
 * utilization per vCPU, the same for T4g, T3a and T3 sizes. RDS burstable classes (db.t4g, db.t3) run on the EC2
 * type of the same name (RDS User Guide, "DB instance class types",
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Types.html), so `db.t4g.micro` has
 * `t4g.micro`'s baseline.
 */
import { vcpusOf } from "./instance-vcpus";

/** Baseline utilization per vCPU, percent, by size. */
const BASELINE_BY_SIZE: Readonly<Record<string, number>> = {
  nano: 5,
  micro: 10,
  small: 20,
  medium: 20,
  large: 30,
  xlarge: 40,
  "2xlarge": 40,
};

/** The burstable families these baselines hold for. */
const BURSTABLE_FAMILIES = ["t4g", "t3", "t3a"];

/**
 * The baseline CPU percent of an EC2 type (`t4g.small`) or RDS class (`db.t4g.micro`), or undefined when it is not
 * burstable (its CPU is its own without credits).
 */
export function baselineCpuPercent(instanceType: string): number | undefined {
  const m = /^(?:db\.)?([a-z0-9]+)\.([a-z0-9]+)$/.exec(instanceType);
  if (!m || !BURSTABLE_FAMILIES.includes(m[1])) return undefined;
  return BASELINE_BY_SIZE[m[2]];
}

/**
 * The vCPUs a process that runs on one thread (Valkey's command loop) can use without end on an instance type or
 * node type (`cache.t4g.micro`): at most one, and no more than the instance's credits give (its vCPUs × its
 * baseline; the other vCPUs earn credits the busy thread spends). AWS publishes no baseline for ElastiCache's
 * burstable nodes: they are taken to have their EC2 type's. The capacity model's cache tier (lib/capacity/model.ts)
 * and its "when to climb" signal (stacks/climb-signals.ts) both use it.
 */
export function oneThreadVcpus(type: string): number {
  const ec2 = type.replace(/^cache\./, "");
  return Math.min(1, (vcpusOf(ec2) * (baselineCpuPercent(ec2) ?? 100)) / 100);
}
