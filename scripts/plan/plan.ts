/**
 * `npm run plan`'s engine: evaluates a step and the step below it under the mocks and says what the step is (its
 * component tree), what climbing to it changes, what it costs, and what it looks like.
 */
import { MIN_STEP, STEPS } from "../../stacks/steps";
import { parseLadderConfig } from "../../stacks/config";
import { type CapacityModel, capacityModel } from "../../lib/capacity/model";
import { CostEstimate, estimateCost } from "./cost";
import { architectureDiagram } from "./diagram";
import { PlanDiff, diffGraphs } from "./diff";
import { BuildInfo, Target, chooseBuild, evaluate, stackConfigOf } from "./evaluate";
import { GraphIndex } from "./graph";
import { ResourceCounts, TreeNode, componentTree, countResources } from "./tree";
import { T } from "../../lib/graph/resource-types";

export interface PlanOptions extends Target {
  /** Which build to evaluate with. @default "auto" */
  build?: "auto" | "real" | "fake";
  /** Compare with the step below (default), or with nothing. */
  compare?: boolean;
}

export interface Plan {
  step: number;
  name: string;
  adds: string;
  environment: string;
  region: string;
  regions: string[];
  stack: string;
  build: BuildInfo;
  /** The raw configuration evaluated (build paths included). */
  config: Record<string, string>;
  warnings: string[];
  resources: ResourceCounts;
  tree: TreeNode[];
  diff: PlanDiff;
  cost: CostEstimate;
  /** What the step holds at the fleets' most, for the traffic mix (lib/capacity/model.ts). */
  capacity: CapacityModel;
  mermaid: string;
  /** Evaluated graphs, for callers that ask more of them (tests, the docs generator). */
  index: GraphIndex;
  previous?: GraphIndex;
}

export async function makePlan(opts: PlanOptions): Promise<Plan> {
  const info = STEPS.find((s) => s.step === opts.step);
  if (!info) throw new Error(`--step must be an integer from 1 to ${STEPS.length}, got ${JSON.stringify(opts.step)}`);
  const build = chooseBuild(opts.build ?? "auto");
  const stack = opts.stack ?? "dev";
  const target = { ...opts, stack };
  const graph = await evaluate(target, build);
  const index = new GraphIndex(graph);
  const previous =
    opts.compare !== false && opts.step > MIN_STEP
      ? new GraphIndex(await evaluate({ ...target, step: opts.step - 1 }, build))
      : undefined;
  const diff = diffGraphs(previous, index, { from: previous ? opts.step - 1 : null, to: opts.step });
  const config = stackConfigOf(target, build);
  const regions = [...new Set(graph.ofType(T.awsProvider).map((p) => String(index.inputs(p).region)))];
  return {
    step: info.step,
    name: info.name,
    adds: info.adds,
    environment: String(graph.outputs.environment ?? opts.environment ?? "dev"),
    region: String(graph.outputs.region ?? opts.region ?? "us-east-1"),
    regions,
    stack,
    build,
    config,
    warnings: graph.warnings,
    resources: countResources(index),
    tree: componentTree(index),
    diff,
    cost: estimateCost(index),
    capacity: capacityModel(ladderConfigOf(config)),
    // On a new stack everything is new: nothing to highlight.
    mermaid: architectureDiagram(index, { added: previous ? new Set(diff.added.map((a) => a.urn)) : undefined }),
    index,
    previous,
  };
}

/** The typed configuration of a raw stack configuration (its `scale-ladder:*` keys and `aws:region`). */
function ladderConfigOf(config: Record<string, string>) {
  const own = Object.entries(config).filter(([k]) => k.startsWith("scale-ladder:"));
  return parseLadderConfig(Object.fromEntries(own), config["aws:region"]);
}
