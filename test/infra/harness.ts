/**
 * The one mock harness of the infrastructure tests: runs the real program under `pulumi.runtime.setMocks` and
 * returns the graph it registered — every resource as `{ type, name, inputs, parent, urn, ... }` — and the stack
 * outputs, after every registration has finished.
 *
 * `@pulumi/pulumi` and the program are loaded once per test file (dynamic import after `setMocks`, as Pulumi's
 * testing guide asks); each `runLadder` call resets the mocks, so one file can evaluate several steps.
 */
import type * as PulumiModule from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
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
  aliases: unknown[];
}

export class Graph {
  constructor(
    public readonly resources: Registration[],
    public readonly outputs: Record<string, any>,
    public readonly warnings: string[],
  ) {}

  ofType(type: string): Registration[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** The single resource of a type (and name, if given); throws listing what exists otherwise. */
  one(type: string, name?: string): Registration {
    const found = this.ofType(type).filter((r) => name === undefined || r.name === name);
    if (found.length !== 1) {
      throw new Error(
        `expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ") || "none"}`,
      );
    }
    return found[0];
  }

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
  const warnings: string[] = [];

  await p.runtime.setMocks(
    {
      newResource(args) {
        const { id, state } = resourceState(args.type, args.name, args.inputs, args.provider);
        const rec: Registration = {
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          urn: "",
          provider: args.provider,
          custom: args.custom ?? false,
          ignoreChanges: [],
          protect: false,
          aliases: [],
        };
        const key = `${args.type}::${args.name}`;
        pending.set(key, [...(pending.get(key) ?? []), rec]);
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
        rec.aliases = req.getAliasesList();
        resources.push(rec);
      }
      callback(err, resp);
    });
  const log = p.log.warn;
  p.log.warn = (msg: string) => {
    warnings.push(msg);
    return Promise.resolve();
  };

  p.runtime.setAllConfig(config);
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
    return new Graph(resources, outputs ?? {}, warnings);
  } finally {
    process.off("unhandledRejection", onRejection);
    p.log.warn = log;
  }
}

/** The Pulumi runtime's own "every RPC has finished" (what the CLI's language host waits for before exiting). */
function waitForRPCs(): Promise<void> {
  return (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

/** Resolves an output (or plain value) for an assertion, outside any `apply`. */
export function resolve<T>(value: PulumiModule.Input<T>): Promise<T> {
  if (!pulumi) throw new Error("resolve() before runLadder()");
  return new Promise((ok) => pulumi!.output(value).apply((v) => ok(v as T)));
}
