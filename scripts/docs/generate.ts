/**
 * Regenerates, in memory, every generated section of the docs from the program: the step docs' diagrams, changes,
 * environment, costs and resource trees; the README's ladder table and configuration reference; docs/components.md;
 * docs/pricing.md. `npm run docs` writes the result; the docs test compares it with what is committed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { climbSection } from "./climb";
import { componentDefaultMismatches, componentReference, readComponents } from "./components-ref";
import { configReference } from "./config-ref";
import { StepFacts, ladderFacts } from "./ladder";
import { replaceSection, sectionNames } from "./markers";
import {
  appEnvSection,
  changesSection,
  costSection,
  diagramSection,
  drillsSection,
  envSection,
  healthSection,
  ladderSection,
  outputsSection,
  pricesSection,
  resourcesSection,
  stepDocPath,
  summarySection,
} from "./sections";
import { loadSection, shardKeysSection } from "../load/docs";
import { capacitySection } from "./capacity";
import { firstStepOf } from "../../stacks/steps";

/** The sections every step doc has, in order. */
export const STEP_SECTIONS = [
  "summary",
  "diagram",
  "env",
  "cost",
  "changes",
  "resources",
  "health",
  "drills",
  "capacity",
  "load",
  "climb",
] as const;

/**
 * The generated sections of step `step`'s page, in order: {@link STEP_SECTIONS}, and on the page of the step that
 * shards the orders the measured shard-key table (scripts/load/shard-keys.ts) after the load test, before "when to
 * climb", which ends every page.
 */
export function stepSections(step: number): string[] {
  const sections: string[] = STEP_SECTIONS.filter((s) => s !== "climb");
  return [...sections, ...(step === firstStepOf("shards") ? ["shard-keys"] : []), "climb"];
}

export interface GeneratedDocs {
  /** Path (relative to the root) → full content. */
  files: Map<string, string>;
  /** Every Mermaid diagram written, by a name that says where. */
  diagrams: Array<{ name: string; source: string }>;
  /** Things a person should look at (e.g. a component default that disagrees with its JSDoc). */
  notes: string[];
  facts: StepFacts[];
}

/** A skeleton for a step doc that does not exist yet: the prose is left to a person. */
function stepSkeleton(f: StepFacts): string {
  const title = `# Step ${f.info.step}: ${f.info.name}`;
  const blocks = [
    title,
    "",
    `${f.info.adds}.`,
    "",
    ...STEP_SECTIONS.flatMap((s) => [`## ${s}`, "", `<!-- generated:${s} -->`, `<!-- /generated:${s} -->`, ""]),
  ];
  return blocks.join("\n");
}

function fill(doc: string, file: string, sections: Record<string, string>): string {
  let out = doc;
  for (const [name, body] of Object.entries(sections)) out = replaceSection(out, name, body, file);
  const unknown = sectionNames(out).filter((n) => !(n in sections));
  if (unknown.length > 0)
    throw new Error(`${file}: generated section(s) ${unknown.join(", ")} that npm run docs does not know`);
  return out;
}

/** Everything `npm run docs` would write, computed from the program and the current files under `root`. */
export async function generateDocs(root = process.cwd(), facts?: StepFacts[]): Promise<GeneratedDocs> {
  const ladder = facts ?? (await ladderFacts());
  const files = new Map<string, string>();
  const diagrams: GeneratedDocs["diagrams"] = [];
  const read = (rel: string, fallback?: () => string) => {
    const p = path.join(root, rel);
    if (fs.existsSync(p)) return fs.readFileSync(p, "utf8");
    if (fallback) return fallback();
    throw new Error(`${rel} is missing`);
  };

  for (const f of ladder) {
    const rel = stepDocPath(f.info);
    files.set(
      rel,
      fill(
        read(rel, () => stepSkeleton(f)),
        rel,
        {
          summary: summarySection(f),
          diagram: diagramSection(f),
          changes: changesSection(f),
          env: envSection(f),
          cost: costSection(f),
          resources: resourcesSection(f),
          health: healthSection(f),
          drills: drillsSection(f),
          capacity: capacitySection(f.info.step),
          load: loadSection(f.info.step),
          climb: climbSection(f.info.step),
          ...(f.info.step === firstStepOf("shards") ? { "shard-keys": shardKeysSection() } : {}),
        },
      ),
    );
    diagrams.push({ name: `${rel} (step ${f.info.step})`, source: f.mermaid });
  }

  files.set(
    "README.md",
    fill(read("README.md"), "README.md", {
      ladder: ladderSection(ladder),
      outputs: outputsSection(ladder),
      config: configReference(),
      "app-env": appEnvSection(ladder),
    }),
  );

  const firstStep: Record<string, number> = {};
  for (const f of ladder)
    for (const r of f.index.resources) if (r.type.startsWith("scale-ladder:")) firstStep[r.type] ??= f.info.step;
  const componentsDir = path.join(root, "components");
  files.set(
    "docs/components.md",
    fill(read("docs/components.md"), "docs/components.md", { reference: componentReference(componentsDir, firstStep) }),
  );
  files.set("docs/pricing.md", fill(read("docs/pricing.md"), "docs/pricing.md", { prices: pricesSection(ladder) }));

  const notes = componentDefaultMismatches(readComponents(componentsDir).components);
  return { files, diagrams, notes, facts: ladder };
}

/** Files whose committed content differs from what the program generates, with the first differing line. */
export function staleFiles(
  generated: Map<string, string>,
  root = process.cwd(),
): Array<{ file: string; line: number; expected: string; actual: string }> {
  const out: Array<{ file: string; line: number; expected: string; actual: string }> = [];
  for (const [rel, want] of generated) {
    const p = path.join(root, rel);
    const have = fs.existsSync(p) ? fs.readFileSync(p, "utf8") : "";
    if (have === want) continue;
    const a = have.split("\n");
    const b = want.split("\n");
    let i = 0;
    while (i < Math.max(a.length, b.length) && a[i] === b[i]) i++;
    out.push({
      file: rel,
      line: i + 1,
      expected: b[i] ?? "(end of file)",
      actual: fs.existsSync(p) ? (a[i] ?? "(end of file)") : "(missing)",
    });
  }
  return out;
}
