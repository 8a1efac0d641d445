/**
 * Who can reach what: the data tier stays private, the internet reaches only the entry point, nobody gets a shell
 * port, and instance credentials stay on the instance.
 */
import * as aws from "@pulumi/aws";
import {
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationPolicy,
  validateResourceOfType,
} from "@pulumi/policy";
import { CONTEXT_SCHEMA, stackContext } from "./context";
import { LOAD_BALANCER_TYPES, T, isFalse, isTrue, known, label, strings, targetsOf } from "./relations";

const WORLD = ["0.0.0.0/0", "::/0"];
/** Ports nobody should reach from a network rule: operators use Session Manager. */
const SHELL_PORTS: Record<number, string> = { 22: "SSH", 3389: "RDP" };

/** A port range as a rule declares it; `-1` (all protocols) means every port. */
function portRange(protocol: unknown, from: unknown, to: unknown): { all: boolean; from: number; to: number } {
  const p = String(protocol ?? "").toLowerCase();
  if (p === "-1" || p === "all") return { all: true, from: 0, to: 65535 };
  return { all: false, from: Number(from ?? 0), to: Number(to ?? from ?? 0) };
}

const portText = (r: { all: boolean; from: number; to: number }) =>
  r.all ? "all ports" : r.from === r.to ? `port ${r.from}` : `ports ${r.from}-${r.to}`;

export const dataTierNotPublic: ResourceValidationPolicy = {
  name: "data-tier-not-public",
  description: "Databases are never publicly accessible.",
  severity: "critical",
  remediationSteps:
    "Set publiclyAccessible: false (the default) and keep the instance in isolated subnets; clients reach it " +
    "from inside the VPC.",
  validateResource: [
    validateResourceOfType(aws.rds.Instance, (db, args, report) => {
      if (isTrue(db.publiclyAccessible))
        report(`${args.name}: publiclyAccessible is true; an RDS instance must only be reachable from inside the VPC.`);
    }),
    validateResourceOfType(aws.rds.ClusterInstance, (db, args, report) => {
      if (isTrue(db.publiclyAccessible))
        report(
          `${args.name}: publiclyAccessible is true; an Aurora instance must only be reachable from inside the VPC.`,
        );
    }),
  ],
};

interface WorldRule {
  rule: PolicyResource;
  cidr: string;
  ports: { all: boolean; from: number; to: number };
  /** Security groups the rule opens (empty when the group is not in this stack). */
  groups: PolicyResource[];
}

/** Every rule that admits 0.0.0.0/0 or ::/0, in any of the three ways a rule can be written. */
function worldRules(resources: readonly PolicyResource[]): WorldRule[] {
  const out: WorldRule[] = [];
  for (const r of resources) {
    if (r.type === T.ingressRule) {
      const cidrs = known(
        () => [r.props.cidrIpv4, r.props.cidrIpv6].filter((c): c is string => typeof c === "string"),
        [],
      );
      for (const cidr of cidrs.filter((c) => WORLD.includes(c))) {
        out.push({
          rule: r,
          cidr,
          ports: portRange(r.props.ipProtocol, r.props.fromPort, r.props.toPort),
          groups: targetsOf(resources, r, "securityGroupId", [T.securityGroup]),
        });
      }
    } else if (r.type === T.securityGroupRule && r.props.type === "ingress") {
      const cidrs = known(() => [...strings(r.props.cidrBlocks), ...strings(r.props.ipv6CidrBlocks)], []);
      for (const cidr of cidrs.filter((c) => WORLD.includes(c))) {
        out.push({
          rule: r,
          cidr,
          ports: portRange(r.props.protocol, r.props.fromPort, r.props.toPort),
          groups: targetsOf(resources, r, "securityGroupId", [T.securityGroup]),
        });
      }
    } else if (r.type === T.securityGroup) {
      for (const inline of known(() => (r.props.ingress ?? []) as Array<Record<string, unknown>>, [])) {
        for (const cidr of [...strings(inline.cidrBlocks), ...strings(inline.ipv6CidrBlocks)].filter((c) =>
          WORLD.includes(c),
        )) {
          out.push({ rule: r, cidr, ports: portRange(inline.protocol, inline.fromPort, inline.toPort), groups: [r] });
        }
      }
    }
  }
  return out;
}

