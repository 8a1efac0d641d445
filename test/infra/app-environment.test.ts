/**
 * The app-environment contract (stacks/app-environment.ts) against what uses it:
 * (a) every variable it yields, at every step and role, on AWS and locally, is one the app's config schema reads
 *     (or the runtime does), and the schema accepts the whole environment;
 * (b) step by step and role by role, AWS and local mode give the same names, and values that differ only where
 *     LOCAL_DIFFERENCES says why;
 * (c) the boot scripts the program renders write exactly the contract's names into /run/shop/env, and the shell
 *     they run computes exactly the contract's values (run under bash with stub `secret` and `aws`).
 */
import { execFileSync } from "node:child_process";
import { z } from "zod";
import { configSchema, workerConfigSchema } from "../../app/src/config";
import { EnvValue, EnvVar, Lookups, renderEnvShell, resolveEnv } from "../../components/app-env";
import { assignBuckets } from "../../components/shard-map";
import {
  AppRole,
  Aspect,
  AwsEnvFacts,
  LOCAL_DIFFERENCES,
  LOCAL_ONLY,
  RUNTIME_VARIABLES,
  awsAppEnvironment,
  awsEnvironmentAt,
  placeholderFacts,
} from "../../stacks/app-environment";
import { LadderConfig, parseLadderConfig } from "../../stacks/config";
import { FEATURES, STEPS as LADDER, featuresAt, firstStepOf } from "../../stacks/steps";
import { DEFAULTS } from "../../scripts/local/options";
import { Plan, buildPlan, localAppEnvironment, processEnv } from "../../scripts/local/plan";
import { ladderGraph, ladderGraphs } from "../../lib/graph/graph-cache";
import { Graph, stackConfig } from "../../lib/graph/harness";
import { statementsOf } from "../../lib/graph/queries";
import { T } from "../../lib/graph/resource-types";

const DNS = { "scale-ladder:domain": "shop.example.com", "scale-ladder:hostedZoneId": "Z0123456789ABCDEFGHIJ" };
const STEPS = LADDER.map((s) => s.step);

type Role = "server" | "web" | "worker" | "secondary web" | "secondary worker";
interface RoleAt {
  role: Role;
  app: AppRole;
  secondary: boolean;
}

/** The roles that run at a step. */
function rolesAt(step: number): RoleAt[] {
  const f = featuresAt(step);
  const out: RoleAt[] = [{ role: f.fleet ? "web" : "server", app: "web", secondary: false }];
  if (f.queue) out.push({ role: "worker", app: "worker", secondary: false });
  if (f.multiRegion) {
    out.push({ role: "secondary web", app: "web", secondary: true });
    out.push({ role: "secondary worker", app: "worker", secondary: true });
  }
  return out;
}

const cfgAt = (step: number, extra: Record<string, string> = DNS): LadderConfig => {
  const { "aws:region": region, ...rest } = stackConfig(step, extra);
  return parseLadderConfig(rest, region);
};

/** Realistic stand-ins for the placeholders: hosts, ARNs, URLs the boot script can quote and the schema accepts. */
function fixtureFacts(cfg: LadderConfig, secondary: boolean): AwsEnvFacts<string> {
  const slug = (s: string) =>
    s
      .replace(/[^a-z0-9]+/gi, "-")
      .replace(/^-|-$/g, "")
      .toLowerCase();
  const real = (s: string): string => {
    const m = /^<(.*)>$/.exec(s);
    if (!m) return s;
    if (/secret/.test(m[1])) return `arn:aws:secretsmanager:us-east-1:123456789012:secret:${slug(m[1])}-AbCdEf`;
    if (/URL/.test(m[1])) return `https://sqs.us-east-1.amazonaws.com/123456789012/${slug(m[1])}`;
    if (/parameter|log group/.test(m[1])) return `/scale-ladder/test/${slug(m[1])}`;
    return `${slug(m[1])}.abcdefgh.us-east-1.rds.amazonaws.com`;
  };
  const walk = (v: unknown): unknown =>
    typeof v === "string"
      ? real(v)
      : Array.isArray(v)
        ? v.map(walk)
        : v && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v;
  const facts = walk(placeholderFacts(cfg, secondary)) as AwsEnvFacts<string>;
  // The shard map names shards as the stack's ShardedDatabase does.
  if (facts.shards) facts.shards.endpoints = facts.shards.endpoints.map((e, i) => ({ ...e, name: `use1-shards-${i}` }));
  return facts;
}

