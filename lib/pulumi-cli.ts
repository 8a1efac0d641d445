/**
 * How `pulumi preview` and `pulumi up` start this program, derived from Pulumi.yaml the way the Pulumi engine and
 * the nodejs language host derive it, so that the program benchmark (`npm run bench:program`) runs exactly that
 * and a test can check what the CLI's run will do with the tsconfig:
 *
 * - the engine runs the program in its directory: `main` names a file, then its folder (and the file is the entry
 *   point); a folder, or none, then that folder (or the project root) with entry point `.`, which cmd/run resolves
 *   through package.json `main` (pulumi/pulumi pkg/engine/project.go, getPwdMain);
 * - the language host starts `node [nodeargs] @pulumi/pulumi/cmd/run --pwd <program dir> ... <entry>` with
 *   PULUMI_NODEJS_TYPESCRIPT=true unless the runtime option `typescript` is false, and PULUMI_NODEJS_TSCONFIG_PATH
 *   from the option `tsconfig` (sdk/nodejs/cmd/pulumi-language-nodejs/main.go, execRuntime);
 * - cmd/run changes to the program directory and, when PULUMI_NODEJS_TYPESCRIPT is "true", registers ts-node from
 *   that tsconfig (type-checking every file it loads unless the tsconfig's own `noCheck` or
 *   PULUMI_NODEJS_TRANSPILE_ONLY says otherwise) before it requires the entry point; otherwise it requires the entry
 *   point as it is (@pulumi/pulumi cmd/run/run.js). This project sets `typescript: false` (stacks/main.cjs says why).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export interface CliRun {
  /** The program directory: cmd/run's `--pwd`, where it reads the tsconfig and resolves relative paths. */
  pwd: string;
  /** The entry point cmd/run is given: a file in `pwd`, or `.` for package.json `main`. */
  entry: string;
  /** Whether cmd/run registers ts-node (the runtime option `typescript`, default true). */
  typescript: boolean;
  /** What the language host adds to the environment. */
  env: Record<string, string>;
  /** The runtime option `nodeargs`, split. */
  nodeArgs: string[];
}

export function cliRun(root: string): CliRun {
  const project = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
    main?: string;
    runtime: string | { name: string; options?: { typescript?: boolean; tsconfig?: string; nodeargs?: string } };
  };
  const options = typeof project.runtime === "string" ? {} : (project.runtime.options ?? {});
  const main = project.main ? path.resolve(root, project.main) : root;
  const isDir = fs.statSync(main).isDirectory();
  const pwd = isDir ? main : path.dirname(main);
  const typescript = options.typescript !== false;
  const env: Record<string, string> = {};
  if (typescript) env.PULUMI_NODEJS_TYPESCRIPT = "true";
  if (options.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
  return {
    pwd,
    entry: isDir ? "." : path.basename(main),
    typescript,
    env,
    nodeArgs: (options.nodeargs ?? "").split(/\s+/).filter(Boolean),
  };
}
