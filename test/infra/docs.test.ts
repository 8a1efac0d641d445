/**
 * The generated docs match the program: every section between `<!-- generated:… -->` markers (step diagrams, climb
 * changes, costs, the README's ladder and configuration reference, docs/components.md, docs/pricing.md) is
 * regenerated in memory and compared with what is committed; every Mermaid diagram parses with Mermaid's own
 * parser; every step page is linked from the README.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIG_KEYS } from "../../stacks/config";
import { STEPS } from "../../stacks/steps";
import { readComponents } from "../../scripts/docs/components-ref";
import { GeneratedDocs, generateDocs, staleFiles, stepSections } from "../../scripts/docs/generate";
import { ladderFacts } from "../../scripts/docs/ladder";
import { chooseBuild, stackConfigOf } from "../../scripts/plan/evaluate";
import { ladderGraph } from "../../lib/graph/graph-cache";
import { replaceSection, sectionBody, sectionNames } from "../../scripts/docs/markers";
import { stepDocPath } from "../../scripts/docs/sections";

const ROOT = path.resolve(__dirname, "../..");
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), "utf8");

/** Mermaid's parser (scripts/docs/mermaid-check.mjs, under jsdom) over named diagrams. */
function parseMermaid(
  diagrams: Array<{ name: string; source: string }>,
): Array<{ name: string; ok: boolean; type?: string; error?: string }> {
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts/docs/mermaid-check.mjs")], {
    cwd: ROOT,
    input: JSON.stringify(diagrams),
    encoding: "utf8",
  });
  if (r.status === 2 || !r.stdout) throw new Error(`the Mermaid parser could not run: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Every ```mermaid block of a Markdown file. */
const mermaidBlocks = (rel: string) =>
  [...read(rel).matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m, i) => ({ name: `${rel} #${i + 1}`, source: m[1] }));

