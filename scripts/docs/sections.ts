/**
 * The generated sections of the step docs, the README and docs/pricing.md, from the ladder's facts.
 */
import { usd } from "../plan/render";
import { treeLines } from "../plan/render";
import { shortType } from "../plan/graph";
import {
  AURORA_POSTGRES_HOURLY,
  EC2_HOURLY,
  HOURS_PER_MONTH,
  NOT_INCLUDED,
  PRICES_AS_OF,
  PRICE_REGION,
  PRICE_SOURCES,
  RATES,
  RDS_POSTGRES_HOURLY,
  VALKEY_HOURLY,
} from "../../lib/pricing/prices";
import { DRILLS, drillsAt } from "../../stacks/drills";
import { featuresAt, firstStepOf } from "../../stacks/steps";
import { DOCS_TARGET_TEXT, StepFacts } from "./ladder";
import { cell } from "./markers";
import { T } from "../../lib/graph/resource-types";

/** `docs/steps/06-cdn.md`, relative to the repository root. */
export const stepDocPath = (f: Pick<StepFacts["info"], "step" | "name">): string =>
  `docs/steps/${String(f.step).padStart(2, "0")}-${f.name}.md`;
export const stackName = (step: number): string => `step${String(step).padStart(2, "0")}`;

const code = (s: string) => `\`${s}\``;
const list = (xs: string[]) => xs.map(code).join(", ");

/** One line per step doc: stack, size, cost, components. */
export function summarySection(f: StepFacts): string {
  const comps = [...f.components.added.map((c) => `+ ${code(c)}`), ...f.components.removed.map((c) => `− ${code(c)}`)];
  return [
    "| stack | resources | estimated cost | components |",
    "| --- | --- | --- | --- |",
    `| ${code(stackName(f.info.step))} | ${f.counts.total} (${f.counts.custom} cloud resources) | ` +
      `**${usd(f.cost.monthly)}/month**` +
      (f.cost.atMaxSize > 0 ? ` (${usd(f.cost.monthly + f.cost.atMaxSize)} with every fleet at its maximum)` : "") +
      " " +
      `| ${f.info.step === 1 ? list(f.components.all) : comps.join(", ") || "no new component"} |`,
    "",
    `Figures for ${DOCS_TARGET_TEXT}; \`npm run plan -- --step ${f.info.step}\` prints them for your configuration.`,
  ].join("\n");
}

/** The architecture diagram. */
export function diagramSection(f: StepFacts): string {
  return [
    "```mermaid",
    f.mermaid,
    "```",
    "",
    f.previous
      ? `Boxes with a thick green border are new at step ${f.info.step}. Solid arrows: network paths a security ` +
        `group admits (with the port), CDN origins and queue access; dotted: DNS, replication, redrive, telemetry.`
      : "Solid arrows: network paths a security group admits (with the port); dotted: DNS.",
  ].join("\n");
}

/** Resources created at a step, grouped by the component that holds them. */
function createdByComponent(f: StepFacts): string[] {
  const groups = new Map<string, Map<string, number>>();
  for (const a of f.diff.added) {
    // Components and providers are counted below.
    if (!a.type.includes("/") && !a.type.startsWith("awsx:") && !a.type.startsWith("random:")) continue;
    const key = a.component ?? "(stack)";
    const g = groups.get(key) ?? new Map<string, number>();
    g.set(shortType(a.type), (g.get(shortType(a.type)) ?? 0) + 1);
    groups.set(key, g);
  }
  return [...groups].map(([comp, types]) => {
    const total = [...types.values()].reduce((n, x) => n + x, 0);
    const detail = [...types]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([t, n]) => (n > 1 ? `${n} ${t}` : t))
      .join(", ");
    return `- ${code(comp)}: ${total} (${detail})`;
  });
}

