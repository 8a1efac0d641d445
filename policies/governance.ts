/**
 * Governance: least-privilege IAM, and tags that say which project, stack and step every resource belongs to.
 */
import { ResourceValidationArgs, ResourceValidationPolicy, ReportViolation } from "@pulumi/policy";
import { CONTEXT_SCHEMA, providerDefaultTags } from "./context";
import { T, isSet, known, policyDocument, statementsOf, strings } from "./relations";

/** AWS-managed policies that amount to `*` on `*` (or can grant it to themselves). */
const ADMIN_POLICY = /^arn:aws[a-z-]*:iam::aws:policy\/(AdministratorAccess|PowerUserAccess|IAMFullAccess)$/;

/** Identity-policy documents by type: the property that holds them. */
const DOCUMENT_PROPS: Record<string, string> = {
  "aws:iam/rolePolicy:RolePolicy": "policy",
  "aws:iam/policy:Policy": "policy",
  "aws:iam/userPolicy:UserPolicy": "policy",
  "aws:iam/groupPolicy:GroupPolicy": "policy",
};
const ATTACHMENT_TYPES = [
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
  "aws:iam/policyAttachment:PolicyAttachment",
];

function wildcardProblems(doc: unknown): string[] {
  const parsed = policyDocument(doc);
  if (!parsed) return [`the policy document is not JSON: ${JSON.stringify(doc).slice(0, 80)}`];
  const problems: string[] = [];
  statementsOf(parsed).forEach((s, i) => {
    if (s.Effect !== "Allow") return;
    const id = s.Sid ? `statement ${s.Sid}` : `statement ${i}`;
    if (s.NotAction !== undefined)
      problems.push(`${id} allows NotAction ${JSON.stringify(s.NotAction)}, i.e. every other action`);
    const actions = strings(s.Action);
    const resources = strings(s.Resource);
    if (actions.includes("*")) problems.push(`${id} allows Action "*"`);
    const serviceWide = actions.filter((a) => /^[a-z0-9-]+:\*$/.test(a));
    if (serviceWide.length > 0 && (resources.includes("*") || s.NotResource !== undefined))
      problems.push(`${id} allows ${serviceWide.join(", ")} on every resource`);
  });
  return problems;
}

export const iamNoWildcardActions: ResourceValidationPolicy = {
  name: "iam-no-wildcard-actions",
  description:
    'IAM policies list their actions: no "*" action, no service-wide "svc:*" on "*", no NotAction, no ' +
    "administrator managed policies.",
  severity: "high",
  remediationSteps:
    "Grant the specific actions the tier calls on the specific ARNs it uses (see components/iam.ts: Statement); " +
    "never attach AdministratorAccess or PowerUserAccess.",
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    const prop = DOCUMENT_PROPS[args.type];
    if (prop) {
      for (const p of wildcardProblems(args.props[prop])) report(`${args.name}: ${p}.`);
      return;
    }
    if (args.type === "aws:iam/role:Role") {
      for (const inline of (args.props.inlinePolicies ?? []) as Array<{ name?: string; policy?: string }>) {
        if (inline.policy === undefined) continue;
        for (const p of wildcardProblems(inline.policy))
          report(`${args.name} (inline policy ${inline.name ?? "?"}): ${p}.`);
      }
      for (const arn of strings(args.props.managedPolicyArns))
        if (ADMIN_POLICY.test(arn)) report(`${args.name}: managedPolicyArns includes ${arn}.`);
      return;
    }
    if (ATTACHMENT_TYPES.includes(args.type)) {
      const arn = known(() => String(args.props.policyArn ?? ""), "");
      if (ADMIN_POLICY.test(arn)) report(`${args.name}: attaches ${arn}.`);
      return;
    }
    args.notApplicable("not an IAM policy");
  },
};

/** The tags every resource carries, from the provider's `defaultTags`. */
export const REQUIRED_TAGS = ["project", "stack", "step"] as const;

const nonEmpty = (v: unknown) => typeof v === "string" && v.trim() !== "";

