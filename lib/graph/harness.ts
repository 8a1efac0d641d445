/**
 * The one mock harness of the infrastructure tests, the plan and the docs: runs the real program under
 * `pulumi.runtime.setMocks` and returns the graph it registered — every resource as
 * `{ type, name, inputs, parent, urn, ... }`, the dependency edges the SDK sent with each registration, and the
 * stack outputs — after every registration has finished.
 *
 * `@pulumi/pulumi` and the program are loaded on the first evaluation (dynamic import after `setMocks`, as Pulumi's
 * testing guide asks); each run resets the mocks, so one process can evaluate several steps. A graph holds plain
 * values only, so it can be cached on disk (`./graph-cache.ts`): the ladder graphs the tests ask for come from there.
 */
import type * as PulumiModule from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { programStackTraceLimit } from "../../stacks/stack-traces";
import { invokeResult, resourceState } from "./mock-outputs";

export interface Registration {
  type: string;
  name: string;
  /** Inputs as the engine received them (secrets unwrapped). */
  inputs: Record<string, any>;
  urn: string;
  /** URN of the parent; undefined for the stack itself. */
  parent?: string;
  /** Provider reference (`urn::id`) of a custom resource. */
  provider?: string;
  custom: boolean;
  ignoreChanges: string[];
  protect: boolean;
  /** Aliases as sent to the engine: a URN string, or `{ spec }` (name, type, parent, stack, project). */
  aliases: Alias[];
}

/** One alias of a registration, as plain data. */
export type Alias = string | { spec: Record<string, unknown> };

/** Which resources a registration depended on, as the SDK told the engine. */
export interface Edges {
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
}

/** A graph as plain data (what the disk cache stores). */
export interface GraphData {
  resources: Registration[];
  outputs: Record<string, any>;
  warnings: string[];
  /** Dependency edges by URN. */
  edges: Record<string, Edges>;
}

/** What a program registered: resources, their dependency edges, stack outputs and warnings. */
export class Graph {
  constructor(
    public readonly resources: Registration[],
    public readonly outputs: Record<string, any>,
    public readonly warnings: string[],
    /** Each registration's dependencies, by URN. */
    public readonly edges: ReadonlyMap<string, Edges> = new Map(),
  ) {}

  /** Rebuilds a graph from {@link Graph.toData}'s plain form. */
  static fromData(data: GraphData): Graph {
    return new Graph(data.resources, data.outputs, data.warnings, new Map(Object.entries(data.edges)));
  }

  /** The graph as plain data. */
  toData(): GraphData {
    return {
      resources: this.resources,
      outputs: this.outputs,
      warnings: this.warnings,
      edges: Object.fromEntries(this.edges),
    };
  }

  /** The dependencies a registration was sent with (none when it has no record). */
  edgesOf(r: Registration): Edges {
    return this.edges.get(r.urn) ?? { dependencies: [], propertyDependencies: {} };
  }

