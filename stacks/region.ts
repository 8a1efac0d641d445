import * as aws from "@pulumi/aws";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { AppArtifact } from "../components/app-artifact";
import { AppSecrets } from "../components/app-secrets";
import { Cache } from "../components/cache";
import { Database } from "../components/database";
import { Network } from "../components/network";
import { SingleServer } from "../components/single-server";
import { DatabaseSource, appUserData } from "../components/user-data";
import { WebFleet } from "../components/web-fleet";
import { LadderConfig } from "./config";

/** A region the ladder runs in. */
export interface RegionTarget {
  /** AWS region name, e.g. `us-east-1`. */
  name: string;
  /** The provider every resource of the region is created through. */
  provider: aws.Provider;
}

/** What a region hands back to the stack outputs; absent keys do not apply at the step. */
export interface RegionOutputs {
  siteUrl: pulumi.Output<string>;
  serverInstanceId?: pulumi.Output<string>;
  sessionCommand?: pulumi.Output<string>;
  loadBalancerDnsName?: pulumi.Output<string>;
  webGroupName?: pulumi.Output<string>;
  databaseEndpoint?: pulumi.Output<string>;
  databaseSecretArn?: pulumi.Output<string>;
  databaseReplicaEndpoints?: pulumi.Output<string[]>;
  cacheEndpoint?: pulumi.Output<string>;
  artifactBucket: pulumi.Output<string>;
  releaseUri: pulumi.Output<string>;
  adminToken: pulumi.Output<string>;
}

/** `us-east-1` → `use1`: short, stable prefixes so that several regions' resources never collide. */
export function regionCode(region: string): string {
  const m = /^([a-z]{2})(?:-gov)?-([a-z]+)-(\d)$/.exec(region);
  if (!m) throw new Error(`not an AWS region name: ${JSON.stringify(region)}`);
  const direction = m[2].replace(/(north|south)(east|west)/, (_, a: string, b: string) => a[0] + b[0]).replace(/^(central|east|west|north|south)$/, (d) => d[0]);
  return `${m[1]}${direction}${m[3]}`;
}

/**
 * Builds one region's platform for the configured step. Every resource is named `<region code>-<role>` and created
 * through the region's provider, so a second region (step 11) is added beside this one without renaming anything.
 */
