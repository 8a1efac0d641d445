/**
 * Runs the policy pack over a mocked graph the way the Pulumi engine's analyzer does (`@pulumi/policy`'s
 * `server.js`): resource policies see each resource's inputs, stack policies see every resource's outputs with
 * parents, dependencies and property dependencies; secrets are revealed, every property read goes through the
 * library's unknown-checking proxy, `isType` compares the resource class's type token, `getConfig` returns the
 * policy's config with the schema's defaults, and `notApplicable` / unknown values are recorded the way the engine
 * reports them.
 *
 * The graph (`lib/graph/harness.ts`, cached or fresh) carries the dependencies the SDK sent. With `preview: true`
 * the run looks like the first preview of a new stack: every input that comes from another resource, and every
 * computed output, is unknown. With `existing` as well, it looks like the preview of an update to a stack that holds
 * those resources (a climb): their computed outputs are known, as the engine carries them over from the state.
 */
import type * as PolicyModule from "@pulumi/policy";
import type {
  EnforcementLevel,
  Policies,
  PolicyConfigSchema,
  PolicyPackConfig,
  PolicyProviderResource,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { Graph, Registration } from "../../lib/graph/harness";
import { resourceState } from "../../lib/graph/mock-outputs";
import { reveal } from "../../lib/graph/queries";

export interface Diagnostic {
  policy: string;
  /** What the engine prints: the policy's description, then the message it reported. */
  message: string;
  /** The message the policy reported. */
  detail: string;
  urn?: string;
  /** Logical name of the resource the violation is about, when it names one of the graph. */
  resource?: string;
  enforcementLevel: EnforcementLevel;
}

export interface Evaluation {
  violations: Diagnostic[];
  /** Policies that could not decide because a value is unknown (the engine reports these as advisory). */
  deferred: Diagnostic[];
  notApplicable: Array<{ policy: string; reason?: string }>;
}

export interface EvaluateOptions {
  policies: Policies;
  /** The pack's enforcement level. */
  enforcementLevel?: EnforcementLevel;
  config?: PolicyPackConfig;
  /** Evaluate as the first preview of a new stack (see the module doc). */
  preview?: boolean;
  /** With `preview`: URNs of the resources the stack holds already; their computed outputs are known. */
  existing?: ReadonlySet<string>;
  /** Only these policies (by name). */
  only?: string[];
}

let policyLib: typeof PolicyModule | undefined;
let unknowns: Record<"string" | "number" | "boolean" | "array" | "object", string> | undefined;

class NotApplicable extends Error {
  constructor(public readonly reason?: string) {
    super(reason ?? "Policy does not apply");
  }
}

/** Runs the policies over the graph; resolves to what the engine would report. */
export async function evaluatePolicies(pg: Graph, opts: EvaluateOptions): Promise<Evaluation> {
  policyLib ??= await import("@pulumi/policy");
  const lib = policyLib;
  if (!unknowns) {
    const proxy = require("@pulumi/policy/proxy");
    unknowns = {
      string: proxy.unknownStringValue,
      number: proxy.unknownNumberValue,
      boolean: proxy.unknownBooleanValue,
      array: proxy.unknownArrayValue,
      object: proxy.unknownObjectValue,
    };
  }
  const config = normaliseConfig(opts.config ?? {});
  const byUrn = new Map(pg.resources.map((r) => [r.urn, r]));
  const out: Evaluation = { violations: [], deferred: [], notApplicable: [] };
  const stackTags: ReadonlyMap<string, string> = new Map();

  const providerOf = (r: Registration): PolicyProviderResource | undefined => {
    if (!r.provider) return undefined;
    const p = byUrn.get(r.provider.slice(0, r.provider.lastIndexOf("::")));
    return p && { type: p.type, name: p.name, urn: p.urn, props: lib.unknownCheckingProxy(reveal(p.inputs)) };
  };
  const optionsOf = (r: Registration): PolicyResourceOptions => ({
    protect: r.protect,
    ignoreChanges: r.ignoreChanges,
    aliases: r.aliases.map((a) => (typeof a === "string" ? a : JSON.stringify(a))),
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(r.parent ? { parent: r.parent } : {}),
  });
  const isTypeOf = (type: string, cls: any): boolean => {
    const t = typeof cls?.__pulumiType === "string" && cls.__pulumiType.length > 0 ? cls.__pulumiType : undefined;
    if (t) return type === t;
    return typeof cls?.isInstance === "function" && cls.isInstance({ __pulumiType: type }) === true;
  };
  const unknownOf = (v: unknown): string =>
    unknowns![
      Array.isArray(v) ? "array" : typeof v === "object" ? "object" : (typeof v as "string" | "number" | "boolean")
    ] ?? unknowns!.string;
  const previews = new Map<string, { inputs: Record<string, any>; unknownStrings: string[] }>();
  /**
   * A first preview's view of a resource: every input string that contains a value its dependencies do not know
   * yet (their computed outputs, or inputs of theirs that are unknown in turn) is unknown, and so are its own
   * computed outputs.
   */
  const previewOf = (r: Registration): { inputs: Record<string, any>; unknownStrings: string[] } => {
    const cached = previews.get(r.urn);
    if (cached) return cached;
    const inputs = reveal(r.inputs) as Record<string, any>;
    const replaced: string[] = [];
    for (const [k, deps] of Object.entries(pg.edgesOf(r).propertyDependencies)) {
      if (!(k in inputs)) continue;
      const unknownHere = deps.flatMap((u) => (byUrn.has(u) ? previewOf(byUrn.get(u)!).unknownStrings : []));
      inputs[k] = replaceLeaves(inputs[k], unknownHere, replaced, unknownOf);
    }
    const computed: string[] = [];
    if (r.custom && !r.type.startsWith("pulumi:providers:") && !opts.existing?.has(r.urn)) {
      const { id, state } = resourceState(r.type, r.name, r.inputs, r.provider);
      computed.push(
        id,
        ...Object.entries(reveal(state) as Record<string, unknown>)
          .filter(([k]) => !(k in r.inputs))
          .flatMap(([, v]) => leafStrings(v)),
      );
    }
    const result = { inputs, unknownStrings: [...computed, ...replaced].filter((v) => v.length >= 6) };
    previews.set(r.urn, result);
    return result;
  };
  /** Inputs as the analyzer sees them (at a first preview, with what is not known yet replaced by the sentinel). */
  const inputsOf = (r: Registration): Record<string, any> =>
    opts.preview ? previewOf(r).inputs : (reveal(r.inputs) as Record<string, any>);
  const outputsOf = (r: Registration): Record<string, any> => {
    if (!r.custom || r.type.startsWith("pulumi:providers:")) return inputsOf(r);
    const { id, state } = resourceState(r.type, r.name, r.inputs, r.provider);
    const outputs = reveal({ ...state, id }) as Record<string, any>;
    if (!opts.preview) return outputs;
    const inputs = inputsOf(r);
    const exists = opts.existing?.has(r.urn) ?? false;
    for (const k of Object.keys(outputs))
      outputs[k] = k in inputs ? inputs[k] : exists ? outputs[k] : unknownOf(outputs[k]);
    return outputs;
  };
  const getConfigFor = (name: string, schema?: PolicyConfigSchema) => () => configFor(config, name, schema);
  const resourceName = (urn?: string) => (urn ? byUrn.get(urn)?.name : undefined);

  /**
   * The stack's resources as stack policies see them (outputs, parents, dependencies). The engine deserializes
   * them again for each policy; built once here, since no policy writes to them.
   */
  let stackCache: PolicyResource[] | undefined;
  const stackResources = (): PolicyResource[] => {
    if (stackCache) return stackCache;
    const resources = new Map<string, PolicyResource>();
    for (const r of pg.resources) {
      const props = lib.unknownCheckingProxy(outputsOf(r));
      const provider = providerOf(r);
      resources.set(r.urn, {
        type: r.type,
        name: r.name,
        urn: r.urn,
        props,
        opts: optionsOf(r),
        dependencies: [],
        propertyDependencies: {},
        ...(provider ? { provider } : {}),
        isType: (cls: any) => isTypeOf(r.type, cls),
        asType: ((cls: any) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource["asType"],
      });
    }
    for (const r of pg.resources) {
      const res = resources.get(r.urn)!;
      if (r.parent && resources.has(r.parent)) res.parent = resources.get(r.parent);
      const e = pg.edgesOf(r);
      res.dependencies = e.dependencies
        .map((u) => resources.get(u))
        .filter((x): x is PolicyResource => x !== undefined);
      for (const [k, urns] of Object.entries(e.propertyDependencies)) {
        res.propertyDependencies[k] = urns
          .map((u) => resources.get(u))
          .filter((x): x is PolicyResource => x !== undefined);
      }
    }
    return (stackCache = [...resources.values()]);
  };
  /** Inputs revealed once per resource (the engine sends them once per resource, too). */
  const revealedInputs = new Map<string, Record<string, any>>();
  const inputsOnce = (r: Registration) => {
    if (!revealedInputs.has(r.urn)) revealedInputs.set(r.urn, inputsOf(r));
    return revealedInputs.get(r.urn)!;
  };

  const selected = opts.policies.filter((p) => !opts.only || opts.only.includes(p.name));
  for (const p of selected) {
    const level = ((config[p.name] as { enforcementLevel?: EnforcementLevel } | undefined)?.enforcementLevel ??
      p.enforcementLevel ??
      opts.enforcementLevel ??
      "advisory") as EnforcementLevel;
    if (level === "disabled") continue;
    const reportTo = (defaultUrn?: string) => (detail: string, urn?: string) => {
      const u = urn ?? defaultUrn;
      out.violations.push({
        policy: p.name,
        detail,
        message: detail ? `${p.description}\n${detail}` : p.description,
        urn: u,
        resource: resourceName(u),
        enforcementLevel: level === "remediate" ? "mandatory" : level,
      });
    };
    const handle = (e: unknown, urn?: string) => {
      if (e instanceof lib.UnknownValueError) {
        const message = (e as Error).message;
        out.deferred.push({
          policy: p.name,
          detail: message,
          message: `can't run policy '${p.name}' during preview: ${message}`,
          urn,
          resource: resourceName(urn),
          enforcementLevel: "advisory",
        });
      } else if (e instanceof NotApplicable) {
        out.notApplicable.push({ policy: p.name, reason: e.reason });
      } else {
        throw new Error(
          `policy ${p.name} failed on ${resourceName(urn) ?? "the stack"}: ${e instanceof Error ? e.stack : String(e)}`,
        );
      }
    };

    if ("validateStack" in p && typeof p.validateStack === "function") {
      const sp = p as StackValidationPolicy;
      const pulumiType = (sp.validateStack as { __pulumiType?: string }).__pulumiType;
      if (pulumiType && !pg.resources.some((r) => r.type === pulumiType)) {
        out.notApplicable.push({ policy: p.name, reason: `Policy only applies to resources of type '${pulumiType}'` });
        continue;
      }
      const resources = stackResources();
      try {
        await sp.validateStack(
          {
            resources,
            stackTags,
            getConfig: getConfigFor(p.name, p.configSchema) as any,
            notApplicable: (reason?: string): never => {
              throw new NotApplicable(reason);
            },
          },
          reportTo(undefined),
        );
      } catch (e) {
        handle(e);
      }
      continue;
    }

    if (!("validateResource" in p) || !p.validateResource) continue;
    const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
    const onlyType = !Array.isArray(p.validateResource)
      ? (p.validateResource as { __pulumiType?: string }).__pulumiType
      : undefined;
    for (const r of pg.resources) {
      if (onlyType && r.type !== onlyType) continue;
      for (const validate of validations) {
        const props = lib.unknownCheckingProxy(inputsOnce(r));
        const provider = providerOf(r);
        const args: ResourceValidationArgs = {
          type: r.type,
          name: r.name,
          urn: r.urn,
          props,
          opts: optionsOf(r),
          stackTags,
          ...(provider ? { provider } : {}),
          isType: (cls: any) => isTypeOf(r.type, cls),
          asType: ((cls: any) => (isTypeOf(r.type, cls) ? props : undefined)) as ResourceValidationArgs["asType"],
          getConfig: getConfigFor(p.name, p.configSchema) as any,
          notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
          },
        };
        try {
          await validate(args, reportTo(r.urn));
        } catch (e) {
          handle(e, r.urn);
        }
      }
    }
  }
  return out;
}

/** Every string inside a value. */
function leafStrings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.flatMap(leafStrings);
  if (typeof v === "object" && v !== null) return Object.values(v).flatMap(leafStrings);
  return [];
}

