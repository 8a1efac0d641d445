/**
 * The stacks the policy, climb and deploy-rule tests evaluate: every step `stacks/steps.ts` marks built, in two
 * variants that between them cover both environments, a domain (certificates, listeners, DNS records), and a
 * primary region other than us-east-1 (CloudFront's certificate then needs a provider of its own).
 */
import { STEPS } from "../../stacks/steps";
import { ladderGraphs } from "../../lib/graph/graph-cache";
import { Graph, stackConfig } from "../../lib/graph/harness";

export const DNS = { "scale-ladder:domain": "shop.example.com", "scale-ladder:hostedZoneId": "Z0123456789ABCDEFGHIJ" };

export interface Variant {
  name: "dev" | "prod";
  environment: "dev" | "prod";
  /** Stack name: it lands in the `stack` default tag. */
  stack: string;
  extra: Record<string, string>;
}

export const VARIANTS: readonly Variant[] = [
  { name: "dev", environment: "dev", stack: "dev", extra: {} },
  {
    name: "prod",
    environment: "prod",
    stack: "prod",
    extra: { ...DNS, "aws:region": "eu-west-1", "scale-ladder:environment": "prod" },
  },
];

/** Steps this version of the program builds, in order. */
export const BUILT_STEPS: readonly number[] = STEPS.filter((s) => s.built).map((s) => s.step);

/** Every (step, variant) pair, for `it.each`. */
export const CASES: ReadonlyArray<[number, Variant["name"]]> = BUILT_STEPS.flatMap((step) =>
  VARIANTS.map((v) => [step, v.name] as [number, Variant["name"]]),
);

export const variant = (name: Variant["name"]): Variant => VARIANTS.find((v) => v.name === name)!;

/**
 * The graph of every built step in every variant, from the graph cache (`lib/graph/graph-cache.ts`: each is
 * evaluated once per test run, by whichever file asks first). Keyed `${step}:${variant}`.
 */
export async function evaluateLadder(): Promise<Map<string, Graph>> {
  const cases = BUILT_STEPS.flatMap((step) => VARIANTS.map((v) => ({ step, v })));
  const graphs = await ladderGraphs(
    cases.map(({ step, v }) => ({ config: stackConfig(step, v.extra), stack: v.stack })),
  );
  return new Map(cases.map(({ step, v }, i) => [`${step}:${v.name}`, graphs[i]]));
}

/** Generous: a cold machine evaluates ~25 graphs; nothing asserts how long it takes. */
export const LADDER_HOOK_TIMEOUT_MS = 600_000;