const SECRET_JSON = {
  username: "shop_admin",
  password: "p@ss:w/rd%",
  // Tokens the app's rule accepts (components/admin-token.ts), as the stack's generated one is.
  adminToken: "Kq7vR2mXw9LpT4zN8cYbF3hJ6dGs1UaE5oWi0nZe",
  sessionSecret: "s".repeat(40),
  authToken: "tok123",
};
const lookupsFor = (facts: AwsEnvFacts<string>): Lookups => ({
  secret: (_arn, field) => String((SECRET_JSON as Record<string, string>)[field] ?? `no field ${field}`),
  region: () => "us-east-1",
  instanceId: () => "i-0123456789abcdef0",
  ssmBuckets: () => assignBuckets(facts.shards!.endpoints.length),
  file: () => "on-box-pw",
});

const LOCAL_SECRETS = {
  superuserPassword: "su",
  replicationPassword: "repl",
  shopPassword: "local:pw/1",
  redisPassword: "redispw",
  adminToken: "Lm4Tq9Xv2Rb7Kw5Nz8Pc3Hy6Jd1Fg0Sa7Ue4Wo9Ji",
  sessionSecret: "k".repeat(40),
};
function localPlan(step: number): Plan {
  return buildPlan({ ...DEFAULTS, step, dataDir: "/tmp/scale-ladder-env-test" });
}
const localRuntime = (plan: Plan) => ({
  queueUrls: Object.fromEntries(
    plan.regions
      .filter((r) => r.queue)
      .map((r) => [r.queue!.name, `http://127.0.0.1:${plan.queue!.port}/000000000000/${r.queue!.name}`]),
  ),
});
/** Local mode's environment of the first process of a role: typed (the contract) and whole (what the process gets). */
function localEnv(step: number, at: RoleAt): { vars: EnvVar<string>[]; env: Record<string, string> } {
  const plan = localPlan(step);
  const region = plan.regions[at.secondary ? 1 : 0];
  const proc = at.app === "web" ? region.web[0] : region.workers[0];
  const runtime = localRuntime(plan);
  return {
    vars: localAppEnvironment(plan, region, proc, at.app, LOCAL_SECRETS, runtime),
    env: processEnv(plan, region, proc, at.app, LOCAL_SECRETS, runtime),
  };
}

const schemaOf = (app: AppRole) => (app === "web" ? configSchema : workerConfigSchema);
/** The fields of a schema (both are objects, the server's behind a refinement). */
function fieldsOf(app: AppRole): Record<string, z.ZodType> {
  return (schemaOf(app) as unknown as z.ZodObject).shape;
}
const requiredOf = (app: AppRole) =>
  Object.entries(fieldsOf(app))
    .filter(([, f]) => !f.safeParse(undefined).success)
    .map(([k]) => k);

const cases = STEPS.flatMap((step) => rolesAt(step).map((at) => ({ step, ...at, label: `step ${step}, ${at.role}` })));

describe("the step table", () => {
  it("turns each feature on at one step and keeps it on above it (singleServer ends where fleet starts)", () => {
    for (const feature of FEATURES) {
      const first = firstStepOf(feature);
      for (const step of STEPS) {
        const on = featuresAt(step)[feature];
        if (feature === "singleServer") expect(on).toBe(step < firstStepOf("fleet"));
        else expect([step, feature, on]).toEqual([step, feature, step >= first]);
      }
    }
    expect(() => featuresAt(12)).toThrow("featuresAt: step must be an integer from 1 to 11, got 12");
  });
});

describe("(a) the contract and the app's config schema", () => {
  it.each(cases)(
    "$label: AWS and local values are variables the app reads, and its schema accepts them",
    ({ step, app, secondary }) => {
      const cfg = cfgAt(step);
      const facts = fixtureFacts(cfg, secondary);
      const aws = resolveEnv(awsAppEnvironment(cfg, app, facts), lookupsFor(facts));
      const local = localEnv(step, { role: "web", app, secondary }).env;
      const known = new Set([...Object.keys(fieldsOf(app)), ...Object.keys(RUNTIME_VARIABLES)]);
      for (const [mode, env] of [
        ["aws", aws],
        ["local", local],
      ] as const) {
        expect([mode, Object.keys(env).filter((k) => !known.has(k))]).toEqual([mode, []]);
        expect([mode, requiredOf(app).filter((k) => !(k in env))]).toEqual([mode, []]);
        const parsed = schemaOf(app).safeParse(env);
        expect([
          mode,
          parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
        ]).toEqual([mode, []]);
      }
    },
  );
});

