/**
 * Two stacks of one step in one account and region (dev beside prod, or one stack per step as the README
 * describes): every built step is evaluated under two stack names, and no explicit physical name may appear in
 * both (`lib/graph/physical-names.ts` says which input names what, and how far each name must be unique).
 */
import { PhysicalName, physicalNames, sharedPhysicalNames } from "../../lib/graph/physical-names";
import { runLadder, stackConfig } from "./harness";
import { BUILT_STEPS, LADDER_HOOK_TIMEOUT_MS } from "./ladder-variants";

export interface TwoStacksVariant {
  label: string;
  /** Stack names and the config each adds; everything else (account, region, step) is the same. */
  stacks: ReadonlyArray<{ stack: string; extra: Record<string, string> }>;
}

const zone = { "scale-ladder:hostedZoneId": "Z0123456789ABCDEFGHIJ", "scale-ladder:environment": "prod" };

export const TWO_STACKS_VARIANTS = {
  // The same configuration under two names: what "one stack per step" gives when two steps run side by side.
  dev: { label: "dev twice", stacks: [{ stack: "step-a", extra: {} }, { stack: "step-b", extra: {} }] },
  // Prod beside a staging copy in one account: each serves its own domain from the same hosted zone (two stacks
  // cannot both own one domain's records; that is a configuration error, not a naming one).
  prodDomain: {
    label: "prod beside staging, with domains",
    stacks: [
      { stack: "prod", extra: { ...zone, "scale-ladder:domain": "shop.example.com" } },
      { stack: "staging", extra: { ...zone, "scale-ladder:domain": "staging.shop.example.com" } },
    ],
  },
} satisfies Record<string, TwoStacksVariant>;

const describeName = (n: PhysicalName) => `${n.type} ${n.resource}.${n.property} = ${n.value} (${n.scope})`;

/** Registers the suite of one variant. */
export function describeTwoStacks(variant: TwoStacksVariant): void {
  describe(`two stacks of one step share no physical name (${variant.label})`, () => {
    const names = new Map<number, PhysicalName[][]>();
    beforeAll(async () => {
      for (const step of BUILT_STEPS) {
        const sides: PhysicalName[][] = [];
        for (const s of variant.stacks) {
          const config = stackConfig(step, s.extra);
          const g = await runLadder(config, s.stack);
          sides.push(physicalNames(g.resources, config["aws:region"]));
        }
        names.set(step, sides);
      }
    }, LADDER_HOOK_TIMEOUT_MS);

    it.each(BUILT_STEPS)("step %i", (step) => {
      const [a, b] = names.get(step)!;
      expect(sharedPhysicalNames(a, b).map((s) => describeName(s.first))).toEqual([]);
    });
  });
}
