/**
 * The price table behind the plan's cost estimate (`npm run plan`), the policy pack's `cost-estimate` policy
 * (`pulumi preview --policy-pack policies`) and docs/pricing.md (generated from this module): one table, so that
 * the three always agree. It imports nothing, so the policy pack can load it beside its own dependencies.
 *
 * On-demand list prices in US dollars for us-east-1 (N. Virginia), Linux, no upfront commitment, no free tier, as
 * AWS publishes them on the pricing pages in `PRICE_SOURCES`. They were compiled on `PRICES_AS_OF` from those
 * published rates; this machine reaches no pricing API, so the figures were not fetched live: re-check them in the
 * AWS Pricing Calculator before budgeting. Other regions are priced at these rates and the estimate says so
 * (most cost 5–15% more).
 *
 * A month is 730 hours. What is not included — transfer, requests, storage growth and the like — is listed in
 * `NOT_INCLUDED`, and printed under every estimate.
 */

export const PRICES_AS_OF = "2026-11-28";
export const PRICE_REGION = "us-east-1";
export const HOURS_PER_MONTH = 730;

export const PRICE_SOURCES = {
  "EC2 instances, EBS, Elastic IP / public IPv4": "https://aws.amazon.com/ec2/pricing/on-demand/",
  "NAT gateway": "https://aws.amazon.com/vpc/pricing/",
  "Application Load Balancer": "https://aws.amazon.com/elasticloadbalancing/pricing/",
  "RDS for PostgreSQL": "https://aws.amazon.com/rds/postgresql/pricing/",
  "Aurora PostgreSQL": "https://aws.amazon.com/rds/aurora/pricing/",
  "ElastiCache (Valkey)": "https://aws.amazon.com/elasticache/pricing/",
  "Secrets Manager": "https://aws.amazon.com/secrets-manager/pricing/",
  "CloudWatch (dashboards, alarms, custom metrics)": "https://aws.amazon.com/cloudwatch/pricing/",
  "Route 53 health checks": "https://aws.amazon.com/route53/pricing/",
  "AWS WAF (web ACLs, rules, requests)": "https://aws.amazon.com/waf/pricing/",
  "CloudWatch Logs vended logs (WAF logs)": "https://aws.amazon.com/cloudwatch/pricing/",
  "AWS Fault Injection Service": "https://aws.amazon.com/fis/pricing/",
} as const satisfies Readonly<Record<string, string>>;

/** A page of `PRICE_SOURCES`, by its title. */
export type PriceSource = keyof typeof PRICE_SOURCES;
const EC2 = "EC2 instances, EBS, Elastic IP / public IPv4";
const CLOUDWATCH = "CloudWatch (dashboards, alarms, custom metrics)";
const WAF = "AWS WAF (web ACLs, rules, requests)";

/** EC2 Linux on-demand, $ per hour. */
export const EC2_HOURLY: Readonly<Record<string, number>> = {
  "t4g.nano": 0.0042,
  "t4g.micro": 0.0084,
  "t4g.small": 0.0168,
  "t4g.medium": 0.0336,
  "t4g.large": 0.0672,
  "t4g.xlarge": 0.1344,
  "t3.micro": 0.0104,
  "t3.small": 0.0208,
  "t3.medium": 0.0416,
  "t3.large": 0.0832,
  "m7g.medium": 0.0408,
  "m7g.large": 0.0816,
  "m7g.xlarge": 0.1632,
  "c7g.large": 0.0725,
  "m5.large": 0.096,
};

/** RDS for PostgreSQL, single-AZ, $ per hour; Multi-AZ (one standby) is twice this. */
export const RDS_POSTGRES_HOURLY: Readonly<Record<string, number>> = {
  "db.t4g.micro": 0.016,
  "db.t4g.small": 0.032,
  "db.t4g.medium": 0.065,
  "db.t4g.large": 0.129,
  "db.t3.micro": 0.018,
  "db.t3.small": 0.036,
  "db.t3.medium": 0.072,
};

/** Aurora PostgreSQL (Standard configuration), $ per instance-hour. */
export const AURORA_POSTGRES_HOURLY: Readonly<Record<string, number>> = {
  "db.t4g.medium": 0.073,
  "db.t4g.large": 0.146,
  "db.t3.medium": 0.082,
  "db.r6g.large": 0.26,
};

/** ElastiCache for Valkey, $ per node-hour (20% below the Redis OSS price of the same node). */
export const VALKEY_HOURLY: Readonly<Record<string, number>> = {
  "cache.t4g.micro": 0.0128,
  "cache.t4g.small": 0.0256,
  "cache.t4g.medium": 0.052,
};

