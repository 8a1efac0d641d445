/**
 * IAM policy documents — identity policies, trust policies, resource policies (S3, SQS, SNS) and KMS key policies —
 * checked against the grammar AWS enforces:
 *   IAM JSON policy element reference and grammar,
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html and
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html;
 *   condition operators, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html;
 *   size quotas, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (role inline policies
 *   10,240 characters in aggregate, managed policy 6,144, trust policy 2,048 by default);
 *   KMS key policies, https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html (Resource is
 *   "*", meaning this key; 32 KB) and key-policy-default.html (the account root must keep access, or the key
 *   becomes unmanageable: CreateKey's policy lockout safety check);
 *   S3 bucket policy size 20 KB, https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html.
 * All read 2026-12-01.
 */
import { arnProblems } from "./arn";

/** What a policy is attached to, which decides which elements it must and must not have. */
export type PolicyKind = "identity" | "managed" | "trust" | "resource" | "kms-key";

export interface PolicyOptions {
  kind: PolicyKind;
  /** The partition the stack deploys to; ARNs of another partition are problems. */
  partition?: string;
  /** The account the stack deploys to (KMS: its root must administer the key). */
  account?: string;
}

/** Size limits by kind, in characters (IAM counts without whitespace) or bytes. */
const MAX_SIZE: Record<PolicyKind, number> = {
  identity: 10240,
  managed: 6144,
  trust: 2048,
  resource: 20480,
  "kms-key": 32768,
};

