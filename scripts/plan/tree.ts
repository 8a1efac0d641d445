/**
 * The component tree of a graph: every ComponentResource with the custom resources under it, the way
 * `pulumi preview` nests them.
 */
import type { Registration } from "../../lib/graph/harness";
import { GraphIndex, isComponent, isCustom, isRemote, isResourceLike, shortType } from "./graph";
import { T } from "../../lib/graph/resource-types";

export interface TreeNode {
  urn: string;
  type: string;
  name: string;
  region?: string;
  /** Cloud resources anywhere below (a remote component such as `awsx:ec2:Vpc` counts as one). */
  resources: number;
  /** Custom resources directly under this node, counted by type. */
  own: Record<string, number>;
  children: TreeNode[];
}

/** Counts of a graph, as `pulumi up` would count registrations. */
export interface ResourceCounts {
  /** Every registration: the stack, providers, components and custom resources. */
  total: number;
  custom: number;
  components: number;
  providers: number;
  stack: number;
}

export function countResources(index: GraphIndex): ResourceCounts {
  const rs = index.resources;
  return {
    total: rs.length,
    custom: rs.filter(isCustom).length,
    components: rs.filter(isComponent).length,
    providers: rs.filter((r) => r.type.startsWith("pulumi:providers:")).length,
    stack: rs.filter((r) => r.type === T.stack).length,
  };
}

/**
 * The tree under the stack. Components and providers are nodes; custom resources are counted into their parent.
 * Custom resources created directly under the stack are gathered in one node named after the stack.
 */
export function componentTree(index: GraphIndex): TreeNode[] {
  const build = (r: Registration): TreeNode => {
    const kids = index.childrenOf(r);
    const own: Record<string, number> = {};
    for (const k of kids) if (isResourceLike(k)) own[shortType(k.type)] = (own[shortType(k.type)] ?? 0) + 1;
    const children = kids.filter((k) => isComponent(k) && !isRemote(k)).map(build);
    const resources = kids.filter(isResourceLike).length + children.reduce((n, c) => n + c.resources, 0);
    return { urn: r.urn, type: r.type, name: r.name, region: index.regionOf(r), resources, own, children };
  };
  const top = index.childrenOf(index.stack);
  const nodes = top.filter((k) => isComponent(k) && !isRemote(k)).map(build);
  const loose = top.filter(isResourceLike);
  if (loose.length > 0) {
    const own: Record<string, number> = {};
    for (const k of loose) own[shortType(k.type)] = (own[shortType(k.type)] ?? 0) + 1;
    nodes.push({
      urn: index.stack!.urn,
      type: T.stack,
      name: "(stack)",
      resources: loose.length,
      own,
      children: [],
    });
  }
  return nodes;
}
