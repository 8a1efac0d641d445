/**
 * The AWS side of the drills (issue 15, item 7): FIS experiment templates named like local mode's faults, at the steps
 * whose features they exercise, each with a role that may do only what its actions need, on this stack's resources,
 * stopping on the step-10 alarms from step 10.
 */
import { FIS_ACTION_PERMISSIONS } from "../../components/fault-drills";
import { GraphRequest, ladderGraphs } from "../../lib/graph/graph-cache";
import { Graph, Registration, stackConfig } from "../../lib/graph/harness";
import { hex } from "../../lib/graph/mock-outputs";
import { T, statementsOf } from "../../lib/graph/queries";
import { FAULTS } from "../../scripts/local/launcher";
import { DRILLS, DrillName, drillsAt } from "../../stacks/drills";

const STEPS = [2, 3, 4, 5, 7, 8, 10, 11];

describe("fault drills (FIS)", () => {
  const g: Record<number, Graph> = {};
  beforeAll(async () => {
    const requests: GraphRequest[] = STEPS.map((step) => ({ config: stackConfig(step), stack: "dev" }));
    const graphs = await ladderGraphs(requests);
    STEPS.forEach((s, i) => (g[s] = graphs[i]));
  }, 300_000);

  const templates = (graph: Graph): Registration[] => graph.ofType(T.fisTemplate);
  const drillOf = (t: Registration): DrillName => t.inputs.tags.drill;
  const template = (graph: Graph, drill: DrillName) => {
    const found = templates(graph).filter((t) => drillOf(t) === drill);
    expect(found).toHaveLength(1);
    return found[0];
  };
  it("has, at each step, exactly the drills of the table whose feature is on (none before the fleet)", () => {
    for (const step of STEPS) {
      const names = templates(g[step]).map(drillOf).sort();
      expect({ step, names }).toEqual({ step, names: [...drillsAt(step)].sort() });
    }
    expect(templates(g[2])).toHaveLength(0);
    expect(drillsAt(3)).toEqual(["web-kill"]);
    expect(drillsAt(4)).toEqual(["web-kill", "primary-failover", "az-outage"]);
    expect(drillsAt(5)).toContain("redis-stop");
    expect(drillsAt(8)).toContain("worker-kill");
  });

  it("shares its names with npm run local:fault: every drill with a local side is a local fault", () => {
    for (const [name, info] of Object.entries(DRILLS))
      expect({ name, local: name in FAULTS }).toEqual({ name, local: info.local });
    for (const t of templates(g[11])) expect(t.inputs.tags.Name).toBe(`scale-ladder-dev-use1-${drillOf(t)}`);
  });

  it("stops on nothing but time below step 10 (FIS requires source none) and on the step-10 alarms from 10", () => {
    for (const step of [3, 4, 5, 7, 8]) {
      for (const t of templates(g[step])) expect(t.inputs.stopConditions).toEqual([{ source: "none" }]);
      expect(g[step].ofType(T.compositeAlarm)).toHaveLength(0);
    }
    for (const step of [10, 11]) {
      const composite = g[step].one(T.compositeAlarm);
      const alarms = g[step].ofType(T.alarm).filter((a) => a.name.startsWith("use1-"));
      expect(alarms.length).toBeGreaterThan(0);
      // Every alarm of the primary region's monitoring, OR-ed: any of them stops the drill.
      const rule: string = composite.inputs.alarmRule;
      for (const a of alarms.filter((x) => x.name.startsWith("use1-monitoring"))) {
        expect(rule).toContain(`ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:${a.name}-${hex(a.name, 7)}")`);
      }
      expect(rule.split(" OR ")).toHaveLength(alarms.filter((x) => x.name.startsWith("use1-monitoring")).length);
      expect(composite.inputs.actionsEnabled).toBe(false);
      for (const t of templates(g[step])) {
        expect(t.inputs.stopConditions).toEqual([
          {
            source: "aws:cloudwatch:alarm",
            value: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${composite.inputs.alarmName}`,
          },
        ]);
      }
    }
  });

  it("gives each template a role of its own that FIS assumes, whose actions are exactly what its actions need", () => {
    for (const step of [4, 8, 10]) {
      const roles = new Set<string>();
      for (const t of templates(g[step])) {
        const drill = drillOf(t);
        const role = g[step].byName(`use1-drills-${drill}-role`);
        roles.add(role.name);
        expect(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal).toEqual({
          Service: "fis.amazonaws.com",
        });
        const granted = new Set(statementsOf(g[step], `use1-drills-${drill}-policy`).flatMap((s) => s.Action));
        const needed = new Set(
          (t.inputs.actions as Array<{ actionId: string }>).flatMap((a) => FIS_ACTION_PERMISSIONS[a.actionId]),
        );
        expect({ drill, granted: [...granted].sort() }).toEqual({ drill, granted: [...needed].sort() });
      }
      expect(roles.size).toBe(templates(g[step]).length);
    }
  });

  it("lets a role stop, kill or command only this stack's instances, and fail over only this stack's database", () => {
    const graph = g[10];
    for (const drill of ["web-kill", "worker-kill", "az-outage"] as const) {
      const statements = statementsOf(graph, `use1-drills-${drill}-policy`) as Array<{
        Sid: string;
        Action: string[];
        Resource: string[];
        Condition?: Record<string, Record<string, string>>;
      }>;
      for (const s of statements.filter((x) => x.Resource.some((r) => r.includes(":instance/")))) {
        expect(s.Condition?.StringEquals).toEqual({
          "aws:ResourceTag/project": "scale-ladder",
          "aws:ResourceTag/stack": "dev",
        });
      }
    }
    const db = graph.one(T.rds, "use1-db");
    for (const drill of ["primary-failover", "az-outage"] as const) {
      const failover = statementsOf(graph, `use1-drills-${drill}-policy`).find((s) => s.Sid === "Failover")!;
      expect(failover.Resource).toEqual([`arn:aws:rds:us-east-1:123456789012:db:${db.name}`]);
    }
  });

  it("targets what each drill names: one web instance, the RDS primary, the cache group, one worker", () => {
    const graph = g[10];
    const web = template(graph, "web-kill");
    expect(web.inputs.actions).toEqual([
      expect.objectContaining({ actionId: "aws:ec2:terminate-instances", target: { key: "Instances", value: "web" } }),
    ]);
    const asg = graph.byName("use1-web-asg");
    expect(web.inputs.targets).toEqual([
      expect.objectContaining({
        resourceType: "aws:ec2:instance",
        selectionMode: "COUNT(1)",
        resourceTags: [{ key: "aws:autoscaling:groupName", value: asg.inputs.name ?? expect.any(String) }],
      }),
    ]);
    const failover = template(graph, "primary-failover");
    expect(failover.inputs.actions[0]).toMatchObject({
      actionId: "aws:rds:reboot-db-instances",
      parameters: [{ key: "forceFailover", value: "true" }],
    });
    expect(failover.inputs.targets[0]).toMatchObject({ resourceType: "aws:rds:db", selectionMode: "ALL" });
    const redis = template(graph, "redis-stop");
    expect(redis.inputs.actions[0]).toMatchObject({
      actionId: "aws:elasticache:replicationgroup-interrupt-az-power",
      target: { key: "ReplicationGroups", value: "cache" },
    });
    // The cache's group (with replicas), never the sessions' group, which has none and would lose every cart.
    expect(redis.inputs.targets[0].resourceArns).toEqual([
      "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:use1-cache",
    ]);
    expect(redis.inputs.targets[0].parameters).toEqual({ availabilityZoneIdentifier: "us-east-1a" });
    const worker = template(graph, "worker-kill");
    const params = Object.fromEntries(
      (worker.inputs.actions[0].parameters as Array<{ key: string; value: string }>).map((p) => [p.key, p.value]),
    );
    expect(worker.inputs.actions[0].actionId).toBe("aws:ssm:send-command");
    expect(params.documentArn).toBe("arn:aws:ssm:us-east-1::document/AWS-RunShellScript");
    expect(JSON.parse(params.documentParameters)).toEqual({
      commands: ["systemctl kill --signal=SIGKILL shop.service"],
    });
    expect(worker.inputs.targets[0]).toMatchObject({ resourceType: "aws:ec2:instance", selectionMode: "COUNT(1)" });
  });

  it("models the AZ outage on AZ Availability: Power Interruption (one AZ: instances, subnets, RDS, cache)", () => {
    const graph = g[10];
    const az = template(graph, "az-outage");
    const ids = (az.inputs.actions as Array<{ actionId: string }>).map((a) => a.actionId).sort();
    expect(ids).toEqual([
      "aws:ec2:stop-instances",
      "aws:ec2:stop-instances",
      "aws:elasticache:replicationgroup-interrupt-az-power",
      "aws:network:disrupt-connectivity",
      "aws:rds:reboot-db-instances",
    ]);
    const subnets = az.inputs.targets.find((t: { resourceType: string }) => t.resourceType === "aws:ec2:subnet");
    expect(subnets.filters).toEqual([{ path: "AvailabilityZone", values: ["us-east-1a"] }]);
    // Every subnet of the VPC (public, private, isolated) is a candidate; the filter keeps the zone's.
    expect(subnets.resourceArns).toHaveLength(6);
    for (const arn of subnets.resourceArns) expect(arn).toMatch(/^arn:aws:ec2:us-east-1:123456789012:subnet\/subnet-/);
    for (const t of az.inputs.targets.filter((x: { resourceType: string }) => x.resourceType === "aws:ec2:instance")) {
      expect(t.filters).toContainEqual({ path: "Placement.AvailabilityZone", values: ["us-east-1a"] });
    }
    for (const a of az.inputs.actions.filter((x: { actionId: string }) => x.actionId === "aws:ec2:stop-instances")) {
      expect(a.parameters).toEqual([{ key: "startInstancesAfterDuration", value: "PT10M" }]);
    }
    // At step 4 there is no cache yet: the outage fails over the database only.
    const step4 = template(g[4], "az-outage");
    expect((step4.inputs.actions as Array<{ actionId: string }>).map((a) => a.actionId)).not.toContain(
      "aws:elasticache:replicationgroup-interrupt-az-power",
    );
  });

  it("fails a drill whose target is gone instead of passing; the AZ outage skips a fleet absent from the AZ", () => {
    for (const t of templates(g[10])) {
      const mode = drillOf(t) === "az-outage" ? "skip" : "fail";
      expect({ drill: drillOf(t), mode: t.inputs.experimentOptions.emptyTargetResolutionMode }).toEqual({
        drill: drillOf(t),
        mode,
      });
    }
  });
});
