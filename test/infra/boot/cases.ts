/**
 * Which boot scripts each step has, and rendering them from the real program under the mocks (each step's graph
 * from the graph cache: the `dev` stack the other infra files evaluate too).
 */
import { ladderGraphs } from "../../../lib/graph/graph-cache";
import { stackConfig } from "../../../lib/graph/harness";
import { BootRole, RenderedBoot, bootScripts } from "./render";

/** A machine kind: step, role and region code. */
export type BootCase = [step: number, role: BootRole, region: string];

/**
 * The machines of the ladder: the single server at steps 1–2, the web fleet from step 3, workers from step 8, and
 * at step 11 the same again in the secondary region (the test stack's default: eu-west-1).
 */
const STEPS = Array.from({ length: 11 }, (_, i) => i + 1);
export const BOOT_CASES: readonly BootCase[] = STEPS.flatMap((step): BootCase[] => {
  const roles: BootRole[] = step <= 2 ? ["server"] : step < 8 ? ["web"] : ["web", "worker"];
  const regions = step === 11 ? ["use1", "euw1"] : ["use1"];
  return regions.flatMap((region) => roles.map((role): BootCase => [step, role, region]));
});

/** Renders every boot script of `steps` (default: all eleven), in step order. */
export async function renderSteps(steps: readonly number[] = STEPS): Promise<RenderedBoot[]> {
  const graphs = await ladderGraphs(steps.map((step) => ({ config: stackConfig(step), stack: "dev" })));
  return steps.flatMap((step, i) => bootScripts(graphs[i], step));
}

/** The rendered script of one case; throws naming what was rendered when it is missing. */
export function pick(rendered: RenderedBoot[], [step, role, region]: BootCase): RenderedBoot {
  const found = rendered.find((r) => r.step === step && r.role === role && r.region === region);
  if (!found) {
    const have = rendered.map((r) => `${r.step}/${r.role}/${r.region}`).join(", ");
    throw new Error(`no boot script for step ${step}, role ${role}, region ${region}; rendered: ${have}`);
  }
  return found;
}

/** Runs `fn` over `items` with at most `limit` at a time, results in order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
