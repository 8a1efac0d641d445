/**
 * Rules AWS (or the provider, at apply time) enforces only when `pulumi up` calls the API: a preview passes, the
 * update fails half-way. Each rule reads a mocked graph and returns what it checked and what would be refused.
 * Sources are the AWS API references and the Terraform AWS provider's validations that pulumi-aws bridges.
 */
import { elbLogDeliveryPrincipal } from "../../components/facts/elb-log-delivery";
import { awsxAutoLayout } from "../../components/network";
import { Graph, Registration } from "../../lib/graph/harness";
import { resourceState } from "../../lib/graph/mock-outputs";
import { reveal } from "../../lib/graph/queries";
import { T } from "../../lib/graph/resource-types";
import { RDS_DEPLOY_RULES } from "./deploy-rules-rds";
import { collect } from "./rule-collect";

/** A graph with the questions the rules ask of it. */
export class View {
  private readonly byUrn: Map<string, Registration>;
  constructor(public readonly pg: Graph) {
    this.byUrn = new Map(pg.resources.map((r) => [r.urn, r]));
  }

  ofType(...types: string[]): Registration[] {
    return this.pg.resources.filter((r) => types.includes(r.type));
  }

  /** Inputs with secrets revealed. */
  inputs(r: Registration): Record<string, any> {
    return reveal(r.inputs);
  }

  /** Outputs as the mocked engine returns them (inputs plus computed values), with `id`. */
  outputs(r: Registration): Record<string, any> {
    const { id, state } = resourceState(r.type, r.name, r.inputs, r.provider);
    return reveal({ ...state, id });
  }

  /** Resources a property of `r` was built from. */
  deps(r: Registration, prop: string, ...types: string[]): Registration[] {
    return (this.pg.edgesOf(r).propertyDependencies[prop] ?? [])
      .map((u) => this.byUrn.get(u))
      .filter((x): x is Registration => x !== undefined && (types.length === 0 || types.includes(x.type)));
  }

  /** Resources of `types` whose `prop` was built from `target`. */
  referrers(target: Registration, types: string[], prop: string): Registration[] {
    return this.ofType(...types).filter((r) =>
      (this.pg.edgesOf(r).propertyDependencies[prop] ?? []).includes(target.urn),
    );
  }

  /** The region a resource is created in: its provider's `region`. */
  regionOf(r: Registration): string {
    if (!r.provider) return "us-east-1";
    const p = this.byUrn.get(r.provider.slice(0, r.provider.lastIndexOf("::")));
    return (p?.inputs.region as string | undefined) ?? "us-east-1";
  }
}

export interface RuleResult {
  /** How many resources (or groups) the rule looked at. */
  checked: number;
  problems: string[];
}

export interface DeployRule {
  name: string;
  /** What AWS refuses, in a line. */
  rule: string;
  /** Where it is written down. */
  source: string;
  check(v: View): RuleResult;
}

const CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2";
const USER_DATA_LIMIT = 16 * 1024;

/** `ddd:hh:mm-ddd:hh:mm` or `hh:mm-hh:mm` as [start, end) minutes of the week (daily windows repeat). */
function windowMinutes(w: string): Array<[number, number]> {
  const days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const weekly = /^([a-z]{3}):(\d\d):(\d\d)-([a-z]{3}):(\d\d):(\d\d)$/i.exec(w);
  if (weekly) {
    const at = (d: string, h: string, m: string) => days.indexOf(d.toLowerCase()) * 1440 + Number(h) * 60 + Number(m);
    const start = at(weekly[1], weekly[2], weekly[3]);
    let end = at(weekly[4], weekly[5], weekly[6]);
    if (end <= start) end += 7 * 1440;
    return [[start, end]];
  }
  const daily = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(w);
  if (!daily) return [];
  const start = Number(daily[1]) * 60 + Number(daily[2]);
  let end = Number(daily[3]) * 60 + Number(daily[4]);
  if (end <= start) end += 1440;
  return days.map((_, d) => [d * 1440 + start, d * 1440 + end] as [number, number]);
}
const windowLength = (w: string) => {
  const m = windowMinutes(w)[0];
  return m ? m[1] - m[0] : NaN;
};
function windowsOverlap(a: string, b: string): boolean {
  const week = 7 * 1440;
  for (const [s1, e1] of windowMinutes(a)) {
    for (const [s2, e2] of windowMinutes(b)) {
      for (const shift of [-week, 0, week]) if (s1 < e2 + shift && s2 + shift < e1) return true;
    }
  }
  return false;
}

/** The major version as parameter group families spell it: 16.6 → 16, 8.0 → 8, MySQL 8.0.35 → 8.0. */
function familyFor(engine: string, version: string): string | undefined {
  const major = (n: number) => version.split(".").slice(0, n).join(".");
  switch (engine) {
    case "postgres":
      return `postgres${major(1)}`;
    case "aurora-postgresql":
      return `aurora-postgresql${major(1)}`;
    case "mysql":
      return `mysql${major(2)}`;
    case "aurora-mysql":
      return `aurora-mysql${major(2)}`;
    case "valkey":
      return `valkey${major(1)}`;
    case "redis":
      return Number(major(1)) >= 7 ? `redis${major(1)}` : `redis${major(2)}`;
    default:
      return undefined;
  }
}

/** A name AWS will see: the explicit one, or Pulumi's autoname (`<logical name>-<7 random hex>`). */
function physicalName(v: View, r: Registration, prop: string): string | undefined {
  const explicit = v.inputs(r)[prop];
  if (typeof explicit === "string") return explicit;
  return NAME_RULES[r.type]?.autonamed ? `${r.name}-abcdef0` : undefined;
}

interface NameRule {
  prop: string;
  min?: number;
  max: number;
  pattern: RegExp;
  what: string;
  /** Pulumi generates the name when the program does not give one. */
  autonamed: boolean;
}

