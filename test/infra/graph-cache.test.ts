/**
 * The graph cache (`lib/graph/graph-cache.ts`): what makes its key, that a graph read back from it equals a fresh
 * evaluation, and how processes share it (a lock, a stale lock, atomic writes). Every test here uses a cache folder
 * of its own in the temp dir, so the suite's shared cache is never touched.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  ROOT,
  deserializeGraph,
  graphKey,
  ladderGraph,
  ladderGraphs,
  programSources,
  serializeGraph,
  transitiveSources,
} from "../../lib/graph/graph-cache";
import { Graph, Registration, runLadder, stackConfig } from "../../lib/graph/harness";
import { SECRET_SIG_KEY, SECRET_SIG_VALUE, isSecret } from "../../lib/graph/queries";
import { T } from "../../lib/graph/resource-types";

const temp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `scale-ladder-${prefix}-`));
const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const d = temp(prefix);
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A stand-in graph whose content says which call made it. */
const stubGraph = (tag: string) =>
  new Graph(
    [
      {
        type: T.bucket,
        name: tag,
        inputs: { bucket: tag },
        urn: `urn:pulumi:test::scale-ladder::aws:s3/bucket:Bucket::${tag}`,
        custom: true,
        ignoreChanges: [],
        protect: false,
        aliases: [],
      },
    ],
    { tag },
    [],
  );

describe("the key", () => {
  it("follows the program's imports into stacks/, components/ and lib/; holds the harness, mocks and lock file", () => {
    const rel = programSources().map((f) => path.relative(ROOT, f));
    for (const f of [
      "stacks/config.ts",
      "stacks/ladder.ts",
      "stacks/steps.ts",
      "components/network.ts",
      "components/user-data.ts",
      "lib/graph/harness.ts",
      "lib/graph/mock-outputs.ts",
      "lib/graph/graph-cache.ts",
      "package-lock.json",
    ])
      expect(rel).toContain(f);
    expect(rel.filter((f) => f.startsWith("test/"))).toEqual([]);
  });

  it("changes when a hashed source changes, and comes back when it is restored", () => {
    const dir = tempDir("key-sources");
    const entry = path.join(dir, "entry.ts");
    const dep = path.join(dir, "dep.ts");
    fs.writeFileSync(entry, 'import { x } from "./dep";\nexport const y = x;\n');
    fs.writeFileSync(dep, "export const x = 1;\n");
    const sources = transitiveSources([entry]);
    expect(sources).toEqual([dep, entry].sort());
    const config = stackConfig(2);
    const before = graphKey(config, "dev", { sources });
    fs.writeFileSync(dep, "export const x = 2;\n");
    const changed = graphKey(config, "dev", { sources });
    expect(changed).not.toBe(before);
    fs.writeFileSync(dep, "export const x = 1;\n");
    expect(graphKey(config, "dev", { sources })).toBe(before);
  });

  it("changes with the configuration, the stack name and the content of the build a config value names", () => {
    const sources = [path.join(ROOT, "package.json")];
    const build = tempDir("key-build");
    fs.mkdirSync(path.join(build, "static"));
    fs.writeFileSync(path.join(build, "shop.tgz"), "one");
    fs.writeFileSync(path.join(build, "static", "a.js"), "a");
    const config = {
      ...stackConfig(3),
      "scale-ladder:artifactPath": path.join(build, "shop.tgz"),
      "scale-ladder:staticDir": path.join(build, "static"),
    };
    const key = graphKey(config, "dev", { sources });
    expect(graphKey(config, "prod", { sources })).not.toBe(key);
    expect(graphKey({ ...config, "scale-ladder:environment": "prod" }, "dev", { sources })).not.toBe(key);
    fs.writeFileSync(path.join(build, "shop.tgz"), "two");
    expect(graphKey(config, "dev", { sources })).not.toBe(key);
    fs.writeFileSync(path.join(build, "shop.tgz"), "one");
    fs.writeFileSync(path.join(build, "static", "b.js"), "b");
    expect(graphKey(config, "dev", { sources })).not.toBe(key);
    fs.rmSync(path.join(build, "static", "b.js"));
    expect(graphKey(config, "dev", { sources })).toBe(key);
  });
});

