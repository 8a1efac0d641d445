/**
 * An architecture diagram (Mermaid flowchart) derived from a mocked graph, never drawn by hand: the boxes are the
 * resources people reason about (server, load balancer, fleets, databases, cache, queues, CDN, DNS), grouped by the
 * component that creates them and by region; the arrows are what the graph says can talk to what:
 *
 * - a security-group ingress rule (from the internet, from another tier's group, or from a peered region's CIDR);
 * - a CloudFront origin, a Route 53 alias or A record (dotted: name resolution and routing);
 * - RDS and Aurora replication (dotted), the queue's redrive to its DLQ (dotted);
 * - IAM statements that let a fleet send to or receive from a queue;
 * - a fleet whose boot script starts the CloudWatch agent, to the region's telemetry (dotted);
 * - a VPC peering between two regions (dotted, between the region boxes).
 *
 * IAM reads of secrets, releases and parameters are left out: every compute box has them and they would say nothing.
 */
import type { Registration } from "../../lib/graph/harness";
import { GraphIndex, isCustom } from "./graph";
import { T } from "../../lib/graph/resource-types";

interface DNode {
  id: string;
  label: string;
  shape: "rect" | "db" | "queue" | "circle" | "dns";
  /** Subgraph: a region's VPC, or the global group; undefined for the users. */
  area?: string;
  /** Component subgraph inside the area. */
  component?: { id: string; label: string };
  urns: string[];
}

interface DEdge {
  from: string;
  to: string;
  labels: Set<string>;
  dotted: boolean;
}

export interface DiagramOptions {
  /** URNs of resources new at this step: their boxes get the `added` class. */
  added?: ReadonlySet<string>;
  /** Top-to-bottom (default) or left-to-right. */
  direction?: "TB" | "LR";
}