/** Identifier rules of each service (AWS API references; lengths include Pulumi's 8-character suffix). */
export const NAME_RULES: Record<string, NameRule> = {
  [T.rds]: {
    prop: "identifier",
    max: 63,
    pattern: /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/,
    what: "lowercase letters, digits and single hyphens, starting with a letter",
    autonamed: true,
  },
  [T.cluster]: {
    prop: "clusterIdentifier",
    max: 63,
    pattern: /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/,
    what: "lowercase letters, digits and single hyphens, starting with a letter",
    autonamed: true,
  },
  [T.clusterInstance]: {
    prop: "identifier",
    max: 63,
    pattern: /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/,
    what: "lowercase letters, digits and single hyphens, starting with a letter",
    autonamed: true,
  },
  [T.globalCluster]: {
    prop: "globalClusterIdentifier",
    max: 255,
    pattern: /^[a-zA-Z][a-zA-Z0-9]*(-[a-zA-Z0-9]+)*$/,
    what: "letters, digits and single hyphens, starting with a letter",
    autonamed: false,
  },
  [T.pg]: {
    prop: "name",
    max: 255,
    pattern: /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/,
    what: "lowercase letters, digits and single hyphens, starting with a letter",
    autonamed: true,
  },
  [T.cpg]: {
    prop: "name",
    max: 255,
    pattern: /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/,
    what: "lowercase letters, digits and single hyphens, starting with a letter",
    autonamed: true,
  },
  [T.dbSubnetGroup]: {
    prop: "name",
    max: 255,
    pattern: /^(?!default$)[a-z0-9 ._-]+$/,
    what: "lowercase letters, digits, spaces, periods, underscores and hyphens, not 'default'",
    autonamed: true,
  },
  [T.cache]: {
    prop: "replicationGroupId",
    max: 40,
    pattern: /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/,
    what: "lowercase letters, digits and single hyphens, starting with a letter",
    autonamed: true,
  },
  [T.cacheSubnetGroup]: {
    prop: "name",
    max: 255,
    pattern: /^[a-z0-9-]+$/,
    what: "lowercase letters, digits and hyphens",
    autonamed: true,
  },
  [T.cachePg]: {
    prop: "name",
    max: 255,
    pattern: /^[a-z][a-z0-9-]*$/,
    what: "lowercase letters, digits and hyphens, starting with a letter",
    autonamed: true,
  },
  [T.lb]: {
    prop: "name",
    max: 32,
    pattern: /^(?!internal-)[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$/,
    what: "letters, digits and inner hyphens, not starting with internal-",
    autonamed: true,
  },
  [T.tg]: {
    prop: "name",
    max: 32,
    pattern: /^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$/,
    what: "letters, digits and inner hyphens",
    autonamed: true,
  },
  [T.queue]: {
    prop: "name",
    max: 80,
    pattern: /^[A-Za-z0-9_-]+(\.fifo)?$/,
    what: "letters, digits, hyphens and underscores",
    autonamed: true,
  },
  [T.role]: {
    prop: "name",
    max: 64,
    pattern: /^[\w+=,.@-]+$/,
    what: "letters, digits and +=,.@_-",
    autonamed: true,
  },
  [T.instanceProfile]: {
    prop: "name",
    max: 128,
    pattern: /^[\w+=,.@-]+$/,
    what: "letters, digits and +=,.@_-",
    autonamed: true,
  },
  [T.rolePolicy]: {
    prop: "name",
    max: 128,
    pattern: /^[\w+=,.@-]+$/,
    what: "letters, digits and +=,.@_-",
    autonamed: true,
  },
  [T.bucket]: {
    prop: "bucket",
    min: 3,
    max: 63,
    pattern: /^(?!xn--)(?!\d+\.\d+\.\d+\.\d+$)(?!.*\.\.)[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
    what: "lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit",
    autonamed: true,
  },
  [T.logGroup]: { prop: "name", max: 512, pattern: /^[\w./#-]+$/, what: "letters, digits and _-./#", autonamed: true },
  [T.alarm]: { prop: "name", max: 255, pattern: /^[^\x00-\x1f\x7f]+$/, what: "printable characters", autonamed: true },
  [T.dashboard]: {
    prop: "dashboardName",
    max: 255,
    pattern: /^[A-Za-z0-9_-]+$/,
    what: "letters, digits, hyphens and underscores",
    autonamed: false,
  },
  [T.topic]: {
    prop: "name",
    max: 256,
    pattern: /^[A-Za-z0-9_-]+(\.fifo)?$/,
    what: "letters, digits, hyphens and underscores",
    autonamed: true,
  },
  [T.secret]: {
    prop: "name",
    max: 512,
    pattern: /^[A-Za-z0-9/_+=.@-]+$/,
    what: "letters, digits and /_+=.@-",
    autonamed: true,
  },
  [T.ssmParameter]: {
    prop: "name",
    max: 1011,
    pattern: /^[a-zA-Z0-9_.\-/]+$/,
    what: "letters, digits and _.-/",
    autonamed: true,
  },
  [T.lt]: {
    prop: "name",
    max: 128,
    pattern: /^[a-zA-Z0-9().\-/_]+$/,
    what: "letters, digits and ().-/_",
    autonamed: true,
  },
  [T.asg]: {
    prop: "name",
    max: 255,
    pattern: /^[^\x00-\x1f:]+$/,
    what: "printable characters without ':'",
    autonamed: true,
  },
  [T.asgPolicy]: {
    prop: "name",
    max: 255,
    pattern: /^[^\x00-\x1f:]+$/,
    what: "printable characters without ':'",
    autonamed: true,
  },
  [T.oac]: {
    prop: "name",
    max: 64,
    pattern: /^[\w .-]+$/,
    what: "letters, digits, spaces and _.-",
    autonamed: true,
  },
  [T.cachePolicy]: {
    prop: "name",
    max: 128,
    pattern: /^[A-Za-z0-9_-]+$/,
    what: "letters, digits, hyphens and underscores",
    autonamed: true,
  },
  // WAF CreateWebACL: Name 1-128 of [\w-] (https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html).
  [T.webAcl]: {
    prop: "name",
    max: 128,
    pattern: /^[\w-]+$/,
    what: "letters, digits, hyphens and underscores",
    autonamed: true,
  },
  [T.responseHeadersPolicy]: {
    prop: "name",
    max: 128,
    pattern: /^[A-Za-z0-9_-]+$/,
    what: "letters, digits, hyphens and underscores",
    autonamed: true,
  },
  [T.sg]: {
    prop: "name",
    max: 255,
    pattern: /^(?!sg-)[\x20-\x7e]+$/,
    what: "ASCII, not starting with sg-",
    autonamed: true,
  },
};

/** Security group and rule descriptions: 255 characters of this set (EC2 API, CreateSecurityGroup / IpRange). */
const SG_DESCRIPTION = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{0,255}$/;

/** An IPv4 CIDR as [first, last] addresses. */
function cidrRange(cidr: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  const ip = m.slice(1, 5).reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(m[5]));
  const first = ip - (ip % size);
  return [first, first + size - 1];
}

const parseJson = (s: unknown): any => {
  try {
    return typeof s === "string" ? JSON.parse(s) : s;
  } catch {
    return undefined;
  }
};
const decodeBase64 = (s: string): Buffer | undefined => {
  const buf = Buffer.from(s, "base64");
  return buf.toString("base64").replace(/=+$/, "") === s.replace(/\s/g, "").replace(/=+$/, "") ? buf : undefined;
};

export const DEPLOY_RULES: DeployRule[] = [
  {
    name: "elasticache-auth-token",
    rule: 'An AUTH token needs transit encryption, and is 16–128 printable characters without / " @ or spaces.',
    source: "ElastiCache API, CreateReplicationGroup AuthToken; Terraform validReplicationGroupAuthToken",
    check: (v) =>
      collect((problem, count) => {
        for (const rg of v.ofType(T.cache)) {
          const i = v.inputs(rg);
          if (i.authToken === undefined) continue;
          count();
          if (i.transitEncryptionEnabled !== true) problem(`${rg.name}: authToken without transitEncryptionEnabled`);
          const generators = v.deps(rg, "authToken", T.password);
          for (const g of generators) {
            const gi = v.inputs(g);
            if (!(gi.length >= 16 && gi.length <= 128))
              problem(`${rg.name}: its token generator ${g.name} makes ${gi.length} characters, not 16–128`);
            if (gi.special !== false && !/^[^/"@ ]*$/.test(String(gi.overrideSpecial ?? '/"@')))
              problem(`${rg.name}: ${g.name} may generate / " or @`);
          }
          if (generators.length === 0 && !/^[\x21-\x7e]{16,128}$/.test(String(i.authToken)))
            problem(`${rg.name}: the authToken is not 16–128 printable characters`);
          if (generators.length === 0 && /[/"@]/.test(String(i.authToken)))
            problem(`${rg.name}: the authToken contains / " or @`);
        }
      }),
  },
  {
    name: "read-replica-credentials",
    rule:
      "A read replica takes no username, password, managed password, database name, engine or engine version; its " +
      "source's password is not managed by RDS; a cross-region replica of an encrypted source names a KMS key of " +
      "its region.",
    source:
      "RDS API, CreateDBInstanceReadReplica; Terraform aws_db_instance ConflictsWith replicate_source_db; RDS " +
      "error 'Creating read replicas for source instance ... where ManageMasterUserPassword is enabled is not " +
      "supported'",
    check: (v) =>
      collect((problem, count) => {
        for (const r of v.ofType(T.rds)) {
          const i = v.inputs(r);
          if (i.replicateSourceDb === undefined) continue;
          count();
          for (const k of ["username", "password", "manageMasterUserPassword", "dbName", "engine", "engineVersion"])
            if (i[k] !== undefined) problem(`${r.name}: a read replica cannot set ${k}`);
          for (const source of v.deps(r, "replicateSourceDb", T.rds)) {
            const si = v.inputs(source);
            if (si.manageMasterUserPassword === true)
              problem(
                `${r.name}: its source ${source.name} has manageMasterUserPassword, which RDS refuses to replicate`,
              );
            const crossRegion = v.regionOf(source) !== v.regionOf(r);
            if (crossRegion && si.storageEncrypted === true && i.kmsKeyId === undefined)
              problem(`${r.name}: a cross-region replica of an encrypted source needs a kmsKeyId of ${v.regionOf(r)}`);
          }
        }
      }),
  },
  {
    name: "cloudfront-certificate-region",
    rule: "A CloudFront viewer certificate is an ACM certificate in us-east-1.",
    source: "CloudFront Developer Guide, 'Requirements for using SSL/TLS certificates with CloudFront'",
    check: (v) =>
      collect((problem, count) => {
        for (const d of v.ofType(T.dist)) {
          const cert = v.inputs(d).viewerCertificate ?? {};
          if (!cert.acmCertificateArn) continue;
          count();
          const arnRegion = String(cert.acmCertificateArn).split(":")[3];
          if (arnRegion !== "us-east-1")
            problem(`${d.name}: viewer certificate ${cert.acmCertificateArn} is in ${arnRegion}`);
          for (const c of v.deps(d, "viewerCertificate", T.acmCert, T.acmValidation)) {
            if (v.regionOf(c) !== "us-east-1")
              problem(
                `${d.name}: its viewer certificate comes from ${c.name}, created through a provider for ` +
                  `${v.regionOf(c)}`,
              );
          }
        }
      }),
  },
  {
    name: "alb-subnets",
    rule: "An application load balancer spans at least two subnets (two Availability Zones).",
    source: "ELB API, CreateLoadBalancer Subnets",
    check: (v) =>
      collect((problem, count) => {
        for (const lb of v.ofType(T.lb)) {
          const i = v.inputs(lb);
          if ((i.loadBalancerType ?? "application") !== "application") continue;
          count();
          const subnets = new Set([
            ...(i.subnets ?? []),
            ...((i.subnetMappings ?? []) as Array<{ subnetId: string }>).map((m) => m.subnetId),
          ]);
          if (subnets.size < 2) problem(`${lb.name}: ${subnets.size} subnet(s)`);
        }
      }),
  },
  {
    name: "geolocation-records",
    rule:
      "Geolocation records carry set identifiers (unique per name and type), one location each, never sit beside " +
      "a simple record of the same name and type, and a default ('*') record exists per name.",
    source:
      "Route 53 API, ChangeResourceRecordSets (GeoLocation, SetIdentifier); Developer Guide, 'Geolocation routing'",
    check: (v) =>
      collect((problem, count) => {
        const groups = new Map<string, Registration[]>();
        for (const r of v.ofType(T.record)) {
          const i = v.inputs(r);
          const key = `${i.zoneId} ${String(i.name).replace(/\.$/, "").toLowerCase()} ${i.type}`;
          groups.set(key, [...(groups.get(key) ?? []), r]);
        }
        for (const [key, records] of groups) {
          const geo = records.filter((r) => (v.inputs(r).geolocationRoutingPolicies ?? []).length > 0);
          if (geo.length === 0) continue;
          count();
          for (const r of records.filter((x) => !geo.includes(x)))
            problem(
              `${key}: ${r.name} is a ${v.inputs(r).setIdentifier ? "non-geolocation" : "simple"} record beside ` +
                `geolocation records`,
            );
          const ids = geo.map((r) => v.inputs(r).setIdentifier);
          for (const r of geo.filter((x) => !v.inputs(x).setIdentifier))
            problem(`${key}: ${r.name} has no setIdentifier`);
          if (new Set(ids).size !== ids.length) problem(`${key}: set identifiers repeat (${ids.join(", ")})`);
          const locations = geo.map((r) => {
            const p = v.inputs(r).geolocationRoutingPolicies as Array<{
              continent?: string;
              country?: string;
              subdivision?: string;
            }>;
            if (p.length !== 1) problem(`${key}: ${r.name} has ${p.length} geolocation policies`);
            const { continent, country, subdivision } = p[0] ?? {};
            if ((continent === undefined) === (country === undefined))
              problem(
                `${key}: ${r.name} must name a continent or a country, not ` +
                  `${continent === undefined ? "neither" : "both"}`,
              );
            if (subdivision !== undefined && country !== "US" && country !== "UA")
              problem(`${key}: ${r.name} has a subdivision outside the US and Ukraine`);
            return `${continent ?? ""}/${country ?? ""}/${subdivision ?? ""}`;
          });
          if (new Set(locations).size !== locations.length) problem(`${key}: two records answer the same location`);
          if (!locations.includes("/*/"))
            problem(`${key}: no default record (country "*"); users outside the listed locations get no answer`);
        }
      }),
  },
  {
    name: "aurora-global-members",
    rule:
      "Members of an Aurora global database share its engine and major version, sit in different regions, and " +
      "only the primary carries credentials and a database name.",
    source:
      "Aurora User Guide, 'Limitations of Amazon Aurora global databases'; RDS API, CreateDBCluster " +
      "GlobalClusterIdentifier",
    check: (v) =>
      collect((problem, count) => {
        for (const g of v.ofType(T.globalCluster)) {
          count();
          const gi = v.inputs(g);
          const members = [
            ...v.deps(g, "sourceDbClusterIdentifier", T.cluster),
            ...v.referrers(g, [T.cluster], "globalClusterIdentifier"),
          ];
          if (members.length === 0) problem(`${g.name}: no member cluster in the stack`);
          const engines = new Set(
            [gi.engine, ...members.map((m) => v.inputs(m).engine)].filter((e) => e !== undefined),
          );
          if (engines.size > 1) problem(`${g.name}: members mix engines ${[...engines].join(", ")}`);
          const majors = new Set(
            [gi.engineVersion, ...members.map((m) => v.inputs(m).engineVersion)]
              .filter((e) => e !== undefined)
              .map((e) => String(e).split(".")[0]),
          );
          if (majors.size > 1) problem(`${g.name}: members mix major versions ${[...majors].join(", ")}`);
          const regions = members.map((m) => v.regionOf(m));
          if (new Set(regions).size !== regions.length)
            problem(`${g.name}: two members in one region (${regions.join(", ")})`);
          const primaries = members.filter((m) => v.inputs(m).masterUsername !== undefined);
          if (primaries.length !== 1)
            problem(`${g.name}: ${primaries.length} members carry credentials; exactly one (the primary) must`);
          for (const m of members.filter((x) => !primaries.includes(x))) {
            for (const k of ["masterUsername", "masterPassword", "manageMasterUserPassword", "databaseName"])
              if (v.inputs(m)[k] !== undefined) problem(`${m.name}: a secondary cluster cannot set ${k}`);
            if (v.inputs(m).storageEncrypted === true && v.inputs(m).kmsKeyId === undefined)
              problem(`${m.name}: an encrypted secondary cluster needs a kmsKeyId of its region`);
          }
        }
      }),
  },
  {
    name: "asg-joins-target-group",
    rule:
      "Every target group has targets: an auto-scaling group lists its ARN in targetGroupArns (or an attachment " +
      "registers them).",
    source: "Auto Scaling API, CreateAutoScalingGroup TargetGroupARNs",
    check: (v) =>
      collect((problem, count) => {
        for (const tg of v.ofType(T.tg)) {
          count();
          const arn = v.outputs(tg).arn;
          const joined =
            v.ofType(T.asg).some((a) => (v.inputs(a).targetGroupArns ?? []).includes(arn)) ||
            v.ofType(T.asgAttachment).some((a) => v.inputs(a).lbTargetGroupArn === arn) ||
            v.ofType(T.tgAttachment).some((a) => v.inputs(a).targetGroupArn === arn);
          if (!joined) problem(`${tg.name}: no auto-scaling group or attachment registers targets in it`);
        }
      }),
  },
  {
    name: "user-data-size",
    rule: "User data is at most 16 KB before base64 encoding; a launch template's is valid base64.",
    source:
      "EC2 User Guide, 'Run commands when you launch an EC2 instance with user data input' (16 KB limit); EC2 " +
      "API, RequestLaunchTemplateData UserData",
    check: (v) =>
      collect((problem, count) => {
        for (const lt of v.ofType(T.lt)) {
          const ud = v.inputs(lt).userData;
          if (ud === undefined) continue;
          count();
          const raw = decodeBase64(String(ud));
          if (!raw) problem(`${lt.name}: userData is not base64`);
          else if (raw.length > USER_DATA_LIMIT)
            problem(`${lt.name}: user data is ${raw.length} bytes, over ${USER_DATA_LIMIT}`);
        }
        for (const i of v.ofType(T.instance)) {
          const inputs = v.inputs(i);
          if (inputs.userData === undefined && inputs.userDataBase64 === undefined) continue;
          count();
          const size =
            inputs.userData !== undefined
              ? Buffer.byteLength(String(inputs.userData))
              : (decodeBase64(String(inputs.userDataBase64))?.length ?? Infinity);
          if (size > USER_DATA_LIMIT) problem(`${i.name}: user data is ${size} bytes, over ${USER_DATA_LIMIT}`);
        }
      }),
  },
  {
    name: "names",
    rule: "Physical names (given, or Pulumi's `<name>-<7 hex>`) respect each service's length and character rules.",
    source:
      "API references: RDS DBInstanceIdentifier/DBClusterIdentifier (63), ElastiCache ReplicationGroupId (40), " +
      "ELB Name (32), SQS QueueName (80), IAM RoleName (64), S3 bucket naming rules (3–63), and the rest in " +
      "NAME_RULES",
    check: (v) =>
      collect((problem, count) => {
        for (const r of v.pg.resources) {
          const rule = NAME_RULES[r.type];
          if (!rule) continue;
          const name = physicalName(v, r, rule.prop);
          if (name === undefined) continue;
          count();
          if (name.length > rule.max || name.length < (rule.min ?? 1))
            problem(
              `${r.name}: ${rule.prop} "${name}" is ${name.length} characters; ${r.type.split(":").pop()} ` +
                `allows ${rule.min ?? 1}–${rule.max}`,
            );
          if (!rule.pattern.test(name)) problem(`${r.name}: ${rule.prop} "${name}" is not ${rule.what}`);
        }
      }),
  },
  {
    name: "security-group-rules",
    rule:
      "Rules have ports within 0–65535 (from ≤ to; none for all-protocol rules), exactly one source or " +
      "destination, and descriptions of at most 255 allowed characters.",
    source:
      "EC2 API, AuthorizeSecurityGroupIngress / IpPermission / IpRange Description; VPC API, SecurityGroupRuleRequest",
    check: (v) =>
      collect((problem, count) => {
        const ports = (name: string, protocol: unknown, from: unknown, to: unknown) => {
          const p = String(protocol);
          if (p === "-1" || p === "all") {
            if ((from !== undefined && from !== 0 && from !== -1) || (to !== undefined && to !== 0 && to !== -1))
              problem(`${name}: an all-protocol rule takes no ports (${from}-${to})`);
            return;
          }
          if (p === "icmp" || p === "icmpv6" || p === "1" || p === "58") return;
          const f = Number(from);
          const t = Number(to);
          if (!(Number.isInteger(f) && Number.isInteger(t) && f >= 0 && t <= 65535 && f <= t))
            problem(`${name}: ports ${from}-${to} are not a range within 0-65535`);
        };
        const description = (name: string, d: unknown) => {
          if (d !== undefined && !SG_DESCRIPTION.test(String(d)))
            problem(`${name}: description ${JSON.stringify(d)} has characters EC2 refuses or is over 255`);
        };
        for (const r of v.ofType(T.ingress, T.egress)) {
          count();
          const i = v.inputs(r);
          ports(r.name, i.ipProtocol, i.fromPort, i.toPort);
          const targets = ["cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId"].filter(
            (k) => i[k] !== undefined,
          );
          if (targets.length !== 1)
            problem(`${r.name}: ${targets.length} sources/destinations (${targets.join(", ") || "none"}); exactly one`);
          description(r.name, i.description);
        }
        for (const r of v.ofType(T.sgRule)) {
          count();
          const i = v.inputs(r);
          ports(r.name, i.protocol, i.fromPort, i.toPort);
          description(r.name, i.description);
        }
        for (const sg of v.ofType(T.sg)) {
          count();
          const i = v.inputs(sg);
          description(sg.name, i.description);
          for (const rule of [...(i.ingress ?? []), ...(i.egress ?? [])]) {
            ports(`${sg.name} (inline)`, rule.protocol, rule.fromPort, rule.toPort);
            description(`${sg.name} (inline)`, rule.description);
          }
        }
      }),
  },
  {
    name: "cloudwatch-alarms",
    rule:
      "An alarm evaluates at most one day (period × evaluation periods ≤ 86,400 s) with periods of 10, 20, 30 or " +
      "a multiple of 60 s, datapointsToAlarm ≤ evaluationPeriods, and either one metric or metric queries with one " +
      "result.",
    source: "CloudWatch API, PutMetricAlarm (Period, EvaluationPeriods, DatapointsToAlarm, Metrics)",
    check: (v) =>
      collect((problem, count) => {
        const validPeriod = (p: number) => [10, 20, 30].includes(p) || (p >= 60 && p % 60 === 0);
        for (const a of v.ofType(T.alarm)) {
          count();
          const i = v.inputs(a);
          const queries = (i.metricQueries ?? []) as Array<{
            id: string;
            returnData?: boolean;
            expression?: string;
            metric?: { period: number };
          }>;
          if ((i.metricName !== undefined) === queries.length > 0)
            problem(`${a.name}: give either metricName or metricQueries`);
          const periods = queries.length > 0 ? queries.flatMap((q) => (q.metric ? [q.metric.period] : [])) : [i.period];
          for (const p of periods) {
            if (!validPeriod(Number(p))) problem(`${a.name}: period ${p} s is not 10, 20, 30 or a multiple of 60`);
            if (Number(p) * Number(i.evaluationPeriods) > 86400)
              problem(`${a.name}: ${p} s × ${i.evaluationPeriods} periods is over a day`);
          }
          if (i.datapointsToAlarm !== undefined && i.datapointsToAlarm > i.evaluationPeriods)
            problem(`${a.name}: datapointsToAlarm ${i.datapointsToAlarm} > evaluationPeriods ${i.evaluationPeriods}`);
          if (queries.length > 0 && queries.filter((q) => q.returnData === true).length !== 1)
            problem(`${a.name}: exactly one metric query must return data`);
          if (i.threshold === undefined && i.thresholdMetricId === undefined) problem(`${a.name}: no threshold`);
        }
        for (const d of v.ofType(T.dashboard)) {
          count();
          const body = parseJson(v.inputs(d).dashboardBody);
          if (!body || !Array.isArray(body.widgets))
            problem(`${d.name}: dashboardBody is not JSON with a widgets array`);
          else if (body.widgets.length > 500) problem(`${d.name}: ${body.widgets.length} widgets, over 500`);
        }
      }),
  },
  {
    name: "sqs-limits",
    rule:
      "Visibility timeout 0–43,200 s, retention 60 s–14 days, delay 0–900 s, long polling 0–20 s, messages " +
      "1,024–262,144 bytes; redrive maxReceiveCount 1–1,000 to a DLQ of the same region and kind (FIFO or not).",
    source: "SQS API, SetQueueAttributes; SQS Developer Guide, dead-letter queues",
    check: (v) =>
      collect((problem, count) => {
        const range = (q: Registration, k: string, min: number, max: number) => {
          const val = v.inputs(q)[k];
          if (val !== undefined && !(val >= min && val <= max))
            problem(`${q.name}: ${k} ${val} is outside ${min}–${max}`);
        };
        for (const q of v.ofType(T.queue)) {
          count();
          range(q, "visibilityTimeoutSeconds", 0, 43200);
          range(q, "messageRetentionSeconds", 60, 1209600);
          range(q, "delaySeconds", 0, 900);
          range(q, "receiveWaitTimeSeconds", 0, 20);
          range(q, "maxMessageSize", 1024, 262144);
          const redrive = parseJson(v.inputs(q).redrivePolicy);
          if (!redrive) continue;
          if (!(redrive.maxReceiveCount >= 1 && redrive.maxReceiveCount <= 1000))
            problem(`${q.name}: maxReceiveCount ${redrive.maxReceiveCount} is outside 1–1000`);
          const dlq = v.ofType(T.queue).find((x) => v.outputs(x).arn === redrive.deadLetterTargetArn);
          if (!dlq) {
            problem(`${q.name}: its dead-letter queue ${redrive.deadLetterTargetArn} is not in the stack`);
            continue;
          }
          if (Boolean(v.inputs(dlq).fifoQueue) !== Boolean(v.inputs(q).fifoQueue))
            problem(
              `${q.name}: a ${v.inputs(q).fifoQueue ? "FIFO" : "standard"} queue needs a dead-letter queue of ` +
                `the same kind`,
            );
          if (v.regionOf(dlq) !== v.regionOf(q)) problem(`${q.name}: its dead-letter queue is in ${v.regionOf(dlq)}`);
        }
      }),
  },
  {
    name: "rds-settings",
    rule:
      "Backups kept 0–35 days (1–35 for Aurora); no availabilityZone with Multi-AZ; storage autoscaling ceiling ≥ " +
      "110% of allocated; gp3 ≥ 20 GiB; backup and maintenance windows valid, ≥ 30 min, not overlapping; " +
      "Performance Insights retention 7, 31×n or 731 days; a final snapshot has an identifier; Aurora instances " +
      "share the cluster's engine and version, and are not micro or small.",
    source:
      "RDS API, CreateDBInstance / CreateDBCluster / CreateDBInstance for Aurora; RDS User Guide, storage " +
      "autoscaling and maintenance window",
    check: (v) =>
      collect((problem, count) => {
        const windows = (r: Registration, backup: unknown, maintenance: unknown) => {
          if (backup !== undefined && !(windowLength(String(backup)) >= 30))
            problem(`${r.name}: backup window ${backup} is invalid or shorter than 30 minutes`);
          if (maintenance !== undefined && !(windowLength(String(maintenance)) >= 30))
            problem(`${r.name}: maintenance window ${maintenance} is invalid or shorter than 30 minutes`);
          if (backup !== undefined && maintenance !== undefined && windowsOverlap(String(backup), String(maintenance)))
            problem(`${r.name}: backup window ${backup} overlaps maintenance window ${maintenance}`);
        };
        const finalSnapshot = (r: Registration, i: Record<string, any>) => {
          if (i.skipFinalSnapshot === true) return;
          if (!i.finalSnapshotIdentifier)
            problem(`${r.name}: skipFinalSnapshot is false but there is no finalSnapshotIdentifier (the delete fails)`);
          else if (
            !/^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*$/.test(i.finalSnapshotIdentifier) ||
            i.finalSnapshotIdentifier.length > 255
          )
            problem(
              `${r.name}: finalSnapshotIdentifier ${i.finalSnapshotIdentifier} is not a valid snapshot identifier`,
            );
        };
        for (const r of v.ofType(T.rds)) {
          count();
          const i = v.inputs(r);
          if (i.backupRetentionPeriod !== undefined && !(i.backupRetentionPeriod >= 0 && i.backupRetentionPeriod <= 35))
            problem(`${r.name}: backupRetentionPeriod ${i.backupRetentionPeriod} is outside 0–35`);
          if (i.multiAz === true && i.availabilityZone !== undefined)
            problem(`${r.name}: a Multi-AZ instance cannot pin availabilityZone ${i.availabilityZone}`);
          if (
            i.maxAllocatedStorage !== undefined &&
            i.allocatedStorage !== undefined &&
            i.maxAllocatedStorage > 0 &&
            i.maxAllocatedStorage < Math.ceil(i.allocatedStorage * 1.1)
          ) {
            problem(
              `${r.name}: maxAllocatedStorage ${i.maxAllocatedStorage} is less than 10% above allocatedStorage ` +
                `${i.allocatedStorage}`,
            );
          }
          if (i.storageType === "gp3" && i.allocatedStorage !== undefined && i.allocatedStorage < 20)
            problem(`${r.name}: gp3 needs 20 GiB or more`);
          if (
            i.performanceInsightsRetentionPeriod !== undefined &&
            !(
              i.performanceInsightsRetentionPeriod === 7 ||
              i.performanceInsightsRetentionPeriod === 731 ||
              (i.performanceInsightsRetentionPeriod % 31 === 0 && i.performanceInsightsRetentionPeriod <= 713)
            )
          ) {
            problem(
              `${r.name}: performanceInsightsRetentionPeriod ${i.performanceInsightsRetentionPeriod} is not 7, ` +
                `31×n or 731`,
            );
          }
          windows(r, i.backupWindow, i.maintenanceWindow);
          if (i.replicateSourceDb === undefined) finalSnapshot(r, i);
        }
        for (const c of v.ofType(T.cluster)) {
          count();
          const i = v.inputs(c);
          if (i.backupRetentionPeriod !== undefined && !(i.backupRetentionPeriod >= 1 && i.backupRetentionPeriod <= 35))
            problem(`${c.name}: backupRetentionPeriod ${i.backupRetentionPeriod} is outside 1–35`);
          windows(c, i.preferredBackupWindow, i.preferredMaintenanceWindow);
          finalSnapshot(c, i);
          for (const m of v.referrers(c, [T.clusterInstance], "clusterIdentifier")) {
            const mi = v.inputs(m);
            if (mi.engine !== i.engine)
              problem(`${m.name}: engine ${mi.engine} differs from its cluster's ${i.engine}`);
            if (mi.engineVersion !== undefined && i.engineVersion !== undefined && mi.engineVersion !== i.engineVersion)
              problem(`${m.name}: engineVersion ${mi.engineVersion} differs from its cluster's ${i.engineVersion}`);
            if (
              String(i.engine).startsWith("aurora-postgresql") &&
              /^db\.t[234]g?\.(micro|small)$/.test(mi.instanceClass)
            )
              problem(`${m.name}: Aurora PostgreSQL does not offer ${mi.instanceClass}`);
          }
        }
      }),
  },
  {
    name: "elasticache-settings",
    rule:
      "Multi-AZ needs automatic failover, and automatic failover a replica (2–6 nodes); snapshots kept ≤ 35 days; " +
      "snapshot and maintenance windows ≥ 60 min and not overlapping.",
    source: "ElastiCache API, CreateReplicationGroup; Terraform replicationGroupValidateMultiAZAutomaticFailover",
    check: (v) =>
      collect((problem, count) => {
        for (const rg of v.ofType(T.cache)) {
          count();
          const i = v.inputs(rg);
          const nodes = i.numCacheClusters ?? 1;
          if (i.multiAzEnabled === true && i.automaticFailoverEnabled !== true)
            problem(`${rg.name}: multiAzEnabled needs automaticFailoverEnabled`);
          if (i.automaticFailoverEnabled === true && nodes < 2)
            problem(`${rg.name}: automatic failover needs numCacheClusters ≥ 2, has ${nodes}`);
          if (!(nodes >= 1 && nodes <= 6)) problem(`${rg.name}: numCacheClusters ${nodes} is outside 1–6`);
          if (
            i.snapshotRetentionLimit !== undefined &&
            !(i.snapshotRetentionLimit >= 0 && i.snapshotRetentionLimit <= 35)
          )
            problem(`${rg.name}: snapshotRetentionLimit ${i.snapshotRetentionLimit} is outside 0–35`);
          if (i.snapshotWindow !== undefined && !(windowLength(i.snapshotWindow) >= 60))
            problem(`${rg.name}: snapshot window ${i.snapshotWindow} is invalid or shorter than 60 minutes`);
          if (i.maintenanceWindow !== undefined && !(windowLength(i.maintenanceWindow) >= 60))
            problem(`${rg.name}: maintenance window ${i.maintenanceWindow} is invalid or shorter than 60 minutes`);
          if (
            i.snapshotWindow !== undefined &&
            i.maintenanceWindow !== undefined &&
            windowsOverlap(i.snapshotWindow, i.maintenanceWindow)
          )
            problem(`${rg.name}: snapshot window overlaps the maintenance window`);
        }
      }),
  },
  {
    name: "parameter-group-family",
    rule: "A parameter group's family matches the engine and major version of what uses it (replicas: their source's).",
    source:
      "RDS API, ModifyDBInstance DBParameterGroupName; ElastiCache API, CreateReplicationGroup CacheParameterGroupName",
    check: (v) =>
      collect((problem, count) => {
        const engineOf = (r: Registration): { engine?: string; version?: string } => {
          const i = v.inputs(r);
          if (i.engine !== undefined) return { engine: i.engine, version: i.engineVersion };
          const source = v.deps(r, "replicateSourceDb", T.rds)[0];
          return source ? engineOf(source) : {};
        };
        const check = (r: Registration, prop: string, groupType: string, engine?: string, version?: string) => {
          for (const g of v.deps(r, prop, groupType)) {
            count();
            const expected = engine && version ? familyFor(engine, String(version)) : undefined;
            const family = v.inputs(g).family;
            if (expected === undefined)
              problem(`${r.name}: cannot tell the family for engine ${engine} ${version ?? "(no version)"}`);
            else if (family !== expected)
              problem(
                `${r.name}: parameter group ${g.name} is family ${family}, ${engine} ${version} needs ${expected}`,
              );
          }
        };
        for (const r of v.ofType(T.rds)) {
          const { engine, version } = engineOf(r);
          check(r, "parameterGroupName", T.pg, engine, version);
        }
        for (const c of v.ofType(T.cluster))
          check(c, "dbClusterParameterGroupName", T.cpg, v.inputs(c).engine, v.inputs(c).engineVersion);
        for (const rg of v.ofType(T.cache))
          check(rg, "parameterGroupName", T.cachePg, v.inputs(rg).engine ?? "redis", v.inputs(rg).engineVersion);
      }),
  },
  {
    name: "cloudfront-settings",
    rule:
      "Aliases need a custom certificate; the default certificate takes no minimum protocol (TLSv1); behaviors " +
      "target existing origins with an allowed method set that contains the cached one; origin ids and path " +
      "patterns are unique; an OAC origin is not a custom origin; cache policy TTLs are ordered.",
    source: "CloudFront API, CreateDistribution (Aliases, ViewerCertificate, CacheBehavior, Origin); CreateCachePolicy",
    check: (v) =>
      collect((problem, count) => {
        const methodSets = [
          ["GET", "HEAD"],
          ["GET", "HEAD", "OPTIONS"],
          ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"],
        ].map((s) => s.join(","));
        for (const d of v.ofType(T.dist)) {
          count();
          const i = v.inputs(d);
          const cert = i.viewerCertificate ?? {};
          if ((i.aliases ?? []).length > 0 && cert.cloudfrontDefaultCertificate === true)
            problem(`${d.name}: aliases ${i.aliases.join(", ")} need a custom certificate`);
          if (
            cert.cloudfrontDefaultCertificate === true &&
            cert.minimumProtocolVersion !== undefined &&
            cert.minimumProtocolVersion !== "TLSv1"
          )
            problem(`${d.name}: the default certificate only takes minimumProtocolVersion TLSv1`);
          const origins = (i.origins ?? []) as Array<{
            originId: string;
            customOriginConfig?: unknown;
            originAccessControlId?: string;
          }>;
          const ids = origins.map((o) => o.originId);
          if (new Set(ids).size !== ids.length) problem(`${d.name}: origin ids repeat`);
          for (const o of origins)
            if (o.originAccessControlId && o.customOriginConfig)
              problem(`${d.name}: origin ${o.originId} has both OAC and a custom origin config`);
          const behaviors = [
            { pathPattern: "(default)", ...i.defaultCacheBehavior },
            ...(i.orderedCacheBehaviors ?? []),
          ];
          const patterns = behaviors.map((b) => b.pathPattern);
          if (new Set(patterns).size !== patterns.length) problem(`${d.name}: path patterns repeat`);
          for (const b of behaviors) {
            if (!ids.includes(b.targetOriginId))
              problem(`${d.name}: behavior ${b.pathPattern} targets unknown origin ${b.targetOriginId}`);
            const allowed = [...(b.allowedMethods ?? [])].sort().join(",");
            if (!methodSets.includes(allowed))
              problem(`${d.name}: behavior ${b.pathPattern} allows ${allowed}, not one of CloudFront's method sets`);
            for (const m of b.cachedMethods ?? [])
              if (!(b.allowedMethods ?? []).includes(m))
                problem(`${d.name}: behavior ${b.pathPattern} caches ${m}, which it does not allow`);
            if (b.cachePolicyId !== undefined && b.forwardedValues !== undefined)
              problem(`${d.name}: behavior ${b.pathPattern} has both a cache policy and forwardedValues`);
          }
        }
        for (const p of v.ofType(T.cachePolicy)) {
          count();
          const i = v.inputs(p);
          if (!((i.minTtl ?? 0) <= (i.defaultTtl ?? 86400) && (i.defaultTtl ?? 86400) <= (i.maxTtl ?? 31536000)))
            problem(`${p.name}: TTLs are not minTtl ≤ defaultTtl ≤ maxTtl`);
        }
      }),
  },
  {
    name: "load-balancer-settings",
    rule:
      "HTTPS listeners have a certificate; listener rule priorities are 1–50,000 and unique per listener, header " +
      "conditions name ≤ 40 characters and values ≤ 128; target group health checks have timeout < interval within " +
      "AWS's ranges; access logs go to an SSE-S3 bucket.",
    source:
      "ELB API, CreateListener, CreateRule (HttpHeaderConditionConfig), CreateTargetGroup; ELB User Guide, " +
      "'Access logs' (SSE-S3 only)",
    check: (v) =>
      collect((problem, count) => {
        for (const l of v.ofType(T.listener)) {
          count();
          const i = v.inputs(l);
          if ((i.protocol === "HTTPS" || i.protocol === "TLS") && !i.certificateArn)
            problem(`${l.name}: an ${i.protocol} listener needs a certificateArn`);
          const rules = v.referrers(l, [T.listenerRule], "listenerArn");
          const priorities = rules.map((r) => v.inputs(r).priority).filter((p) => p !== undefined);
          if (new Set(priorities).size !== priorities.length) problem(`${l.name}: rule priorities repeat`);
          for (const r of rules) {
            const ri = v.inputs(r);
            if (ri.priority !== undefined && !(ri.priority >= 1 && ri.priority <= 50000))
              problem(`${r.name}: priority ${ri.priority} is outside 1–50000`);
            for (const c of ri.conditions ?? []) {
              const h = c.httpHeader;
              if (!h) continue;
              if (String(h.httpHeaderName).length > 40)
                problem(`${r.name}: header name ${h.httpHeaderName} is over 40 characters`);
              if ((h.values ?? []).length > 5) problem(`${r.name}: more than 5 header values`);
              for (const val of h.values ?? [])
                if (String(val).length > 128)
                  problem(`${r.name}: a header value is ${String(val).length} characters, over 128`);
            }
          }
        }
        for (const tg of v.ofType(T.tg)) {
          count();
          const hc = v.inputs(tg).healthCheck ?? {};
          const interval = hc.interval ?? 30;
          const timeout = hc.timeout ?? 5;
          if (!(interval >= 5 && interval <= 300))
            problem(`${tg.name}: health check interval ${interval} is outside 5–300`);
          if (!(timeout >= 2 && timeout <= 120))
            problem(`${tg.name}: health check timeout ${timeout} is outside 2–120`);
          if (!(timeout < interval))
            problem(`${tg.name}: health check timeout ${timeout} is not below the interval ${interval}`);
          for (const k of ["healthyThreshold", "unhealthyThreshold"])
            if (hc[k] !== undefined && !(hc[k] >= 2 && hc[k] <= 10))
              problem(`${tg.name}: ${k} ${hc[k]} is outside 2–10`);
          const delay = v.inputs(tg).deregistrationDelay;
          if (delay !== undefined && !(delay >= 0 && delay <= 3600))
            problem(`${tg.name}: deregistrationDelay ${delay} is outside 0–3600`);
          const cookie = v.inputs(tg).stickiness?.cookieDuration;
          if (cookie !== undefined && !(cookie >= 1 && cookie <= 604800))
            problem(`${tg.name}: stickiness cookieDuration ${cookie} is outside 1–604800`);
        }
        for (const lb of v.ofType(T.lb)) {
          const logs = v.inputs(lb).accessLogs;
          if (!logs?.enabled) continue;
          count();
          for (const bucket of v.deps(lb, "accessLogs", T.bucket)) {
            const algorithms = v
              .referrers(bucket, [T.sse], "bucket")
              .flatMap((s) =>
                (v.inputs(s).rules ?? []).map((r: any) => r.applyServerSideEncryptionByDefault?.sseAlgorithm),
              );
            if (algorithms.some((a) => a !== "AES256"))
              problem(
                `${lb.name}: access-log bucket ${bucket.name} uses ${algorithms.join(", ")}; ALB access logs ` +
                  `need SSE-S3 (AES256)`,
              );
          }
        }
      }),
  },
  {
    name: "auto-scaling-settings",
    rule:
      "min ≤ desired ≤ max; instance refresh keeps 0–100% healthy with a maximum of 100–200% no more than 100 " +
      "points above; request-count tracking names app/…/targetgroup/… as its resource label.",
    source:
      "Auto Scaling API, CreateAutoScalingGroup, StartInstanceRefresh (RefreshPreferences), " +
      "PredefinedMetricSpecification ResourceLabel",
    check: (v) =>
      collect((problem, count) => {
        for (const g of v.ofType(T.asg)) {
          count();
          const i = v.inputs(g);
          if (!(i.minSize <= (i.desiredCapacity ?? i.minSize) && (i.desiredCapacity ?? i.minSize) <= i.maxSize))
            problem(`${g.name}: not min ${i.minSize} ≤ desired ${i.desiredCapacity} ≤ max ${i.maxSize}`);
          const p = i.instanceRefresh?.preferences;
          if (p) {
            const min = p.minHealthyPercentage ?? 90;
            const max = p.maxHealthyPercentage ?? 100;
            if (!(min >= 0 && min <= 100)) problem(`${g.name}: minHealthyPercentage ${min} is outside 0–100`);
            if (!(max >= 100 && max <= 200)) problem(`${g.name}: maxHealthyPercentage ${max} is outside 100–200`);
            if (max - min > 100)
              problem(`${g.name}: maxHealthyPercentage - minHealthyPercentage is ${max - min}, over 100`);
          }
        }
        for (const p of v.ofType(T.asgPolicy)) {
          const spec = v.inputs(p).targetTrackingConfiguration?.predefinedMetricSpecification;
          if (spec?.predefinedMetricType !== "ALBRequestCountPerTarget") continue;
          count();
          if (!/^app\/[^/]+\/[^/]+\/targetgroup\/[^/]+\/[^/]+$/.test(String(spec.resourceLabel)))
            problem(`${p.name}: resourceLabel ${spec.resourceLabel} is not app/<lb>/<id>/targetgroup/<tg>/<id>`);
        }
      }),
  },
  {
    name: "route53-settings",
    rule:
      "Alias records have no TTL or values, and a CloudFront alias does not evaluate target health; other records " +
      "have both; health checks have what their type needs.",
    source:
      "Route 53 API, ChangeResourceRecordSets (AliasTarget EvaluateTargetHealth: 'You can't set " +
      "EvaluateTargetHealth to true when the alias target is a CloudFront distribution'), CreateHealthCheck",
    check: (v) =>
      collect((problem, count) => {
        for (const r of v.ofType(T.record)) {
          count();
          const i = v.inputs(r);
          const aliases = (i.aliases ?? []) as Array<{ zoneId: string; evaluateTargetHealth: boolean }>;
          if (aliases.length > 0) {
            if (i.ttl !== undefined || (i.records ?? []).length > 0)
              problem(`${r.name}: an alias record takes no ttl or records`);
            for (const a of aliases)
              if (a.zoneId === CLOUDFRONT_ZONE_ID && a.evaluateTargetHealth === true)
                problem(`${r.name}: evaluateTargetHealth is true on an alias to CloudFront, which Route 53 refuses`);
          } else if (i.ttl === undefined || (i.records ?? []).length === 0)
            problem(`${r.name}: a non-alias record needs ttl and records`);
        }
        for (const h of v.ofType(T.healthCheck)) {
          count();
          const i = v.inputs(h);
          if (i.type === "CLOUDWATCH_METRIC") {
            if (!i.cloudwatchAlarmName || !i.cloudwatchAlarmRegion)
              problem(
                `${h.name}: a CLOUDWATCH_METRIC health check needs cloudwatchAlarmName and cloudwatchAlarmRegion`,
              );
            if (!["Healthy", "Unhealthy", "LastKnownStatus"].includes(i.insufficientDataHealthStatus))
              problem(
                `${h.name}: insufficientDataHealthStatus ${i.insufficientDataHealthStatus} is not Healthy, ` +
                  `Unhealthy or LastKnownStatus`,
              );
            for (const alarm of v.deps(h, "cloudwatchAlarmName", T.alarm))
              if (v.regionOf(alarm) !== i.cloudwatchAlarmRegion)
                problem(`${h.name}: alarm ${alarm.name} is in ${v.regionOf(alarm)}, not ${i.cloudwatchAlarmRegion}`);
          } else if (/^HTTPS?|TCP/.test(String(i.type))) {
            if (!i.fqdn && !i.ipAddress) problem(`${h.name}: needs fqdn or ipAddress`);
            if (i.requestInterval !== undefined && ![10, 30].includes(i.requestInterval))
              problem(`${h.name}: requestInterval is 10 or 30`);
            if (i.failureThreshold !== undefined && !(i.failureThreshold >= 1 && i.failureThreshold <= 10))
              problem(`${h.name}: failureThreshold is 1–10`);
          }
        }
      }),
  },
  {
    name: "vpc-peering",
    rule:
      "Peered VPCs do not overlap; a cross-region request is not auto-accepted by the requester but by an " +
      "accepter in the peer region.",
    source:
      "VPC Peering Guide, 'VPC peering limitations' (overlapping CIDRs, cross-Region auto-accept); EC2 API, " +
      "CreateVpcPeeringConnection PeerRegion",
    check: (v) =>
      collect((problem, count) => {
        const vpcCidr = (r: Registration, prop: string) =>
          v.deps(r, prop, T.vpc, T.ec2Vpc).map((x) => v.inputs(x).cidrBlock as string | undefined)[0];
        for (const pcx of v.ofType(T.peering)) {
          count();
          const i = v.inputs(pcx);
          const a = vpcCidr(pcx, "vpcId");
          const b = vpcCidr(pcx, "peerVpcId");
          const ra = a ? cidrRange(a) : undefined;
          const rb = b ? cidrRange(b) : undefined;
          if (ra && rb && ra[0] <= rb[1] && rb[0] <= ra[1]) problem(`${pcx.name}: ${a} and ${b} overlap`);
          const crossRegion = i.peerRegion !== undefined && i.peerRegion !== v.regionOf(pcx);
          if (crossRegion && i.autoAccept === true)
            problem(`${pcx.name}: autoAccept cannot be used with peerRegion ${i.peerRegion}`);
          const accepters = v.referrers(pcx, [T.peeringAccepter], "vpcPeeringConnectionId");
          if (crossRegion && !accepters.some((x) => v.regionOf(x) === i.peerRegion && v.inputs(x).autoAccept === true))
            problem(`${pcx.name}: no accepter with autoAccept in ${i.peerRegion}; the connection stays pending`);
        }
      }),
  },
  {
    name: "secrets-and-iam",
    rule:
      "Secrets recover for 0 or 7–30 days; IAM statement ids are alphanumeric; a role's inline policies total at " +
      "most 10,240 characters.",
    source:
      "Secrets Manager API, DeleteSecret RecoveryWindowInDays; IAM User Guide, 'IAM JSON policy elements: Sid' " +
      "and 'IAM and STS quotas'",
    check: (v) =>
      collect((problem, count) => {
        for (const s of v.ofType(T.secret)) {
          const w = v.inputs(s).recoveryWindowInDays;
          if (w === undefined) continue;
          count();
          if (!(w === 0 || (w >= 7 && w <= 30))) problem(`${s.name}: recoveryWindowInDays ${w} is not 0 or 7–30`);
        }
        const perRole = new Map<string, number>();
        for (const p of v.ofType(T.rolePolicy)) {
          count();
          const doc = parseJson(v.inputs(p).policy);
          if (!doc) {
            problem(`${p.name}: the policy is not JSON`);
            continue;
          }
          for (const st of [doc.Statement].flat())
            if (st?.Sid !== undefined && !/^[A-Za-z0-9]+$/.test(st.Sid))
              problem(`${p.name}: Sid ${st.Sid} is not alphanumeric`);
          const role = String(v.inputs(p).role);
          perRole.set(role, (perRole.get(role) ?? 0) + JSON.stringify(doc).replace(/\s/g, "").length);
        }
        for (const [role, size] of perRole)
          if (size > 10240) problem(`role ${role}: inline policies total ${size} characters, over 10240`);
      }),
  },
  {
    name: "instance-refresh-rollback",
    rule:
      "An instance refresh rolls back only from a numbered launch template version whose image id is an AMI id: " +
      "not with a `resolve:ssm:` image id, not on $Latest or $Default.",
    source:
      "Auto Scaling API Reference, RollbackInstanceRefresh ('A rollback is not supported in the following " +
      "situations'); User Guide, 'Undo changes with a manual or auto rollback' (read 2026-12-01)",
    check: (v) =>
      collect((problem, count) => {
        for (const g of v.ofType(T.asg)) {
          count();
          if (v.inputs(g).instanceRefresh?.preferences?.autoRollback !== true) continue;
          const version = String(v.inputs(g).launchTemplate?.version ?? "$Default");
          if (version === "$Latest" || version === "$Default")
            problem(`${g.name}: autoRollback with launch template version ${version}`);
          for (const lt of v.deps(g, "launchTemplate", T.lt)) {
            const image = String(v.inputs(lt).imageId ?? "");
            if (image.startsWith("resolve:ssm:"))
              problem(`${g.name}: autoRollback with ${lt.name}'s image id ${image}, an SSM parameter`);
          }
        }
      }),
  },
  {
    name: "route53-record-owner",
    rule:
      "One resource per Route 53 record set (zone, name, type, set identifier): two resources on one record (ACM " +
      "validation records are the same CNAME for every certificate of a name) overwrite each other, and deleting " +
      "either deletes it for both.",
    source:
      "Route 53 API, ChangeResourceRecordSets (one record set per name, type and set identifier); " +
      "hashicorp/terraform-provider-aws#13653 (ACM answers the same validation CNAME across regions and " +
      "certificates)",
    check: (v) =>
      collect((problem, count) => {
        const owners = new Map<string, string[]>();
        for (const r of v.ofType(T.record)) {
          count();
          const i = v.inputs(r);
          const key =
            `${i.zoneId} ${String(i.name).replace(/\.$/, "").toLowerCase()} ` +
            `${i.type}${i.setIdentifier ? ` ${i.setIdentifier}` : ""}`;
          owners.set(key, [...(owners.get(key) ?? []), r.name]);
        }
        for (const [key, names] of owners)
          if (names.length > 1) problem(`${key}: ${names.length} resources own it (${names.join(", ")})`);
      }),
  },
  {
    name: "alb-log-delivery",
    rule:
      "An ALB's access-log bucket lets the region's log writer put objects: the regional ELB account in regions " +
      "opened before August 2022, the logdelivery.elasticloadbalancing.amazonaws.com service principal in later " +
      "ones.",
    source:
      "ELB User Guide, 'Enable access logs for your Application Load Balancer', step 2 (read 2026-12-01); table " +
      "in components/facts/elb-log-delivery.ts",
    check: (v) =>
      collect((problem, count) => {
        for (const lb of v.ofType(T.lb)) {
          if (!v.inputs(lb).accessLogs?.enabled) continue;
          count();
          const expected = JSON.stringify(elbLogDeliveryPrincipal(v.regionOf(lb)));
          for (const bucket of v.deps(lb, "accessLogs", T.bucket)) {
            const statements = v
              .referrers(bucket, [T.bucketPolicy], "bucket")
              .flatMap((p) => [parseJson(v.inputs(p).policy)?.Statement ?? []].flat())
              .filter((st: any) => st.Effect === "Allow" && [st.Action].flat().includes("s3:PutObject"));
            if (!statements.some((st: any) => JSON.stringify(st.Principal) === expected)) {
              problem(
                `${lb.name}: access-log bucket ${bucket.name} does not let ${expected} (${v.regionOf(lb)}'s log ` +
                  `writer) put objects`,
              );
            }
          }
        }
      }),
  },
  {
    name: "awsx-subnet-layout",
    rule:
      "An awsx VPC with subnetStrategy Auto and cidrMask subnets fits them in each AZ's block (VPC prefix + " +
      "ceil(log2(AZs)) bits) once each is aligned to its own size; otherwise subnets overlap or leave the VPC.",
    source:
      "pulumi/pulumi-awsx awsx/ec2/subnetDistributorNew.ts (allocateSubnetCidrBlocks, nextNetmask; read " +
      "2026-12-01); EC2 API, CreateSubnet (InvalidSubnet.Conflict / InvalidSubnet.Range)",
    check: (v) =>
      collect((problem, count) => {
        for (const vpc of v.ofType(T.vpc)) {
          const i = v.inputs(vpc);
          const masks = ((i.subnetSpecs ?? []) as Array<{ cidrMask?: number }>).map((x) => x.cidrMask);
          if (
            i.subnetStrategy !== "Auto" ||
            masks.length === 0 ||
            masks.some((m) => m === undefined) ||
            typeof i.cidrBlock !== "string"
          )
            continue;
          count();
          const azs = (i.availabilityZoneNames ?? []).length || i.numberOfAvailabilityZones || 3;
          if (!awsxAutoLayout(i.cidrBlock, azs, masks as number[]).fits)
            problem(`${vpc.name}: ${i.cidrBlock} cannot hold /${masks.join(", /")} in each of ${azs} AZs`);
        }
      }),
  },
  // RDS and Aurora rules that read the compatibility tables of components/facts/.
  ...RDS_DEPLOY_RULES,
];