export const defaultTags: ResourceValidationPolicy = {
  name: "default-tags",
  description:
    "Every AWS provider sets default tags project, stack and step; every AWS resource is created through such a " +
    "provider and does not blank them.",
  severity: "low",
  configSchema: CONTEXT_SCHEMA,
  remediationSteps:
    "Create resources through the region's provider (defaultTags.tags = { project, stack, step }); never set " +
    "those tag keys on a resource.",
  validateResource: (args, report) => {
    const config = args.getConfig<{ step?: number }>();
    if (args.type === T.awsProvider) {
      const tags = providerDefaultTags(args);
      const missing = REQUIRED_TAGS.filter((k) => !nonEmpty(tags[k]));
      if (missing.length > 0) report(`provider ${args.name}: defaultTags lacks ${missing.join(", ")}.`);
      if (config.step !== undefined && nonEmpty(tags.step) && tags.step !== String(config.step))
        report(
          `provider ${args.name}: default tag step is ${JSON.stringify(tags.step)}, but the stack is on step ` +
            `${config.step}.`,
        );
      return;
    }
    if (!args.type.startsWith("aws:")) args.notApplicable("not an AWS resource");
    if (args.provider?.type === T.awsProvider) {
      const missing = REQUIRED_TAGS.filter((k) => !nonEmpty(providerDefaultTags(args.provider)[k]));
      if (missing.length > 0)
        report(
          `${args.name} is created through provider ${args.provider.name}, whose defaultTags lack ` +
            `${missing.join(", ")}.`,
        );
    }
    if (!isSet(() => args.props.tags)) return;
    const tags = known(() => args.props.tags as unknown, undefined);
    if (typeof tags !== "object" || tags === null || Array.isArray(tags)) return;
    for (const k of REQUIRED_TAGS) {
      if (k in tags && !nonEmpty(known(() => (tags as Record<string, unknown>)[k], "x")))
        report(
          `${args.name}: tags.${k} is set to ${JSON.stringify((tags as Record<string, unknown>)[k])}, blanking ` +
            `the provider's default tag.`,
        );
    }
  },
};

type TagList = Array<{ key?: string; value?: string; propagateAtLaunch?: boolean }>;

/** What is missing or wrong among the required tags, given the tags present and the provider's values. */
function tagProblems(present: Record<string, unknown>, expected: Record<string, unknown>): string[] {
  return REQUIRED_TAGS.flatMap((k) => {
    const want = expected[k];
    if (!nonEmpty(present[k])) return [`${k} missing`];
    if (nonEmpty(want) && present[k] !== want)
      return [`${k}=${JSON.stringify(present[k])} instead of ${JSON.stringify(want)}`];
    return [];
  });
}

export const fleetTags: ResourceValidationPolicy = {
  name: "fleet-tags",
  description:
    "Instances and volumes that auto-scaling launches carry the default tags too: provider defaultTags do not " +
    "reach auto-scaling groups or launch template tag specifications.",
  severity: "low",
  remediationSteps:
    "Repeat the provider's default tags (project, stack, step) in the launch template's tagSpecifications for " +
    "instance and volume, and in the auto-scaling group's tags.",
  validateResource: (args, report) => {
    const expected = providerDefaultTags(args.provider?.type === T.awsProvider ? args.provider : undefined);
    if (args.type === "aws:autoscaling/group:Group") {
      const tags = Object.fromEntries(((args.props.tags ?? []) as TagList).map((t) => [t.key, t.value]));
      const problems = tagProblems(tags, expected);
      if (problems.length > 0)
        report(
          `${args.name}: the group's tags lack the default tags (${problems.join(", ")}); the provider does not ` +
            `apply defaultTags to auto-scaling groups.`,
        );
      return;
    }
    if (args.type === T.launchTemplate) {
      const specs = (args.props.tagSpecifications ?? []) as Array<{
        resourceType?: string;
        tags?: Record<string, unknown>;
      }>;
      for (const kind of ["instance", "volume"]) {
        const tags = Object.assign(
          {},
          ...specs.filter((s) => s.resourceType === kind).map((s) => s.tags ?? {}),
        ) as Record<string, unknown>;
        const problems = tagProblems(tags, expected);
        if (problems.length > 0)
          report(
            `${args.name}: tagSpecifications for ${kind} lack the default tags (${problems.join(", ")}); ` +
              `launched ${kind}s are not tagged by the provider.`,
          );
      }
      return;
    }
    args.notApplicable("not a launch template or auto-scaling group");
  },
};

export const GOVERNANCE_POLICIES = [iamNoWildcardActions, defaultTags, fleetTags];
