/**
 * Evaluates one step of the real program under the test mocks and prints a one-line summary. Used by
 * `scripts/bench-program.mjs` (bundled by esbuild, so no TypeScript compiler is timed).
 * Usage: node <bundle> <step>
 */
import { runLadder, stackConfig } from "../lib/graph/harness";

async function main(): Promise<void> {
  const step = Number(process.argv[2] ?? "2");
  const graph = await runLadder(stackConfig(step));
  process.stdout.write(`${JSON.stringify({ step, resources: graph.resources.length })}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
