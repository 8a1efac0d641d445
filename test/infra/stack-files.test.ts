import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { CONFIG_KEYS } from "../../stacks/config";
import { MAX_STEP, STEPS } from "../../stacks/steps";
import { ladderGraph } from "../../lib/graph/graph-cache";
import { fakeBuild, runLadder, stackConfig } from "../../lib/graph/harness";

const root = path.resolve(__dirname, "../..");
const stackFiles = fs
  .readdirSync(path.join(root, "stacks"))
  .filter((f) => /^Pulumi\.step\d\d\.yaml$/.test(f))
  .sort();

describe("stack files", () => {
  it("exist for every step", () => {
    expect(stackFiles).toEqual(STEPS.map((s) => `Pulumi.step${String(s.step).padStart(2, "0")}.yaml`));
  });

  it.each(stackFiles)(
    "%s evaluates under mocks",
    async (file) => {
      const { config } = parse(fs.readFileSync(path.join(root, "stacks", file), "utf8")) as {
        config: Record<string, unknown>;
      };
      const step = Number(/step(\d\d)/.exec(file)![1]);
      expect(config["scale-ladder:step"]).toBe(step);
      expect(config["aws:region"]).toBe("us-east-1");
      const values = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
      const g = await ladderGraph({ ...values, ...fakeBuild() }, `step${String(step).padStart(2, "0")}`);
      expect(g.outputs.step).toBe(step);
      expect(g.outputs.siteUrl).toMatch(/^https?:\/\//);
      const built = STEPS.filter((s) => s.built).map((s) => s.step);
      if (built.includes(step)) {
        // The one warning a built step may give: step 11 without a domain has no geolocation DNS to build.
        expect(g.warnings).toEqual(
          step === 11 && !config["scale-ladder:domain"]
            ? [expect.stringMatching(/^step 11 without scale-ladder:domain: /)]
            : [],
        );
      } else {
        // Steps not built yet compose what exists and say so in one line.
        expect(g.warnings).toHaveLength(1);
        expect(g.warnings[0]).toMatch(
          new RegExp(
            `^scale-ladder:step is ${step}, but this version builds up to step \\d+; composing steps 1–\\d+ ` +
              `without .*\\.$`,
          ),
        );
        expect(g.warnings[0]).not.toContain("\n");
      }
      // A cold cache evaluates the graph here; step 11 on a loaded 2-core machine takes longer than jest's minute.
    },
    300_000,
  );
});

describe("a bad step fails before any resource is declared, naming the key", () => {
  it.each(["12", "0", "abc"])("scale-ladder:step=%s", async (step) => {
    // Fresh, past the graph cache (here and below): the program is expected to throw, so there is no graph to cache.
    const run = runLadder(stackConfig(1, { "scale-ladder:step": step }));
    await expect(run).rejects.toThrow(`scale-ladder:step must be an integer from 1 to ${MAX_STEP}, got "${step}"`);
  });
});

describe("a missing build", () => {
  it("stops the program with a message that says to run the build", async () => {
    await expect(runLadder(stackConfig(1, { "scale-ladder:artifactPath": "/nonexistent/shop.tgz" }))).rejects.toThrow(
      'AppArtifact: path "/nonexistent/shop.tgz" does not exist. Run `npm run build` first',
    );
  });
});

describe("Pulumi.yaml", () => {
  const project = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));

  it("names the project, the program's runtime (no ts-node: stacks/main.cjs) and the stack config directory", () => {
    expect(project).toMatchObject({
      name: "scale-ladder",
      runtime: { name: "nodejs", options: { typescript: false } },
      stackConfigDir: "stacks",
    });
    // A tsconfig path would be read by cmd/run even without ts-node, and must then exist.
    expect(project.runtime.options.tsconfig).toBeUndefined();
    // No `main`: the program runs in the project root from package.json's `main` (cli-run.test.ts).
    expect(project.main).toBeUndefined();
  });

  it("declares only keys the schema knows, with the schema's defaults", () => {
    for (const [key, decl] of Object.entries(project.config as Record<string, { type: string; default?: unknown }>)) {
      const spec = CONFIG_KEYS[key as keyof typeof CONFIG_KEYS];
      expect({ key, known: spec !== undefined }).toEqual({ key, known: true });
      if (decl.default !== undefined) {
        expect({ key, default: spec.default({ step: 1, environment: "dev", region: "us-east-1" }) }).toEqual({
          key,
          default: decl.default,
        });
        expect({ key, default: spec.default({ step: 11, environment: "prod", region: "us-east-1" }) }).toEqual({
          key,
          default: decl.default,
        });
      }
    }
    expect(project.config.step).toEqual(expect.objectContaining({ type: "integer" }));
    expect(project.config.step.default).toBeUndefined();
  });
});

describe("stack file comments", () => {
  it.each(stackFiles)(
    "%s lists every knob with its default at that step (regenerate: npm run stack-files)",
    async (file) => {
      const { renderStackFile } = await import("../../scripts/stack-files/render");
      const step = Number(/step(\d\d)/.exec(file)![1]);
      expect(fs.readFileSync(path.join(root, "stacks", file), "utf8")).toBe(renderStackFile(step));
    },
  );
});
