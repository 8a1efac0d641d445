/**
 * What the mocked engine answers: realistic computed outputs for the resources the ladder creates, and the few
 * provider functions it calls. An invoke that is not listed here throws, so a new data source cannot slip into the
 * program untested.
 */
import { createHash } from "node:crypto";
import { T } from "./resource-types";

export const ACCOUNT = "123456789012";
export const MOCK_AMI = "ami-0abc1234def567890";

/** Short deterministic hex from a name, so ids are stable between runs and distinct between resources. */
export function hex(seed: string, length = 17): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/** The value every mocked `random.RandomPassword` produces; tests look for it where it must never appear. */
export function mockPassword(name: string): string {
  return `MockSecret${hex(`pw:${name}`, 24)}`;
}

type State = Record<string, unknown>;

/** Region of a resource: from its provider URN (`...::aws-eu-west-1::id`), else us-east-1. */
export function regionOf(provider: string | undefined): string {
  const m = /aws-([a-z]{2}(?:-gov)?-[a-z]+-\d)/.exec(provider ?? "");
  return m ? m[1] : "us-east-1";
}

const arn = (service: string, region: string, resource: string) =>
  `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;

/** Computed outputs per resource type; inputs are echoed back first, as the engine does. */
export function resourceState(
  type: string,
  name: string,
  inputs: State,
  provider?: string,
): { id: string; state: State } {
  const region = regionOf(provider);
  const id = `${name}-${hex(`${type}:${name}`, 8)}`;
  const autoName = (inputs.name as string | undefined) ?? `${name}-${hex(name, 7)}`;
  switch (type) {
    case T.vpc: {
      const azs = (inputs.numberOfAvailabilityZones as number | undefined) ?? 3;
      const subnets = (kind: string) => Array.from({ length: azs }, (_, i) => `subnet-${kind}${i}${hex(name, 10)}`);
      return {
        id: "",
        state: {
          ...inputs,
          vpcId: `vpc-${hex(name)}`,
          publicSubnetIds: subnets("pub"),
          privateSubnetIds: subnets("prv"),
          isolatedSubnetIds: subnets("iso"),
        },
      };
    }
    case T.sg:
      return { id: `sg-${hex(name)}`, state: { ...inputs, arn: arn("ec2", region, `security-group/sg-${hex(name)}`) } };
    case T.instance:
      return {
        id: `i-${hex(name)}`,
        state: { ...inputs, arn: arn("ec2", region, `instance/i-${hex(name)}`), privateIp: "10.0.1.10", publicIp: "" },
      };
    case T.eip:
      return {
        id: `eipalloc-${hex(name)}`,
        state: { ...inputs, allocationId: `eipalloc-${hex(name)}`, publicIp: "203.0.113.10" },
      };
    case T.rds: {
      const host = `${name}.c${hex(name, 11)}.${region}.rds.amazonaws.com`;
      return {
        id: name,
        state: {
          ...inputs,
          identifier: `${name}-${hex(name, 7)}`,
          address: host,
          endpoint: `${host}:5432`,
          port: inputs.port ?? 5432,
          arn: arn("rds", region, `db:${name}`),
          masterUserSecrets: inputs.manageMasterUserPassword
            ? [
                {
                  secretArn: arn("secretsmanager", region, `secret:rds!db-${hex(name, 8)}-AbCdEf`),
                  secretStatus: "active",
                  kmsKeyId: "",
                },
              ]
            : [],
        },
      };
    }
    case T.bucket: {
      const bucket = (inputs.bucket as string | undefined) ?? `${name}-${hex(name, 7)}`;
      return {
        id: bucket,
        state: {
          ...inputs,
          bucket,
          arn: `arn:aws:s3:::${bucket}`,
          bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
        },
      };
    }
    case T.bucketObject:
      return { id: inputs.key as string, state: { ...inputs, versionId: hex(name, 32), etag: hex(name, 32) } };
    case T.ssmParameter:
      return {
        id: autoName,
        state: {
          ...inputs,
          name: autoName,
          arn: arn("ssm", region, `parameter/${autoName.replace(/^\//, "")}`),
          version: 1,
        },
      };
    case T.secret:
      return {
        id: arn("secretsmanager", region, `secret:${name}-AbCdEf`),
        state: { ...inputs, arn: arn("secretsmanager", region, `secret:${name}-AbCdEf`) },
      };
    case T.role:
      return { id: autoName, state: { ...inputs, name: autoName, arn: `arn:aws:iam::${ACCOUNT}:role/${autoName}` } };
    case T.instanceProfile:
      return {
        id: autoName,
        state: { ...inputs, name: autoName, arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${autoName}` },
      };
    case T.record:
      return { id: `${inputs.zoneId}_${inputs.name}_${inputs.type}`, state: { ...inputs, fqdn: inputs.name } };
    case T.dbSubnetGroup:
    case T.pg:
      return { id: autoName, state: { ...inputs, name: autoName, arn: arn("rds", region, `pg:${autoName}`) } };
    case T.lb: {
      const suffix = `app/${name}/${hex(name, 16)}`;
      return {
        id: arn("elasticloadbalancing", region, `loadbalancer/${suffix}`),
        state: {
          ...inputs,
          arn: arn("elasticloadbalancing", region, `loadbalancer/${suffix}`),
          arnSuffix: suffix,
          dnsName: `${name}-${hex(name, 9)}.${region}.elb.amazonaws.com`,
          zoneId: "Z35SXDOTRQ7X7K",
        },
      };
    }
    case T.tg: {
      const suffix = `targetgroup/${name}/${hex(name, 16)}`;
      return {
        id: arn("elasticloadbalancing", region, suffix),
        state: { ...inputs, arn: arn("elasticloadbalancing", region, suffix), arnSuffix: suffix, name: autoName },
      };
    }
    case T.lt:
      return {
        id: `lt-${hex(name)}`,
        state: {
          ...inputs,
          arn: arn("ec2", region, `launch-template/lt-${hex(name)}`),
          latestVersion: 1,
          defaultVersion: 1,
        },
      };
    case T.asg:
      return {
        id: autoName,
        state: {
          ...inputs,
          name: autoName,
          arn: arn("autoscaling", region, `autoScalingGroup:${hex(name, 8)}:autoScalingGroupName/${autoName}`),
        },
      };
    case T.cache:
      return {
        id: name,
        state: {
          ...inputs,
          arn: arn("elasticache", region, `replicationgroup:${name}`),
          primaryEndpointAddress: `master.${name}.${hex(name, 6)}.use1.cache.amazonaws.com`,
          readerEndpointAddress: `replica.${name}.${hex(name, 6)}.use1.cache.amazonaws.com`,
        },
      };
    case T.cacheSubnetGroup:
    case T.cachePg:
      return { id: autoName, state: { ...inputs, name: autoName, arn: arn("elasticache", region, autoName) } };
    case T.acmCert:
      return {
        id: arn("acm", region, `certificate/${hex(name, 8)}`),
        state: {
          ...inputs,
          arn: arn("acm", region, `certificate/${hex(name, 8)}`),
          domainValidationOptions: [
            inputs.domainName as string,
            ...((inputs.subjectAlternativeNames as string[] | undefined) ?? []),
          ].map((domainName) => ({
            domainName,
            // ACM answers one validation CNAME per domain name and account, whatever the certificate or region
            // (hashicorp/terraform-provider-aws#13653: "the CNAME record used for the validation already exists").
            resourceRecordName: `_${hex(`${ACCOUNT}:${domainName}`, 12)}.${domainName}.`,
            resourceRecordType: "CNAME",
            resourceRecordValue: `_${hex(`${ACCOUNT}:${domainName}`, 12)}.acm-validations.aws.`,
          })),
        },
      };
    case T.acmValidation:
      return { id: String(inputs.certificateArn), state: { ...inputs } };
    case T.dist: {
      const id = `E${hex(name, 13).toUpperCase()}`;
      return {
        id,
        state: {
          ...inputs,
          arn: `arn:aws:cloudfront::${ACCOUNT}:distribution/${id}`,
          domainName: `d${hex(name, 13)}.cloudfront.net`,
          hostedZoneId: "Z2FDTNDATAQYW2",
          status: "Deployed",
        },
      };
    }
    case T.oac:
    case T.cachePolicy:
    case T.responseHeadersPolicy:
      return {
        id: `${hex(name, 8)}-${hex(name + "x", 4)}-${hex(name + "y", 4)}-${hex(name + "z", 4)}-${hex(name + "w", 12)}`,
        state: { ...inputs, name: autoName },
      };
    case T.queue: {
      const queueName = (inputs.name as string | undefined) ?? `${name}-${hex(name, 7)}`;
      const url = `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${queueName}`;
      return { id: url, state: { ...inputs, name: queueName, url, arn: arn("sqs", region, queueName) } };
    }
    case T.cluster: {
      const id = `${name}-${hex(name, 7)}`;
      return {
        id,
        state: {
          ...inputs,
          clusterIdentifier: id,
          arn: arn("rds", region, `cluster:${id}`),
          endpoint: `${id}.cluster-c${hex(name, 11)}.${region}.rds.amazonaws.com`,
          readerEndpoint: `${id}.cluster-ro-c${hex(name, 11)}.${region}.rds.amazonaws.com`,
          port: inputs.port ?? 5432,
        },
      };
    }
    case T.clusterInstance:
      return {
        id: `${name}-${hex(name, 7)}`,
        state: {
          ...inputs,
          identifier: `${name}-${hex(name, 7)}`,
          arn: arn("rds", region, `db:${name}`),
          endpoint: `${name}.c${hex(name, 11)}.${region}.rds.amazonaws.com`,
        },
      };
    case T.globalCluster:
      // A global database created from a cluster runs that cluster's version; the ladder creates shards at 16.6.
      return {
        id: String(inputs.globalClusterIdentifier),
        state: {
          ...inputs,
          arn: `arn:aws:rds::${ACCOUNT}:global-cluster:${inputs.globalClusterIdentifier}`,
          engine: inputs.engine ?? "aurora-postgresql",
          engineVersionActual: inputs.engineVersion ?? "16.6",
        },
      };
    case T.cpg:
      return { id: autoName, state: { ...inputs, name: autoName, arn: arn("rds", region, `cluster-pg:${autoName}`) } };
    case T.logGroup:
      return { id: String(inputs.name), state: { ...inputs, arn: arn("logs", region, `log-group:${inputs.name}`) } };
    case T.dashboard:
      return {
        id: String(inputs.dashboardName),
        state: { ...inputs, dashboardArn: `arn:aws:cloudwatch::${ACCOUNT}:dashboard/${inputs.dashboardName}` },
      };
    case T.peering:
      return { id: `pcx-${hex(name)}`, state: { ...inputs, acceptStatus: "pending-acceptance" } };
    case T.peeringAccepter:
      return { id: String(inputs.vpcPeeringConnectionId), state: { ...inputs, acceptStatus: "active" } };
    case T.healthCheck:
      return {
        id: `${hex(name, 8)}-aaaa-bbbb-cccc-${hex(name, 12)}`,
        state: { ...inputs, arn: `arn:aws:route53:::healthcheck/${hex(name, 8)}` },
      };
    case T.alarm:
      return {
        id: autoName,
        state: { ...inputs, name: autoName, arn: arn("cloudwatch", region, `alarm:${autoName}`) },
      };
    case T.compositeAlarm: {
      const alarmName = String(inputs.alarmName);
      return { id: alarmName, state: { ...inputs, arn: arn("cloudwatch", region, `alarm:${alarmName}`) } };
    }
    case T.fisTemplate:
      // FIS names a template EXT followed by 14 or more base-62 characters.
      return {
        id: `EXT${hex(name, 14)}`,
        state: { ...inputs, arn: arn("fis", region, `experiment-template/EXT${hex(name, 14)}`) },
      };
    case T.kmsKey: {
      // KMS names a key by a UUID; its ARN is arn:<partition>:kms:<region>:<account>:key/<uuid>.
      const part = (i: number, length: number) => hex(i === 0 ? `key:${name}` : `key:${name}:${i}`, length);
      const keyId = `${part(0, 8)}-${part(1, 4)}-4${part(2, 3)}-8${part(3, 3)}-${part(4, 12)}`;
      return { id: keyId, state: { ...inputs, keyId, arn: arn("kms", region, `key/${keyId}`) } };
    }
    case T.topic:
      return {
        id: arn("sns", region, autoName),
        state: { ...inputs, name: autoName, arn: arn("sns", region, autoName) },
      };
    case T.webAcl: {
      // arn:aws:wafv2:<region>:<account>:<global|regional>/webacl/<name>/<uuid>; CLOUDFRONT ACLs live in us-east-1.
      const uuid = `${hex(name, 8)}-${hex(name, 4)}-4${hex(name, 3)}-8${hex(name, 3)}-${hex(name, 12)}`;
      const where = inputs.scope === "CLOUDFRONT" ? "global" : "regional";
      const aclArn = arn("wafv2", region, `${where}/webacl/${String(inputs.name)}/${uuid}`);
      return { id: uuid, state: { ...inputs, arn: aclArn, capacity: 927, lockToken: hex(`lock:${name}`, 32) } };
    }
    case T.password:
      return { id: "none", state: { ...inputs, result: mockPassword(name) } };
    default:
      return { id, state: { ...inputs, arn: arn(type.split(":")[1]?.split("/")[0] ?? "mock", region, id) } };
  }
}

/** Provider functions the program may call. */
export function invokeResult(token: string, inputs: State, provider?: string): State {
  switch (token) {
    case "aws:ssm/getParameter:getParameter": {
      const name = String(inputs.name);
      if (!name.startsWith("/aws/service/ami-amazon-linux-latest/al2023-ami-"))
        throw new Error(`mock has no SSM parameter ${name}`);
      return {
        id: name,
        name,
        type: "String",
        value: MOCK_AMI,
        version: 1,
        arn: arn("ssm", regionOf(provider), `parameter${name}`),
      };
    }
    case "aws:elb/getServiceAccount:getServiceAccount":
      // The regional Elastic Load Balancing account that writes access logs (us-east-1's, from the AWS docs).
      return { id: "127311923021", arn: "arn:aws:iam::127311923021:root" };
    case "aws:ec2/getManagedPrefixList:getManagedPrefixList":
      if (inputs.name !== "com.amazonaws.global.cloudfront.origin-facing")
        throw new Error(`mock has no prefix list ${String(inputs.name)}`);
      return {
        id: "pl-3b927c52",
        name: inputs.name,
        addressFamily: "IPv4",
        maxEntries: 55,
        arn: arn("ec2", regionOf(provider), "prefix-list/pl-3b927c52"),
      };
    case "aws:kms/getAlias:getAlias": {
      const region = regionOf(provider);
      const keyId = `${hex(`${region}:${String(inputs.name)}`, 8)}-1111-2222-3333-${hex(region, 12)}`;
      return {
        id: arn("kms", region, String(inputs.name)),
        name: inputs.name,
        arn: arn("kms", region, String(inputs.name)),
        targetKeyId: keyId,
        targetKeyArn: arn("kms", region, `key/${keyId}`),
      };
    }
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { id: ACCOUNT, accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/ci`, userId: "AIDAMOCK" };
    case "aws:ec2/getRouteTables:getRouteTables": {
      // awsx names each route table after its subnet; the mock VPC has two AZs.
      const vpc = String(inputs.vpcId);
      return {
        id: vpc,
        ids: ["private-1", "private-2", "isolated-1", "isolated-2"].map((n) => `rtb-${hex(`${vpc}:${n}`)}`),
      };
    }
    case "aws:index/getAvailabilityZones:getAvailabilityZones": {
      const region = regionOf(provider);
      const names = ["a", "b", "c", "d"].map((z) => `${region}${z}`);
      return {
        id: region,
        names,
        zoneIds: names.map((_, i) => `use1-az${i + 1}`),
        groupNames: names.map(() => region),
      };
    }
    default:
      throw new Error(
        `unexpected invoke ${token}: add a realistic answer to lib/graph/mock-outputs.ts if the program really ` +
          `needs it`,
      );
  }
}
