/**
 * The scale-ladder policy pack: what a security reviewer demands of every stack on the ladder, as named policies.
 * `index.ts` serves it to the Pulumi CLI; tests import `POLICIES` and run them over the program's mocked graphs.
 */
import { Policies, PolicyPackArgs } from "@pulumi/policy";
import { COST_POLICIES } from "./cost";
import { DATA_POLICIES } from "./data";
import { EDGE_POLICIES } from "./edge";
import { FIS_POLICIES } from "./fis";
import { GOVERNANCE_POLICIES } from "./governance";
import { NETWORK_POLICIES } from "./network";
import { RESILIENCE_POLICIES } from "./resilience";
import { WAF_POLICIES } from "./waf";

export const PACK_NAME = "scale-ladder";

export const POLICIES: Policies = [
  ...NETWORK_POLICIES,
  ...DATA_POLICIES,
  ...EDGE_POLICIES,
  ...WAF_POLICIES,
  ...RESILIENCE_POLICIES,
  ...GOVERNANCE_POLICIES,
  ...FIS_POLICIES,
  ...COST_POLICIES,
];

export const PACK_ARGS: PolicyPackArgs = {
  description: "Security and resilience invariants of the scale-ladder blueprint (docs/policies.md).",
  displayName: "scale-ladder",
  provider: "aws",
  tags: ["aws", "security", "scale-ladder"],
  // Every policy blocks the deployment, but cost-estimate, which only reports (it says so itself); override per
  // policy with --policy-pack-config if you must.
  enforcementLevel: "mandatory",
  policies: POLICIES,
};