const GLOBAL = "global";
const PORTS: Record<number, string> = { 80: "HTTP", 443: "HTTPS", 5432: "5432", 6379: "6379", 3000: "3000" };
const portLabel = (from: number, to: number) => (from === to ? (PORTS[from] ?? String(from)) : `${from}-${to}`);
const mermaidId = (s: string) => s.replace(/[^A-Za-z0-9]/g, "_");
const text = (s: string) => s.replace(/"/g, "'");

/** The Mermaid source of a graph's architecture. */
export function architectureDiagram(index: GraphIndex, opts: DiagramOptions = {}): string {
  const nodes = new Map<string, DNode>();
  const nodeOf = new Map<string, string>(); // resource urn → node id
  const edges = new Map<string, DEdge>();
  const custom = index.resources.filter(isCustom);
  const inputs = (r: Registration) => index.inputs(r);
  const out = (r: Registration) => index.outputs(r).state;
  const idOf = (r: Registration) => index.outputs(r).id;
  const regionCode = (r: Registration) => index.regionOf(r) ?? "us-east-1";
  const top = (r: Registration) => index.topComponentOf(r);
  const componentType = (r: Registration) => top(r)?.type.split(":")[2];

  const add = (r: Registration, label: string, shape: DNode["shape"], area?: string) => {
    const id = mermaidId(r.name);
    const t = top(r);
    const global = area === GLOBAL;
    nodes.set(id, {
      id,
      label,
      shape,
      area: area ?? regionCode(r),
      component:
        t && !global ? { id: mermaidId(`${t.name}-box`), label: `${t.type.split(":")[2]} ${t.name}` } : undefined,
      urns: [r.urn],
    });
    nodeOf.set(r.urn, id);
    return id;
  };
  const edge = (from: string | undefined, to: string | undefined, label: string | undefined, dotted = false) => {
    if (!from || !to || from === to) return;
    const key = `${from}>${to}>${dotted}`;
    const e = edges.get(key) ?? { from, to, labels: new Set<string>(), dotted };
    if (label) e.labels.add(label);
    edges.set(key, e);
  };

  // --- boxes ---
  nodes.set("users", { id: "users", label: "Users", shape: "circle", urns: [] });
  const listeners = index.graph.ofType(T.listener);
  for (const r of custom) {
    const i = inputs(r);
    switch (r.type) {
      case T.instance: {
        const local = typeof i.userData === "string" && i.userData.includes("postgresql16-server");
        add(r, `EC2 server<br/>${i.instanceType}, app${local ? " + PostgreSQL" : ""}`, "rect");
        break;
      }
      case T.lb: {
        const arn = idOf(r);
        const https = listeners.some((l) => inputs(l).loadBalancerArn === arn && inputs(l).protocol === "HTTPS");
        add(r, `ALB<br/>${https ? "HTTPS" : "HTTP"}`, "rect");
        break;
      }
      case T.asg: {
        const lt = index.resolve(i.launchTemplate?.id, [T.lt]);
        const what = componentType(r) === "WorkerFleet" ? "workers" : "web fleet";
        add(r, `${what}<br/>${i.minSize}–${i.maxSize} × ${lt ? inputs(lt).instanceType : "?"}`, "rect");
        break;
      }
      case T.rds: {
        const replica = i.replicateSourceDb !== undefined;
        const crossRegion = replica && String(i.replicateSourceDb).startsWith("arn:");
        const n = r.name.match(/-replica-(\d+)$/)?.[1];
        const label = !replica
          ? `RDS PostgreSQL ${i.engineVersion}<br/>${i.instanceClass}${i.multiAz ? ", Multi-AZ" : ""}`
          : crossRegion
            ? `catalog replica<br/>${i.instanceClass}, cross-region`
            : `read replica ${Number(n) + 1}<br/>${i.instanceClass}`;
        add(r, label, "db");
        break;
      }
      case T.cluster: {
        const members = index.graph.ofType(T.clusterInstance).filter((m) => inputs(m).clusterIdentifier === idOf(r));
        const klass = members[0] ? inputs(members[0]).instanceClass : "?";
        const shard = r.name.match(/-(\d+)$/)?.[1];
        const global = index.graph
          .ofType(T.globalCluster)
          .some((g) => inputs(g).sourceDbClusterIdentifier === out(r).arn);
        const secondary = i.globalClusterIdentifier !== undefined && i.masterUsername === undefined;
        const roles = members.map((m) => m.name.split("-").pop()).join(" + ");
        add(
          r,
          `orders shard ${shard}<br/>Aurora ${roles}, ` +
            `${klass}${global ? ", global primary" : secondary ? ", global secondary" : ""}`,
          "db",
        );
        break;
      }
      case T.cache:
        add(r, `Valkey cache<br/>${i.numCacheClusters} × ${i.nodeType}`, "db");
        break;
      case T.queue:
        add(r, i.redrivePolicy ? "orders queue<br/>SQS" : "dead-letter queue<br/>SQS", "queue");
        break;
      case T.dist:
        add(r, `CloudFront<br/>${i.priceClass}`, "rect", GLOBAL);
        break;
      case T.bucket:
        if (componentType(r) === "Cdn") add(r, "S3 static assets<br/>private, OAC", "db", GLOBAL);
        break;
      case T.dashboard: {
        const alarms = index.ofType(T.alarm, top(r)).length;
        add(r, `CloudWatch dashboard<br/>${alarms} alarms → SNS`, "rect");
        break;
      }
      case T.ssmParameter:
        if (componentType(r) === "Telemetry") {
          const groups = index.ofType(T.logGroup, top(r)).length;
          add(r, `CloudWatch Logs<br/>${groups} log groups, agent config`, "rect");
        }
        break;
      case T.record: {
        if (String(i.name).startsWith("_")) break; // certificate validation
        const id = mermaidId(`dns-${i.name}`);
        const geo = i.geolocationRoutingPolicies !== undefined;
        const existing = nodes.get(id);
        if (existing) existing.urns.push(r.urn);
        else
          nodes.set(id, {
            id,
            label: `Route 53<br/>${i.name}${geo ? ", geolocation" : ""}`,
            shape: "dns",
            area: GLOBAL,
            urns: [r.urn],
          });
        nodeOf.set(r.urn, id);
        break;
      }
    }
  }

  // --- security groups: which boxes use each ---
  const sgUsers = new Map<string, string[]>();
  const use = (sg: unknown, node: string | undefined) => {
    if (typeof sg !== "string" || !node) return;
    sgUsers.set(sg, [...new Set([...(sgUsers.get(sg) ?? []), node])]);
  };
  for (const r of custom) {
    const i = inputs(r);
    const node = nodeOf.get(r.urn);
    if (r.type === T.lt) {
      const groups = index.graph.ofType(T.asg).filter((g) => inputs(g).launchTemplate?.id === idOf(r));
      for (const sg of (i.networkInterfaces ?? []).flatMap(
        (n: { securityGroups?: string[] }) => n.securityGroups ?? [],
      ))
        for (const g of groups) use(sg, nodeOf.get(g.urn));
      continue;
    }
    for (const key of ["vpcSecurityGroupIds", "securityGroups", "securityGroupIds"])
      for (const sg of i[key] ?? []) use(sg, node);
  }
  // VPC id → CIDR, and security group id → its VPC's CIDR.
  const vpcCidr = new Map<string, string>();
  for (const v of index.graph.ofType(T.vpc)) vpcCidr.set(out(v).vpcId, inputs(v).cidrBlock);
  const sgCidr = new Map<string, string>();
  for (const sg of index.graph.ofType(T.sg)) sgCidr.set(idOf(sg), vpcCidr.get(inputs(sg).vpcId) ?? "");
  const egress = index.graph.ofType(T.egress).map(inputs);

  for (const rule of index.graph.ofType(T.ingress).map(inputs)) {
    const targets = sgUsers.get(rule.securityGroupId) ?? [];
    const label = portLabel(rule.fromPort, rule.toPort);
    let sources: string[] = [];
    let dotted = false;
    if (rule.referencedSecurityGroupId) sources = sgUsers.get(rule.referencedSecurityGroupId) ?? [];
    else if (rule.cidrIpv4 === "0.0.0.0/0" || rule.cidrIpv6 === "::/0") sources = ["users"];
    else if (rule.cidrIpv4) {
      // A peered region: the groups there whose egress reaches this VPC on the port.
      const here = sgCidr.get(rule.securityGroupId);
      sources = egress
        .filter(
          (e) =>
            e.cidrIpv4 === here &&
            e.fromPort <= rule.fromPort &&
            e.toPort >= rule.toPort &&
            sgCidr.get(e.securityGroupId) === rule.cidrIpv4,
        )
        .flatMap((e) => sgUsers.get(e.securityGroupId) ?? []);
      dotted = false;
    }
    // Prefix-list rules (CloudFront's origin-facing addresses) are drawn from the distribution's origins instead.
    for (const s of sources)
      for (const t of targets)
        edge(s, t, rule.cidrIpv4 && rule.cidrIpv4 !== "0.0.0.0/0" ? `${label} over peering` : label, dotted);
  }

  // --- CDN origins ---
  for (const d of index.graph.ofType(T.dist)) {
    const i = inputs(d);
    const cf = nodeOf.get(d.urn);
    edge("users", cf, "HTTPS");
    const paths = new Map<string, string[]>();
    paths.set(i.defaultCacheBehavior?.targetOriginId, ["/*"]);
    for (const b of i.orderedCacheBehaviors ?? [])
      paths.set(b.targetOriginId, [...(paths.get(b.targetOriginId) ?? []), b.pathPattern]);
    for (const o of i.origins ?? []) {
      const target = index.resolve(o.domainName, [T.lb, T.bucket, T.record]);
      const label = (paths.get(o.originId) ?? []).join(" ");
      edge(
        cf,
        target ? nodeOf.get(target.urn) : undefined,
        o.customHeaders?.length ? `${label}, X-Origin-Verify` : label,
      );
    }
  }

  // --- DNS ---
  for (const rec of index.graph.ofType(T.record)) {
    const from = nodeOf.get(rec.urn);
    if (!from) continue;
    const i = inputs(rec);
    const where = i.geolocationRoutingPolicies?.[0];
    const label = where ? (where.continent ?? (where.country === "*" ? "default" : where.country)) : "alias";
    for (const a of i.aliases ?? []) {
      const target = index.resolve(a.name, [T.lb, T.dist]);
      edge(from, target && nodeOf.get(target.urn), label, true);
    }
    for (const ip of i.records ?? []) {
      const eip = index.resolve(ip, [T.eip]);
      const assoc =
        eip && index.graph.ofType(T.eipAssociation).find((x) => inputs(x).allocationId === out(eip).allocationId);
      const server = assoc && index.resolve(inputs(assoc).instanceId, [T.instance]);
      edge(from, server && nodeOf.get(server.urn), "A (Elastic IP)", true);
    }
    if (!i.geolocationRoutingPolicies) edge("users", from, "DNS", true);
  }

  // --- replication ---
  for (const r of index.graph.ofType(T.rds)) {
    const src = inputs(r).replicateSourceDb;
    if (src === undefined) continue;
    const primary = index.resolve(src, [T.rds]);
    edge(
      primary && nodeOf.get(primary.urn),
      nodeOf.get(r.urn),
      String(src).startsWith("arn:") ? "cross-region replication" : "replication",
      true,
    );
  }
  for (const c of index.graph.ofType(T.cluster)) {
    const gid = inputs(c).globalClusterIdentifier;
    if (gid === undefined || inputs(c).masterUsername !== undefined) continue;
    const global = index.resolve(gid, [T.globalCluster]);
    const primary = global && index.resolve(inputs(global).sourceDbClusterIdentifier, [T.cluster]);
    edge(primary && nodeOf.get(primary.urn), nodeOf.get(c.urn), "global database replication", true);
  }

  // --- queues ---
  for (const q of index.graph.ofType(T.queue)) {
    const policy = inputs(q).redrivePolicy;
    if (typeof policy !== "string") continue;
    const p = JSON.parse(policy) as { deadLetterTargetArn: string; maxReceiveCount: number };
    const dlq = index.resolve(p.deadLetterTargetArn, [T.queue]);
    edge(nodeOf.get(q.urn), dlq && nodeOf.get(dlq.urn), `after ${p.maxReceiveCount} receives`, true);
  }
  const fleetNodeOf = (r: Registration) => {
    const t = top(r);
    const g = t && index.ofType(T.asg, t)[0];
    return g ? nodeOf.get(g.urn) : undefined;
  };
  for (const pol of index.graph.ofType(T.rolePolicy)) {
    const fleet = fleetNodeOf(pol);
    const doc = JSON.parse(inputs(pol).policy) as { Statement: Array<{ Action: string[]; Resource: string[] }> };
    for (const s of doc.Statement) {
      for (const res of [s.Resource].flat()) {
        const q = index.resolve(res, [T.queue]);
        if (!q) continue;
        if (s.Action.includes("sqs:SendMessage")) edge(fleet, nodeOf.get(q.urn), "SendMessage");
        if (s.Action.includes("sqs:ReceiveMessage")) edge(nodeOf.get(q.urn), fleet, "ReceiveMessage");
      }
    }
  }

  // --- telemetry ---
  for (const lt of index.graph.ofType(T.lt)) {
    const ud = Buffer.from(String(inputs(lt).userData ?? ""), "base64").toString("utf8");
    const param = ud.match(/-c 'ssm:([^']+)'/)?.[1];
    if (!param) continue;
    const target = index.graph.ofType(T.ssmParameter).find((p) => out(p).name === param);
    edge(fleetNodeOf(lt), target && nodeOf.get(target.urn), "logs, metrics", true);
  }

  // --- render ---
  const regionNames = [
    ...new Set([...nodes.values()].map((n) => n.area).filter((a): a is string => a !== undefined && a !== GLOBAL)),
  ];
  const vpcLabel = (region: string) => {
    const v = index.graph.ofType(T.vpc).find((x) => index.regionOf(x) === region);
    return v ? `${region}, VPC ${inputs(v).cidrBlock}` : region;
  };
  const shape = (n: DNode) => {
    const l = text(n.label);
    switch (n.shape) {
      case "db":
        return `${n.id}[("${l}")]`;
      case "queue":
        return `${n.id}[["${l}"]]`;
      case "circle":
        return `${n.id}(("${l}"))`;
      case "dns":
        return `${n.id}(["${l}"])`;
      default:
        return `${n.id}["${l}"]`;
    }
  };
  const lines: string[] = [`flowchart ${opts.direction ?? "TB"}`];
  const emitArea = (area: string | undefined, indent: string) => {
    const inArea = [...nodes.values()].filter((n) => n.area === area);
    const loose = inArea.filter((n) => !n.component);
    for (const n of loose) lines.push(`${indent}${shape(n)}`);
    const comps = new Map<string, { label: string; nodes: DNode[] }>();
    for (const n of inArea.filter((x) => x.component)) {
      const c = comps.get(n.component!.id) ?? { label: n.component!.label, nodes: [] };
      c.nodes.push(n);
      comps.set(n.component!.id, c);
    }
    for (const [id, c] of comps) {
      lines.push(`${indent}subgraph ${id}["${text(c.label)}"]`);
      for (const n of c.nodes) lines.push(`${indent}  ${shape(n)}`);
      lines.push(`${indent}end`);
    }
  };
  emitArea(undefined, "  ");
  if ([...nodes.values()].some((n) => n.area === GLOBAL)) {
    lines.push(`  subgraph global["global: DNS and CDN"]`);
    emitArea(GLOBAL, "    ");
    lines.push("  end");
  }
  for (const region of regionNames) {
    lines.push(`  subgraph ${mermaidId(`region-${region}`)}["${vpcLabel(region)}"]`);
    emitArea(region, "    ");
    lines.push("  end");
  }
  for (const e of groupEdges([...edges.values()], nodes)) {
    const arrow = e.dotted ? "-.->" : "-->";
    lines.push(`  ${e.from} ${arrow}${e.label ? `|"${text(e.label)}"|` : ""} ${e.to}`);
  }
  for (const p of index.graph.ofType(T.peering)) {
    const i = inputs(p);
    lines.push(
      `  ${mermaidId(`region-${index.regionOf(p)}`)} -.-|"VPC peering"| ${mermaidId(`region-${i.peerRegion}`)}`,
    );
  }
  const added = [...nodes.values()].filter((n) => n.urns.some((u) => opts.added?.has(u))).map((n) => n.id);
  if (added.length > 0) {
    lines.push("  classDef added stroke:#2e7d32,stroke-width:3px");
    lines.push(`  class ${added.join(",")} added`);
  }
  return lines.join("\n");
}

