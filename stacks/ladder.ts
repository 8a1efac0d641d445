import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GeoDns } from "../components/geo-dns";
import { VpcPeering } from "../components/vpc-peering";
import { LadderConfig } from "./config";
import { RegionOutputs, RegionParts, RegionTarget, buildRegion, regionCode } from "./region";
import { STEPS, featuresAt } from "./steps";

/**
 * The whole program: one provider per region (default tags `project`, `stack`, `step` applied by the provider, not
 * by each resource), the primary region's platform, from step 11 the secondary regions beside it (peered, behind
 * geolocation DNS), and the stack outputs an operator needs next.
 */
export function ladder(cfg: LadderConfig): Record<string, pulumi.Input<unknown>> {
  const features = featuresAt(cfg.builtStep);
  if (cfg.builtStep !== cfg.step) {
    const missing = STEPS.filter((s) => s.step > cfg.builtStep && s.step <= cfg.step).map(
      (s) => `${s.step} (${s.name})`,
    );
    pulumi.log.warn(
      `scale-ladder:step is ${cfg.step}, but this version builds up to step ${cfg.builtStep}; composing steps ` +
        `1–${cfg.builtStep} without ${missing.join(", ")}.`,
    );
  }
  const defaultTags = { project: pulumi.getProject(), stack: pulumi.getStack(), step: String(cfg.step) };
  const providerFor = (region: string, name = `aws-${region}`) =>
    new aws.Provider(name, { region: region as aws.Region, defaultTags: { tags: defaultTags } });
  const provider = providerFor(cfg.region);
  // CloudFront reads viewer certificates and web ACLs from us-east-1 only. (The provider's name predates the web
  // ACL; renaming it would re-register everything created through it.)
  const certificateProvider =
    cfg.region === "us-east-1" || !features.cdn ? provider : providerFor("us-east-1", "aws-us-east-1-certificates");
  const primaryTarget: RegionTarget = { name: cfg.region, provider, certificateProvider, tags: defaultTags };
  const primary = buildRegion(cfg, primaryTarget);

  const secondaries: Array<{ target: RegionTarget; region: { outputs: RegionOutputs; parts: RegionParts } }> = [];
  if (features.multiRegion) {
    const shared = primary.parts.shared;
    if (!shared) throw new Error("step 11 needs the primary region's shared parts (database, shards, CDN secret)");
    for (const name of cfg.regions.secondaries) {
      const target: RegionTarget = { name, provider: providerFor(name), certificateProvider, tags: defaultTags };
      const region = buildRegion(cfg, target, { kind: "secondary", primary: shared });
      secondaries.push({ target, region });
      // awsx makes a route table per subnet: one private and one isolated per AZ.
      const routeTableCount = 2 * cfg.network.availabilityZones;
      new VpcPeering(`${primary.parts.code}-to-${region.parts.code}`, {
        requester: {
          vpcId: primary.parts.vpcId,
          cidr: cfg.regions.cidrs[cfg.region],
          region: cfg.region,
          provider,
          routeTableCount,
        },
        accepter: {
          vpcId: region.parts.vpcId,
          cidr: cfg.regions.cidrs[name],
          region: name,
          provider: target.provider,
          routeTableCount,
        },
      });
    }
    if (cfg.dns) {
      const all = [{ target: primaryTarget, region: primary }, ...secondaries];
      new GeoDns("geo", {
        hostedZoneId: cfg.dns.hostedZoneId,
        name: `origin.${cfg.dns.domain}`,
        regions: all.map(({ target, region }) => ({
          code: regionCode(target.name),
          region: target.name,
          provider: target.provider,
          albDnsName: region.parts.web!.dnsName,
          albZoneId: region.parts.web!.zoneId,
          albArnSuffix: region.parts.web!.arnSuffix,
          targetGroupArnSuffix: region.parts.web!.targetGroupArnSuffix,
          continents: Object.entries(cfg.regions.geo)
            .filter(([, r]) => r === target.name)
            .map(([continent]) => continent),
        })),
      });
    } else {
      pulumi.log.warn(
        "step 11 without scale-ladder:domain: the regions are built and peered, but there is no geolocation DNS " +
          "to spread users over them.",
      );
    }
  }

  const p = primary.outputs;
  const outputs: Record<string, pulumi.Input<unknown> | undefined> = {
    step: cfg.step,
    builtStep: cfg.builtStep,
    environment: cfg.environment,
    region: cfg.region,
    siteUrl: p.siteUrl,
    serverInstanceId: p.serverInstanceId,
    sessionCommand: p.sessionCommand,
    loadBalancerDnsName: p.loadBalancerDnsName,
    webGroupName: p.webGroupName,
    databaseEndpoint: p.databaseEndpoint,
    databaseSecretArn: p.databaseSecretArn,
    databaseReplicaEndpoints: p.databaseReplicaEndpoints,
    cacheEndpoint: p.cacheEndpoint,
    cdnDomainName: p.cdnDomainName,
    orderQueueUrl: p.orderQueueUrl,
    deadLetterQueueUrl: p.deadLetterQueueUrl,
    workerGroupName: p.workerGroupName,
    shardEndpoints: p.shardEndpoints,
    shardMapParameterName: p.shardMapParameterName,
    dashboardUrl: p.dashboardUrl,
    alarmTopicArn: p.alarmTopicArn,
    artifactBucket: p.artifactBucket,
    releaseUri: p.releaseUri,
    adminToken: p.adminToken,
    secondaryRegions:
      secondaries.length > 0
        ? Object.fromEntries(
            secondaries.map(({ target, region }) => [
              target.name,
              pulumi.output({
                loadBalancerDnsName: region.outputs.loadBalancerDnsName,
                databaseReplicaEndpoint: region.outputs.databaseEndpoint,
                orderQueueUrl: region.outputs.orderQueueUrl,
                dashboardUrl: region.outputs.dashboardUrl,
              }),
            ]),
          )
        : undefined,
  };
  // An output a step does not have is left out, not exported as undefined (which Pulumi warns about).
  return Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined)) as Record<
    string,
    pulumi.Input<unknown>
  >;
}
