/**
 * npm run plan -- --step N [--env dev|prod] [--region R] [--format text|json|mermaid] [--set key=value ...]
 *                [--domain shop.example.com --zone Z...] [--build auto|real|fake] [--stack NAME] [--verbose]
 *
 * Evaluates the real program for a step under the test mocks — no AWS account, no Pulumi CLI — and prints the
 * component tree with resource counts, what changes from the step below (by URN), and the estimated monthly cost.
 */
import { makePlan, PlanOptions } from "./plan";
import { planJson, planText } from "./render";

const USAGE = `usage: npm run plan -- --step N [--env dev|prod] [--region us-east-1] [--format text|json|mermaid]
                     [--domain shop.example.com --zone Z0123456789ABCDEFGHIJ] [--set key=value ...]
                     [--build auto|real|fake] [--stack dev] [--verbose]`;

export interface CliArgs {
  options: PlanOptions;
  format: "text" | "json" | "mermaid";
  verbose: boolean;
}

/** Parses argv (after the script name); throws with the usage on anything it does not know. */
export function parseArgs(argv: string[]): CliArgs {
  const options: PlanOptions = { step: NaN, config: {} };
  let format: CliArgs["format"] = "text";
  let verbose = false;
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value\n${USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2) as [string, string | undefined];
    const take = () => (inline !== undefined ? inline : value(i++, flag));
    switch (flag) {
      case "--step": {
        const v = take();
        if (!/^\d+$/.test(v)) throw new Error(`--step must be an integer from 1 to 11, got ${JSON.stringify(v)}`);
        options.step = Number(v);
        break;
      }
      case "--env":
      case "--environment": {
        const v = take();
        if (v !== "dev" && v !== "prod") throw new Error(`--env must be dev or prod, got ${JSON.stringify(v)}`);
        options.environment = v;
        break;
      }
      case "--region":
        options.region = take();
        break;
      case "--format": {
        const v = take();
        if (v !== "text" && v !== "json" && v !== "mermaid")
          throw new Error(`--format must be text, json or mermaid, got ${JSON.stringify(v)}`);
        format = v;
        break;
      }
      case "--domain":
        options.config!.domain = take();
        break;
      case "--zone":
        options.config!.hostedZoneId = take();
        break;
      case "--set": {
        const v = take();
        const eq = v.indexOf("=");
        if (eq <= 0)
          throw new Error(`--set takes key=value (a scale-ladder key, or aws:region), got ${JSON.stringify(v)}`);
        options.config![v.slice(0, eq)] = v.slice(eq + 1);
        break;
      }
      case "--build": {
        const v = take();
        if (v !== "auto" && v !== "real" && v !== "fake")
          throw new Error(`--build must be auto, real or fake, got ${JSON.stringify(v)}`);
        options.build = v;
        break;
      }
      case "--stack":
        options.stack = take();
        break;
      case "--verbose":
      case "-v":
        verbose = true;
        break;
      case "--help":
      case "-h":
        throw new Error(USAGE);
      default:
        throw new Error(`unknown argument ${JSON.stringify(argv[i])}\n${USAGE}`);
    }
  }
  if (Number.isNaN(options.step)) throw new Error(`--step is required\n${USAGE}`);
  return { options, format, verbose };
}

export async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  try {
    // The harness evaluates with stack traces off (stacks/stack-traces.ts): a plan never shows one.
    const plan = await makePlan(args.options);
    const out =
      args.format === "json"
        ? `${JSON.stringify(planJson(plan), null, 2)}\n`
        : args.format === "mermaid"
          ? `${plan.mermaid}\n`
          : planText(plan, { verbose: args.verbose });
    process.stdout.write(out);
    return 0;
  } catch (e) {
    process.stderr.write(`plan failed: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
