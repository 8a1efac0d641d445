/**
 * Validators for the documents the program hands to AWS as strings — which no type checker and no mock can see:
 * the CloudWatch agent's configuration, dashboard bodies, metric math, IAM policies and KMS key policies. Each one
 * encodes the rule AWS enforces, with its source; tests run them over every graph, and scripts or policy packs may.
 */
export type { AgentConfig } from "./cloudwatch-agent-config";
export { validateAgentConfig } from "./cloudwatch-agent-config";
export { arnProblems, parseArn, PARTITIONS } from "./arn";
export { dashboardProblems } from "./dashboard-body";
export type { MathContext, MathType, MathUse } from "./metric-math";
export { checkMetricMath, NOT_FOR_ALARMS, QUERY_ID } from "./metric-math";
export type { PolicyKind, PolicyOptions } from "./policy-document";
export { policyProblems } from "./policy-document";
