/**
 * Every document the program hands to AWS as a string — IAM, trust, bucket, queue and key policies, dashboard
 * bodies, the CloudWatch agent's configuration, the metric math of alarms and scaling policies — is valid by the
 * rules AWS enforces (lib/aws-documents, each rule with its source), at every step, in both ladder variants (dev in
 * us-east-1; prod with a domain in eu-west-1). The graphs are the ladder's (`evaluateLadder`, from the graph cache).
 */
import { POLICY_PROPERTIES, findDocuments } from "../../lib/aws-documents/graph-documents";
import { Graph } from "../../lib/graph/harness";
import { ACCOUNT } from "../../lib/graph/mock-outputs";
import { BUILT_STEPS, LADDER_HOOK_TIMEOUT_MS, VARIANTS, evaluateLadder } from "./ladder-variants";
import { reveal } from "../../lib/graph/queries";

const graphs = new Map<string, Graph>();
beforeAll(async () => {
  for (const [k, g] of await evaluateLadder()) graphs.set(k, g);
}, LADDER_HOOK_TIMEOUT_MS);

const CASES = BUILT_STEPS.flatMap((step) => VARIANTS.map((v) => [step, v.name] as const));
const docsOf = (key: string) =>
  findDocuments(
    graphs.get(key)!.customResources.map((r) => ({ ...r, inputs: reveal(r.inputs) })),
    { partition: "aws", account: ACCOUNT },
  );

describe("generated documents", () => {
  it.each(CASES)("step %d, %s: every one is valid", (step, variant) => {
    const docs = docsOf(`${step}:${variant}`);
    expect(docs.length).toBeGreaterThan(0);
    expect(
      docs.filter((d) => d.problems.length > 0).map((d) => `${d.resource} ${d.property}: ${d.problems.join("; ")}`),
    ).toEqual([]);
  });

  it("include, wherever telemetry runs, the agent configuration, a dashboard, alarm math and scaling math", () => {
    for (const [step, variant] of CASES) {
      const kinds = new Set(docsOf(`${step}:${variant}`).map((d) => d.kind));
      const telemetry = graphs.get(`${step}:${variant}`)!.ofType("scale-ladder:observability:Telemetry").length > 0;
      expect({ step, variant, telemetry }).toEqual({ step, variant, telemetry: step >= 10 });
      for (const kind of ["agent-config", "dashboard", "alarm-math"] as const) {
        expect({ step, variant, kind, found: kinds.has(kind) }).toEqual({ step, variant, kind, found: telemetry });
      }
      // The alarm topic's key; other keys (the databases') may exist at other steps.
      if (telemetry)
        expect({ step, variant, keyPolicy: kinds.has("kms-key") }).toEqual({ step, variant, keyPolicy: true });
      if (step >= 8)
        expect({ step, variant, scaling: kinds.has("scaling-math") }).toEqual({ step, variant, scaling: true });
      for (const kind of ["identity", "trust", "resource"] as const)
        expect({ step, variant, kind, found: kinds.has(kind) }).toEqual({ step, variant, kind, found: true });
    }
  });

  it("leave no policy-shaped input unchecked: every property holding a Statement is in POLICY_PROPERTIES", () => {
    const unchecked = new Set<string>();
    for (const g of graphs.values()) {
      for (const r of g.customResources) {
        for (const [k, v] of Object.entries(reveal(r.inputs))) {
          const text = typeof v === "string" ? v : JSON.stringify(v);
          if (/"Statement"\s*:/.test(text ?? "") && !(k in (POLICY_PROPERTIES[r.type] ?? {})))
            unchecked.add(`${r.type} ${k}`);
        }
      }
    }
    expect([...unchecked]).toEqual([]);
  });
});