const OPERATOR_NAMES = [
  "String(Not)?Equals(IgnoreCase)?",
  "String(Not)?Like",
  "Numeric(Not)?Equals",
  "Numeric(Less|Greater)Than(Equals)?",
  "Date(Not)?Equals",
  "Date(Less|Greater)Than(Equals)?",
  "Bool",
  "BinaryEquals",
  "(Not)?IpAddress",
  "Arn(Not)?(Equals|Like)",
];
const OPERATOR = new RegExp(`^(ForAllValues:|ForAnyValue:)?(${OPERATOR_NAMES.join("|")})(IfExists)?$|^Null$`);
const ACTION = /^[a-z0-9-]+:[A-Za-z0-9*?]+$/i;
const CONDITION_KEY = /^[A-Za-z0-9-]+:[A-Za-z0-9_.:/*${}@-]+$/;
const SERVICE_PRINCIPAL = /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/;
/** What a Pulumi output becomes when it is stringified instead of resolved: never valid in a policy. */
const UNRESOLVED = /Calling \[toString\] on an \[Output<T>\]|\[object Object\]|\bundefined\b|\{[a-zA-Z]+Arn\}/;

const STATEMENT_KEYS = [
  "Sid",
  "Effect",
  "Principal",
  "NotPrincipal",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
];

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Problems with one policy document (a JSON string or an object); empty when AWS would accept it. */
export function policyProblems(document: unknown, opts: PolicyOptions): string[] {
  const out: string[] = [];
  let doc: any = document;
  if (typeof document === "string") {
    const text = document;
    const size =
      opts.kind === "identity" || opts.kind === "managed" || opts.kind === "trust"
        ? text.replace(/\s/g, "").length
        : Buffer.byteLength(text);
    if (size > MAX_SIZE[opts.kind])
      out.push(`${size} characters, over the ${MAX_SIZE[opts.kind]} a ${opts.kind} policy may have`);
    if (UNRESOLVED.test(text)) out.push(`holds an unresolved value: ${UNRESOLVED.exec(text)![0]}`);
    try {
      doc = JSON.parse(text);
    } catch (e) {
      return [...out, `is not JSON: ${(e as Error).message}`];
    }
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return [...out, "is not a JSON object"];
  for (const k of Object.keys(doc))
    if (!["Version", "Id", "Statement"].includes(k)) out.push(`top-level element ${k} is not Version, Id or Statement`);
  if (doc.Version !== "2012-10-17")
    out.push(`Version ${JSON.stringify(doc.Version)}: use "2012-10-17" (policy variables need it)`);
  const statements = list(doc.Statement);
  if (statements.length === 0) out.push("has no Statement");
  const sids = new Set<string>();
  statements.forEach((s: any, i) => {
    const at = `Statement[${i}]${s?.Sid ? ` (${s.Sid})` : ""}`;
    const say = (m: string): void => void out.push(`${at}: ${m}`);
    if (typeof s !== "object" || s === null) return say("is not an object");
    for (const k of Object.keys(s))
      if (!STATEMENT_KEYS.includes(k)) say(`${k} is not a statement element (${STATEMENT_KEYS.join(", ")})`);
    if (s.Sid !== undefined) {
      // IAM allows only ASCII letters and digits in Sid; resource policies are laxer.
      if (
        typeof s.Sid !== "string" ||
        (opts.kind !== "resource" && opts.kind !== "kms-key" && !/^[A-Za-z0-9]*$/.test(s.Sid))
      )
        say(`Sid ${JSON.stringify(s.Sid)} may hold only letters and digits`);
      if (sids.has(s.Sid)) say(`Sid ${s.Sid} is not unique`);
      sids.add(s.Sid);
    }
    if (s.Effect !== "Allow" && s.Effect !== "Deny") say(`Effect ${JSON.stringify(s.Effect)} is not Allow or Deny`);
    statementActions(s, say);
    statementPrincipal(s, opts, say);
    statementResources(s, opts, say);
    if (s.Condition !== undefined) conditionProblems(s.Condition, opts, say);
  });
  if (opts.kind === "kms-key") out.push(...kmsKeyProblems(statements, opts));
  return out;
}

function statementActions(s: any, say: (m: string) => void): void {
  if ((s.Action === undefined) === (s.NotAction === undefined)) return say("needs exactly one of Action and NotAction");
  const actions = list(s.Action ?? s.NotAction);
  if (actions.length === 0) say("has an empty Action");
  for (const a of actions) {
    if (typeof a !== "string" || (a !== "*" && !ACTION.test(a)))
      say(`action ${JSON.stringify(a)} is not "*" or service:Action`);
  }
}

function statementPrincipal(s: any, opts: PolicyOptions, say: (m: string) => void): void {
  const principal = s.Principal ?? s.NotPrincipal;
  const needs = opts.kind === "trust" || opts.kind === "resource" || opts.kind === "kms-key";
  if (!needs) {
    if (principal !== undefined) say("an identity policy has no Principal (it applies to whoever it is attached to)");
    return;
  }
  if (principal === undefined) return say(`a ${opts.kind} policy needs a Principal`);
  if (principal === "*") return;
  if (typeof principal !== "object" || principal === null)
    return say(`Principal ${JSON.stringify(principal)} is not "*" or an object`);
  for (const [type, values] of Object.entries(principal)) {
    for (const v of list(values)) {
      if (typeof v !== "string") say(`Principal ${type} ${JSON.stringify(v)} is not a string`);
      else if (type === "Service") {
        if (!SERVICE_PRINCIPAL.test(v)) say(`service principal ${v} is not <service>.amazonaws.com`);
      } else if (type === "AWS") {
        if (v !== "*" && !/^\d{12}$/.test(v)) for (const p of arnProblems(v, opts.partition)) say(`Principal: ${p}`);
      } else if (type !== "Federated" && type !== "CanonicalUser") {
        say(`Principal type ${type} is not AWS, Service, Federated or CanonicalUser`);
      }
    }
  }
}

function statementResources(s: any, opts: PolicyOptions, say: (m: string) => void): void {
  const has = s.Resource !== undefined || s.NotResource !== undefined;
  if (opts.kind === "trust") {
    if (has) say("a trust policy has no Resource (the role is the resource)");
    return;
  }
  if (s.Resource !== undefined && s.NotResource !== undefined) return say("has both Resource and NotResource");
  if (!has) return say("needs a Resource");
  const resources = list(s.Resource ?? s.NotResource);
  if (resources.length === 0) say("has an empty Resource");
  for (const r of resources) {
    if (typeof r !== "string") say(`resource ${JSON.stringify(r)} is not a string`);
    else if (opts.kind === "kms-key") {
      if (r !== "*") say(`a key policy's Resource is "*" (this key), not ${r}`);
    } else if (r !== "*") for (const p of arnProblems(r, opts.partition)) say(p);
  }
}

function conditionProblems(condition: unknown, opts: PolicyOptions, say: (m: string) => void): void {
  if (typeof condition !== "object" || condition === null || Array.isArray(condition))
    return say("Condition is not an object");
  for (const [operator, block] of Object.entries(condition)) {
    if (!OPERATOR.test(operator)) say(`condition operator ${operator} is not one IAM defines`);
    if (typeof block !== "object" || block === null) {
      say(`condition ${operator} is not an object of key: value(s)`);
      continue;
    }
    for (const [key, values] of Object.entries(block)) {
      if (!CONDITION_KEY.test(key)) say(`condition key ${key} is not service:key`);
      const vs = list(values);
      if (vs.length === 0) say(`condition ${operator} ${key} has no value`);
      for (const v of vs) {
        if (!["string", "number", "boolean"].includes(typeof v))
          say(`condition ${operator} ${key} value ${JSON.stringify(v)} is not a string`);
        if (
          /^(ForAllValues:|ForAnyValue:)?Bool/.test(operator) &&
          !["true", "false", true, false].includes(v as string)
        )
          say(`Bool ${key} takes true or false, not ${JSON.stringify(v)}`);
        if (/Arn(Not)?(Equals|Like)/.test(operator) && typeof v === "string")
          for (const p of arnProblems(v, opts.partition)) say(`${operator} ${key}: ${p}`);
        if (key === "aws:SourceAccount" && typeof v === "string" && !/^\d{12}$/.test(v))
          say(`aws:SourceAccount ${v} is not an account id`);
      }
    }
  }
}

/** A key nobody can administer cannot be fixed: the account root must be allowed kms:* (or at least PutKeyPolicy). */
function kmsKeyProblems(statements: any[], opts: PolicyOptions): string[] {
  const out: string[] = [];
  for (const s of statements)
    for (const a of list(s?.Action))
      if (typeof a === "string" && a !== "*" && !/^kms:/i.test(a)) out.push(`action ${a} is not a KMS action`);
  const rootAdmin = statements.some((s) => {
    if (s?.Effect !== "Allow" || s.Condition !== undefined) return false;
    const roots = list(s.Principal?.AWS).filter(
      (p): p is string => typeof p === "string" && (/^\d{12}$/.test(p) || /^arn:[^:]+:iam::\d{12}:root$/.test(p)),
    );
    const ofAccount = opts.account ? roots.filter((p) => p.includes(opts.account!)) : roots;
    return ofAccount.length > 0 && list(s.Action).some((a) => a === "kms:*" || a === "kms:PutKeyPolicy");
  });
  if (!rootAdmin)
    out.push(
      `no unconditional Allow of kms:* (or kms:PutKeyPolicy) to the account ` +
        `root${opts.account ? ` (${opts.account})` : ""}: the key could not be managed`,
    );
  return out;
}