/** A value with the parts `masked` may differ in replaced by `*`, as a string to compare. */
function comparable(v: EnvValue<string>, masked: Aspect[]): string {
  const m = (a: Aspect, x: unknown) => (masked.includes(a) ? "*" : x);
  const at = (e: { host: string; port: string | number }) => `${m("host", e.host)}:${m("port", String(e.port))}`;
  const creds = (c: { kind: string; user?: string }) => m("credentials", `${c.kind}:${c.user ?? ""}`);
  // A value from another kind of source (a secret, the metadata) has nothing else to compare.
  if (masked.includes("source") && v.kind !== "shardMap") return "*";
  switch (v.kind) {
    case "literal":
      return `literal ${m("value", String(v.value))}`;
    case "postgres":
      return (
        `postgres ${at(v.endpoint)}/${v.database} ${creds(v.credentials)} ` +
        `tls=${m("tls", JSON.stringify(v.tls ?? null))}`
      );
    case "postgresList":
      return (
        `postgres ${v.endpoints.map(at).join(",")}/${v.database} ${creds(v.credentials)} ` +
        `tls=${m("tls", JSON.stringify(v.tls ?? null))}`
      );
    case "redis":
      return `redis ${at(v.endpoint)} ${m("credentials", v.auth.kind)} tls=${m("tls", v.tls)}`;
    case "shardMap":
      return (
        `shards ${m("source", JSON.stringify(v.buckets))} ` +
        `${v.shards.map((s) => `${m("names", s.name)}=${at(s.writer)}|${at(s.reader)}`).join(",")}/${v.database} ` +
        `${creds(v.credentials)} tls=${m("tls", JSON.stringify(v.tls ?? null))}`
      );
    default:
      return JSON.stringify(v);
  }
}

describe("(b) AWS and local mode give every process the same variables", () => {
  const graphs = new Map<number, Graph | Error>();
  beforeAll(async () => {
    // From the graph cache; stack "dev" with a domain is the deploy-twice file's, so these are shared. When one
    // step fails to evaluate, each is asked for alone, so that only that step's tests fail.
    const requests = STEPS.map((step) => ({ config: stackConfig(step, DNS), stack: "dev" }));
    const all = await ladderGraphs(requests).catch(() => undefined);
    for (const [i, step] of STEPS.entries())
      graphs.set(step, all?.[i] ?? (await ladderGraph(requests[i].config, "dev").catch((e: Error) => e)));
  }, 600_000);
  const graph = (step: number): Graph => {
    const g = graphs.get(step);
    if (g instanceof Error) throw g;
    return g!;
  };

  it.each(STEPS)("step %i: the boot scripts and local mode give the same names, role by role", (step) => {
    const aws = new Map<Role, string[]>();
    for (const { role, script } of bootScripts(graph(step))) aws.set(role, envFileNames(script));
    const local = new Map(rolesAt(step).map((at) => [at.role, Object.keys(localEnv(step, at).env)]));
    expect(sorted(local.keys())).toEqual(sorted(aws.keys()));
    const differences: string[] = [];
    for (const [role, names] of aws) {
      const mine = sorted(names);
      // Local mode sets LOCAL_ONLY's variables beside the contract; some (DATABASE_SECRET) the contract gives on AWS.
      const theirs = sorted((local.get(role) ?? []).filter((n) => !(n in LOCAL_ONLY) || names.includes(n)));
      const onlyAws = mine.filter((n) => !theirs.includes(n));
      const onlyLocal = theirs.filter((n) => !mine.includes(n));
      if (onlyAws.length + onlyLocal.length > 0)
        differences.push(`${role}: only on AWS [${onlyAws.join(", ")}]; only local [${onlyLocal.join(", ")}]`);
    }
    expect(differences).toEqual([]);
  });

  it("values differ only where LOCAL_DIFFERENCES says why, and every entry there is a real difference", () => {
    const unexplained: string[] = [];
    const seen = new Set<string>();
    for (const { step, app, secondary, role, label } of cases) {
      // Names local mode sets beside the contract (LOCAL_ONLY) have no typed local value to compare.
      const aws = awsEnvironmentAt(cfgAt(step), app, secondary).filter((v) => !(v.name in LOCAL_ONLY));
      const local = new Map(localEnv(step, { role, app, secondary }).vars.map((v) => [v.name, v.value]));
      expect([label, aws.map((v) => v.name)]).toEqual([label, [...local.keys()]]);
      for (const { name, value } of aws) {
        const theirs = local.get(name)!;
        if (comparable(value, []) !== comparable(theirs, [])) seen.add(name);
        const masked = LOCAL_DIFFERENCES[name]?.aspects ?? [];
        if (comparable(value, masked) !== comparable(theirs, masked))
          unexplained.push(
            `${label}: ${name}: AWS ${comparable(value, masked)} vs local ${comparable(theirs, masked)}`,
          );
      }
    }
    expect(unexplained).toEqual([]);
    expect(Object.keys(LOCAL_DIFFERENCES).filter((k) => !seen.has(k))).toEqual([]);
    for (const [name, d] of Object.entries(LOCAL_DIFFERENCES)) expect([name, d.why.length > 10]).toEqual([name, true]);
  });

  it("workers may read only the secrets their environment reads: the database's, the shards', not the cache's", () => {
    const sids = (policy: string) => statementsOf(graph(10), policy).map((st) => st.Sid);
    expect(sids("use1-web-policy")).toEqual(expect.arrayContaining(["ReadAppSecrets", "ReadCacheToken"]));
    expect(sids("use1-workers-policy")).not.toContain("ReadCacheToken");
    expect(sids("use1-workers-policy")).not.toContain("ReadAppSecrets");
    const secrets = (vars: EnvVar<string>[]) => new Set(JSON.stringify(vars).match(/<[^>]*secret[^>]*>/g));
    expect([...secrets(awsEnvironmentAt(cfgAt(10), "worker"))].sort()).toEqual([
      "<catalog credentials secret>",
      "<shard credentials secret>",
    ]);
  });

  it.each(STEPS)("(c) step %i: each boot script writes exactly the contract's names, in its order", (step) => {
    const cfg = cfgAt(step);
    for (const { role, script } of bootScripts(graph(step))) {
      const at = rolesAt(step).find((r) => r.role === role)!;
      expect([role, envFileNames(script)]).toEqual([
        role,
        awsEnvironmentAt(cfg, at.app, at.secondary).map((v) => v.name),
      ]);
    }
  });
});

