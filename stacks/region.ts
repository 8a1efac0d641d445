import * as aws from "@pulumi/aws";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { AppArtifact } from "../components/app-artifact";
import { AppSecrets } from "../components/app-secrets";
import { Database } from "../components/database";
import { Network } from "../components/network";
import { SingleServer } from "../components/single-server";
import { DatabaseSource, appUserData } from "../components/user-data";
import { LadderConfig } from "./config";

/** A region the ladder runs in. */
export interface RegionTarget {
  /** AWS region name, e.g. `us-east-1`. */
  name: string;
  /** The provider every resource of the region is created through. */
  provider: aws.Provider;
}

/** What a region hands back to the stack outputs. */
export interface RegionOutputs {
  siteUrl: pulumi.Output<string>;
  serverInstanceId?: pulumi.Output<string>;
  sessionCommand?: pulumi.Output<string>;
  databaseEndpoint?: pulumi.Output<string>;
  databaseSecretArn?: pulumi.Output<string>;
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

  const network = new Network(
    `${code}-network`,
    {
      region: region.name,
      cidrBlock: cfg.network.cidr,
      availabilityZones: cfg.network.availabilityZones,
      natGateways: cfg.network.natGateways,
      tiers: ["web"],
    },
    opts,
  );
  const web = network.securityGroup("web");
  const artifact = new AppArtifact(`${code}-artifact`, { path: path.resolve(cfg.app.artifactPath), forceDestroy: !prod }, opts);
  const secrets = new AppSecrets(`${code}-secrets`, { recoveryWindowInDays: prod ? 30 : 7 }, opts);

  let database: Database | undefined;
  let databaseSource: DatabaseSource = { kind: "local" };
  if (step >= 2) {
    database = new Database(
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
        deletionProtection: prod,
        finalSnapshot: prod,
      },
      opts,
    );
    databaseSource = { kind: "rds", host: database.address, port: database.port, dbName: database.dbName, secretArn: database.secretArn };
  }

  const server = new SingleServer(
    `${code}-server`,
    {
      subnetId: network.publicSubnetIds.apply((ids) => ids[0]),
      securityGroupId: web.id,
      instanceType: cfg.server.instanceType,
      userData: appUserData({
        releaseParameterName: artifact.releaseParameterName,
        appSecretsArn: secrets.secretArn,
        database: databaseSource,
        port: 80,
        seedProducts: cfg.app.seedProducts,
        cookieSecure: false,
      }),
      statements: [...artifact.readStatements, ...secrets.readStatements, ...(database?.readStatements ?? [])],
      releaseUri: artifact.uri,
      dns: cfg.dns,
    },
    opts,
  );

  return {
    siteUrl: server.url,
    serverInstanceId: server.instanceId,
    sessionCommand: pulumi.interpolate`aws ssm start-session --region ${region.name} --target ${server.instanceId}`,
    databaseEndpoint: database ? pulumi.interpolate`${database.address}:${database.port}` : undefined,
    databaseSecretArn: database?.secretArn,
    artifactBucket: artifact.bucket.bucketName,
    releaseUri: artifact.uri,
    adminToken: secrets.adminToken,
  };
}
