/**
 * The boot scripts exactly as the program hands them to EC2: an instance's `userData` is the script itself, a
 * launch template's is base64 (the provider passes it through, EC2 decodes it).
 */
import type { Graph } from "../../../lib/graph/harness";
import { T } from "../../../lib/graph/resource-types";

/** Which machine a script boots. */
export type BootRole = "server" | "web" | "worker";

export interface RenderedBoot {
  step: number;
  role: BootRole;
  /** Region code the resource is named with (`use1`, `euw1`, ...). */
  region: string;
  /** Name of the instance or launch template it came from. */
  resource: string;
  script: string;
  /** Every `ssm get-parameter` name the script reads, with the value the graph gives it (release URI, shard map). */
  parameters: Record<string, string>;
}

const INSTANCE = T.instance;
const LAUNCH_TEMPLATE = T.lt;

/** Every boot script in a step's graph, with the SSM values its stubs should answer. */
export function bootScripts(g: Graph, step: number): RenderedBoot[] {
  const out: RenderedBoot[] = [];
  for (const r of [...g.ofType(INSTANCE), ...g.ofType(LAUNCH_TEMPLATE)]) {
    const raw = r.inputs.userData;
    if (typeof raw !== "string") throw new Error(`${r.name}: userData is ${typeof raw}, expected a string`);
    const script = r.type === INSTANCE ? raw : Buffer.from(raw, "base64").toString("utf8");
    const role: BootRole = r.type === INSTANCE ? "server" : r.name.endsWith("-workers-lt") ? "worker" : "web";
    out.push({ step, role, region: r.name.split("-")[0], resource: r.name, script, parameters: parameters(g, script) });
  }
  return out;
}

/**
 * The SSM parameters a script reads: the one in fetch-release names the release (the stack's `releaseUri`); any
 * other is the shard map, whose value is in the graph (the map parameter's JSON).
 */
function parameters(g: Graph, script: string): Record<string, string> {
  const names = [...script.matchAll(/--name '([^']+)'/g)].map((m) => m[1]);
  const release = /cat > \/opt\/shop\/bin\/fetch-release <<'EOF'[\s\S]*?--name '([^']+)'/.exec(script)?.[1];
  const shardMap = g
    .ofType(T.ssmParameter)
    .map((p) => unsecret(p.inputs.value))
    .find((v): v is string => typeof v === "string" && v.includes('"buckets"'));
  const out: Record<string, string> = {};
  for (const name of names) {
    if (name === release) out[name] = String(g.outputs.releaseUri);
    else if (shardMap) out[name] = shardMap;
    else throw new Error(`boot script reads SSM parameter ${name}, and the graph has no value for it`);
  }
  return out;
}

/** A value as the mock engine saw it: a secret arrives wrapped (`{ <sig>: <secret sig>, value }`). */
function unsecret(v: unknown): unknown {
  return v !== null && typeof v === "object" && "value" in v ? (v as { value: unknown }).value : v;
}

/** A file a script writes with a quoted heredoc (`cat > PATH <<'EOF'`): the /opt/shop/bin scripts and the units. */
export interface WrittenFile {
  path: string;
  body: string;
}

/** The quoted heredocs of a script, in order. */
export function heredocs(script: string): WrittenFile[] {
  return [...script.matchAll(/^cat > (\S+) <<'(\w+)'\n([\s\S]*?)^\2$/gm)].map((m) => ({ path: m[1], body: m[3] }));
}
