/**
 * What the mocked engine answers: realistic computed outputs for the resources the ladder creates, and the few
 * provider functions it calls. An invoke that is not listed here throws, so a new data source cannot slip into the
 * program untested.
 */
import { createHash } from "node:crypto";

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
    case "awsx:ec2:Vpc": {
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
    case "aws:ec2/securityGroup:SecurityGroup":
      return { id: `sg-${hex(name)}`, state: { ...inputs, arn: arn("ec2", region, `security-group/sg-${hex(name)}`) } };
    case "aws:ec2/instance:Instance":
      return {
        id: `i-${hex(name)}`,
        state: { ...inputs, arn: arn("ec2", region, `instance/i-${hex(name)}`), privateIp: "10.0.1.10", publicIp: "" },
      };
    case "aws:ec2/eip:Eip":
      return {
        id: `eipalloc-${hex(name)}`,
        state: { ...inputs, allocationId: `eipalloc-${hex(name)}`, publicIp: "203.0.113.10" },
      };
    case "aws:rds/instance:Instance": {
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
    case "aws:s3/bucket:Bucket": {
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
    case "aws:s3/bucketObjectv2:BucketObjectv2":
      return { id: inputs.key as string, state: { ...inputs, versionId: hex(name, 32), etag: hex(name, 32) } };
    case "aws:ssm/parameter:Parameter":
      return {
        id: autoName,
        state: {
          ...inputs,
          name: autoName,
          arn: arn("ssm", region, `parameter/${autoName.replace(/^\//, "")}`),
          version: 1,
        },
      };
    case "aws:secretsmanager/secret:Secret":
      return {
        id: arn("secretsmanager", region, `secret:${name}-AbCdEf`),
        state: { ...inputs, arn: arn("secretsmanager", region, `secret:${name}-AbCdEf`) },
      };
    case "aws:iam/role:Role":
      return { id: autoName, state: { ...inputs, name: autoName, arn: `arn:aws:iam::${ACCOUNT}:role/${autoName}` } };
    case "aws:iam/instanceProfile:InstanceProfile":
      return {
        id: autoName,
        state: { ...inputs, name: autoName, arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${autoName}` },
      };
    case "aws:route53/record:Record":
      return { id: `${inputs.zoneId}_${inputs.name}_${inputs.type}`, state: { ...inputs, fqdn: inputs.name } };
    case "aws:rds/subnetGroup:SubnetGroup":
    case "aws:rds/parameterGroup:ParameterGroup":
      return { id: autoName, state: { ...inputs, name: autoName, arn: arn("rds", region, `pg:${autoName}`) } };
    case "aws:lb/loadBalancer:LoadBalancer": {
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
    case "aws:lb/targetGroup:TargetGroup": {
      const suffix = `targetgroup/${name}/${hex(name, 16)}`;
      return {
        id: arn("elasticloadbalancing", region, suffix),
        state: { ...inputs, arn: arn("elasticloadbalancing", region, suffix), arnSuffix: suffix, name: autoName },
      };
    }
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return {
        id: `lt-${hex(name)}`,
        state: {
          ...inputs,
          arn: arn("ec2", region, `launch-template/lt-${hex(name)}`),
          latestVersion: 1,
          defaultVersion: 1,
        },
      };
    case "aws:autoscaling/group:Group":
      return {
        id: autoName,
        state: {
          ...inputs,
          name: autoName,
          arn: arn("autoscaling", region, `autoScalingGroup:${hex(name, 8)}:autoScalingGroupName/${autoName}`),
        },
      };
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      return {
        id: name,
        state: {
          ...inputs,
          arn: arn("elasticache", region, `replicationgroup:${name}`),
          primaryEndpointAddress: `master.${name}.${hex(name, 6)}.use1.cache.amazonaws.com`,
          readerEndpointAddress: `replica.${name}.${hex(name, 6)}.use1.cache.amazonaws.com`,
        },
      };
    case "aws:elasticache/subnetGroup:SubnetGroup":
    case "aws:elasticache/parameterGroup:ParameterGroup":
      return { id: autoName, state: { ...inputs, name: autoName, arn: arn("elasticache", region, autoName) } };
    case "aws:acm/certificate:Certificate":
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
    case "aws:acm/certificateValidation:CertificateValidation":
      return { id: String(inputs.certificateArn), state: { ...inputs } };
    case "aws:cloudfront/distribution:Distribution": {
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
    case "aws:cloudfront/originAccessControl:OriginAccessControl":
    case "aws:cloudfront/cachePolicy:CachePolicy":
      return {
        id: `${hex(name, 8)}-${hex(name + "x", 4)}-${hex(name + "y", 4)}-${hex(name + "z", 4)}-${hex(name + "w", 12)}`,
        state: { ...inputs, name: autoName },
      };
    case "aws:sqs/queue:Queue": {
      const queueName = (inputs.name as string | undefined) ?? `${name}-${hex(name, 7)}`;
      const url = `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${queueName}`;
      return { id: url, state: { ...inputs, name: queueName, url, arn: arn("sqs", region, queueName) } };
    }
    case "aws:rds/cluster:Cluster": {
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
    case "aws:rds/clusterInstance:ClusterInstance":
      return {
        id: `${name}-${hex(name, 7)}`,
        state: {
          ...inputs,
          identifier: `${name}-${hex(name, 7)}`,
          arn: arn("rds", region, `db:${name}`),
          endpoint: `${name}.c${hex(name, 11)}.${region}.rds.amazonaws.com`,
        },
      };
    case "aws:rds/globalCluster:GlobalCluster":
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
    case "aws:rds/clusterParameterGroup:ClusterParameterGroup":
      return { id: autoName, state: { ...inputs, name: autoName, arn: arn("rds", region, `cluster-pg:${autoName}`) } };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { id: String(inputs.name), state: { ...inputs, arn: arn("logs", region, `log-group:${inputs.name}`) } };
    case "aws:cloudwatch/dashboard:Dashboard":
      return {
        id: String(inputs.dashboardName),
        state: { ...inputs, dashboardArn: `arn:aws:cloudwatch::${ACCOUNT}:dashboard/${inputs.dashboardName}` },
      };
    case "aws:ec2/vpcPeeringConnection:VpcPeeringConnection":
      return { id: `pcx-${hex(name)}`, state: { ...inputs, acceptStatus: "pending-acceptance" } };
    case "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter":
      return { id: String(inputs.vpcPeeringConnectionId), state: { ...inputs, acceptStatus: "active" } };
    case "aws:route53/healthCheck:HealthCheck":
      return {
        id: `${hex(name, 8)}-aaaa-bbbb-cccc-${hex(name, 12)}`,
        state: { ...inputs, arn: `arn:aws:route53:::healthcheck/${hex(name, 8)}` },
      };
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      return {
        id: autoName,
        state: { ...inputs, name: autoName, arn: arn("cloudwatch", region, `alarm:${autoName}`) },
      };
    case "aws:kms/key:Key": {
      // KMS names a key by a UUID; its ARN is arn:<partition>:kms:<region>:<account>:key/<uuid>.
      const part = (i: number, length: number) => hex(i === 0 ? `key:${name}` : `key:${name}:${i}`, length);
      const keyId = `${part(0, 8)}-${part(1, 4)}-4${part(2, 3)}-8${part(3, 3)}-${part(4, 12)}`;
      return { id: keyId, state: { ...inputs, keyId, arn: arn("kms", region, `key/${keyId}`) } };
    }
    case "aws:sns/topic:Topic":
      return {
        id: arn("sns", region, autoName),
        state: { ...inputs, name: autoName, arn: arn("sns", region, autoName) },
      };
    case "random:index/randomPassword:RandomPassword":
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