export const worldIngressOnlyToEntryPoints: StackValidationPolicy = {
  name: "world-ingress-only-to-entry-points",
  description:
    "Only the entry point is open to the internet: an internet-facing ALB on 80/443, or at steps 1–2 the single " +
    "server on 80.",
  severity: "critical",
  configSchema: CONTEXT_SCHEMA,
  remediationSteps:
    "Admit 0.0.0.0/0 and ::/0 only on the security group of an internet-facing application load balancer, on " +
    "port 80 or 443. Everything behind it admits its caller's security group, never a CIDR.",
  validateStack: (args, report) => {
    const { step } = stackContext(args.getConfig(), args.resources);
    const entry = new Map<string, { ports: number[]; why: string }>();
    for (const lb of args.resources.filter((r) => LOAD_BALANCER_TYPES.includes(r.type))) {
      const internetFacing =
        !isTrue(known(() => lb.props.internal, false)) &&
        (known(() => lb.props.loadBalancerType, undefined) ?? "application") === "application";
      if (!internetFacing) continue;
      for (const sg of targetsOf(args.resources, lb, "securityGroups", [T.securityGroup]))
        entry.set(sg.urn, { ports: [80, 443], why: `the security group of load balancer ${lb.name}` });
    }
    // Steps 1–2: the single server is the entry point. It is recognised by its public address: an Elastic IP
    // associated with it, or a public IP of its own.
    for (const server of args.resources.filter((r) => r.type === T.instance)) {
      const publicIp =
        isTrue(known(() => server.props.associatePublicIpAddress, false)) ||
        publicAddressesOf(args.resources, server).length > 0;
      if (!publicIp) continue;
      if (step !== undefined && step > 2) continue; // from step 3 the load balancer is the only way in
      for (const sg of [
        ...targetsOf(args.resources, server, "vpcSecurityGroupIds", [T.securityGroup]),
        ...targetsOf(args.resources, server, "securityGroups", [T.securityGroup]),
      ]) {
        if (!entry.has(sg.urn))
          entry.set(sg.urn, { ports: [80], why: `the security group of the single server ${server.name} (steps 1–2)` });
      }
    }
    for (const w of worldRules(args.resources)) {
      const allowed =
        w.groups.length > 0 &&
        w.groups.every((g) => {
          const e = entry.get(g.urn);
          return e !== undefined && !w.ports.all && w.ports.from === w.ports.to && e.ports.includes(w.ports.from);
        });
      if (allowed) continue;
      const target =
        w.groups.length > 0 ? w.groups.map((g) => g.name).join(", ") : "a security group outside this stack";
      const point = w.groups.map((g) => entry.get(g.urn)).find((e) => e !== undefined);
      const why = point
        ? `${target} is ${point.why}, which may only be open on port${point.ports.length > 1 ? "s" : ""} ` +
          `${point.ports.join(" and ")}`
        : `${target} is not an entry point`;
      report(`${label(w.rule)} admits ${w.cidr} on ${portText(w.ports)}: ${why}.`, w.rule.urn);
    }
  },
};

/** Elastic IP associations (and Elastic IPs with `instance`) that give `server` a public address. */
function publicAddressesOf(resources: readonly PolicyResource[], server: PolicyResource): PolicyResource[] {
  return resources.filter(
    (r) =>
      (r.type === T.eipAssociation && targetsOf([server], r, "instanceId", [T.instance]).length > 0) ||
      (r.type === T.eip && targetsOf([server], r, "instance", [T.instance]).length > 0),
  );
}

function shellPortViolation(name: string, ports: { all: boolean; from: number; to: number }): string | undefined {
  const hit = Object.entries(SHELL_PORTS).find(([p]) => ports.from <= Number(p) && Number(p) <= ports.to);
  if (!hit) return undefined;
  return (
    `${name} admits ${portText(ports)}, which includes ${hit[1]} (${hit[0]}); use Session Manager instead of a ` +
    `shell port.`
  );
}

