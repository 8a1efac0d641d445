/**
 * The facts the docs are generated from: every step of the ladder evaluated once under the mocks, in the
 * configuration the docs describe, with what changes from the step below, what it costs, what it looks like and
 * which environment the app gets.
 */
import { STEPS, StepInfo } from "../../stacks/steps";
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
  environment: "dev",
  region: "us-east-1",
  stack: "dev",
  config: { domain: "shop.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ" },
};
export const DOCS_TARGET_TEXT = "`dev`, `us-east-1`, with `domain` = `shop.example.com` (so HTTPS, DNS and step 11's geolocation routing exist), every other key at its default";

export interface EnvFacts {
  /** Variable → the entry points whose environment has it (`server`, `worker`). */
  all: Record<string, string[]>;
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

/** Environment variable names the boot scripts write, per entry point. */
export function appEnvironment(index: GraphIndex): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  const scripts: string[] = [];
  for (const r of index.graph.ofType("aws:ec2/instance:Instance")) scripts.push(String(index.inputs(r).userData ?? ""));
  for (const r of index.graph.ofType("aws:ec2/launchTemplate:LaunchTemplate")) scripts.push(Buffer.from(String(index.inputs(r).userData ?? ""), "base64").toString("utf8"));
  for (const script of scripts) {
    const mode = /node \/opt\/shop\/current\/worker\.js/.test(script) ? "worker" : "server";
    for (const m of script.matchAll(/echo "([A-Z][A-Z0-9_]*)=/g)) (out[m[1]] ??= new Set()).add(mode);
  }
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, [...out[k]].sort().reverse()]),
  );
}

const topTypes = (index: GraphIndex) =>
  [...new Set(index.childrenOf(index.stack).filter((r) => isComponent(r) && !isRemote(r)).map((r) => r.type.split(":")[2]))];

/** Evaluates every step once, in order, and derives the facts of each. */
export async function ladderFacts(build: BuildInfo = chooseBuild("fake")): Promise<StepFacts[]> {
  const facts: StepFacts[] = [];
  let previous: GraphIndex | undefined;
  for (const info of STEPS) {
    const index = new GraphIndex(await evaluate({ ...DOCS_TARGET, step: info.step }, build));
    const diff = diffGraphs(previous, index, { from: previous ? info.step - 1 : null, to: info.step });
    const env = appEnvironment(index);
    const before = previous ? appEnvironment(previous) : {};
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
      env: { all: env, added: Object.keys(env).filter((k) => !(k in before)), removed: Object.keys(before).filter((k) => !(k in env)) },
      components: { all: types, added: types.filter((t) => !typesBefore.includes(t)), removed: typesBefore.filter((t) => !types.includes(t)) },
    });
    previous = index;
  }
  return facts;
}
