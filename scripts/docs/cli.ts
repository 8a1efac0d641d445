/**
 * npm run docs              regenerate every generated section (README, docs/steps, docs/components.md,
 *                           docs/pricing.md) from the program, after checking every diagram with Mermaid's parser
 * npm run docs -- --check   change nothing; exit 1 and name the stale files if the committed docs are out of date
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { generateDocs, staleFiles } from "./generate";

/** Runs scripts/docs/mermaid-check.mjs (Mermaid's own parser under jsdom) over the diagrams. */
export function checkMermaid(
  diagrams: Array<{ name: string; source: string }>,
  root = process.cwd(),
): Array<{ name: string; ok: boolean; error?: string }> {
  const r = spawnSync(process.execPath, [path.join(root, "scripts/docs/mermaid-check.mjs")], {
    input: JSON.stringify(diagrams),
    encoding: "utf8",
    cwd: root,
  });
  if (r.status === 2 || !r.stdout) throw new Error(`the Mermaid parser could not run: ${r.stderr || r.error?.message}`);
  return JSON.parse(r.stdout);
}

export async function main(argv: string[]): Promise<number> {
  const check = argv.includes("--check");
  const unknown = argv.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument ${unknown[0]}\nusage: npm run docs [-- --check]\n`);
    return 2;
  }
  const root = process.cwd();
  const docs = await generateDocs(root);
  const bad = checkMermaid(docs.diagrams, root).filter((r) => !r.ok);
  for (const b of bad) process.stderr.write(`invalid Mermaid in ${b.name}: ${b.error}\n`);
  if (bad.length > 0) return 1;
  for (const n of docs.notes) process.stderr.write(`note: ${n}\n`);
  const stale = staleFiles(docs.files, root);
  if (check) {
    for (const s of stale)
      process.stderr.write(
        `${s.file}:${s.line} is out of date\n  committed: ${s.actual}\n  generated: ${s.expected}\n`,
      );
    if (stale.length > 0) process.stderr.write("run `npm run docs` and commit the result\n");
    else
      process.stdout.write(`docs are up to date (${docs.files.size} files, ${docs.diagrams.length} diagrams parsed)\n`);
    return stale.length > 0 ? 1 : 0;
  }
  for (const s of stale) {
    const p = path.join(root, s.file);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, docs.files.get(s.file)!);
    process.stdout.write(`wrote ${s.file}\n`);
  }
  if (stale.length === 0) process.stdout.write(`docs were up to date (${docs.files.size} files)\n`);
  return 0;
}
