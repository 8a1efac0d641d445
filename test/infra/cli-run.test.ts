/**
 * How `pulumi preview` and `pulumi up` run the program: from a JavaScript entry point that loads the program's esbuild
 * bundle, without ts-node (whose type check cost about 15 s a run, and whose transpiling still cost more than the
 * bundle: stacks/main.cjs), while `npm run typecheck`, part of `npm test`, type-checks everything. What the CLI does
 * is read from Pulumi.yaml the way the engine and the language host read it (lib/pulumi-cli.ts); the type check is
 * proven by running tsc with the typecheck script's own flags on a tiny fixture.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as ts from "typescript";
import { ladderGraph, transitiveSources } from "../../lib/graph/graph-cache";
import { stackConfig } from "../../lib/graph/harness";
import { cliRun } from "../../lib/pulumi-cli";

const root = path.resolve(__dirname, "../..");
const run = cliRun(root);

describe("the Pulumi CLI's run of the program", () => {
  it("starts in the project root with package.json's main, stacks/main.cjs, as the entry point", () => {
    expect({ pwd: run.pwd, entry: run.entry }).toEqual({ pwd: root, entry: "." });
    expect(JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).main).toBe("stacks/main.cjs");
  });

  it("registers no ts-node: the entry point is JavaScript that loads stacks/index.ts from its bundle", () => {
    expect(run.typescript).toBe(false);
    // Without PULUMI_NODEJS_TYPESCRIPT, cmd/run requires the entry point as it is; a tsconfig path would be read
    // (and must exist) all the same.
    expect(run.env).toEqual({});
    expect(fs.readFileSync(path.join(root, "stacks", "main.cjs"), "utf8")).toContain(
      'requireBundled(path.join(__dirname, "index.ts"))',
    );
  });

  it("preloads Node's compile cache and the source-position rule, from the program directory, before the CLI", () => {
    expect(run.nodeArgs).toEqual([
      "--require",
      "./stacks/node-compile-cache.cjs",
      "--require",
      "./stacks/source-positions.cjs",
    ]);
    // What node does with those arguments where the language host starts it: the cache is on, in the project's cache.
    const env = { ...process.env };
    delete env.NODE_DISABLE_COMPILE_CACHE; // a user's switch to turn it off, set to anything
    const r = spawnSync(
      process.execPath,
      [...run.nodeArgs, "-e", "process.stdout.write(String(require('node:module').getCompileCacheDir()))"],
      { cwd: run.pwd, encoding: "utf8", env },
    );
    expect(r.stderr).toBe("");
    // Node keeps one folder per Node version and V8 flags in the one it is given.
    expect(path.dirname(r.stdout)).toBe(
      path.join(root, "node_modules", ".cache", "scale-ladder", "node-compile-cache"),
    );
  });

  it("loads no policy-pack runtime: no source of the program imports @pulumi/policy", () => {
    // The program shares a table with the pack (policies/fis-permissions.ts); importing it from a file of the pack
    // that uses @pulumi/policy loaded that package's gRPC server into every preview (11 modules).
    const importsPolicy = transitiveSources([path.join(root, "stacks", "index.ts")])
      .filter((f) => /["']@pulumi\/policy(\/[^"']*)?["']/.test(fs.readFileSync(f, "utf8")))
      .map((f) => path.relative(root, f));
    expect(importsPolicy).toEqual([]);
  });

  it("registers, through the CLI's own cmd/run, the graph and stack outputs the mock harness evaluates", async () => {
    // The process `npm run bench:program` times: cmd/run with Pulumi.yaml's nodeargs, tsconfig and entry point, and
    // the graph library's mocks in place of the engine. Step 2 is the smallest stack with every kind of output.
    const step = 2;
    const { mocks } = JSON.parse(
      spawnSync(process.execPath, [path.join(root, "scripts", "bench-program-mocks.cjs")], { encoding: "utf8" }).stdout,
    );
    const dump = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "scale-ladder-cli-run-")), "dump.json");
    const r = spawnSync(
      process.execPath,
      [...run.nodeArgs, path.join(root, "scripts", "bench-program-cli.cjs"), mocks, run.pwd, run.entry, dump],
      {
        cwd: run.pwd,
        encoding: "utf8",
        env: {
          ...process.env,
          ...run.env,
          PULUMI_CONFIG: JSON.stringify(stackConfig(step)),
          PULUMI_NODEJS_PROJECT: "scale-ladder",
          PULUMI_NODEJS_STACK: "test",
          PULUMI_NODEJS_ROOT_DIRECTORY: root,
        },
      },
    );
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    const cli: {
      resources: { type: string; name: string }[];
      outputs: Record<string, unknown>;
      modules: string[];
      positions: { type: string; name: string; sourcePosition?: string; stackTrace: (string | null)[] }[];
    } = JSON.parse(fs.readFileSync(dump, "utf8"));
    fs.rmSync(path.dirname(dump), { recursive: true });
    const graph = await ladderGraph(stackConfig(step));
    const names = (rs: { type: string; name: string }[]) => rs.map((x) => `${x.type}::${x.name}`).sort();
    expect(names(cli.resources)).toEqual(names(graph.resources));
    expect(Object.keys(cli.outputs).sort()).toEqual(Object.keys(graph.outputs).sort());
    expect(Object.keys(cli.outputs).length).toBeGreaterThan(3);
    // Nothing compiled TypeScript in that process: no ts-node, no swc, and no source of the program loaded as a file
    // of its own (they are all in the bundle).
    const compilers = cli.modules.filter((f) => /[\\/]node_modules[\\/](ts-node|@swc)[\\/]/.test(f));
    expect(compilers).toEqual([]);
    expect(cli.modules.filter((f) => f.endsWith(".ts"))).toEqual([]);
    expect(cli.modules).toContain(path.join(root, "stacks", "main.cjs"));

    // The source positions and stack traces the engine receives (stacks/source-positions.cjs). Every frame names a
    // file that exists: a package's frame its own .js file, not the .ts file one folder too high that its map names
    // (node_modules/@pulumi/resource.ts for @pulumi/pulumi/resource.js).
    const frame = (uri: string) => {
      const [, file, line] = /^(file:.*):(\d+):\d+$/.exec(uri) ?? [];
      return { file: fileURLToPath(file), line: Number(line) };
    };
    expect(cli.positions.length).toBe(cli.resources.length);
    const frames = cli.positions.flatMap((p) => [p.sourcePosition, ...p.stackTrace].filter((f) => f != null));
    const files = [...new Set(frames.map((f) => frame(f).file))];
    expect(files.filter((f) => !fs.existsSync(f)).map((f) => path.relative(root, f))).toEqual([]);
    // The program's own frames still map through the bundle's inline map, to the line that constructs the resource.
    expect(files.filter((f) => f.includes(`${path.sep}.cache${path.sep}`))).toEqual([]);
    const ours = cli.positions.filter(
      (p) => p.sourcePosition && !frame(p.sourcePosition).file.includes("node_modules"),
    );
    expect(ours.length).toBeGreaterThan(cli.resources.length / 2);
    const notConstructing = ours.filter((p) => {
      const { file, line } = frame(p.sourcePosition!);
      return !/\bnew\s/.test(fs.readFileSync(file, "utf8").split("\n")[line - 1]);
    });
    expect(notConstructing).toEqual([]);
  }, 60_000);

  it("maps frames through the maps of the program's bundles and files outside node_modules, not packages'", () => {
    // In a process of its own: the file installs a handler into source-map-support, which is not this worker's to get.
    const bundle = path.join(root, "node_modules", ".cache", "scale-ladder", "run", "stacks-index-0.cjs");
    const pkg = (...p: string[]) => path.join(root, "node_modules", "@pulumi", ...p);
    const files = [
      bundle,
      pathToFileURL(bundle).href,
      path.join(root, "stacks", "main.cjs"),
      pkg("pulumi", "resource.js"),
      pathToFileURL(pkg("aws", "provider.js")).href,
    ];
    const script = [
      'const { mapsFramesOf } = require("./stacks/source-positions.cjs");',
      `console.log(JSON.stringify(${JSON.stringify(files)}.map(mapsFramesOf)));`,
    ].join("\n");
    const r = spawnSync(process.execPath, ["-e", script], { cwd: root, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual([true, true, true, false, false]);
  });
});

describe("the Pulumi CLI's run of the policy pack", () => {
  // cmd/run-policy-pack registers ts-node with typeCheck: true, whatever the tsconfig says (@pulumi/pulumi
  // cmd/run-policy-pack/run.js): a TypeScript entry was type-checked on every `pulumi preview --policy-pack`.
  const pack = path.join(root, "policies");

  it("starts from a JavaScript entry, so ts-node has nothing to type-check", () => {
    const main: string = JSON.parse(fs.readFileSync(path.join(pack, "package.json"), "utf8")).main;
    expect(main).toBe("main.cjs");
    expect(fs.readFileSync(path.join(pack, main), "utf8")).toContain(
      'requireBundled(path.join(__dirname, "index.ts"))',
    );
  });

  it("is type-checked by npm run typecheck instead: tsconfig.json holds every file of the pack", () => {
    const parsed = ts.getParsedCommandLineOfConfigFile(
      path.join(root, "tsconfig.json"),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
          throw new Error(String(d.messageText));
        },
      },
    );
    const checked = new Set(parsed!.fileNames.map((f) => path.resolve(f)));
    const packFiles = fs.readdirSync(pack).filter((f) => f.endsWith(".ts"));
    expect(packFiles).toContain("index.ts");
    expect(packFiles.filter((f) => !checked.has(path.join(pack, f)))).toEqual([]);
  });
});

describe("npm run typecheck", () => {
  const script: string = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts.typecheck;
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "scale-ladder-typecheck-"));
    fs.writeFileSync(path.join(dir, "wrong.ts"), 'export const port: number = "5432";\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /**
   * tsc with the typecheck script's flags, on a one-file project that inherits everything else from tsconfig.json,
   * its build info (what an incremental run keeps) in the fixture's folder instead of node_modules/.cache.
   */
  function typecheck(): { status: number | null; output: string } {
    const [command, ...args] = script.split(/\s+/);
    expect(command).toBe("tsc");
    const project = args.indexOf("-p") + 1;
    expect(args[project]).toBe("tsconfig.json");
    const buildInfo = args.indexOf("--tsBuildInfoFile") + 1;
    expect(args[buildInfo]).toBe("node_modules/.cache/tsc/tsconfig.tsbuildinfo");
    args[buildInfo] = path.join(dir, "tsconfig.tsbuildinfo");
    const config = path.join(dir, "tsconfig.json");
    fs.writeFileSync(
      config,
      JSON.stringify({
        extends: path.join(root, "tsconfig.json"),
        compilerOptions: { types: [] },
        include: ["wrong.ts"],
      }),
    );
    args[project] = config;
    const r = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), ...args], { encoding: "utf8" });
    return { status: r.status, output: r.stdout + r.stderr };
  }

  it("fails on a type error, with its own flags and the project's tsconfig.json", () => {
    const { status, output } = typecheck();
    expect(output).toContain("wrong.ts(1,14): error TS2322: Type 'string' is not assignable to type 'number'.");
    expect(status).toBe(2);
  });

  // The script is incremental (a second run re-checks only what changed: 12 s of CPU against 32 s for the whole
  // program on 2 cores). What it keeps must never hide an error: an unchanged file's error is reported on every run,
  // and a file that changes is checked again.
  it("reports an unchanged file's error again on the next run, and checks a changed file again", () => {
    // (tsc exits 2 when it checked something and found errors, 1 when the errors are all from its build info.)
    const error = expect.stringContaining("wrong.ts(1,14): error TS2322");
    expect(typecheck()).toEqual({ status: expect.any(Number), output: error });
    expect(fs.existsSync(path.join(dir, "tsconfig.tsbuildinfo"))).toBe(true);
    expect(typecheck()).toEqual({ status: 1, output: error });
    fs.writeFileSync(path.join(dir, "wrong.ts"), "export const port: number = 5432;\n");
    expect(typecheck()).toEqual({ status: 0, output: "" });
    fs.writeFileSync(path.join(dir, "wrong.ts"), 'export const port: number = "5432";\n');
    expect(typecheck()).toEqual({ status: 2, output: error });
  });
});
