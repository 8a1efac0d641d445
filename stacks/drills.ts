/**
 * The fault drills, in one table: the name a local fault (`npm run local:fault -- <name>`) and the AWS FIS experiment
 * template of the same drill share, the step feature that makes the drill meaningful, and what it does on each side.
 * The program (components/fault-drills.ts via stacks/region.ts), local mode's fault list and the step pages read it.
 */
import { Feature, featuresAt } from "./steps";

export interface DrillInfo {
  /** The feature that must be on for the drill to exist (it is built from that feature's step up). */
  feature: Feature;
  /** What the FIS experiment does on AWS. */
  aws: string;
  /** Whether `npm run local:fault` has a fault of the same name (the AZ outage has no local counterpart). */
  local: boolean;
}

export const DRILLS = {
  "web-kill": {
    feature: "fleet",
    aws: "terminates one instance of the web fleet (aws:ec2:terminate-instances); the ASG replaces it",
    local: true,
  },
  "primary-failover": {
    feature: "replicas",
    aws: "reboots the RDS primary with forceFailover (aws:rds:reboot-db-instances): Multi-AZ fails over",
    local: true,
  },
  "redis-stop": {
    feature: "cache",
    aws:
      "interrupts power to the cache group's nodes in the first AZ " +
      "(aws:elasticache:replicationgroup-interrupt-az-power): a replica is promoted if the primary was there",
    local: true,
  },
  "worker-kill": {
    feature: "queue",
    aws:
      "SIGKILLs shop.service on one worker through Run Command (aws:ssm:send-command, AWS-RunShellScript); " +
      "systemd restarts it and SQS redelivers the order it held",
    local: true,
  },
  "az-outage": {
    feature: "replicas",
    aws:
      "the FIS scenario library's AZ Availability: Power Interruption, trimmed to what the ladder runs: stops the " +
      "fleets' instances in the first AZ, cuts that AZ's subnets (aws:network:disrupt-connectivity), fails over RDS " +
      "and, with a cache, ElastiCache; instances start again after the outage",
    local: false,
  },
} as const satisfies Record<string, DrillInfo>;
export type DrillName = keyof typeof DRILLS;

/** The drills that exist at `step`, in table order. */
export function drillsAt(step: number): DrillName[] {
  const f = featuresAt(step);
  return (Object.keys(DRILLS) as DrillName[]).filter((d) => f[DRILLS[d].feature]);
}