export function buildRegion(cfg: LadderConfig, region: RegionTarget): RegionOutputs {
  const code = regionCode(region.name);
  const opts: pulumi.ComponentResourceOptions = { providers: [region.provider] };
  const step = cfg.builtStep;
  const prod = cfg.environment === "prod";
  const fleet = step >= 3;

  const network = new Network(
    `${code}-network`,
    {
      region: region.name,
      cidrBlock: cfg.network.cidr,
      availabilityZones: cfg.network.availabilityZones,
      natGateways: cfg.network.natGateways,
      tiers: fleet ? ["web", "alb"] : ["web"],
    },
    opts,
  );
  const web = network.securityGroup("web");
  const artifact = new AppArtifact(`${code}-artifact`, { path: path.resolve(cfg.app.artifactPath), forceDestroy: !prod }, opts);
  const secrets = new AppSecrets(`${code}-secrets`, { recoveryWindowInDays: prod ? 30 : 7 }, opts);

  // Step 2: the database leaves the server. Step 4: Multi-AZ (config default) and read replicas.
  const database =
    step >= 2
      ? new Database(
          `${code}-db`,
          {
            vpcId: network.vpcId,
            subnetIds: network.isolatedSubnetIds,
            clientSecurityGroupIds: [web.id],
            instanceClass: cfg.database.instanceClass,
            allocatedStorageGb: cfg.database.allocatedStorageGb,
            maxAllocatedStorageGb: cfg.database.maxAllocatedStorageGb,
            backupRetentionDays: cfg.database.backupRetentionDays,
            multiAz: cfg.database.multiAz,
            replicas: cfg.database.replicas,
            availabilityZoneCount: cfg.network.availabilityZones,
            deletionProtection: prod,
            finalSnapshot: prod,
          },
          opts,
        )
      : undefined;
  const databaseSource: DatabaseSource = database
    ? { kind: "rds", host: database.address, port: database.port, dbName: database.dbName, secretArn: database.secretArn }
    : { kind: "local" };

  // Step 5: the cache tier.
  const cache =
    step >= 5
      ? new Cache(
          `${code}-cache`,
          {
            vpcId: network.vpcId,
            subnetIds: network.isolatedSubnetIds,
            clientSecurityGroupIds: [web.id],
            nodeType: cfg.cache.nodeType,
            replicas: cfg.cache.replicas,
            maxmemoryPolicy: cfg.cache.maxmemoryPolicy,
            snapshotRetentionDays: cfg.cache.snapshotRetentionDays,
            recoveryWindowInDays: prod ? 30 : 7,
            applyImmediately: !prod,
          },
          opts,
        )
      : undefined;

  const statements = [...artifact.readStatements, ...secrets.readStatements, ...(database?.readStatements ?? []), ...(cache?.readStatements ?? [])];
  const userData = (port: number, releaseUri?: pulumi.Input<string>) =>
    appUserData({
      releaseParameterName: artifact.releaseParameterName,
      appSecretsArn: secrets.secretArn,
      database: databaseSource,
      replicaHosts: database?.replicaAddresses,
      cache: cache ? { host: cache.primaryAddress, port: cache.port, secretArn: cache.authSecretArn, ttlSeconds: cfg.cache.ttlSeconds } : undefined,
      port,
      seedProducts: cfg.app.seedProducts,
      cookieSecure: fleet && cfg.dns !== undefined,
      releaseUri,
    });

  const common = {
    artifactBucket: artifact.bucket.bucketName,
    releaseUri: artifact.uri,
    adminToken: secrets.adminToken,
    databaseEndpoint: database ? pulumi.interpolate`${database.address}:${database.port}` : undefined,
    databaseSecretArn: database?.secretArn,
    databaseReplicaEndpoints: database && database.replicas.length > 0 ? pulumi.all(database.replicaAddresses) : undefined,
    cacheEndpoint: cache ? pulumi.interpolate`${cache.primaryAddress}:${cache.port}` : undefined,
  };

  if (!fleet) {
    const server = new SingleServer(
      `${code}-server`,
      {
        subnetId: network.publicSubnetIds.apply((ids) => ids[0]),
        securityGroupId: web.id,
        instanceType: cfg.server.instanceType,
        userData: userData(80),
        statements,
        releaseUri: artifact.uri,
      },
      opts,
    );
    const record = siteRecord(cfg, code, region, { records: [server.publicIp] });
    return {
      ...common,
      siteUrl: record ? pulumi.interpolate`http://${record.fqdn}/` : server.url,
      serverInstanceId: server.instanceId,
      sessionCommand: pulumi.interpolate`aws ssm start-session --region ${region.name} --target ${server.instanceId}`,
    };
  }

  // Step 3: the single server leaves (the one intended replacement of the climb); a fleet behind an ALB takes over.
  const webFleet = new WebFleet(
    `${code}-web`,
    {
      vpcId: network.vpcId,
      publicSubnetIds: network.publicSubnetIds,
      privateSubnetIds: network.privateSubnetIds,
      albSecurityGroupId: network.securityGroup("alb").id,
      webSecurityGroupId: web.id,
      userData: userData(APP_PORT, artifact.uri),
      statements,
      instanceType: cfg.web.instanceType,
      minSize: cfg.web.minSize,
      maxSize: cfg.web.maxSize,
      desiredCapacity: cfg.web.desiredCapacity,
      cpuTargetPercent: cfg.web.cpuTargetPercent,
      sticky: true,
      dns: cfg.dns,
      deletionProtection: prod,
    },
    opts,
  );
  siteRecord(cfg, code, region, { alias: { name: webFleet.dnsName, zoneId: webFleet.zoneId } });
  return { ...common, siteUrl: webFleet.url, loadBalancerDnsName: webFleet.dnsName, webGroupName: webFleet.group.name };
}

/** Port of the app behind the load balancer. */
export const APP_PORT = 3000;

/**
 * The site's DNS record, one resource for the life of the stack: an A record on the Elastic IP at steps 1–2, an
 * alias to the load balancer from step 3. Keeping one record (same URN, updated in place) avoids deleting and
 * re-creating the same name, which Route 53 would refuse or briefly leave unanswered.
 */
function siteRecord(
  cfg: LadderConfig,
  code: string,
  region: RegionTarget,
  target: { records: pulumi.Input<string>[] } | { alias: { name: pulumi.Input<string>; zoneId: pulumi.Input<string> } },
): aws.route53.Record | undefined {
  if (!cfg.dns) return undefined;
  return new aws.route53.Record(
    `${code}-site-dns`,
    {
      zoneId: cfg.dns.hostedZoneId,
      name: cfg.dns.domain,
      type: "A",
      ...("records" in target
        ? { ttl: 60, records: target.records }
        : { aliases: [{ name: target.alias.name, zoneId: target.alias.zoneId, evaluateTargetHealth: true }] }),
    },
    { provider: region.provider },
  );
}
