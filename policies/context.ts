/**
 * Where a stack stands on the ladder, for the policies whose rule depends on it (Multi-AZ from step 4, deletion
 * protection in prod, the single server's open port at steps 1–2).
 *
 * The policy pack runs in its own process and never sees the stack's configuration, so the context comes from:
 *   1. policy pack config (`--policy-pack-config`): `{ "<policy>": { "step": 5, "environment": "prod" } }` — see
 *      {@link ladderPolicyConfig} and `policies/config/*.json`;
 *   2. else the default tags of the stack's AWS provider: `step` is always there (the program sets it), and an
 *      `environment` tag is read when a program sets one;
 *   3. else `environment` is `prod` — a stack that does not say it is dev is held to production rules — and `step`
 *      is unknown, which makes step-dependent policies assume the top of the ladder.
 */
import { PolicyConfigSchema, PolicyPackConfig, PolicyProviderResource, PolicyResource } from "@pulumi/policy";
import { T, known } from "./relations";

export const ENVIRONMENTS = ["dev", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
export const TOP_STEP = 11;

export interface LadderContext {
  step: number;
  environment: Environment;
}

/** The config schema every context-dependent policy declares. */
export const CONTEXT_SCHEMA: PolicyConfigSchema = {
  properties: {
    step: {
      type: "integer",
      minimum: 1,
      maximum: TOP_STEP,
      description: "Rung of the ladder the stack is on; defaults to the provider's `step` default tag.",
    },
    environment: {
      type: "string",
      enum: [...ENVIRONMENTS],
      description: "dev or prod; defaults to the provider's `environment` default tag, else prod.",
    },
  },
};

/** The policies that read {@link LadderContext}; `ladderPolicyConfig` writes config for each of them. */
export const CONTEXT_POLICIES = [
  "world-ingress-only-to-entry-points",
  "multi-az-databases",
  "multi-az-cache",
  "deletion-protection-in-prod",
  "default-tags",
] as const;

/** Policy pack config that tells every context-dependent policy the stack's step and/or environment. */
export function ladderPolicyConfig(ctx: Partial<LadderContext>): PolicyPackConfig {
  const values: Record<string, unknown> = {};
  if (ctx.step !== undefined) values.step = ctx.step;
  if (ctx.environment !== undefined) values.environment = ctx.environment;
  return Object.fromEntries(CONTEXT_POLICIES.map((p) => [p, { ...values }]));
}

interface ContextConfig {
  step?: number;
  environment?: Environment;
}

/**
 * Default tags of an AWS provider, as far as they are known. The Node.js SDK sends a provider's object-valued
 * inputs JSON-encoded (`defaultTags: '{"tags":{...}}'`); other SDKs and the state may hold the object itself.
 */
export function providerDefaultTags(provider: { props: Record<string, unknown> } | undefined): Record<string, unknown> {
  if (!provider) return {};
  return known(() => {
    let value: unknown = provider.props.defaultTags;
    if (typeof value === "string") {
      try {
        value = JSON.parse(value);
      } catch {
        return {};
      }
    }
    const tags = (value as { tags?: Record<string, unknown> } | undefined)?.tags;
    return tags && typeof tags === "object" ? { ...tags } : {};
  }, {});
}

function fromTags(tags: Record<string, unknown>): { step?: number; environment?: Environment } {
  const step = Number(tags.step);
  const env = tags.environment;
  return {
    step: Number.isInteger(step) && step >= 1 ? step : undefined,
    environment: env === "dev" || env === "prod" ? env : undefined,
  };
}

/** The context for one resource: config, else its provider's default tags, else the strict defaults. */
export function resourceContext(
  config: ContextConfig,
  provider: PolicyProviderResource | undefined,
): { step: number | undefined; environment: Environment } {
  const tags = provider?.type === T.awsProvider ? fromTags(providerDefaultTags(provider)) : {};
  return { step: config.step ?? tags.step, environment: config.environment ?? tags.environment ?? "prod" };
}

/** The context for a whole stack: config, else the default tags of its AWS providers, else the strict defaults. */
export function stackContext(
  config: ContextConfig,
  resources: readonly PolicyResource[],
): { step: number | undefined; environment: Environment } {
  let tags: { step?: number; environment?: Environment } = {};
  for (const r of resources) {
    if (r.type !== T.awsProvider) continue;
    const t = fromTags(providerDefaultTags(r));
    tags = { step: tags.step ?? t.step, environment: tags.environment ?? t.environment };
  }
  return { step: config.step ?? tags.step, environment: config.environment ?? tags.environment ?? "prod" };
}

/** True when the rule that starts at `from` applies; an unknown step counts as the top of the ladder. */
export function fromStep(step: number | undefined, from: number): boolean {
  return (step ?? TOP_STEP) >= from;
}