/** The value with every string that contains one of `unknown` replaced by the unknown sentinel (collected in
 * `replaced`). */
function replaceLeaves(v: unknown, unknown: string[], replaced: string[], sentinel: (v: unknown) => string): any {
  if (typeof v === "string") {
    if (!unknown.some((u) => v.includes(u))) return v;
    replaced.push(v);
    return sentinel(v);
  }
  if (Array.isArray(v)) return v.map((x) => replaceLeaves(x, unknown, replaced, sentinel));
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceLeaves(x, unknown, replaced, sentinel)]));
  return v;
}

/** Policy pack config with the shorthand `"policy": "advisory"` expanded, as the CLI sends it. */
function normaliseConfig(config: PolicyPackConfig): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? { enforcementLevel: v } : { ...v }]),
  );
}

/** A policy's config: what was given (validated against its schema, as the CLI does) plus the schema's defaults. */
function configFor(
  config: Record<string, Record<string, unknown>>,
  policy: string,
  schema?: PolicyConfigSchema,
): Record<string, unknown> {
  const { enforcementLevel: _level, ...given } = config[policy] ?? {};
  const props = schema?.properties ?? {};
  for (const [k, v] of Object.entries(given)) {
    const spec = props[k];
    if (!spec) throw new Error(`policy ${policy} has no config property ${k}`);
    const fail = (why: string) => {
      throw new Error(`policy ${policy}: config ${k}=${JSON.stringify(v)} ${why}`);
    };
    if (spec.type === "integer" && !Number.isInteger(v)) fail("is not an integer");
    if (spec.type === "string" && typeof v !== "string") fail("is not a string");
    if (spec.enum && !spec.enum.includes(v as never)) fail(`is not one of ${JSON.stringify(spec.enum)}`);
    if (spec.minimum !== undefined && (v as number) < spec.minimum) fail(`is under ${spec.minimum}`);
    if (spec.maximum !== undefined && (v as number) > spec.maximum) fail(`is over ${spec.maximum}`);
  }
  for (const r of schema?.required ?? [])
    if (!(r in given)) throw new Error(`policy ${policy}: config ${r} is required`);
  const defaults = Object.fromEntries(
    Object.entries(props)
      .filter(([, s]) => typeof s === "object" && s.default !== undefined)
      .map(([k, s]) => [k, (s as { default: unknown }).default]),
  );
  return { ...defaults, ...given };
}
