/**
 * The second-up simulation for one configuration variant, as a jest suite, one file per variant so that jest runs
 * them in parallel workers. See `lib/graph/second-up.ts` for the model and `lib/graph/read-back.ts` for the table.
 *
 * Each built step is evaluated once: under the mocks the engine answers the same outputs every time, so the second
 * `up` registers the first one's inputs unless the program is not deterministic. That is checked separately, in
 * one variant (the largest graph), by evaluating each step a second time and comparing every input.
 */
import { DNS, BUILT_STEPS, LADDER_HOOK_TIMEOUT_MS } from "./ladder-variants";
import { RegisteredResource } from "../../lib/graph/registered";
import { READ_BACK } from "../../lib/graph/read-back";
import {
  NonDeterminism,
  SecondUpChange,
  describeChange,
  nonDeterminism,
  secondUpChanges,
  stateAfterRead,
} from "../../lib/graph/second-up";
import { runLadder, stackConfig } from "./harness";
import { resourceState } from "./mock-outputs";

export interface SecondUpVariant {
  /** Shown in the test names. */
  label: string;
  stack: string;
  extra: Record<string, string>;
  /** Evaluate each step twice and compare the inputs (costs a second evaluation). @default false */
  determinism?: boolean;
}

/** The four variants the bar names: dev and prod, each without and with a domain. */
export const SECOND_UP_VARIANTS = {
  dev: { label: "dev", stack: "dev", extra: {} },
  devDomain: { label: "dev with a domain", stack: "dev", extra: { ...DNS } },
  prod: { label: "prod", stack: "prod", extra: { "scale-ladder:environment": "prod" } },
  // eu-west-1 as well, so CloudFront's certificate needs its own us-east-1 provider.
  prodDomain: {
    label: "prod with a domain",
    stack: "prod",
    extra: { ...DNS, "aws:region": "eu-west-1", "scale-ladder:environment": "prod" },
    determinism: true,
  },
} satisfies Record<string, SecondUpVariant>;

/** The computed outputs the mocked engine gave a resource (its id among them). */
export function mockOutputsOf(r: RegisteredResource): Record<string, unknown> {
  const { id, state } = resourceState(r.type, r.name, r.inputs, r.provider);
  return { ...state, id };
}

export interface SecondUpResult {
  changes: SecondUpChange[];
  /** Undefined when the variant does not check determinism. */
  nondeterminism?: NonDeterminism[];
}

/** Registers the suite of one variant. */
export function describeSecondUp(variant: SecondUpVariant): void {
  describe(`a second pulumi up changes nothing (${variant.label})`, () => {
    const results = new Map<number, SecondUpResult>();
    /** Types the program created at some step, and the read-back rows that applied to one of its resources. */
    const types = new Set<string>();
    const applied = new Set<string>();
    beforeAll(async () => {
      for (const step of BUILT_STEPS) {
        const config = stackConfig(step, variant.extra);
        const first = await runLadder(config, variant.stack);
        const second = variant.determinism ? await runLadder(config, variant.stack) : first;
        const ctx = { resources: first.resources, outputsOf: mockOutputsOf };
        for (const r of first.customResources) {
          types.add(r.type);
          for (const p of stateAfterRead(r, ctx).rows.keys()) applied.add(`${r.type} ${p}`);
        }
        results.set(step, {
          changes: secondUpChanges(first.resources, second.resources, mockOutputsOf),
          nondeterminism: variant.determinism ? nonDeterminism(first.resources, second.resources) : undefined,
        });
      }
    }, LADDER_HOOK_TIMEOUT_MS);

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
}