describe("(c) the boot script's shell computes the contract's values", () => {
  it.each(cases)("$label: bash with stub secret/aws prints what resolveEnv resolves", ({ step, app, secondary }) => {
    const cfg = cfgAt(step);
    const facts = fixtureFacts(cfg, secondary);
    const vars = awsAppEnvironment(cfg, app, facts);
    const { prelude, echoes } = renderEnvShell(vars);
    const names = facts.shards?.endpoints.map((e) => e.name) ?? [];
    const map = JSON.stringify({
      version: 1,
      bucketCount: 256,
      buckets: assignBuckets(Math.max(1, names.length)),
      shards: names,
    });
    const script = [
      "set -euo pipefail",
      "REGION=us-east-1",
      "INSTANCE_ID=i-0123456789abcdef0",
      `secret() { printf '%s' '${JSON.stringify(SECRET_JSON)}'; }`,
      'cat() { [ "$1" = /etc/shop/local-db-password ] && printf on-box-pw; }',
      `aws() { [ "$1 $2" = "ssm get-parameter" ] || { echo "unexpected: aws $*" >&2; exit 9; }; printf '%s' ` +
        `'${map}'; }`,
      prelude,
      ...echoes,
    ].join("\n");
    let out: string;
    try {
      out = execFileSync("bash", ["-c", script], { encoding: "utf8" });
    } catch (e) {
      throw new Error(`bash failed (jq missing? apt-get install -y jq): ${(e as { stderr?: string }).stderr ?? e}`, {
        cause: e,
      });
    }
    const printed = Object.fromEntries(
      out
        .trimEnd()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    const expected = resolveEnv(vars, lookupsFor(facts));
    if (expected.ORDER_SHARDS) {
      expect(JSON.parse(printed.ORDER_SHARDS)).toEqual(JSON.parse(expected.ORDER_SHARDS));
      delete printed.ORDER_SHARDS;
      delete expected.ORDER_SHARDS;
    }
    expect(printed).toEqual(expected);
  });
});

/** The boot scripts of a graph, by role. */
function bootScripts(g: Graph): Array<{ role: Role; script: string }> {
  const out: Array<{ role: Role; script: string }> = [];
  for (const r of g.ofType(T.instance)) out.push({ role: "server", script: String(r.inputs.userData) });
  for (const r of g.ofType(T.lt)) {
    const script = Buffer.from(String(r.inputs.userData), "base64").toString("utf8");
    const worker = /current\/worker\.js/.test(script);
    const secondary = !r.name.startsWith("use1-");
    out.push({ role: `${secondary ? "secondary " : ""}${worker ? "worker" : "web"}` as Role, script });
  }
  return out;
}

/** The names the script writes into /run/shop/env: the `echo "NAME=…"` lines of its `{ … } > /run/shop/env` block. */
function envFileNames(script: string): string[] {
  const block = /\n\{\n([\s\S]*?)\n\} > \/run\/shop\/env\n/.exec(script);
  if (!block) throw new Error("no { … } > /run/shop/env block in the boot script");
  return block[1].split("\n").map((line) => {
    const m = /^\s*echo "([A-Z][A-Z0-9_]*)=/.exec(line);
    if (!m) throw new Error(`unexpected line in the env block: ${line}`);
    return m[1];
  });
}

const sorted = (names: Iterable<string>) => [...new Set(names)].sort();
