/**
 * Runs the real program (stacks/config.ts → stacks/ladder.ts) under the test mocks: the offline engine behind
 * `npm run plan` and the generated docs. No AWS account, no Pulumi CLI, no provider plugin.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ladderGraph } from "../../lib/graph/graph-cache";
import { Graph, fakeBuild } from "../../lib/graph/harness";

/** What the program ships: `npm run build`'s output, or the harness's small stand-in. */
export interface BuildInfo {
  kind: "real" | "fake";
  artifactPath: string;
  staticDir: string;
  /** One line for the output. */
  note: string;
}

/** Where `npm run build` writes, relative to the project (the config defaults of `artifactPath` and `staticDir`). */
export const REAL_BUILD = { artifactPath: "dist/shop.tgz", staticDir: "dist/app/static" } as const;

/**
 * The build to evaluate with. `auto` takes the real build when both of its parts exist, else the fake one; the note
 * says which, because the CDN uploads one object per static file, so the resource count depends on it.
 */
export function chooseBuild(mode: "auto" | "real" | "fake", root = process.cwd()): BuildInfo {
  const real = {
    artifactPath: path.resolve(root, REAL_BUILD.artifactPath),
    staticDir: path.resolve(root, REAL_BUILD.staticDir),
  };
  const haveReal = fs.existsSync(real.artifactPath) && fs.existsSync(real.staticDir);
  if (mode === "real" && !haveReal) {
    throw new Error(
      `no real build: ${REAL_BUILD.artifactPath} or ${REAL_BUILD.staticDir} is missing. Run \`npm run build\` ` +
        `first, or pass --build fake.`,
    );
  }
  if (mode !== "fake" && haveReal) {
    const files = countFiles(real.staticDir);
    return {
      kind: "real",
      ...real,
      note: `real build: ${REAL_BUILD.artifactPath} and ${REAL_BUILD.staticDir} (${files} static files)`,
    };
  }
  const fake = fakeBuild();
  return {
    kind: "fake",
    artifactPath: fake["scale-ladder:artifactPath"],
    staticDir: fake["scale-ladder:staticDir"],
    note:
      `fake build ` +
      `(${mode === "fake" ? "asked for" : `no ${REAL_BUILD.artifactPath} yet: \`npm run build\` makes one`}): a ` +
      `stand-in artifact and 2 static files`,
  };
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }))
    n += e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1;
  return n;
}

/** What to evaluate. */
export interface Target {
  step: number;
  environment?: "dev" | "prod";
  /** `aws:region`, the primary region. */
  region?: string;
  /** Other `scale-ladder:*` keys (bare or namespaced) and their raw values. */
  config?: Record<string, string>;
  /** Stack name: it is part of every URN and of the `stack` default tag. */
  stack?: string;
}

/** The raw stack configuration a target stands for, as `pulumi config` would hold it. */
export function stackConfigOf(target: Target, build: BuildInfo): Record<string, string> {
  const config: Record<string, string> = {
    "aws:region": target.region ?? "us-east-1",
    "scale-ladder:step": String(target.step),
    "scale-ladder:artifactPath": build.artifactPath,
    "scale-ladder:staticDir": build.staticDir,
  };
  if (target.environment) config["scale-ladder:environment"] = target.environment;
  for (const [k, v] of Object.entries(target.config ?? {})) config[k.includes(":") ? k : `scale-ladder:${k}`] = v;
  return config;
}

/**
 * Evaluates one target under the mocks and returns its graph, through the disk cache of ladder graphs
 * (lib/graph/graph-cache.ts): a target already evaluated with the same sources, build and configuration is read
 * back without loading the Pulumi SDK (`SCALE_LADDER_GRAPH_CACHE=off` evaluates it fresh).
 */
export function evaluate(target: Target, build: BuildInfo): Promise<Graph> {
  return ladderGraph(stackConfigOf(target, build), target.stack ?? "dev");
}
