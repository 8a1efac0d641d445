/**
 * The shape of one registration as the mock harness (`lib/graph/harness.ts`) records it, reduced to what the graph
 * checks in this folder read. Declared here so that library code never imports from `test/`.
 */
export interface RegisteredResource {
  type: string;
  /** Logical name. */
  name: string;
  urn: string;
  /** Inputs as the engine received them (secrets unwrapped, outputs of other resources resolved). */
  inputs: Record<string, any>;
  /** Provider reference, `urn::id`; undefined for the default provider and for components. */
  provider?: string;
  custom: boolean;
  ignoreChanges: string[];
}

/** Whether `ignoreChanges` hides the whole of top-level input `property` from the engine's diff. */
export function isIgnored(r: Pick<RegisteredResource, "ignoreChanges">, property: string): boolean {
  return r.ignoreChanges.includes(property);
}

/** The paths under top-level input `property` that `ignoreChanges` hides (`launchTemplate.version` → `version`). */
export function ignoredPathsUnder(r: Pick<RegisteredResource, "ignoreChanges">, property: string): string[] {
  return r.ignoreChanges.filter((p) => p.startsWith(`${property}.`)).map((p) => p.slice(property.length + 1));
}

/** Stable JSON: object keys sorted and undefined members dropped, so that key order never counts as a change. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

/**
 * The AWS region of a custom resource: the `region` input of the explicit provider it was created through, else
 * `fallback` (the stack's `aws:region`, which the default provider uses).
 */
export function regionOfResource(r: RegisteredResource, all: readonly RegisteredResource[], fallback: string): string {
  const providerUrn = (r.provider ?? "").split("::").slice(0, -1).join("::");
  const provider = providerUrn ? all.find((p) => p.urn === providerUrn) : undefined;
  const region = provider?.inputs.region;
  return typeof region === "string" && region !== "" ? region : fallback;
}
