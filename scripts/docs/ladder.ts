/**
 * The facts the docs are generated from: every step of the ladder evaluated once under the mocks, in the
 * configuration the docs describe, with what changes from the step below, what it costs, what it looks like and
 * which environment the app gets.
 */
import { describeValue } from "../../components/app-env";
import type { Graph } from "../../lib/graph/harness";
import { AppRole, awsEnvironmentAt } from "../../stacks/app-environment";
import { parseLadderConfig } from "../../stacks/config";
import { STEPS, StepInfo, featuresAt } from "../../stacks/steps";
import { CostEstimate, estimateCost } from "../plan/cost";
import { architectureDiagram } from "../plan/diagram";
import { PlanDiff, diffGraphs } from "../plan/diff";
import { BuildInfo, Target, chooseBuild, evaluate } from "../plan/evaluate";
import { GraphIndex, isComponent, isRemote } from "../plan/graph";
import { ResourceCounts, TreeNode, componentTree, countResources } from "../plan/tree";

/**
 * The stack the docs describe: dev, us-east-1, with a domain (so that HTTPS, DNS and step 11's geolocation routing
 * exist), and the harness's stand-in build (2 static files), so that the docs do not change with the app's build.
 */
export const DOCS_TARGET: Readonly<Omit<Target, "step">> = {
  // environment: dev, the default, left unset so that the configuration is the one the infra tests evaluate as the
  // `dev` stack with a domain (one graph-cache entry for both).
  region: "us-east-1",
  stack: "dev",
  config: { domain: "shop.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ" },
};
export const DOCS_TARGET_TEXT =
  "`dev`, `us-east-1`, with `domain` = `shop.example.com` (so HTTPS, DNS and step 11's geolocation routing " +
  "exist), every other key at its default";

/** One variable of the app's environment at a step, as the docs show it. */
export interface EnvVarFacts {
  /** Where the value comes from, per entry point that gets it (`server`, `worker`). */
  from: Record<string, string>;
  /** Why the entry point gets it. */
  why: Record<string, string>;
}

export interface EnvFacts {
  /** Variable → the entry points whose environment has it (`server`, `worker`). */
  all: Record<string, string[]>;
  /** Variable → where its value comes from and why, in the contract's order. */
  vars: Record<string, EnvVarFacts>;
  /** Variables new at this step. */
  added: string[];
  /** Variables gone at this step. */
  removed: string[];
}

export interface StepFacts {
  info: StepInfo;
  index: GraphIndex;
  previous?: GraphIndex;
  counts: ResourceCounts;
  tree: TreeNode[];
  diff: PlanDiff;
  cost: CostEstimate;
  mermaid: string;
  env: EnvFacts;
  /** Top-level component types at this step, and those new or gone since the step below. */
  components: { all: string[]; added: string[]; removed: string[] };
}

/**
 * The app's environment at a step in the docs' configuration, per entry point (`server` is server.js, on the
 * single server or the web fleet; `worker` is worker.js), from the contract (stacks/app-environment.ts) that the boot
 * scripts render.
 */
export function docsEnvironment(step: number): { all: Record<string, string[]>; vars: Record<string, EnvVarFacts> } {
  const cfg = parseLadderConfig(
    { ...DOCS_TARGET.config, step: String(step), environment: DOCS_TARGET.environment ?? "dev" },
    DOCS_TARGET.region ?? "us-east-1",
  );
  const roles: Array<[AppRole, string]> = featuresAt(cfg.builtStep).queue
    ? [
        ["web", "server"],
        ["worker", "worker"],
      ]
    : [["web", "server"]];
  const vars: Record<string, EnvVarFacts> = {};
  for (const [role, entry] of roles) {
    for (const v of awsEnvironmentAt(cfg, role)) {
      const e = (vars[v.name] ??= { from: {}, why: {} });
      e.from[entry] = describeValue(v.value);
      e.why[entry] = v.why;
    }
  }
  const all = Object.fromEntries(
    Object.keys(vars)
      .sort()
      .map((k) => [k, Object.keys(vars[k].from).sort().reverse()]),
  );
  return { all, vars };
}

const topTypes = (index: GraphIndex) => [
  ...new Set(
    index
      .childrenOf(index.stack)
      .filter((r) => isComponent(r) && !isRemote(r))
      .map((r) => r.type.split(":")[2]),
  ),
];

/**
 * Evaluates every step once, in order, and derives the facts of each. `graphOf` evaluates one target (the tests
 * pass one that reads the graph cache).
 */
export async function ladderFacts(
  build: BuildInfo = chooseBuild("fake"),
  graphOf: (target: Target, build: BuildInfo) => Promise<Graph> = evaluate,
): Promise<StepFacts[]> {
  const facts: StepFacts[] = [];
  let previous: GraphIndex | undefined;
  for (const info of STEPS) {
    const index = new GraphIndex(await graphOf({ ...DOCS_TARGET, step: info.step }, build));
    const diff = diffGraphs(previous, index, { from: previous ? info.step - 1 : null, to: info.step });
    const env = docsEnvironment(info.step);
    const before = previous ? docsEnvironment(info.step - 1).all : {};
    const types = topTypes(index);
    const typesBefore = previous ? topTypes(previous) : [];
    facts.push({
      info,
      index,
      previous,
      counts: countResources(index),
      tree: componentTree(index),
      diff,
      cost: estimateCost(index),
      mermaid: architectureDiagram(index, { added: previous ? new Set(diff.added.map((a) => a.urn)) : undefined }),
      env: {
        ...env,
        added: Object.keys(env.all).filter((k) => !(k in before)),
        removed: Object.keys(before).filter((k) => !(k in env.all)),
      },
      components: {
        all: types,
        added: types.filter((t) => !typesBefore.includes(t)),
        removed: typesBefore.filter((t) => !types.includes(t)),
      },
    });
    previous = index;
  }
  return facts;
}
