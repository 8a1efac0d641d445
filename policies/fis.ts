/**
 * AWS FIS experiment templates (the fault drills, issue 15): they stop on the alarms once the stack has them, and
 * the role each runs with may do only what its template's actions need.
 */
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { CONTEXT_SCHEMA, fromStep, stackContext } from "./context";
import { known, label, policyDocument, refersTo, statementsOf, strings } from "./relations";
import { FIS_ACTION_PERMISSIONS } from "./fis-permissions";

/** The step whose alarms (step 10, observability) every drill must stop on. */
export const FIS_ALARMS_FROM = 10;

const FIS_TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate";
const IAM_ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";

const templatesOf = (resources: readonly PolicyResource[]) => resources.filter((r) => r.type === FIS_TEMPLATE);

export const fisStopConditions: StackValidationPolicy = {
  name: "fis-stop-on-alarms",
  description: `From step ${FIS_ALARMS_FROM} every FIS experiment template stops on a CloudWatch alarm.`,
  severity: "high",
  configSchema: CONTEXT_SCHEMA,
  remediationSteps:
    "Give the template a stop condition { source: aws:cloudwatch:alarm, value: <alarm ARN> } (FaultDrills takes " +
    "stopAlarmArns: the Monitoring component's alarms).",
  validateStack: (args, report) => {
    const ctx = stackContext(args.getConfig(), args.resources);
    if (!fromStep(ctx.step, FIS_ALARMS_FROM))
      args.notApplicable(`step ${ctx.step} is below ${FIS_ALARMS_FROM}: no alarms yet, FIS requires source none`);
    for (const t of templatesOf(args.resources)) {
      const conditions = known(() => t.props.stopConditions as Array<{ source?: string }> | undefined, undefined);
      if (!Array.isArray(conditions)) continue;
      if (!conditions.some((c) => c.source === "aws:cloudwatch:alarm"))
        report(
          `${label(t)}: stop conditions are ${JSON.stringify(conditions.map((c) => c.source))}; at step ` +
            `${ctx.step} it must stop on an alarm.`,
          t.urn,
        );
    }
  },
};

export const fisLeastPrivilege: StackValidationPolicy = {
  name: "fis-role-least-privilege",
  description:
    "The role of an FIS experiment template has only inline policies, whose actions its template's actions need.",
  severity: "high",
  remediationSteps:
    "Give each template a role of its own; grant only the permissions the FIS actions reference lists for its " +
    "actions (FIS_ACTION_PERMISSIONS in policies/fis-permissions.ts); attach no managed policy.",
  validateStack: (args, report) => {
    for (const t of templatesOf(args.resources)) {
      const roles = args.resources.filter((r) => r.type === IAM_ROLE && refersTo(t, "roleArn", r, ["arn"]));
      const actions = known(() => t.props.actions as Array<{ actionId?: string }> | undefined, []) ?? [];
      const unknownIds = actions.map((a) => String(a.actionId)).filter((id) => !(id in FIS_ACTION_PERMISSIONS));
      if (unknownIds.length > 0)
        report(`${label(t)}: no permissions known for ${unknownIds.join(", ")}; add them to the table.`, t.urn);
      const needed = new Set(actions.flatMap((a) => FIS_ACTION_PERMISSIONS[String(a.actionId)] ?? []));
      for (const role of roles) {
        const attached = args.resources.filter(
          (r) => r.type === ROLE_POLICY_ATTACHMENT && refersTo(r, "role", role, ["id", "name"]),
        );
        for (const a of attached)
          report(
            `${label(role)} (the role of ${t.name}) has managed policy ` +
              `${known(() => String(a.props.policyArn), "?")} attached; its actions cannot be checked against the ` +
              `template's.`,
            role.urn,
          );
        const inline = args.resources.filter(
          (r) => r.type === ROLE_POLICY && refersTo(r, "role", role, ["id", "name"]),
        );
        const granted = inline.flatMap((p) =>
          statementsOf(policyDocument(p.props.policy)).flatMap((s) => (s.Effect === "Deny" ? [] : strings(s.Action))),
        );
        const extra = [...new Set(granted.filter((a) => !needed.has(a)))].sort();
        if (extra.length > 0)
          report(
            `${label(role)} (the role of ${t.name}) grants ${extra.join(", ")}, which none of its actions ` +
              `(${actions.map((a) => a.actionId).join(", ")}) needs.`,
            role.urn,
          );
      }
    }
  },
};

export const FIS_POLICIES = [fisStopConditions, fisLeastPrivilege];