/** Flat rates. */
export const RATES = {
  /** EBS gp3, $ per GB-month (the 3,000 IOPS / 125 MB/s baseline is included). */
  ebsGp3PerGbMonth: 0.08,
  /** RDS gp3 storage, single-AZ, $ per GB-month; Multi-AZ is twice this. */
  rdsGp3PerGbMonth: 0.115,
  /** Every public IPv4 address (Elastic IP, NAT gateway, each ALB node), $ per hour. */
  publicIpv4PerHour: 0.005,
  natGatewayPerHour: 0.045,
  albPerHour: 0.0225,
  /** One secret, $ per month (API calls extra). */
  secretPerMonth: 0.4,
  cloudwatchDashboardPerMonth: 3,
  /** A standard-resolution alarm, $ per metric it evaluates, per month. */
  cloudwatchAlarmPerMetricMonth: 0.1,
  /** A composite alarm (the fault drills' stop condition, step 10+), $ per month. */
  cloudwatchCompositeAlarmPerMonth: 0.5,
  /** Custom metrics (the CloudWatch agent's, EC2 detailed monitoring's), $ per metric-month, first 10,000. */
  cloudwatchMetricPerMonth: 0.3,
  /** EC2 detailed monitoring sends 7 metrics per instance at the custom-metric rate. */
  detailedMonitoringMetricsPerInstance: 7,
  route53HealthCheckPerMonth: 0.5,
  /** AWS WAF: one web ACL, $ per month (prorated hourly). */
  wafWebAclPerMonth: 5,
  /** AWS WAF: one rule or managed rule group in a web ACL, $ per month. */
  wafRulePerMonth: 1,
  /** AWS WAF: $ per million requests a web ACL inspects (up to 1,500 WCU; this ladder's ACLs use 927). */
  wafPerMillionRequests: 0.6,
  /** WAF logs to CloudWatch Logs are vended logs: $ per GB ingested, first 10 TB a month. */
  wafLogsIngestPerGb: 0.5,
} as const;

/** The page each table's prices come from. */
export const TABLE_SOURCES = {
  EC2_HOURLY: EC2,
  RDS_POSTGRES_HOURLY: "RDS for PostgreSQL",
  AURORA_POSTGRES_HOURLY: "Aurora PostgreSQL",
  VALKEY_HOURLY: "ElastiCache (Valkey)",
} as const satisfies Readonly<Record<string, PriceSource>>;

/** The page each flat rate comes from: one entry per key of `RATES` (the type refuses a rate without a source). */
export const RATE_SOURCES: Readonly<Record<keyof typeof RATES, PriceSource>> = {
  ebsGp3PerGbMonth: EC2,
  rdsGp3PerGbMonth: "RDS for PostgreSQL",
  // AWS lists the public IPv4 charge on the VPC pricing page too; the EC2 page carries it for Elastic IPs.
  publicIpv4PerHour: EC2,
  natGatewayPerHour: "NAT gateway",
  albPerHour: "Application Load Balancer",
  secretPerMonth: "Secrets Manager",
  cloudwatchDashboardPerMonth: CLOUDWATCH,
  cloudwatchAlarmPerMetricMonth: CLOUDWATCH,
  cloudwatchCompositeAlarmPerMonth: CLOUDWATCH,
  cloudwatchMetricPerMonth: CLOUDWATCH,
  detailedMonitoringMetricsPerInstance: CLOUDWATCH,
  route53HealthCheckPerMonth: "Route 53 health checks",
  wafWebAclPerMonth: WAF,
  wafRulePerMonth: WAF,
  wafPerMillionRequests: WAF,
  wafLogsIngestPerGb: "CloudWatch Logs vended logs (WAF logs)",
};

/** What the estimate leaves out, printed beside every figure. */
export const NOT_INCLUDED: readonly string[] = [
  "data transfer: internet egress, inter-AZ, inter-region (peering and replication), NAT gateway processing " +
    "($0.045/GB)",
  "requests and usage: ALB LCUs, CloudFront requests and transfer, SQS requests, Secrets Manager and SSM API " +
    "calls, Route 53 queries",
  "AWS WAF requests ($0.60 per million per web ACL: from step 6 a request to the app passes two, CloudFront's and " +
    "the ALB's) and WAF log ingestion ($0.50/GB; a log record is about 1.5 KB, so a million requests log ~1.5 GB, " +
    "$0.75, per ACL)",
  "storage that grows with use: RDS storage beyond the allocated size, backups beyond the free allowance, " +
    "snapshots, Aurora storage and I/O, S3 objects (releases, static assets, access logs)",
  "CloudWatch Logs ingestion and storage, Performance Insights beyond 7 days",
  "AWS FIS experiments run from the fault-drill templates ($0.10 per action-minute: the 10-minute AZ outage, five " +
    "actions, about $5 a run; the templates themselves are free)",
  "the Route 53 hosted zone ($0.50/month), which the stack does not create",
  "the AWS free tier, Savings Plans, reserved instances, taxes",
  "scaling: fleets are priced at their desired (starting) capacity; each fleet line says what its maximum size " +
    "would add",
];
