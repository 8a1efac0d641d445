/** `npm run stack-files`: rewrites every stacks/Pulumi.stepNN.yaml from the schema. */
import * as fs from "node:fs";
import * as path from "node:path";
import { STEPS } from "../../stacks/steps";
import { renderStackFile } from "./render";

export function main(argv: string[]): number {
  if (argv.length > 0) {
    process.stderr.write(`unknown argument ${argv[0]}\nusage: npm run stack-files\n`);
    return 2;
  }
  for (const { step } of STEPS) {
    const file = path.join(__dirname, "..", "..", "stacks", `Pulumi.step${String(step).padStart(2, "0")}.yaml`);
    fs.writeFileSync(file, renderStackFile(step));
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
  }
  return 0;
}
