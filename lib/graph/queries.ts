/**
 * Questions the infrastructure tests and scripts ask of a mocked graph, written once. `T` is the type table of
 * `./resource-types.ts`, re-exported for the tests that ask both.
 */
import { Graph, Registration } from "./harness";
import { hex, mockPassword } from "./mock-outputs";
import { T } from "./resource-types";

export { T };

/** How the Pulumi SDK marks a secret value on the wire (`rpc.specialSigKey` / `rpc.specialSecretSig`). */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** True for a value the engine received marked secret. */
export function isSecret(v: unknown): v is { value: unknown } {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG_VALUE;
}

/** The value with every secret marker removed, for assertions on its shape. */
export function reveal(v: any): any {
  if (isSecret(v)) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal);
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
  return v;
}

/** Every security group rule that admits traffic, old-style inline rules included. */
export function ingressRules(
  g: Graph,
): Array<{ from: number; to: number; cidr?: string; sourceSg?: string; groupId: string; name: string }> {
  const rules = g.ofType(T.ingress).map((r) => ({
    name: r.name,
    from: r.inputs.fromPort,
    to: r.inputs.toPort,
    cidr: r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6,
    sourceSg: r.inputs.referencedSecurityGroupId,
    groupId: r.inputs.securityGroupId,
  }));
  for (const sg of g.ofType(T.sg)) {
    for (const rule of sg.inputs.ingress ?? []) {
      for (const cidr of [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])]) {
        rules.push({
          name: sg.name,
          from: rule.fromPort,
          to: rule.toPort,
          cidr,
          sourceSg: undefined,
          groupId: sg.name,
        });
      }
    }
  }
  return rules;
}

/** Parsed statements of the inline policy of a role, by the role's name prefix. */
export function statementsOf(
  g: Graph,
  policyName: string,
): Array<{ Sid: string; Action: string[]; Resource: string[] }> {
  const policy = g.ofType(T.rolePolicy).find((p) => p.name === policyName);
  if (!policy) throw new Error(`no role policy ${policyName}`);
  return JSON.parse(policy.inputs.policy).Statement;
}

/** The value with every secret-marked part removed: what the engine would show and store in plain text. */
function withoutSecrets(v: any): any {
  if (isSecret(v)) return "[secret]";
  if (Array.isArray(v)) return v.map(withoutSecrets);
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutSecrets(x)]));
  return v;
}

/**
 * Where a value that a mocked RandomPassword produced shows up wrongly: anywhere in plain text, and, outside the
 * `allowedTypes` that legitimately consume a secret (the secret store itself, the database it is the password of),
 * even marked as a Pulumi secret (user data, tags and the like are readable by anyone who can describe them).
 */
export function plaintextSecretLeaks(g: Graph, allowedTypes: string[] = [T.password, T.secretVersion]): string[] {
  const secrets = g.ofType(T.password).map((p) => mockPassword(p.name));
  if (secrets.length === 0) throw new Error("no RandomPassword in the graph: the leak check would prove nothing");
  const leaks: string[] = [];
  for (const r of g.resources) {
    if (r.type === T.password) continue;
    const visible = allowedTypes.includes(r.type) ? JSON.stringify(withoutSecrets(r.inputs)) : JSON.stringify(r.inputs);
    if (secrets.some((s) => visible.includes(s))) leaks.push(`${r.type} ${r.name}`);
  }
  return leaks;
}

/** The id the mocks gave a security group. */
export const sgIdOf = (r: Registration): string => `sg-${hex(r.name)}`;