describe("generated docs", () => {
  let docs: GeneratedDocs;
  beforeAll(async () => {
    // The ladder's graphs from the graph cache (the `dev` stack with a domain, as the other infra files ask for it).
    const facts = await ladderFacts(chooseBuild("fake"), (target, build) =>
      ladderGraph(stackConfigOf(target, build), target.stack),
    );
    docs = await generateDocs(ROOT, facts);
  }, 300_000);

  it("match the program: `npm run docs` would change nothing", () => {
    const stale = staleFiles(docs.files, ROOT).map(
      (s) => `${s.file}:${s.line}\n  committed: ${s.actual}\n  generated: ${s.expected}`,
    );
    expect({ stale, fix: stale.length > 0 ? "run `npm run docs` and commit the result" : "" }).toEqual({
      stale: [],
      fix: "",
    });
  });

  it("has a page per step with every generated section, each linked from the README's ladder table", () => {
    const readme = read("README.md");
    const ladder = sectionBody(readme, "ladder")!;
    for (const s of STEPS) {
      const rel = stepDocPath(s);
      expect({ rel, exists: fs.existsSync(path.join(ROOT, rel)) }).toEqual({ rel, exists: true });
      expect(sectionNames(read(rel))).toEqual(stepSections(s.step));
      expect(ladder).toContain(`](${rel})`);
    }
    expect(fs.readdirSync(path.join(ROOT, "docs/steps")).sort()).toEqual(
      STEPS.map((s) => path.basename(stepDocPath(s))).sort(),
    );
  });

  it("says on each step page what checks the servers and why, read from the graph (issue 15, item 4)", () => {
    const health = (step: number) => sectionBody(docs.files.get(stepDocPath(STEPS[step - 1]))!, "health")!;
    for (const step of [1, 2]) expect(health(step)).toMatch(/^No load balancer and no auto-scaling group/);
    const three = health(3);
    expect(three).toContain("| target group `use1-web-tg` | `GET /readyz` answering 200, every 10 s (timeout 5 s);");
    expect(three).toContain("| auto-scaling group `use1-web-asg` | `ELB`: the target group's check");
    expect(three).toContain("still 200");
    expect(three).not.toContain("workers-asg");
    expect(health(8)).toContain("| auto-scaling group `use1-workers-asg` | `EC2`: EC2 status checks only");
    expect(health(10)).not.toContain("Route 53");
    expect(health(11)).toContain("| Route 53 health check `geo-use1-health`, `geo-euw1-health` | `CLOUDWATCH_METRIC`");
    expect(health(11)).toContain("| target group `use1-web-tg`, `euw1-web-tg` |");
  });

  it("draws each step's diagram from the graph's edges", () => {
    const diagram = (step: number) => docs.facts[step - 1].mermaid;
    expect(diagram(1)).toContain('users -->|"HTTP"| use1_server');
    expect(diagram(3)).toContain('use1_web_alb -->|"3000"| use1_web_asg');
    expect(diagram(3)).toMatch(/use1_web_asg -->\|"5432"\| use1_db\b/);
    expect(diagram(3)).not.toContain("use1_server");
    // From step 6 only CloudFront reaches the load balancer, with the origin header.
    expect(diagram(6)).not.toMatch(/users -->.*use1_web_alb/);
    expect(diagram(6)).toMatch(/use1_cdn -->\|"[^"]*X-Origin-Verify"\| dns_origin_shop_example_com/);
    expect(diagram(8)).toContain('use1_orders -->|"ReceiveMessage"| use1_workers_asg');
    expect(diagram(11)).toMatch(/dns_origin_shop_example_com -.->\|"EU, AF, AS"\| euw1_web_alb/);
    expect(diagram(11)).toContain('use1_db -.->|"cross-region replication"| euw1_db');
    expect(diagram(11)).toContain('region_us_east_1 -.-|"VPC peering"| region_eu_west_1');
  });

  it("parses every diagram with Mermaid's own parser, which rejects a broken one", () => {
    const committed = [
      ...STEPS.flatMap((s) => mermaidBlocks(stepDocPath(s))),
      ...mermaidBlocks("README.md"),
      ...mermaidBlocks("docs/components.md"),
    ];
    expect(committed.length).toBeGreaterThanOrEqual(STEPS.length);
    const results = parseMermaid([
      ...committed,
      { name: "broken", source: 'flowchart TB\n  a -->|"x"| \n  subgraph s\n' },
    ]);
    expect(results.filter((r) => !r.ok && r.name !== "broken")).toEqual([]);
    expect(results.find((r) => r.name === "broken")).toMatchObject({ ok: false });
    expect(results.filter((r) => r.ok).every((r) => r.type === "flowchart-v2")).toBe(true);
  });

  it("lists every configuration key in the README's reference, and every component in docs/components.md", () => {
    const config = sectionBody(read("README.md"), "config")!;
    for (const key of Object.keys(CONFIG_KEYS)) expect(config).toContain(`| \`${key}\` |`);
    const reference = sectionBody(read("docs/components.md"), "reference")!;
    const classes = fs
      .readdirSync(path.join(ROOT, "components"))
      // Only the component files: components/facts/ holds data tables, not components.
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) =>
        [...read(`components/${f}`).matchAll(/export class (\w+) extends pulumi\.ComponentResource/g)].map((m) => m[1]),
      );
    expect(classes.length).toBeGreaterThan(10);
    for (const c of classes) expect(reference).toContain(`## ${c}\n`);
    expect(
      readComponents(path.join(ROOT, "components"))
        .components.map((c) => c.className)
        .sort(),
    ).toEqual([...classes].sort());
  });

  it("documents each component arg with the default the code uses, or flags the difference", () => {
    const { components } = readComponents(path.join(ROOT, "components"));
    const cache = components.find((c) => c.className === "Cache")!;
    expect(cache.token).toBe("scale-ladder:cache:Cache");
    expect(cache.args.find((a) => a.name === "nodeType")).toMatchObject({
      default: '"cache.t4g.micro"',
      codeDefault: '"cache.t4g.micro"',
      optional: true,
    });
    const reference = sectionBody(read("docs/components.md"), "reference")!;
    for (const n of docs.notes) {
      const [component, arg] = n.split(":")[0].split(".");
      expect(reference).toMatch(new RegExp(`## ${component}\\n[\\s\\S]*?\\| \`${arg}\\?\` \\|[^\\n]*⚠ code:`));
    }
  });

  it("refuses to generate into a file without the section's markers", () => {
    expect(() => replaceSection("# no markers\n", "config", "x", "README.md")).toThrow(
      'README.md: no "<!-- generated:config -->"',
    );
    expect(replaceSection("a\n<!-- generated:x -->\nold\n<!-- /generated:x -->\nb\n", "x", "new", "f.md")).toBe(
      "a\n<!-- generated:x (do not edit: npm run docs regenerates this from the program) -->\n" +
        "new\n<!-- /generated:x -->\nb\n",
    );
  });
});
