/**
 * ARN shapes, per service, as IAM policies and AWS APIs accept them.
 * Grammar `arn:partition:service:region:account-id:resource`: IAM User Guide, "IAM identifiers" / ARN format,
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html (read 2026-12-01).
 * Per-service resource types: Service Authorization Reference, "Resource types defined by <service>",
 *   https://docs.aws.amazon.com/service-authorization/latest/reference/ (read 2026-12-01).
 */

/** AWS partitions (the `partition` field). */
export const PARTITIONS = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"];

/** Services whose ARNs have no region (global services). */
const NO_REGION = new Set(["iam", "s3", "route53", "cloudfront", "sts", "organizations", "waf", "shield"]);
/** Services whose ARNs have neither region nor account. */
const NO_ACCOUNT = new Set(["s3", "route53"]);

/** Resource part of the ARN, per service, for the resource types this project names (wildcards allowed). */
const RESOURCE: Record<string, { re: RegExp; what: string }> = {
  s3: { re: /^[a-z0-9*?][a-z0-9.*?-]{0,62}(\/.*)?$/, what: "bucket or bucket/key" },
  iam: {
    re: /^(root|(role|user|group|policy|instance-profile|oidc-provider|saml-provider)\/.+)$/,
    what: "root, role/…, user/…, policy/…",
  },
  sts: { re: /^(assumed-role|federated-user)\/.+$/, what: "assumed-role/… or federated-user/…" },
  logs: {
    re: /^log-group:[A-Za-z0-9_\-/.#*?]+(:\*|:log-stream:.*)?$/,
    what: "log-group:NAME, log-group:NAME:* or …:log-stream:…",
  },
  // A parameter named /a/b is parameter/a/b — never parameter//a/b.
  ssm: {
    re: /^(parameter\/(?!\/).+|document\/.+|association\/.+|managed-instance\/.+|session\/.+|\*)$/,
    what: "parameter/NAME (one slash)",
  },
  // Names allow letters, digits and /_+=.@-; RDS-managed secrets are named rds!db-<uuid> (the "!" is AWS's).
  secretsmanager: { re: /^secret:(rds!)?[A-Za-z0-9/_+=.@*?-]+$/, what: "secret:NAME-xxxxxx" },
  sqs: { re: /^[A-Za-z0-9_*?-]{1,80}(\.fifo)?$/, what: "the queue name" },
  sns: { re: /^[A-Za-z0-9_*?-]{1,256}(\.fifo)?(:[0-9a-f-]+)?$/, what: "the topic name" },
  kms: { re: /^(key\/[A-Za-z0-9*?-]+|alias\/[A-Za-z0-9/_*?-]+)$/, what: "key/ID or alias/NAME" },
  cloudwatch: { re: /^(alarm:.+|dashboard\/.+|\*)$/, what: "alarm:NAME or dashboard/NAME" },
};

export interface ParsedArn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/** Splits an ARN into its six fields, or undefined when it has fewer. */
export function parseArn(arn: string): ParsedArn | undefined {
  const m = /^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.+)$/s.exec(arn);
  if (!m) return undefined;
  return { partition: m[1], service: m[2], region: m[3], account: m[4], resource: m[5] };
}

/**
 * Problems with one ARN (wildcards `*`/`?` allowed where IAM allows them); `partition`, when given, is the one
 * the stack deploys to, and a different one is a problem (a hard-coded `arn:aws:` in an `aws-cn` stack).
 */
export function arnProblems(arn: string, partition?: string): string[] {
  const p = parseArn(arn);
  if (!p) return [`${JSON.stringify(arn)} is not an ARN (arn:partition:service:region:account:resource)`];
  const out: string[] = [];
  const say = (m: string): void => void out.push(`${arn}: ${m}`);
  if (!PARTITIONS.includes(p.partition) && p.partition !== "*")
    say(`partition ${p.partition} is not one of ${PARTITIONS.join(", ")}`);
  if (partition && p.partition !== partition && p.partition !== "*")
    say(`partition ${p.partition}, but the stack deploys to ${partition}`);
  if (!/^[a-z0-9-]+$/.test(p.service)) say(`service ${JSON.stringify(p.service)} is not a service prefix`);
  const wild = (s: string) => /[*?]/.test(s);
  if (NO_REGION.has(p.service)) {
    if (p.region !== "") say(`${p.service} ARNs have no region, got ${p.region}`);
  } else if (!(wild(p.region) || /^[a-z]{2}(-[a-z]+)+-\d+$/.test(p.region))) {
    say(`region ${JSON.stringify(p.region)} is not a region name`);
  }
  if (NO_ACCOUNT.has(p.service)) {
    if (p.account !== "" && !p.resource.startsWith("accesspoint/"))
      say(`${p.service} ARNs have no account, got ${p.account}`);
  } else if (!(
    wild(p.account) ||
    /^\d{12}$/.test(p.account) ||
    (p.service === "iam" && p.account === "aws") ||
    // Documents AWS owns (AWS-RunShellScript...) have no account: arn:aws:ssm:REGION::document/AWS-NAME (Systems
    // Manager User Guide, "Restricting Run Command access based on tags" example policies, read 2026-12-02).
    (p.service === "ssm" && p.account === "" && /^document\/AWS-/.test(p.resource))
  )) {
    say(`account ${JSON.stringify(p.account)} is not a 12-digit account id`);
  }
  const rule = RESOURCE[p.service];
  if (rule && !rule.re.test(p.resource)) say(`resource ${JSON.stringify(p.resource)} is not ${rule.what}`);
  return out;
}