/** What `pulumi up` changes when climbing to this step. */
export function changesSection(f: StepFacts): string {
  const d = f.diff;
  const out: string[] = [];
  if (d.from === null) {
    out.push(
      `On an empty stack \`pulumi up\` creates ${d.added.length} resources (the stack's own registrations: ` +
        `providers and components included):`,
      "",
    );
    out.push(...createdByComponent(f));
    return out.join("\n");
  }
  out.push(
    `\`pulumi config set scale-ladder:step ${f.info.step} && pulumi up\` on the step-${d.from} stack, matched ` +
      `by URN: **${d.added.length} to create, ${d.removed.length} to delete, ${d.replaced.length} to replace, ` +
      `${d.updated.length} to update in place**, ${d.unchanged} unchanged. The provider's \`step\` default tag ` +
      `also changes, so every taggable resource's tags update in place.`,
    "",
  );
  if (d.replaced.length > 0) {
    out.push(
      "Replaced (same URN, an input that forces a new resource changes):",
      "",
      "| resource | type | why |",
      "| --- | --- | --- |",
    );
    for (const r of d.replaced)
      out.push(
        `| ${code(r.name)} | ${code(r.type)} | ` +
          `${cell(r.reasons.map((x) => `${code(x.input)}: ${x.why}`).join("; "))} |`,
      );
    out.push("");
  } else out.push("Nothing is replaced.", "");
  if (d.removed.length > 0) {
    const custom = d.removed.filter((r) => r.type.includes("/"));
    out.push(
      `Deleted: ${custom.map((r) => code(r.name)).join(", ")}${
        d.removed.length > custom.length
          ? ` (and the component${d.removed.length - custom.length > 1 ? "s" : ""} ${d.removed
              .filter((r) => !r.type.includes("/"))
              .map((r) => code(r.name))
              .join(", ")})`
          : ""
      }.`,
      "",
    );
  }
  if (d.added.length > 0) out.push("Created:", "", ...createdByComponent(f), "");
  if (d.updated.length > 0) {
    out.push("Updated in place:", "", "| resource | type | inputs that change |", "| --- | --- | --- |");
    for (const u of d.updated) out.push(`| ${code(u.name)} | ${code(u.type)} | ${u.inputs.map(code).join(", ")} |`);
  }
  if (d.unknownTypes.length > 0)
    out.push("", `Types without a ForceNew entry, shown as updates: ${list(d.unknownTypes)}.`);
  return out.join("\n").trimEnd();
}

/** The app's environment at this step. */
export function envSection(f: StepFacts): string {
  // One text when every entry point's is the same, else one per entry point.
  const perEntry = (e: Record<string, string>) => {
    const texts = [...new Set(Object.values(e))];
    return texts.length === 1
      ? texts[0]
      : Object.entries(e)
          .map(([entry, text]) => `${entry}: ${text}`)
          .join("; ");
  };
  const from = (k: string) => perEntry(f.env.vars[k].from);
  const rows = Object.entries(f.env.all).map(
    ([k, where]) =>
      `| ${code(k)} | ${where.includes("server") ? "✓" : ""} | ${where.includes("worker") ? "✓" : ""} | ` +
      `${cell(from(k))} | ${cell(perEntry(f.env.vars[k].why))} | ` +
      `${f.previous && f.env.added.includes(k) ? "**new**" : ""} |`,
  );
  const out = [
    "| variable | server | worker | value, or where it comes from | why | at this step |",
    "| --- | :---: | :---: | --- | --- | --- |",
    ...rows,
  ];
  if (f.env.removed.length > 0) out.push("", `No longer set: ${list(f.env.removed)}.`);
  out.push(
    "",
    "From the app-environment contract (`stacks/app-environment.ts`), which the boot scripts render " +
      "(`components/user-data.ts`) and local mode uses with local values; names in angle brackets stand for the " +
      "stack's resources. What each variable does is in [app/README.md](../../app/README.md#configuration).",
  );
  return out.join("\n");
}

