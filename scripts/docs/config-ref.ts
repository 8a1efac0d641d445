/**
 * The configuration reference, generated from the one schema (`CONFIG_KEYS` in stacks/config.ts): each key's doc
 * line, what it accepts (the schema's own error message for a value it refuses) and its default, evaluated for every
 * step, both environments and two primary regions, and written as ranges.
 */
import { CONFIG_KEYS, ConfigKey, DefaultContext, ENVIRONMENTS, Parser } from "../../stacks/config";
import { MAX_STEP, MIN_STEP } from "../../stacks/steps";
import { cell } from "./markers";

const show = (v: unknown): string =>
  v === undefined ? "unset" : Array.isArray(v) ? `\`${v.join(",")}\`` : `\`${String(v)}\``;

/** `1–2`, `3–11`, `5`. */
const span = (a: number, b: number) => (a === b ? `${a}` : `${a}–${b}`);

/** The default of a key across steps, as text: one value, or value (steps) pairs. */
function stepsText(values: unknown[]): string {
  const runs: Array<{ value: string; from: number; to: number }> = [];
  values.forEach((v, i) => {
    const step = MIN_STEP + i;
    const value = show(v);
    const last = runs[runs.length - 1];
    if (last && last.value === value) last.to = step;
    else runs.push({ value, from: step, to: step });
  });
  if (runs.length === 1) return runs[0].value;
  return runs
    .map((r) => `${r.value} at ${r.to === MAX_STEP && r.from !== r.to ? `${r.from}+` : span(r.from, r.to)}`)
    .join(", ");
}

/** The default of one key, described over steps, environments and the primary region. */
export function defaultText(name: ConfigKey): string {
  const spec = CONFIG_KEYS[name] as { default: (c: DefaultContext) => unknown };
  if (name === "step") return "required";
  const over = (environment: DefaultContext["environment"], region: string) =>
    stepsText(
      Array.from({ length: MAX_STEP - MIN_STEP + 1 }, (_, i) =>
        spec.default({ step: MIN_STEP + i, environment, region }),
      ),
    );
  const byEnv = ENVIRONMENTS.map((e) => [e, over(e, "us-east-1")] as const);
  let text = byEnv.every(([, t]) => t === byEnv[0][1]) ? byEnv[0][1] : byEnv.map(([e, t]) => `${e}: ${t}`).join("; ");
  const other = "eu-west-1";
  const elsewhere = over("dev", other);
  if (elsewhere !== over("dev", "us-east-1")) text += ` (with \`aws:region\` ${other}: ${elsewhere})`;
  return text;
}

/** What a key accepts, in the schema's own words (its message for a value it refuses). */
export function acceptsText(name: ConfigKey): string {
  const parse = CONFIG_KEYS[name].parse as Parser<unknown>;
  for (const probe of [" ", "?not valid?"]) {
    const r = parse(probe);
    if (!r.ok) return r.message.replace(/^must be /, "");
  }
  return "any value";
}

/** The Markdown table. */
export function configReference(): string {
  const rows = (Object.keys(CONFIG_KEYS) as ConfigKey[]).map(
    (k) => `| \`${k}\` | ${cell(CONFIG_KEYS[k].doc)} | ${cell(acceptsText(k))} | ${cell(defaultText(k))} |`,
  );
  return [
    "| key (`scale-ladder:`) | what it does | accepts | default |",
    "| --- | --- | --- | --- |",
    ...rows,
    "| `aws:region` | The primary region (the stack files set `us-east-1`). | an AWS region such as us-east-1 | " +
      "`us-east-1` |",
  ].join("\n");
}
