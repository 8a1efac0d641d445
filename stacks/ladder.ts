import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LadderConfig } from "./config";
import { buildRegion } from "./region";
import { STEPS } from "./steps";

/**
 * The whole program: one provider per region (default tags `project`, `stack`, `step` applied by the provider, not
 * by each resource), the primary region's platform, and the stack outputs an operator needs next.
 */
export function ladder(cfg: LadderConfig): Record<string, pulumi.Input<unknown>> {
  if (cfg.builtStep < cfg.step) {
    const missing = STEPS.filter((s) => s.step > cfg.builtStep && s.step <= cfg.step).map((s) => `${s.step} (${s.name})`);
    pulumi.log.warn(`scale-ladder:step is ${cfg.step}, but this version builds up to step ${cfg.builtStep}; composing steps 1–${cfg.builtStep} without ${missing.join(", ")}.`);
  }
  const defaultTags = { project: pulumi.getProject(), stack: pulumi.getStack(), step: String(cfg.step) };
  const provider = new aws.Provider(`aws-${cfg.region}`, { region: cfg.region as aws.Region, defaultTags: { tags: defaultTags } });
  // CloudFront reads viewer certificates from us-east-1 only.
  const certificateProvider =
    cfg.region === "us-east-1" || cfg.builtStep < 6 || !cfg.dns
      ? provider
      : new aws.Provider("aws-us-east-1-certificates", { region: "us-east-1", defaultTags: { tags: defaultTags } });
  const primary = buildRegion(cfg, { name: cfg.region, provider, certificateProvider });

  const outputs: Record<string, pulumi.Input<unknown> | undefined> = {
    step: cfg.step,
    builtStep: cfg.builtStep,
    environment: cfg.environment,
    region: cfg.region,
    siteUrl: primary.siteUrl,
    serverInstanceId: primary.serverInstanceId,
    sessionCommand: primary.sessionCommand,
    loadBalancerDnsName: primary.loadBalancerDnsName,
    webGroupName: primary.webGroupName,
    databaseEndpoint: primary.databaseEndpoint,
    databaseSecretArn: primary.databaseSecretArn,
    databaseReplicaEndpoints: primary.databaseReplicaEndpoints,
    cacheEndpoint: primary.cacheEndpoint,
    cdnDomainName: primary.cdnDomainName,
    orderQueueUrl: primary.orderQueueUrl,
    deadLetterQueueUrl: primary.deadLetterQueueUrl,
    workerGroupName: primary.workerGroupName,
    shardEndpoints: primary.shardEndpoints,
    shardMapParameterName: primary.shardMapParameterName,
    dashboardUrl: primary.dashboardUrl,
    alarmTopicArn: primary.alarmTopicArn,
    artifactBucket: primary.artifactBucket,
    releaseUri: primary.releaseUri,
    adminToken: primary.adminToken,
  };
  // An output a step does not have is left out, not exported as undefined (which Pulumi warns about).
  return Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined)) as Record<string, pulumi.Input<unknown>>;
}