export const noSshIngress: ResourceValidationPolicy = {
  name: "no-ssh-ingress",
  description: "No security group rule opens SSH (22) or RDP (3389), from anywhere.",
  severity: "high",
  remediationSteps:
    "Remove the rule; operators connect with `aws ssm start-session` (the instance role has " +
    "AmazonSSMManagedInstanceCore).",
  validateResource: [
    validateResourceOfType(aws.vpc.SecurityGroupIngressRule, (rule, args, report) => {
      const v = shellPortViolation(args.name, portRange(rule.ipProtocol, rule.fromPort, rule.toPort));
      if (v) report(v);
    }),
    validateResourceOfType(aws.ec2.SecurityGroupRule, (rule, args, report) => {
      if (rule.type !== "ingress") return;
      const v = shellPortViolation(args.name, portRange(rule.protocol, rule.fromPort, rule.toPort));
      if (v) report(v);
    }),
    validateResourceOfType(aws.ec2.SecurityGroup, (sg, args, report) => {
      for (const rule of sg.ingress ?? []) {
        const v = shellPortViolation(
          `${args.name} (inline ingress)`,
          portRange(rule.protocol, rule.fromPort, rule.toPort),
        );
        if (v) report(v);
      }
    }),
  ],
};

function metadataViolation(
  name: string,
  m: { httpEndpoint?: string; httpTokens?: string; httpPutResponseHopLimit?: number } | undefined,
): string | undefined {
  if (m?.httpEndpoint === "disabled") return undefined; // no metadata service at all is stricter still
  const problems: string[] = [];
  if (m?.httpTokens !== "required")
    problems.push(`httpTokens is ${JSON.stringify(m?.httpTokens ?? "unset (optional)")}, not "required"`);
  if (m?.httpPutResponseHopLimit !== 1)
    problems.push(
      `httpPutResponseHopLimit is ` +
        `${m?.httpPutResponseHopLimit ?? "unset (the AMI's default, 2 on Amazon Linux 2023)"}, not 1`,
    );
  return problems.length > 0 ? `${name}: metadataOptions ${problems.join(" and ")}.` : undefined;
}

export const imdsv2Required: ResourceValidationPolicy = {
  name: "imdsv2-required",
  description: "Instances and launch templates require IMDSv2 tokens with a hop limit of 1.",
  severity: "high",
  remediationSteps:
    'Set metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 }.',
  validateResource: [
    validateResourceOfType(aws.ec2.Instance, (i, args, report) => {
      const v = metadataViolation(args.name, i.metadataOptions);
      if (v) report(v);
    }),
    validateResourceOfType(aws.ec2.LaunchTemplate, (lt, args, report) => {
      const v = metadataViolation(args.name, lt.metadataOptions);
      if (v) report(v);
    }),
  ],
};

export const launchTemplateNoPublicIp: ResourceValidationPolicy = {
  name: "launch-template-no-public-ip",
  description:
    "Fleet instances get no public IP: every launch template network interface sets associatePublicIpAddress to false.",
  severity: "high",
  remediationSteps:
    'Declare networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: "false", securityGroups: [...] }]; ' +
    "the subnet's default must not decide.",
  validateResource: validateResourceOfType(aws.ec2.LaunchTemplate, (lt, args, report) => {
    const nics = lt.networkInterfaces ?? [];
    if (nics.length === 0) {
      report(
        `${args.name}: no networkInterfaces, so the subnet's mapPublicIpOnLaunch decides whether instances get ` +
          `a public IP.`,
      );
      return;
    }
    nics.forEach((nic, i) => {
      if (!isFalse(nic.associatePublicIpAddress))
        report(
          `${args.name}: networkInterfaces[${i}].associatePublicIpAddress is ` +
            `${JSON.stringify(nic.associatePublicIpAddress ?? "unset")}, not false.`,
        );
    });
  }),
};

export const NETWORK_POLICIES = [
  dataTierNotPublic,
  worldIngressOnlyToEntryPoints,
  noSshIngress,
  imdsv2Required,
  launchTemplateNoPublicIp,
];