/** The cost table. */
export function costSection(f: StepFacts): string {
  const out = ["| component | what is paid for | $/month |", "| --- | --- | ---: |"];
  const sorted = [...f.cost.byComponent].sort((a, b) => b.monthly - a.monthly || a.name.localeCompare(b.name));
  for (const c of sorted) {
    const items = c.lines
      .map(
        (l) =>
          l.item +
          (l.monthly === null ? " (no price in the table)" : ` ${usd(l.monthly)}`) +
          (l.atMaxSize ? ` (+${usd(l.atMaxSize)} at max size)` : ""),
      )
      .join("; ");
    out.push(
      `| ${code(`${c.type} ${c.name}`)}${c.region && c.region !== "us-east-1" ? ` (${c.region})` : ""} | ` +
        `${cell(items)} | ${usd(c.monthly)} |`,
    );
  }
  out.push(`| **total** | on-demand, ${HOURS_PER_MONTH} hours | **${usd(f.cost.monthly)}** |`);
  if (f.cost.atMaxSize > 0)
    out.push(`| with every fleet at its maximum size | | ${usd(f.cost.monthly + f.cost.atMaxSize)} |`);
  out.push("");
  const notes = [`${PRICE_REGION} on-demand prices compiled ${PRICES_AS_OF}`];
  if (f.cost.pricedAsTableRegion.length > 0)
    notes.push(`${f.cost.pricedAsTableRegion.join(", ")} priced at ${PRICE_REGION} rates`);
  out.push(
    `${notes.join("; ")}. Not included: data transfer, requests (ALB LCUs, CloudFront, SQS, API calls), storage ` +
      `that grows with use, log ingestion, the hosted zone — see [docs/pricing.md](../pricing.md).`,
  );
  return out.join("\n");
}

/** The component tree. */
export function resourcesSection(f: StepFacts): string {
  return [
    "```text",
    `${f.counts.total} registrations: ${f.counts.custom} cloud resources, ${f.counts.components} components, ` +
      `${f.counts.providers} provider${f.counts.providers > 1 ? "s" : ""}, the stack`,
    ...treeLines(f.tree),
    "```",
  ].join("\n");
}

/** The README's ladder table. */
export function ladderSection(facts: StepFacts[]): string {
  const out = [
    "| step | stack | adds | components | resources | est. $/month |",
    "| ---: | --- | --- | --- | ---: | ---: |",
  ];
  for (const f of facts) {
    const comps =
      f.info.step === 1
        ? list(f.components.all)
        : [...f.components.added.map((c) => `+ ${code(c)}`), ...f.components.removed.map((c) => `− ${code(c)}`)].join(
            ", ",
          ) || "(config only)";
    out.push(
      `| ${f.info.step} | [${code(stackName(f.info.step))}](${stepDocPath(f.info)}) | ${cell(f.info.adds)} | ` +
        `${comps} | ${f.counts.total} | ${usd(f.cost.monthly)} |`,
    );
  }
  out.push(
    "",
    `Resources and costs are for ${DOCS_TARGET_TEXT}, on-demand ${PRICE_REGION} prices ` +
      `([docs/pricing.md](docs/pricing.md)); fleets at their starting size.`,
  );
  return out.join("\n");
}