describe("a cached graph", () => {
  it("deserializes equal to a fresh evaluation: secrets, edges, outputs, undefined inputs", async () => {
    const dir = tempDir("equal");
    let evaluations = 0;
    const evaluate = (config: Record<string, string>, stack: string) => (evaluations++, runLadder(config, stack));
    const config = stackConfig(2);
    const first = await ladderGraph(config, "dev", { dir, evaluate });
    const cached = await ladderGraph(config, "dev", { dir, evaluate });
    expect(evaluations).toBe(1);
    // Fresh, past the cache: what the cached copy must equal.
    const fresh = await runLadder(config, "dev");
    expect(cached.toData()).toStrictEqual(fresh.toData());
    expect(first.toData()).toStrictEqual(fresh.toData());
    expect(cached).not.toBe(first);
    // What made it through is what the tests look at.
    expect(cached.resources.some((r) => JSON.stringify(r.inputs).includes(SECRET_SIG_VALUE))).toBe(true);
    expect(cached.resources.some((r) => cached.edgesOf(r).dependencies.length > 0)).toBe(true);
    expect(cached.outputs.databaseSecretArn).toEqual(fresh.outputs.databaseSecretArn);
  });

  it("keeps undefined apart from absent, and secret markers as they are", () => {
    const r: Registration = {
      type: T.bucket,
      name: "b",
      inputs: {
        present: undefined,
        list: [undefined, 1, null],
        secret: { [SECRET_SIG_KEY]: SECRET_SIG_VALUE, value: "hush" },
        nested: { deeper: { gone: undefined } },
      },
      urn: "urn:pulumi:t::p::aws:s3/bucket:Bucket::b",
      parent: undefined,
      custom: true,
      ignoreChanges: ["tags"],
      protect: false,
      aliases: ["urn:pulumi:t::p::aws:s3/bucket:Bucket::old", { spec: { name: "older" } }],
    };
    const g = new Graph(
      [r],
      { url: "x", none: undefined },
      ["a warning"],
      new Map([[r.urn, { dependencies: ["u"], propertyDependencies: { a: ["u"] } }]]),
    );
    const back = deserializeGraph(serializeGraph(g));
    expect(back.toData()).toStrictEqual(g.toData());
    expect("present" in back.resources[0].inputs).toBe(true);
    expect("absent" in back.resources[0].inputs).toBe(false);
    expect("parent" in back.resources[0]).toBe(true);
    expect(isSecret(back.resources[0].inputs.secret)).toBe(true);
  });

  it("refuses a value that is not plain data, rather than storing something else", () => {
    const g = stubGraph("x");
    g.resources[0].inputs.when = new Date(0);
    expect(() => serializeGraph(g)).toThrow("graph.resources[0].inputs.when is a Date, not plain data");
  });
});

describe("sharing between processes", () => {
  it("evaluates a graph once while another caller waits for it, and each caller gets its own copy", async () => {
    const dir = tempDir("share");
    let evaluations = 0;
    const evaluate = async (config: Record<string, string>) => {
      evaluations++;
      await new Promise((r) => setTimeout(r, 300));
      return stubGraph(config["scale-ladder:step"]);
    };
    const sources = [path.join(ROOT, "package.json")];
    const reqs = [1, 2, 3].map((s) => ({ config: { "scale-ladder:step": String(s) }, stack: "dev" }));
    const [a, b] = await Promise.all([
      ladderGraphs(reqs, { dir, evaluate, sources }),
      ladderGraphs([...reqs].reverse(), { dir, evaluate, sources }),
    ]);
    expect(evaluations).toBe(3);
    expect(a.map((g) => g.outputs.tag)).toEqual(["1", "2", "3"]);
    expect(b.map((g) => g.outputs.tag)).toEqual(["3", "2", "1"]);
    expect(a[0]).not.toBe(b[2]);
    // Nothing is left behind but the graphs: no lock, no temp file.
    expect(fs.readdirSync(dir).sort()).toEqual(
      reqs.map((r) => `${graphKey(r.config, "dev", { sources })}.json`).sort(),
    );
  });

  it("takes over the lock of a process that is gone", async () => {
    const dir = tempDir("stale");
    const sources = [path.join(ROOT, "package.json")];
    const config = { "scale-ladder:step": "4" };
    const key = graphKey(config, "dev", { sources });
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
    fs.writeFileSync(path.join(dir, `${key}.lock`), `${dead} ${os.hostname()} 2026-01-01T00:00:00.000Z\n`);
    const g = await ladderGraph(config, "dev", { dir, sources, evaluate: async () => stubGraph("after takeover") });
    expect(g.outputs.tag).toBe("after takeover");
    expect(fs.existsSync(path.join(dir, `${key}.lock`))).toBe(false);
  });

  it("leaves no lock behind when the program throws, and does not cache the failure", async () => {
    const dir = tempDir("throws");
    const sources = [path.join(ROOT, "package.json")];
    const config = { "scale-ladder:step": "5" };
    await expect(
      ladderGraph(config, "dev", {
        dir,
        sources,
        evaluate: async () => {
          throw new Error("the program refused this configuration");
        },
      }),
    ).rejects.toThrow("the program refused this configuration");
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
