/**
 * Deploying twice, simulated for one configuration variant: the same stack again (a second `pulumi up` must change
 * nothing, issue 12 build item 4) and a second stack of the same step beside it in the same account and region (no
 * explicit physical name may be shared, build item 5). One file per variant, so that jest runs them in parallel.
 *
 * Each (step, stack) comes from the graph cache (evaluated once per test run, shared with the other files that ask
 * for the same stack). Under the mocks the engine answers the same outputs every time, so the second `up` registers
 * the first one's inputs unless the program is not deterministic; that is checked in one variant (the largest
 * graph) by evaluating each step afresh, past the cache, and comparing every input with the cached graph's (which
 * also proves that a graph read back from the cache equals a fresh evaluation).
 * Models and tables: `lib/graph/second-up.ts`, `lib/graph/read-back.ts`, `lib/graph/physical-names.ts`.
 */
import { PhysicalName, physicalNames, sharedPhysicalNames } from "../../lib/graph/physical-names";
import { READ_BACK } from "../../lib/graph/read-back";
import { RegisteredResource } from "../../lib/graph/registered";
import {
  NonDeterminism,
  SecondUpChange,
  describeChange,
  nonDeterminism,
  secondUpChanges,
  stateAfterRead,
} from "../../lib/graph/second-up";
import { ladderGraphs } from "../../lib/graph/graph-cache";
import { runLadder, stackConfig } from "../../lib/graph/harness";
import { BUILT_STEPS, DNS, LADDER_HOOK_TIMEOUT_MS } from "./ladder-variants";
import { resourceState } from "../../lib/graph/mock-outputs";

export interface DeployTwiceVariant {
  /** Shown in the test names. */
  label: string;
  stack: string;
  /** Config added to `stackConfig(step)`. */
  extra: Record<string, string>;
  /** Evaluate each step a second time and compare the inputs. @default false */
  determinism?: boolean;
  /** A second stack of the same step in the same account and region, checked for shared physical names. */
  twin?: { stack: string; extra: Record<string, string> };
}

const PROD = { "scale-ladder:environment": "prod" };

/** The four variants the bar names: dev and prod, each without and with a domain. */
export const DEPLOY_TWICE_VARIANTS = {
  // The twin has the same configuration under another name: "one stack per step", two steps side by side.
  dev: { label: "dev", stack: "dev", extra: {}, twin: { stack: "dev-b", extra: {} } },
  devDomain: { label: "dev with a domain", stack: "dev", extra: { ...DNS } },
  prod: { label: "prod", stack: "prod", extra: PROD },
  // eu-west-1, so CloudFront's certificate needs a us-east-1 provider of its own. The twin, a staging copy, serves
  // its own domain from the same hosted zone: two stacks cannot both own one domain's records (a configuration
  // error, not a naming one).
  prodDomain: {
    label: "prod with a domain",
    stack: "prod",
    extra: { ...DNS, ...PROD, "aws:region": "eu-west-1" },
    determinism: true,
    twin: {
      stack: "staging",
      extra: { ...DNS, ...PROD, "aws:region": "eu-west-1", "scale-ladder:domain": "staging.shop.example.com" },
    },
  },
} satisfies Record<string, DeployTwiceVariant>;

/** The computed outputs the mocked engine gave a resource (its id among them). */
export function mockOutputsOf(r: RegisteredResource): Record<string, unknown> {
  const { id, state } = resourceState(r.type, r.name, r.inputs, r.provider);
  return { ...state, id };
}

interface StepResult {
  changes: SecondUpChange[];
  /** Undefined when the variant does not check determinism. */
  nondeterminism?: NonDeterminism[];
  /** Names both stacks use; undefined without a twin. */
  shared?: PhysicalName[];
}

const describeName = (n: PhysicalName) => `${n.type} ${n.resource}.${n.property} = ${n.value} (${n.scope})`;

/** Registers the suites of one variant. */
export function describeDeployTwice(variant: DeployTwiceVariant): void {
  const results = new Map<number, StepResult>();
  /** Types the program created at some step, and the read-back rows that applied to one of its resources. */
  const types = new Set<string>();
  const applied = new Set<string>();

  beforeAll(async () => {
    // Every cached graph in one request, so that workers asking for the same ones split the work between them.
    const twin = variant.twin;
    const mines = BUILT_STEPS.map((step) => ({ config: stackConfig(step, variant.extra), stack: variant.stack }));
    const twins = twin ? BUILT_STEPS.map((step) => ({ config: stackConfig(step, twin.extra), stack: twin.stack })) : [];
    const cached = await ladderGraphs([...mines, ...twins]);
    for (const [i, step] of BUILT_STEPS.entries()) {
      const config = mines[i].config;
      const first = cached[i];
      // Deliberately fresh (not from the cache): the determinism check needs a second, independent evaluation.
      const second = variant.determinism ? await runLadder(config, variant.stack) : first;
      const ctx = { resources: first.resources, outputsOf: mockOutputsOf };
      for (const r of first.customResources) {
        types.add(r.type);
        for (const p of stateAfterRead(r, ctx).rows.keys()) applied.add(`${r.type} ${p}`);
      }
      let shared: PhysicalName[] | undefined;
      if (twin) {
        const twinConfig = twins[i].config;
        const mine = physicalNames(first.resources, config["aws:region"]);
        const theirs = physicalNames(cached[mines.length + i].resources, twinConfig["aws:region"]);
        shared = sharedPhysicalNames(mine, theirs).map((s) => s.first);
      }
      results.set(step, {
        changes: secondUpChanges(first.resources, second.resources, mockOutputsOf),
        nondeterminism: variant.determinism ? nonDeterminism(first.resources, second.resources) : undefined,
        shared,
      });
    }
  }, LADDER_HOOK_TIMEOUT_MS);

  describe(`a second pulumi up changes nothing (${variant.label})`, () => {
    it.each(BUILT_STEPS)("step %i: nothing is updated or replaced but documented exceptions", (step) => {
      const unexplained = results.get(step)!.changes.filter((c) => !c.exception);
      expect(unexplained.map(describeChange)).toEqual([]);
    });

    it("every read-back row of a type the program creates applies to one of its resources", () => {
      const dead = READ_BACK.filter((row) => types.has(row.type) && !applied.has(`${row.type} ${row.property}`));
      expect(dead.map((row) => `${row.type} ${row.property}`)).toEqual([]);
    });

    if (variant.determinism) {
      it.each(BUILT_STEPS)("step %i: two evaluations of the program register the same resources and inputs", (step) => {
        expect(results.get(step)!.nondeterminism).toEqual([]);
      });
    }
  });

  if (variant.twin) {
    describe(`two stacks of one step share no physical name (${variant.stack} beside ${variant.twin.stack})`, () => {
      it.each(BUILT_STEPS)("step %i", (step) => {
        expect(results.get(step)!.shared!.map(describeName)).toEqual([]);
      });
    });
  }
}