/** docs/pricing.md's tables. */
export function pricesSection(facts: StepFacts[]): string {
  const table = (title: string, rows: Readonly<Record<string, number>>, unit: string) => [
    `**${title}**`,
    "",
    `| type | ${unit} | per month |`,
    "| --- | ---: | ---: |",
    ...Object.entries(rows).map(([k, v]) => `| ${code(k)} | $${v} | ${usd(v * HOURS_PER_MONTH)} |`),
    "",
  ];
  const r = RATES;
  return [
    `Region **${PRICE_REGION}**, on-demand, USD, compiled **${PRICES_AS_OF}**; a month is ${HOURS_PER_MONTH} ` +
      `hours. Source: [\`lib/pricing/prices.ts\`](../lib/pricing/prices.ts).`,
    "",
    ...table("EC2 (Linux)", EC2_HOURLY, "$/hour"),
    ...table("RDS for PostgreSQL (single-AZ; Multi-AZ is ×2)", RDS_POSTGRES_HOURLY, "$/hour"),
    ...table("Aurora PostgreSQL (Standard)", AURORA_POSTGRES_HOURLY, "$/hour"),
    ...table("ElastiCache for Valkey", VALKEY_HOURLY, "$/hour"),
    "**Flat rates**",
    "",
    "| item | price |",
    "| --- | ---: |",
    `| EBS gp3 | $${r.ebsGp3PerGbMonth}/GB-month |`,
    `| RDS gp3 storage (single-AZ; Multi-AZ ×2) | $${r.rdsGp3PerGbMonth}/GB-month |`,
    `| public IPv4 address (Elastic IP, NAT gateway, each ALB node) | $${r.publicIpv4PerHour}/hour ` +
      `(${usd(r.publicIpv4PerHour * HOURS_PER_MONTH)}/month) |`,
    `| NAT gateway | $${r.natGatewayPerHour}/hour (${usd(r.natGatewayPerHour * HOURS_PER_MONTH)}/month) |`,
    `| Application Load Balancer | $${r.albPerHour}/hour (${usd(r.albPerHour * HOURS_PER_MONTH)}/month) |`,
    `| Secrets Manager secret | $${r.secretPerMonth}/month |`,
    `| CloudWatch dashboard | $${r.cloudwatchDashboardPerMonth}/month |`,
    `| CloudWatch alarm | $${r.cloudwatchAlarmPerMetricMonth} per metric per month |`,
    `| CloudWatch custom metric (agent, detailed monitoring: ${r.detailedMonitoringMetricsPerInstance} per ` +
      `instance) | $${r.cloudwatchMetricPerMonth}/month |`,
    `| Route 53 health check | $${r.route53HealthCheckPerMonth}/month |`,
    "",
    "**Where the prices come from**",
    "",
    ...Object.entries(PRICE_SOURCES).map(([k, v]) => `- ${k}: <${v}>`),
    "",
    "**Not included in any estimate**",
    "",
    ...NOT_INCLUDED.map((n) => `- ${n}`),
    "",
    "**Per step**",
    "",
    "| step | est. $/month | with every fleet at its maximum |",
    "| ---: | ---: | ---: |",
    ...facts.map(
      (f) =>
        `| [${f.info.step}](steps/${stepDocPath(f.info).slice("docs/steps/".length)}) | ${usd(f.cost.monthly)} ` +
        `| ${usd(f.cost.monthly + f.cost.atMaxSize)} |`,
    ),
    "",
    `For ${DOCS_TARGET_TEXT}.`,
  ].join("\n");
}

/** Steps as ranges: [1,2,3,5] → `1–3, 5`. */
function stepRanges(steps: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < steps.length;) {
    let j = i;
    while (j + 1 < steps.length && steps[j + 1] === steps[j] + 1) j++;
    out.push(j === i ? `${steps[i]}` : steps[j] === 11 ? `${steps[i]}+` : `${steps[i]}–${steps[j]}`);
    i = j + 1;
  }
  return out.join(", ");
}

const OUTPUT_DOCS: Record<string, string> = {
  step: "the step the stack asks for",
  builtStep: "the step this version of the program composes",
  environment: "`dev` or `prod`",
  region: "the primary region",
  siteUrl: "where the shop answers",
  serverInstanceId: "the single server, for `aws ssm start-session`",
  sessionCommand: "a shell on the server through Session Manager (there is no SSH)",
  loadBalancerDnsName: "the ALB's name",
  webGroupName: "the web fleet's Auto Scaling group",
  databaseEndpoint: "the catalog database, `host:port`",
  databaseSecretArn: "its master credentials in Secrets Manager",
  databaseReplicaEndpoints: "the read replicas' hostnames",
  cacheEndpoint: "the Valkey primary, `host:port` (TLS, AUTH)",
  cdnDomainName: "the distribution's `*.cloudfront.net` name",
  orderQueueUrl: "the orders queue",
  deadLetterQueueUrl: "its dead-letter queue (the redrive runbook's source)",
  workerGroupName: "the worker fleet's Auto Scaling group",
  shardEndpoints: "each order shard's writer endpoint",
  shardMapParameterName: "the SSM parameter holding the bucket → shard map",
  dashboardUrl: "the CloudWatch dashboard",
  alarmTopicArn: "the SNS topic alarms go to",
  artifactBucket: "the releases bucket",
  releaseUri: "the release the servers run",
  adminToken: "bearer token of the admin product routes (secret: `--show-secrets`)",
  secondaryRegions: "per secondary region: its ALB, catalog replica, queue and dashboard",
};

