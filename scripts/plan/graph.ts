/**
 * Questions the plan asks of a mocked graph: what each resource's outputs are (from the same mock outputs the
 * tests use), which component owns it, which region it lives in, and which resource a value points at.
 */
import type { Graph, Registration } from "../../lib/graph/harness";
import { regionOf, resourceState } from "../../lib/graph/mock-outputs";
import { reveal } from "../../lib/graph/queries";
import { T } from "../../lib/graph/resource-types";

export const STACK_TYPE = T.stack;

/** True for a resource the cloud provider creates (not a component, a provider or the stack). */
export const isCustom = (r: Registration): boolean => r.custom && !r.type.startsWith("pulumi:providers:");
/** True for a ComponentResource, including a remote one such as `awsx:ec2:Vpc`. */
export const isComponent = (r: Registration): boolean => !r.custom && r.type !== STACK_TYPE;
/**
 * True for a remote (multi-language) component such as `awsx:ec2:Vpc`: under mocks it registers alone, without the
 * VPC, subnets, route tables and gateways its provider creates at deploy time, so the plan treats it as one resource.
 */
export const isRemote = (r: Registration): boolean => isComponent(r) && r.type.startsWith("awsx:");
/** What the plan counts, prices and diffs as a cloud resource: custom resources and remote components. */
export const isResourceLike = (r: Registration): boolean => isCustom(r) || isRemote(r);

/** The graph, indexed once. */
export class GraphIndex {
  readonly byUrn = new Map<string, Registration>();
  readonly stack?: Registration;
  private readonly children = new Map<string, Registration[]>();
  private readonly states = new Map<string, { id: string; state: Record<string, any> }>();

  constructor(readonly graph: Graph) {
    for (const r of graph.resources) {
      this.byUrn.set(r.urn, r);
      if (r.parent) this.children.set(r.parent, [...(this.children.get(r.parent) ?? []), r]);
    }
    this.stack = graph.resources.find((r) => r.type === STACK_TYPE);
  }

  get resources(): Registration[] {
    return this.graph.resources;
  }

  childrenOf(r: Registration | undefined): Registration[] {
    return r ? (this.children.get(r.urn) ?? []) : [];
  }

  /** Every descendant of `r`, depth first. */
  descendantsOf(r: Registration): Registration[] {
    const out: Registration[] = [];
    const walk = (x: Registration) => {
      for (const c of this.childrenOf(x)) {
        out.push(c);
        walk(c);
      }
    };
    walk(r);
    return out;
  }

  /** Inputs with Pulumi's secret markers removed. */
  inputs(r: Registration): Record<string, any> {
    return reveal(r.inputs) as Record<string, any>;
  }

  /** The mocked engine's answer for a custom resource: its id and its state (inputs plus computed outputs). */
  outputs(r: Registration): { id: string; state: Record<string, any> } {
    let s = this.states.get(r.urn);
    if (!s) {
      const raw = resourceState(r.type, r.name, r.inputs, r.provider);
      s = { id: raw.id, state: reveal(raw.state) as Record<string, any> };
      this.states.set(r.urn, s);
    }
    return s;
  }

  /** The component directly under the stack that holds `r` (or `r` itself); undefined for stack-level resources. */
  topComponentOf(r: Registration): Registration | undefined {
    let cur: Registration | undefined = r;
    let top: Registration | undefined;
    while (cur && cur.type !== STACK_TYPE) {
      if (isComponent(cur)) top = cur;
      cur = cur.parent ? this.byUrn.get(cur.parent) : undefined;
    }
    return top;
  }

  /** Region of a resource: its provider's, or for a component the region of its first custom descendant. */
  regionOf(r: Registration): string | undefined {
    if (r.type.startsWith(T.awsProvider)) return this.inputs(r).region;
    if (r.custom) return regionOf(r.provider);
    // A component's region is its resources'; a remote one (awsx) has none under mocks, so its siblings'.
    for (
      let c: Registration | undefined = r;
      c && c.type !== STACK_TYPE;
      c = c.parent ? this.byUrn.get(c.parent) : undefined
    ) {
      const first = this.descendantsOf(c).find((d) => d.custom);
      if (first) return regionOf(first.provider);
    }
    return undefined;
  }

  /** The custom resource whose id or one of whose string outputs equals `value`. */
  resolve(value: unknown, types?: string[]): Registration | undefined {
    if (typeof value !== "string" || value === "") return undefined;
    for (const r of this.resources) {
      if (!isCustom(r) || (types && !types.includes(r.type))) continue;
      const { id, state } = this.outputs(r);
      if (id === value) return r;
      for (const v of Object.values(state)) if (v === value) return r;
    }
    return undefined;
  }

  /** Custom resources of one type, optionally those under a given component. */
  ofType(type: string, under?: Registration): Registration[] {
    const pool = under ? this.descendantsOf(under) : this.resources;
    return pool.filter((r) => r.type === type);
  }
}

/** A short label for a type token: `aws:rds/instance:Instance` → `rds.Instance`, `scale-ladder:cache:Cache` → `Cache`.
 * */
export function shortType(type: string): string {
  if (type.startsWith("scale-ladder:")) return type.split(":")[2];
  const m = /^([a-z0-9-]+):([A-Za-z0-9]+)(?:\/[A-Za-z0-9]+)?:([A-Za-z0-9]+)$/.exec(type);
  if (!m) return type;
  return m[1] === "aws" ? `${m[2]}.${m[3]}` : `${m[1]}.${m[2] === "index" ? "" : `${m[2]}.`}${m[3]}`;
}
