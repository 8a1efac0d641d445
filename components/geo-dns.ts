import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** One region behind the geolocation name. */
export interface GeoRegion {
  /** Short code used in resource names, e.g. `use1`. */
  code: string;
  region: string;
  provider: aws.Provider;
  /** The region's load balancer (alias target) and its target group, whose `/readyz` checks make the health. */
  albDnsName: pulumi.Input<string>;
  albZoneId: pulumi.Input<string>;
  albArnSuffix: pulumi.Input<string>;
  targetGroupArnSuffix: pulumi.Input<string>;
  /** Continents this region answers (Route 53 codes: AF, AN, AS, EU, NA, OC, SA). */
  continents: string[];
}

/** Arguments for {@link GeoDns}. */
export interface GeoDnsArgs {
  hostedZoneId: pulumi.Input<string>;
  /** The name being routed, e.g. `origin.shop.example.com`. */
  name: string;
  /** The regions; the first is the primary and also answers the default (`*`) location. */
  regions: GeoRegion[];
}

/**
 * Step 11: geolocation routing of one name across regions, with health.
 *
 * Each region gets a CloudWatch alarm on its target group's healthy host count — the count of servers whose
 * `/readyz` passes the load balancer's checks — and a Route 53 health check that follows the alarm. A health check
 * that probed `/readyz` itself would be refused: from step 6 the ALBs admit only CloudFront, with a secret header
 * Route 53 cannot send. Each continent gets a record to its region; a region whose health check fails stops being
 * answered, and Route 53 falls back to the default record: the primary's, created by the stack at step 6, with no
 * health check of its own — it is the last resort, answered even when the primary is down (the region failover
 * runbook moves it).
 *
 * Cost: $0.50/month per health check (CloudWatch-metric type) and $0.10 per alarm; geolocation queries
 * $0.70 per million.
 */
export class GeoDns extends pulumi.ComponentResource {
  /** Health check id of each region, in the order given. */
  public readonly healthCheckIds: pulumi.Output<string>[];

  constructor(name: string, args: GeoDnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:dns:GeoDns", name, {}, opts);
    this.healthCheckIds = args.regions.map((r) => {
      const alarm = new aws.cloudwatch.MetricAlarm(
        `${name}-${r.code}-healthy-hosts`,
        {
          alarmDescription: `No server in ${r.region} passes /readyz: geolocation DNS stops sending users there`,
          namespace: "AWS/ApplicationELB",
          metricName: "HealthyHostCount",
          statistic: "Minimum",
          dimensions: { LoadBalancer: r.albArnSuffix, TargetGroup: r.targetGroupArnSuffix },
          period: 60,
          evaluationPeriods: 2,
          comparisonOperator: "LessThanThreshold",
          threshold: 1,
          treatMissingData: "breaching",
        },
        { parent: this, provider: r.provider },
      );
      return new aws.route53.HealthCheck(
        `${name}-${r.code}-health`,
        {
          type: "CLOUDWATCH_METRIC",
          cloudwatchAlarmName: alarm.name,
          cloudwatchAlarmRegion: r.region,
          insufficientDataHealthStatus: "LastKnownStatus",
          tags: { Name: `${name}-${r.region}` },
        },
        { parent: this, provider: r.provider },
      ).id;
    });
    args.regions.forEach((r, i) => {
      for (const continent of r.continents) {
        new aws.route53.Record(
          `${name}-${r.code}-${continent.toLowerCase()}`,
          {
            zoneId: args.hostedZoneId,
            name: args.name,
            type: "A",
            setIdentifier: `${continent}-${r.region}`,
            geolocationRoutingPolicies: [{ continent }],
            healthCheckId: this.healthCheckIds[i],
            aliases: [{ name: r.albDnsName, zoneId: r.albZoneId, evaluateTargetHealth: true }],
          },
          { parent: this, provider: r.provider },
        );
      }
    });
    this.registerOutputs({ healthCheckIds: this.healthCheckIds });
  }
}
