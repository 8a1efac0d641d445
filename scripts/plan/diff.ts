/**
 * What `pulumi up` would do to climb from one graph to another, resource by resource, matched by URN:
 * created, deleted, replaced (same URN, a replacement-forcing input changed — see `force-new.ts`), or updated in
 * place.
 *
 * Under the mocks an id does not change when its resource is replaced, so a replacement is followed through the
 * graph the way a real preview sees it: an input that holds the old resource's id or outputs becomes unknown, which
 * replaces the dependant when that input forces a new resource and updates it otherwise.
 */
import type { Registration } from "../../lib/graph/harness";
import { FORCE_NEW, canonical, replacingInputs } from "./force-new";
import { GraphIndex, isComponent, isRemote, isResourceLike } from "./graph";
import { T } from "../../lib/graph/resource-types";

export interface ResourceRef {
  urn: string;
  type: string;
  name: string;
  region?: string;
  /** Name of the top-level component that holds it. */
  component?: string;
}

export interface Replacement extends ResourceRef {
  /** The inputs that force it, with why; a cascade names the replaced resource it depends on. */
  reasons: Array<{ input: string; why: string }>;
}

export interface Update extends ResourceRef {
  /** Inputs that change (top-level names). */
  inputs: string[];
}

export interface PlanDiff {
  /** The step climbed from; null when the stack is new. */
  from: number | null;
  to: number;
  added: ResourceRef[];
  removed: ResourceRef[];
  replaced: Replacement[];
  updated: Update[];
  unchanged: number;
  /** Types that changed but are not in the ForceNew table (diffed as updates). */
  unknownTypes: string[];
}

const ref = (index: GraphIndex, r: Registration): ResourceRef => ({
  urn: r.urn,
  type: r.type,
  name: r.name,
  region: index.regionOf(r),
  component: index.topComponentOf(r)?.name,
});

/** Changed top-level inputs, minus what `ignoreChanges` hides from the engine. */
function changedInputs(index: { before: GraphIndex; after: GraphIndex }, b: Registration, a: Registration): string[] {
  const bi = index.before.inputs(b);
  const ai = index.after.inputs(a);
  const ignored = new Set(a.ignoreChanges.map((p) => p.split(/[.[]/)[0]));
  return [...new Set([...Object.keys(bi), ...Object.keys(ai)])]
    .filter((k) => !ignored.has(k) && canonical(bi[k]) !== canonical(ai[k]))
    .sort();
}

/** Strings a custom resource's replacement would change: its id and computed outputs (not its own inputs). */
function computedStrings(index: GraphIndex, r: Registration): string[] {
  if (!isResourceLike(r)) return [];
  const { id, state } = index.outputs(r);
  const inputs = index.inputs(r);
  const out = [
    id,
    ...Object.entries(state)
      .filter(([k, v]) => !(k in inputs) && typeof v === "string")
      .map(([, v]) => v as string),
  ];
  return out.filter((s) => typeof s === "string" && s.length >= 6);
}

const mentions = (value: unknown, needles: string[]): boolean => {
  if (needles.length === 0 || value === undefined) return false;
  const text = canonical(value);
  return needles.some((n) => text.includes(n));
};

/** The diff between the graph a stack has (`before`, or none) and the one the program now makes (`after`). */
export function diffGraphs(
  before: GraphIndex | undefined,
  after: GraphIndex,
  steps: { from: number | null; to: number },
): PlanDiff {
  const result: PlanDiff = {
    from: steps.from,
    to: steps.to,
    added: [],
    removed: [],
    replaced: [],
    updated: [],
    unchanged: 0,
    unknownTypes: [],
  };
  const relevant = (r: Registration) => r.type !== T.stack;
  if (!before) {
    result.added = after.resources.filter(relevant).map((r) => ref(after, r));
    return result;
  }
  const both = { before, after };
  // Aliases carry a resource's old URN; a resource that moved keeps its identity.
  const aliasOf = new Map<string, string>();
  for (const r of after.resources) {
    for (const a of r.aliases as Array<{ getUrn?: () => string }>) {
      const urn = typeof a?.getUrn === "function" ? a.getUrn() : "";
      if (urn && before.byUrn.has(urn)) aliasOf.set(r.urn, urn);
    }
  }
  const matched = new Set<string>();
  const pairs: Array<[Registration, Registration]> = [];
  for (const a of after.resources.filter(relevant)) {
    const b = before.byUrn.get(a.urn) ?? (aliasOf.has(a.urn) ? before.byUrn.get(aliasOf.get(a.urn)!) : undefined);
    if (!b) result.added.push(ref(after, a));
    else {
      matched.add(b.urn);
      pairs.push([b, a]);
    }
  }
  result.removed = before.resources.filter((r) => relevant(r) && !matched.has(r.urn)).map((r) => ref(before, r));

  const replaced = new Map<string, Array<{ input: string; why: string }>>();
  const changed = new Map<string, string[]>();
  const unknown = new Set<string>();
  for (const [b, a] of pairs) {
    const keys = changedInputs(both, b, a);
    changed.set(a.urn, keys);
    if (keys.length === 0) continue;
    const reasons = replacingInputs(a.type, keys, after.inputs(a), before.inputs(b));
    // Our own components hold no cloud state: a change of their inputs is recorded, never a replacement.
    if (reasons === undefined) {
      if (!(isComponent(a) && !isRemote(a))) unknown.add(a.type);
    } else if (reasons.length > 0) replaced.set(a.urn, reasons);
  }
  // Follow replacements: a dependant whose replacing input holds a replaced resource's id or outputs is replaced
  // too (the value is unknown until the new resource exists); any other input that holds one is updated.
  const pairByAfter = new Map(pairs.map(([b, a]) => [a.urn, b] as const));
  const providerRef = (r: Registration) => (r.provider ?? "").split("::").slice(0, -1).join("::");
  for (let grew = true; grew;) {
    grew = false;
    const gone = [...replaced.keys()].map((urn) => ({
      urn,
      name: after.byUrn.get(urn)!.name,
      strings: computedStrings(before, pairByAfter.get(urn)!),
    }));
    for (const [b, a] of pairs) {
      if (replaced.has(a.urn)) continue;
      const inputs = before.inputs(b);
      const rule = FORCE_NEW[a.type];
      const forcing = (rule?.inputs ?? []).map((p) => p.split(".")[0]);
      for (const g of gone) {
        if (providerRef(a) === g.urn) {
          replaced.set(a.urn, [{ input: "provider", why: `its provider ${g.name} is replaced` }]);
          grew = true;
          break;
        }
        const hit = forcing.find((k) => mentions(inputs[k], g.strings));
        if (hit) {
          replaced.set(a.urn, [{ input: hit, why: `holds an output of ${g.name}, which is replaced` }]);
          grew = true;
          break;
        }
        const soft = Object.keys(inputs).filter((k) => mentions(inputs[k], g.strings));
        if (soft.length > 0) changed.set(a.urn, [...new Set([...(changed.get(a.urn) ?? []), ...soft])].sort());
      }
    }
  }
  for (const [, a] of pairs) {
    if (replaced.has(a.urn)) result.replaced.push({ ...ref(after, a), reasons: replaced.get(a.urn)! });
    else if ((changed.get(a.urn) ?? []).length > 0)
      result.updated.push({ ...ref(after, a), inputs: changed.get(a.urn)! });
    else result.unchanged++;
  }
  result.unknownTypes = [...unknown].sort();
  return result;
}