/** The README's stack-output table: every output, the steps that have it. */
export function outputsSection(facts: StepFacts[]): string {
  const steps = new Map<string, number[]>();
  for (const f of facts)
    for (const k of Object.keys(f.index.graph.outputs)) steps.set(k, [...(steps.get(k) ?? []), f.info.step]);
  const out = ["| output | steps | what it is |", "| --- | --- | --- |"];
  for (const [k, s] of steps) out.push(`| ${code(k)} | ${stepRanges(s)} | ${OUTPUT_DOCS[k] ?? ""} |`);
  return out.join("\n");
}

/** The README's app-environment table: every variable the boot scripts set, the steps and entry points that get it. */
export function appEnvSection(facts: StepFacts[]): string {
  const steps = new Map<string, { steps: number[]; where: Set<string> }>();
  for (const f of facts) {
    for (const [k, where] of Object.entries(f.env.all)) {
      const e = steps.get(k) ?? { steps: [], where: new Set<string>() };
      e.steps.push(f.info.step);
      where.forEach((w) => e.where.add(w));
      steps.set(k, e);
    }
  }
  const first = (k: string) => steps.get(k)!.steps[0];
  const keys = [...steps.keys()].sort((a, b) => first(a) - first(b) || a.localeCompare(b));
  const out = ["  | variable | steps | server | worker |", "  | --- | --- | :---: | :---: |"];
  for (const k of keys) {
    const e = steps.get(k)!;
    out.push(
      `  | ${code(k)} | ${stepRanges(e.steps)} | ${e.where.has("server") ? "✓" : ""} | ` +
        `${e.where.has("worker") ? "✓" : ""} |`,
    );
  }
  return out.join("\n");
}

/**
 * The drills of the step (stacks/drills.ts): the same name locally (`npm run local:fault`) and on AWS (the FIS
 * template's `Name` tag), what each side does, and what stops the AWS experiment.
 */
export function drillsSection(f: StepFacts): string {
  const drills = drillsAt(f.info.step);
  if (drills.length === 0)
    return `No drills yet: they start with the fleet (step ${firstStepOf(DRILLS["web-kill"].feature)}).`;
  const telemetry = featuresAt(f.info.step).telemetry;
  return [
    "| drill | locally | on AWS (FIS template tagged `Name: <project>-<stack>-<region code>-<drill>`) |",
    "| --- | --- | --- |",
    ...drills.map((d) => {
      const local = DRILLS[d].local ? code(`npm run local:fault -- ${d}`) : "— (no local counterpart)";
      return `| ${code(d)} | ${local} | ${cell(DRILLS[d].aws)} |`;
    }),
    "",
    "Start one with `aws fis start-experiment --experiment-template-id <id>` (`aws fis list-experiment-templates` " +
      "lists them with their tags). " +
      (telemetry
        ? `Each stops as soon as any of the step-${firstStepOf("telemetry")} alarms goes off: one composite alarm ` +
          "over all of them is every template's stop condition (FIS allows five per template)."
        : "Nothing stops them but their own end or `aws fis stop-experiment`: the alarms come at step " +
          `${firstStepOf("telemetry")}, and without them FIS requires the stop condition \`source: none\`. ` +
          "Watch the site while one runs."),
  ].join("\n");
}

/**
 * Why each check is what it is: what `/readyz` answers (app/src/routes/health.ts) decides what the load balancer
 * and the auto-scaling group do with a server, so the two are explained together, once.
 */