/**
 * Edges with the same source, label and style that reach every box of a component (a primary and its replicas, all
 * shards) become one edge to the component's box; likewise edges from every box of a component.
 */
function groupEdges(
  edges: DEdge[],
  nodes: Map<string, DNode>,
): Array<{ from: string; to: string; label: string; dotted: boolean }> {
  const members = new Map<string, string[]>();
  for (const n of nodes.values())
    if (n.component) members.set(n.component.id, [...(members.get(n.component.id) ?? []), n.id]);
  const groups = [...members].filter(([, m]) => m.length > 1);
  let list = edges.map((e) => ({ from: e.from, to: e.to, label: [...e.labels].join(", "), dotted: e.dotted }));
  for (const side of ["to", "from"] as const) {
    const other = side === "to" ? "from" : "to";
    const next: typeof list = [];
    const buckets = new Map<string, typeof list>();
    for (const e of list) {
      const key = `${e[other]}|${e.label}|${e.dotted}`;
      buckets.set(key, [...(buckets.get(key) ?? []), e]);
    }
    for (const bucket of buckets.values()) {
      let rest = bucket;
      for (const [group, ids] of groups) {
        const ends = new Set(rest.map((e) => e[side]));
        if (!ids.every((id) => ends.has(id))) continue;
        // An edge inside the group (replication from its primary) stays between boxes.
        if (ids.includes(rest[0][other])) continue;
        next.push({ ...rest[0], [side]: group });
        rest = rest.filter((e) => !ids.includes(e[side]));
      }
      next.push(...rest);
    }
    list = next;
  }
  return list;
}