  /** Resources of one type token. */
  ofType(type: string): Registration[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** The single resource of a type (and name, if given); throws listing what exists otherwise. */
  one(type: string, name?: string): Registration {
    const found = this.ofType(type).filter((r) => name === undefined || r.name === name);
    if (found.length !== 1) {
      throw new Error(
        `expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ` +
          `${found.map((r) => r.name).join(", ") || "none"}`,
      );
    }
    return found[0];
  }

  /** The resource of a logical name; throws listing what exists otherwise. */
  byName(name: string): Registration {
    const r = this.resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have ${this.resources.map((x) => x.name).join(", ")}`);
    return r;
  }

  /** Resources whose parent chain includes `ancestor`. */
  descendants(ancestor: Registration): Registration[] {
    const byUrn = new Map(this.resources.map((r) => [r.urn, r]));
    return this.resources.filter((r) => {
      for (let p = r.parent; p; p = byUrn.get(p)?.parent) if (p === ancestor.urn) return true;
      return false;
    });
  }

  /** Custom resources (not components, not providers, not the stack). */
  get customResources(): Registration[] {
    return this.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
  }
}

/** Config a test starts from: a valid stack at `step` whose build output exists. */
export function stackConfig(step: number, extra: Record<string, string> = {}): Record<string, string> {
  return { "aws:region": "us-east-1", "scale-ladder:step": String(step), ...fakeBuild(), ...extra };
}

let build: { "scale-ladder:artifactPath": string; "scale-ladder:staticDir": string } | undefined;
/** Bump when the stand-in's files change, so a stale copy left by an older version is never reused. */
const FAKE_BUILD_VERSION = 1;
/**
 * A small stand-in for what `npm run build` makes (`dist/shop.tgz`, `dist/app/static/`): the infra tests check how
 * the build is shipped, not what it holds. Its content never changes, so every test file of every run shares one
 * folder (made in a temp folder and renamed into place, so parallel workers never see half of it) instead of leaving
 * a new folder in the temp dir per file and run.
 */
export function fakeBuild(): { "scale-ladder:artifactPath": string; "scale-ladder:staticDir": string } {
  if (!build) {
    const dir = path.join(os.tmpdir(), `scale-ladder-fake-build-v${FAKE_BUILD_VERSION}`);
    if (!fs.existsSync(path.join(dir, "static", "app.3f9a1c0d.js"))) {
      const tmp = fs.mkdtempSync(`${dir}.incoming-`);
      fs.writeFileSync(path.join(tmp, "shop.tgz"), "not a real build: infra tests only hash and upload it\n");
      fs.mkdirSync(path.join(tmp, "static"));
      fs.writeFileSync(path.join(tmp, "static", "index.html"), "<!doctype html><title>shop</title>\n");
      fs.writeFileSync(path.join(tmp, "static", "app.3f9a1c0d.js"), "console.log('shop');\n");
      try {
        fs.renameSync(tmp, dir);
      } catch {
        // Another worker renamed its copy first: the content is the same, use theirs.
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    }
    build = {
      "scale-ladder:artifactPath": path.join(dir, "shop.tgz"),
      "scale-ladder:staticDir": path.join(dir, "static"),
    };
  }
  return build;
}

let pulumi: typeof PulumiModule | undefined;

/**
 * Evaluates the program (`stacks/ladder.ts` fed by `stacks/config.ts`, exactly as `stacks/index.ts` does) for one
 * stack configuration and returns its graph. Rejects with the program's error when it throws.
 */
export async function runLadder(config: Record<string, string>, stack = "test"): Promise<Graph> {
  return runProgram(
    async () => {
      const { readLadderConfig } = await import("../../stacks/config");
      const { ladder } = await import("../../stacks/ladder");
      return ladder(readLadderConfig());
    },
    config,
    stack,
  );
}

/**
 * Evaluates any program — the ladder, or a single component a test builds — inside a mocked stack and returns
 * its graph once every registration has finished.
 */
export async function runProgram(
  program: () => Promise<unknown> | unknown,
  config: Record<string, string> = {},
  stack = "test",
): Promise<Graph> {
  pulumi ??= await import("@pulumi/pulumi");
  const p = pulumi;
  const pending = new Map<string, Registration[]>();
  const resources: Registration[] = [];
  const edges = new Map<string, Edges>();
  const warnings: string[] = [];

  await p.runtime.setMocks(
    {
      async newResource(args) {
        const { id, state } = resourceState(args.type, args.name, args.inputs, args.provider);
        const rec: Registration = {
          type: args.type,
          name: args.name,
          inputs: {},
          urn: "",
          provider: args.provider,
          custom: args.custom ?? false,
          ignoreChanges: [],
          protect: false,
          aliases: [],
        };
        const key = `${args.type}::${args.name}`;
        pending.set(key, [...(pending.get(key) ?? []), rec]);
        rec.inputs = (await plainValue(args.inputs)) as Record<string, any>;
        return { id: args.custom ? id : undefined, state };
      },
      call(args) {
        return invokeResult(args.token, args.inputs, args.provider);
      },
    },
    "scale-ladder",
    stack,
    false,
  );

  // The mock monitor knows the URN, parent and resource options that `newResource` is not shown; wrap it once per
  // run to attach them to the record `newResource` just made.
  const monitor = p.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) =>
    register(req, (err: unknown, resp: any) => {
      const key = `${req.getType()}::${req.getName()}`;
      const rec = pending.get(key)?.shift();
      if (rec && resp) {
        rec.urn = resp.getUrn();
        rec.parent = req.getParent() || undefined;
        rec.ignoreChanges = req.getIgnorechangesList();
        rec.protect = req.getProtect();
        rec.aliases = req.getAliasesList().map(plainAlias);
        resources.push(rec);
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((v: any, k: string) => (propertyDependencies[k] = v.getUrnsList()));
        edges.set(rec.urn, { dependencies: req.getDependenciesList(), propertyDependencies });
      }
      callback(err, resp);
    });
  const log = p.log.warn;
  p.log.warn = (msg: string) => {
    warnings.push(msg);
    return Promise.resolve();
  };

  p.runtime.setAllConfig(config);
  // As under the Pulumi CLI (stacks/index.ts): the SDK formats a stack trace for every promise it makes, through
  // jest's source-map support here, which was most of an evaluation's CPU. Restored for the test's own assertions.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = programStackTraceLimit(process.env, stackTraceLimit);
  // A program error (or one inside an apply) also rejects promises the runtime holds internally; the Pulumi CLI's
  // language host reports those, so here they are collected and the run fails with the first of them.
  // A failed registration can leave the runtime waiting forever, so the first failure ends the run at once.
  const failures: unknown[] = [];
  let programError: unknown;
  let fail: (reason: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const onRejection = (reason: unknown) => {
    failures.push(reason);
    fail(reason);
  };
  process.on("unhandledRejection", onRejection);
  try {
    const run = async () => {
      const outputs = await p.runtime.runInPulumiStack(async () => {
        try {
          return await program();
        } catch (e) {
          programError ??= e;
          fail(e);
          return {};
        }
      });
      // Resolving the outputs does not wait for resources nobody reads; the runtime's own exit path does.
      await waitForRPCs();
      await new Promise((r) => setImmediate(r));
      return outputs;
    };
    let outputs: Record<string, any> | undefined;
    try {
      outputs = await Promise.race([run(), failed]);
    } catch {
      // Reported below: the program's own error first, it is the one a person needs to see. Before that, let the
      // runtime's follow-on rejections (outputs of a half-built component) land here rather than in the next test.
      await Promise.race([waitForRPCs(), new Promise((r) => setTimeout(r, 2000).unref())]);
      await new Promise((r) => setImmediate(r));
    }
    if (programError !== undefined) throw programError;
    if (failures.length > 0) throw failures[0];
    return new Graph(resources, outputs ?? {}, warnings, edges);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    process.off("unhandledRejection", onRejection);
    p.log.warn = log;
  }
}

/** The Pulumi runtime's own "every RPC has finished" (what the CLI's language host waits for before exiting). */
function waitForRPCs(): Promise<void> {
  return (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

/**
 * A value as plain data. The mocks hand assets and archives over as SDK objects whose fields are promises; they
 * become what the engine receives instead: `{ [sig]: <asset or archive sig>, path | text | uri | assets }`, the
 * same wire form as a secret's marker.
 */
async function plainValue(v: unknown): Promise<unknown> {
  if (Array.isArray(v)) return Promise.all(v.map(plainValue));
  if (typeof v !== "object" || v === null) return v;
  const o = v as Record<string, unknown>;
  const rpc = require("@pulumi/pulumi/runtime/rpc") as Record<string, string>;
  const sig = o.__pulumiAsset === true ? rpc.specialAssetSig : o.__pulumiArchive === true ? rpc.specialArchiveSig : "";
  const out: Record<string, unknown> = sig ? { [rpc.specialSigKey]: sig } : {};
  for (const [k, x] of Object.entries(o)) {
    if (k === "__pulumiAsset" || k === "__pulumiArchive") continue;
    out[k] = await plainValue(await x);
  }
  return out;
}

/** An alias as plain data: its URN, or its spec as an object. */
function plainAlias(a: any): Alias {
  if (typeof a === "string") return a;
  const urn = a?.getUrn?.();
  if (urn) return urn;
  return { spec: a?.getSpec?.()?.toObject?.() ?? {} };
}

/**
 * Resolves an output (or plain value) for an assertion, outside any `apply`. A plain value (every value of a
 * graph, cached or not) resolves as it is, without loading `@pulumi/pulumi`.
 */
export function resolve<T>(value: PulumiModule.Input<T>): Promise<T> {
  const isOutput = typeof value === "object" && value !== null && (value as any).__pulumiOutput === true;
  if (!isOutput) return Promise.resolve(value as T);
  if (!pulumi) throw new Error("resolve() of an Output before runProgram()");
  return new Promise((ok) => pulumi!.output(value).apply((v) => ok(v as T)));
}