const HEALTH_WHY = {
  targetGroup:
    "`/readyz` is 200 while this process can serve: at least one database answers. A shared dependency that is " +
    "down (a replica, the primary, Redis, a shard) fails on every server at once, so it only degrades the answer " +
    "(`degraded`, still 200, each failing part listed): taking servers out for it would help no one, and would " +
    "move sticky shoppers to servers without their session. The requests that need it fail instead: writes 503 " +
    "`primary_unavailable` at once, carts 503 with the sessions' Redis down, reads go around a failed replica. " +
    "503 only when no database answers at all (this server's own network, or settings that never worked); when " +
    "every target fails, the ALB fails open and keeps sending to all of them.",
  ELB:
    "the group replaces an instance the target group calls unhealthy (once its launch grace period is over) as well " +
    "as one EC2 calls impaired: a server that stopped answering is replaced, and since `/readyz` stays 200 through " +
    "shared outages, an outage never makes the group replace the fleet.",
  EC2:
    "workers take no traffic from a load balancer; their `/readyz` listens on 127.0.0.1 for whoever is on the box. " +
    "The group replaces only an instance EC2 reports impaired: a worker whose database is down waits for it " +
    "(503 on its `/readyz`) instead of being replaced in a loop, and SQS redelivers what it had in hand.",
  route53:
    "geolocation DNS stops sending a region's continents to it only when none of its servers passes `/readyz` (the " +
    "target group's HealthyHostCount below 1 for 2 minutes): a region with a shared dependency down keeps its " +
    "shoppers, who get that region's degraded answers (the e2e test stops us-east-1's `redis` and " +
    "`redis-sessions` locally: carts 503, us-east-1 stays in rotation).",
} as const;

/**
 * What checks the servers at this step and why: the target groups' health checks, the auto-scaling groups' health
 * check type, and at step 11 Route 53's, read from the step's graph.
 */
export function healthSection(f: StepFacts): string {
  const of = (type: string) => f.index.resources.filter((r) => r.type === type);
  const groups = of(T.asg);
  if (groups.length === 0)
    return (
      "No load balancer and no auto-scaling group: nothing takes this server out of rotation. systemd restarts the " +
      "app when it exits (`Restart=always`); `/healthz` and `/readyz` are there for people and for the next step's " +
      "load balancer."
    );
  // One row per kind of check and its settings, naming every resource that has them (one per region at step 11).
  const rows = new Map<string, { what: string; names: string[]; check: string; why: string }>();
  const add = (what: string, name: string, check: string, why: string) => {
    const key = `${what}|${check}`;
    const row = rows.get(key) ?? { what, names: [], check, why };
    row.names.push(code(name));
    rows.set(key, row);
  };
  for (const tg of of(T.tg)) {
    const h = f.index.inputs(tg).healthCheck ?? {};
    add(
      "target group",
      tg.name,
      `${code(`GET ${h.path}`)} answering ${h.matcher}, every ${h.interval} s (timeout ${h.timeout} s); healthy ` +
        `after ${h.healthyThreshold} passes, unhealthy after ${h.unhealthyThreshold} failures`,
      HEALTH_WHY.targetGroup,
    );
  }
  for (const g of groups) {
    const type = String(f.index.inputs(g).healthCheckType ?? "EC2") as "ELB" | "EC2";
    const grace = f.index.inputs(g).healthCheckGracePeriod;
    const what =
      (type === "ELB" ? "the target group's check and EC2 status checks" : "EC2 status checks only") +
      (grace !== undefined ? `, ${grace} s grace after launch` : "");
    add("auto-scaling group", g.name, `${code(type)}: ${what}`, HEALTH_WHY[type]);
  }
  for (const hc of of(T.healthCheck))
    add(
      "Route 53 health check",
      hc.name,
      `${code(String(f.index.inputs(hc).type))} on the alarm of its region's HealthyHostCount`,
      HEALTH_WHY.route53,
    );
  return [
    "| what checks | the check | why |",
    "| --- | --- | --- |",
    ...[...rows.values()].map((r) => `| ${r.what} ${r.names.join(", ")} | ${r.check} | ${cell(r.why)} |`),
  ].join("\n");
}
