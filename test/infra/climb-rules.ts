/**
 * What "climbing without replacing" means, in two tables: the inputs that make the provider replace a resource
 * (`REPLACED_ON`, in `lib/graph/replaced-on.ts`, which the plan reads too), and the few replacements and removals
 * the ladder intends (`CLIMB_EXCEPTIONS`, here).
 */
import { Graph, Registration } from "../../lib/graph/harness";
import { DEPENDENCY_REPLACED_ON, REPLACED_ON, inputAt, replacingKeys } from "../../lib/graph/replaced-on";
import { T } from "../../lib/graph/resource-types";

export interface ClimbException {
  /** The climb, N → N+1. */
  from: number;
  to: number;
  type: string;
  /** Logical name; `{region}` stands for the region code (`use1`, `euw1`, ...). */
  name: string;
  /** `removed`: gone at `to`. `replaced`: kept, but these replacing inputs change. */
  change: "removed" | "replaced";
  keys?: string[];
  reason: string;
}

/** The only stateful resources a climb may replace or remove. docs/climbing.md has the same table. */
export const CLIMB_EXCEPTIONS: readonly ClimbException[] = [
  {
    from: 1,
    to: 2,
    type: T.instance,
    name: "{region}-server",
    change: "replaced",
    keys: ["userData"],
    reason:
      "The database moves to RDS: the boot script stops installing PostgreSQL and reads the RDS credentials " +
      "instead. cloud-init runs user data once, so the server is replaced (userDataReplaceOnChange) after the " +
      "data is moved (docs, step 2).",
  },
  {
    from: 2,
    to: 3,
    type: T.instance,
    name: "{region}-server",
    change: "removed",
    reason:
      "The web fleet behind the load balancer takes over; the single server (with its role, profile, Elastic IP " +
      "association and rollout association) leaves. It holds no data from step 2 on.",
  },
  {
    from: 2,
    to: 3,
    type: T.eip,
    name: "{region}-server-eip",
    change: "removed",
    reason:
      "The site's DNS record moves, in place, from the Elastic IP to an alias of the load balancer; the address " +
      "is released with the server.",
  },
];

const regionPattern = (name: string) =>
  new RegExp(`^${name.replace("{region}", "[a-z]{2,4}\\d").replace(/[.]/g, "\\.")}$`);

/** The exception that covers a change, if any. */
export function exceptionFor(
  from: number,
  type: string,
  name: string,
  change: ClimbException["change"],
  key?: string,
): ClimbException | undefined {
  return CLIMB_EXCEPTIONS.find(
    (e) =>
      e.from === from &&
      e.type === type &&
      e.change === change &&
      regionPattern(e.name).test(name) &&
      (key === undefined || (e.keys ?? []).includes(key)),
  );
}

export interface ClimbProblem {
  type: string;
  name: string;
  problem: string;
  exception?: ClimbException;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
/** A value for a message: JSON, cut short (user data runs to kilobytes). */
const brief = (v: unknown) => {
  const text = JSON.stringify(v) ?? "undefined";
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/**
 * The URNs a registration also answers to (its `aliases`), as the engine computes them: an alias spec names what
 * differs from the resource (name, type, parent, stack, project); the rest is the resource's own.
 */
export function aliasUrnsOf(r: Registration): string[] {
  const [, stack, project] = /^urn:pulumi:([^:]+)::([^:]+)::/.exec(r.urn) ?? [];
  const parentType = (urn: string | undefined) => (urn ? urn.split("::")[2] : undefined);
  return r.aliases.flatMap((a) => {
    if (typeof a === "string") return [a];
    const spec = a.spec as Record<string, any>;
    const parent = spec.noparent ? undefined : parentType(spec.parenturn || r.parent);
    const type = `${parent ? `${parent}$` : ""}${spec.type || r.type}`;
    return [`urn:pulumi:${spec.stack || stack}::${spec.project || project}::${type}::${spec.name || r.name}`];
  });
}

/**
 * Everything a climb from `lower` (step `from`) to `upper` would replace or remove among stateful resources, with
 * the exception that allows it when there is one.
 */
export function climbProblems(from: number, lower: Graph, upper: Graph): ClimbProblem[] {
  const problems: ClimbProblem[] = [];
  const after = new Map(
    upper.resources.flatMap((r) => [[r.urn, r] as const, ...aliasUrnsOf(r).map((u) => [u, r] as const)]),
  );
  const add = (r: Registration, change: ClimbException["change"], problem: string, key?: string) =>
    problems.push({ type: r.type, name: r.name, problem, exception: exceptionFor(from, r.type, r.name, change, key) });

  for (const before of lower.resources) {
    const rule = REPLACED_ON[before.type];
    if (!rule) continue;
    const now = after.get(before.urn);
    if (!now) {
      add(before, "removed", "is removed");
      continue;
    }
    for (const key of replacingKeys(now, rule)) {
      const a = inputAt(before.inputs, key);
      const b = inputAt(now.inputs, key);
      if (!same(a, b)) {
        add(now, "replaced", `is replaced: ${key} changes from ${brief(a)} to ${brief(b)}`, key);
        continue;
      }
      // The value stays, but only because the mocks name things deterministically: a dependency behind it must
      // itself stay, with its own replacing inputs.
      for (const depUrn of lower.edgesOf(before).propertyDependencies[key.split(".")[0]] ?? []) {
        const dep = lower.resources.find((r) => r.urn === depUrn);
        if (!dep) continue;
        const depNow = after.get(depUrn);
        if (!depNow) {
          add(now, "replaced", `is replaced: ${key} comes from ${dep.type} ${dep.name}, which is removed`, key);
          continue;
        }
        const depKeys = REPLACED_ON[dep.type]
          ? replacingKeys(depNow, REPLACED_ON[dep.type])
          : (DEPENDENCY_REPLACED_ON[dep.type] ?? []);
        for (const dk of depKeys) {
          if (!same(inputAt(dep.inputs, dk), inputAt(depNow.inputs, dk)))
            add(now, "replaced", `is replaced: ${key} comes from ${dep.name}, which is replaced (${dk} changes)`, key);
        }
      }
    }
  }
  return problems;
}

/** The stateful resources of a graph, for the record. */
export function statefulOf(g: Graph): Registration[] {
  return g.resources.filter((r) => REPLACED_ON[r.type] !== undefined);
}
