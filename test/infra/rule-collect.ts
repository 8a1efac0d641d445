import type { RuleResult } from "./deploy-rules";

/** Collects a deploy rule's result: `problem` records what AWS would refuse, `count` each thing the rule checked. */
export function collect(fn: (problem: (msg: string) => void, count: () => void) => void): RuleResult {
  const result: RuleResult = { checked: 0, problems: [] };
  fn(
    (m) => result.problems.push(m),
    () => result.checked++,
  );
  return result;
}
