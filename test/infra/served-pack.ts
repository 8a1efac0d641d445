/**
 * The policy pack as the Pulumi CLI runs it: `@pulumi/pulumi/cmd/run-policy-pack` in `policies/`, from `main` of
 * policies/package.json (main.cjs, which loads index.ts from its bundle), serving the analyzer gRPC protocol on the
 * port it prints. The tests send it the same graph the in-process runner evaluates and compare.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import type { PolicyPackConfig } from "@pulumi/policy";
import { Graph, Registration } from "../../lib/graph/harness";
import { resourceState } from "../../lib/graph/mock-outputs";

const grpc = require("@grpc/grpc-js");
const analyzer = require("@pulumi/pulumi/proto/analyzer_pb");
const { AnalyzerClient } = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
const { Empty } = require("google-protobuf/google/protobuf/empty_pb");

const root = path.resolve(__dirname, "../..");

export interface ServedDiagnostic {
  policy: string;
  message: string;
  urn: string;
  enforcementLevel: number;
}

export interface ServedPolicy {
  name: string;
  enforcementLevel: number;
  hasConfigSchema: boolean;
  /** Defaults of the policy's config schema. */
  defaults: Record<string, unknown>;
}

export class ServedPack {
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: any,
  ) {}

  /** Starts the pack the way the CLI does and connects to it. Rejects with the pack's stderr if it exits. */
  static async start(): Promise<ServedPack> {
    const child = spawn(
      process.execPath,
      [path.join(root, "node_modules/@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:0", "."],
      { cwd: path.join(root, "policies"), stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += String(d)));
    const port = await new Promise<number>((resolve, reject) => {
      let stdout = "";
      child.stdout!.on("data", (d) => {
        stdout += String(d);
        const m = /^(\d+)\s*$/m.exec(stdout);
        if (m) resolve(Number(m[1]));
      });
      child.on("exit", (code) => reject(new Error(`the policy pack exited with ${code} before serving:\n${stderr}`)));
    });
    return new ServedPack(child, new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()));
  }

  stop(): void {
    this.client.close();
    this.child.kill();
  }

  private call<T>(method: string, req: unknown): Promise<T> {
    return new Promise((ok, fail) => this.client[method](req, (err: unknown, resp: T) => (err ? fail(err) : ok(resp))));
  }

  async info(): Promise<{ name: string; version: string; policies: ServedPolicy[] }> {
    const info: any = await this.call("getAnalyzerInfo", new Empty());
    return {
      name: info.getName(),
      version: info.getVersion(),
      policies: info.getPoliciesList().map((p: any) => {
        const schema = p.getConfigschema();
        const properties = (schema?.getProperties()?.toJavaScript() ?? {}) as Record<string, { default?: unknown }>;
        const defaults = Object.fromEntries(
          Object.entries(properties)
            .filter(([, s]) => s.default !== undefined)
            .map(([k, s]) => [k, s.default]),
        );
        return {
          name: p.getName(),
          enforcementLevel: p.getEnforcementlevel(),
          hasConfigSchema: schema !== undefined,
          defaults,
        };
      }),
    };
  }

  /**
   * Sends policy config as the CLI does with `--policy-pack-config`: reconciled against the pack's own info, so
   * every policy gets an enforcement level (the file's, else the policy's) and its schema's defaults.
   */
  async configure(config: PolicyPackConfig): Promise<void> {
    const { policies } = await this.info();
    const req = new analyzer.ConfigureAnalyzerRequest();
    const map = req.getPolicyconfigMap();
    for (const p of policies) {
      const value = config[p.name] ?? {};
      const { enforcementLevel, ...properties } = typeof value === "string" ? { enforcementLevel: value } : value;
      const c = new analyzer.PolicyConfig();
      c.setEnforcementlevel(
        enforcementLevel ? analyzer.EnforcementLevel[String(enforcementLevel).toUpperCase()] : p.enforcementLevel,
      );
      c.setProperties(Struct.fromJavaScript({ ...p.defaults, ...properties }));
      map.set(p.name, c);
    }
    await this.call("configure", req);
  }

  /** `Analyze` for every registration, then `AnalyzeStack` for the whole graph: the diagnostics, in one list. */
  async analyze(pg: Graph): Promise<ServedDiagnostic[]> {
    const byUrn = new Map(pg.resources.map((r) => [r.urn, r]));
    const options = (r: Registration) => {
      const o = new analyzer.AnalyzerResourceOptions();
      o.setProtect(r.protect);
      o.setIgnorechangesList(r.ignoreChanges);
      o.setAliasesList([]);
      o.setCustomtimeouts(new analyzer.AnalyzerResourceOptions.CustomTimeouts());
      if (r.parent) o.setParent(r.parent);
      return o;
    };
    const provider = (r: Registration) => {
      if (!r.provider) return undefined;
      const p = byUrn.get(r.provider.slice(0, r.provider.lastIndexOf("::")));
      if (!p) return undefined;
      const msg = new analyzer.AnalyzerProviderResource();
      msg.setType(p.type);
      msg.setName(p.name);
      msg.setUrn(p.urn);
      msg.setProperties(Struct.fromJavaScript(plain(p.inputs)));
      return msg;
    };
    const out: ServedDiagnostic[] = [];
    const collect = (resp: any) => {
      for (const d of resp.getDiagnosticsList())
        out.push({
          policy: d.getPolicyname(),
          message: d.getMessage(),
          urn: d.getUrn(),
          enforcementLevel: d.getEnforcementlevel(),
        });
    };
    for (const r of pg.resources) {
      const req = new analyzer.AnalyzeRequest();
      req.setType(r.type);
      req.setName(r.name);
      req.setUrn(r.urn);
      req.setProperties(Struct.fromJavaScript(plain(r.inputs)));
      req.setOptions(options(r));
      const p = provider(r);
      if (p) req.setProvider(p);
      const resp: any = await this.call("analyze", req);
      // A resource policy's diagnostics carry no URN; the engine attributes them to the resource analyzed.
      for (const d of resp.getDiagnosticsList())
        out.push({
          policy: d.getPolicyname(),
          message: d.getMessage(),
          urn: d.getUrn() || r.urn,
          enforcementLevel: d.getEnforcementlevel(),
        });
    }
    const stack = new analyzer.AnalyzeStackRequest();
    stack.setResourcesList(
      pg.resources.map((r) => {
        const res = new analyzer.AnalyzerResource();
        res.setType(r.type);
        res.setName(r.name);
        res.setUrn(r.urn);
        const outputs =
          r.custom && !r.type.startsWith("pulumi:providers:")
            ? (() => {
                const { id, state } = resourceState(r.type, r.name, r.inputs, r.provider);
                return { ...state, id };
              })()
            : r.inputs;
        res.setProperties(Struct.fromJavaScript(plain(outputs)));
        res.setOptions(options(r));
        const p = provider(r);
        if (p) res.setProvider(p);
        if (r.parent) res.setParent(r.parent);
        const edges = pg.edgesOf(r);
        res.setDependenciesList(edges.dependencies);
        const deps = res.getPropertydependenciesMap();
        for (const [k, urns] of Object.entries(edges.propertyDependencies)) {
          const pd = new analyzer.AnalyzerPropertyDependencies();
          pd.setUrnsList(urns);
          deps.set(k, pd);
        }
        return res;
      }),
    );
    collect(await this.call("analyzeStack", stack));
    return out;
  }
}

/** JSON-able properties (what the engine holds); secrets stay marked, the analyzer unwraps them. */
function plain(v: Record<string, any>): Record<string, any> {
  return (
    JSON.parse(
      JSON.stringify(v, (_k, x) => (x === undefined ? null : x)),
      (_k, x) => (x === null ? undefined : x),
    ) ?? {}
  );
}
