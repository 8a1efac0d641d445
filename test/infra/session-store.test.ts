/**
 * The sessions' own Valkey group (issue 14, finding 2): from step 7 a second `Cache` (`purpose: "sessions"`) with
 * `maxmemory-policy noeviction` holds the sessions, so that a visitor filling the product cache (allkeys-lru) cannot
 * evict carts. Same security as the cache, reachable from the web tier only, one per region at step 11, priced in
 * the plan, and each rule AWS and the provider impose on it encoded here: the parameter group family that matches the
 * engine, names AWS keeps as given (lower case, within its length), what AWS reads back after creation (a second
 * `pulumi up` changes nothing), and the climb 6 → 7 → 8 that keeps every stateful resource.
 */
import { GraphRequest, ladderGraphs } from "../../lib/graph/graph-cache";
import { Graph, stackConfig } from "../../lib/graph/harness";
import { T, ingressRules, plaintextSecretLeaks, sgIdOf, statementsOf } from "../../lib/graph/queries";
import { RegisteredResource } from "../../lib/graph/registered";
import { describeChange, secondUpChanges } from "../../lib/graph/second-up";
import { estimateCost } from "../../scripts/plan/cost";
import { GraphIndex } from "../../scripts/plan/graph";
import { VALKEY_HOURLY, HOURS_PER_MONTH } from "../../lib/pricing/prices";
import { mockOutputsOf } from "./deploy-twice-suite";

const userDataOf = (g: Graph, lt: string) => Buffer.from(g.one(T.lt, lt).inputs.userData, "base64").toString("utf8");
/** The resources a component declared, itself excluded. */
const childrenOf = (g: Graph, component: string): RegisteredResource[] =>
  g.resources.filter((r) => r.name !== component && r.name.startsWith(`${component}-`) && r.custom);

describe("the sessions' Valkey group", () => {
  const g: Record<string, Graph> = {};
  beforeAll(async () => {
    // From the graph cache, under the stack names the other files use, so that the graphs are shared.
    const stacks: Record<string, GraphRequest> = {
      ...Object.fromEntries([6, 7, 8, 9, 10, 11].map((step) => [step, { config: stackConfig(step), stack: "dev" }])),
      prod7: { config: stackConfig(7, { "scale-ladder:environment": "prod" }), stack: "prod" },
      small7: { config: stackConfig(7, { "scale-ladder:sessionNodeType": "cache.t4g.small" }), stack: "dev" },
    };
    const graphs = await ladderGraphs(Object.values(stacks));
    Object.keys(stacks).forEach((k, i) => (g[k] = graphs[i]));
  }, 600_000);

  it("is added at step 7 beside the cache: Valkey 8 with noeviction, TLS, encryption at rest, AUTH, Multi-AZ", () => {
    expect(g[6].ofType(T.cache).map((r) => r.name)).toEqual(["use1-cache"]);
    expect(g[7].ofType(T.cache).map((r) => r.name)).toEqual(["use1-cache", "use1-sessions"]);
    const sessions = g[7].one(T.cache, "use1-sessions").inputs;
    expect(sessions).toMatchObject({
      engine: "valkey",
      engineVersion: "8.0",
      nodeType: "cache.t4g.micro",
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      description: "scale-ladder sessions",
    });
    expect(sessions.authToken).toMatchObject({ value: expect.stringMatching(/^MockSecret/) });
    // The family is the engine's major version (ElastiCache refuses a group of another family), and the policy is the
    // one that never drops a key: a full group refuses writes instead.
    const params = g[7].one(T.cachePg, "use1-sessions-params");
    expect(params.inputs).toMatchObject({
      family: "valkey8",
      parameters: [{ name: "maxmemory-policy", value: "noeviction" }],
    });
    expect(sessions.parameterGroupName).toMatch(/^use1-sessions-params-[0-9a-f]{7}$/);
    expect(g.small7.one(T.cache, "use1-sessions").inputs.nodeType).toBe("cache.t4g.small");
    expect(g.small7.one(T.cache, "use1-cache").inputs.nodeType).toBe("cache.t4g.micro");
    // The cache keeps its own policy.
    expect(g[7].one(T.cachePg, "use1-cache-params").inputs.parameters).toEqual([
      { name: "maxmemory-policy", value: "allkeys-lru" },
    ]);
  });

  it("lives in isolated subnets and admits only the web tier on 6379 (not the workers, which the cache admits)", () => {
    const graph = g[8];
    const sessionsSg = sgIdOf(graph.one(T.sg, "use1-sessions-sg"));
    const cacheSg = sgIdOf(graph.one(T.sg, "use1-cache-sg"));
    const web = sgIdOf(graph.one(T.sg, "use1-network-web-sg"));
    const worker = sgIdOf(graph.one(T.sg, "use1-network-worker-sg"));
    expect(ingressRules(graph).filter((r) => r.groupId === sessionsSg)).toEqual([
      expect.objectContaining({ from: 6379, to: 6379, sourceSg: web, cidr: undefined }),
    ]);
    expect(
      ingressRules(graph)
        .filter((r) => r.groupId === cacheSg)
        .map((r) => r.sourceSg)
        .sort(),
    ).toEqual([web, worker].sort());
    for (const s of graph.one(T.cacheSubnetGroup, "use1-sessions-subnets").inputs.subnetIds)
      expect(s).toMatch(/^subnet-iso/);
  });

  it("reaches the web servers as SESSION_REDIS_URL over TLS with its own token; workers get neither", () => {
    const web = userDataOf(g[8], "use1-web-lt");
    expect(web).toContain('SESSION_REDIS_URL="rediss://:$SESSIONS_TOKEN@master.use1-sessions.');
    expect(web).toContain('REDIS_URL="rediss://:$CACHE_TOKEN@master.use1-cache.');
    expect(web).toContain('echo "SESSION_STORE=redis"');
    expect(userDataOf(g[6], "use1-web-lt")).not.toContain("SESSION_REDIS_URL");
    expect(userDataOf(g[8], "use1-workers-lt")).not.toContain("SESSION");
    const reads = (policy: string) =>
      statementsOf(g[8], policy).filter((s) => JSON.stringify(s.Resource).includes(":secret:use1-sessions-auth-"));
    expect(reads("use1-web-policy").map((s) => s.Sid)).toEqual(["ReadSessionsToken"]);
    expect(reads("use1-workers-policy")).toEqual([]);
    // The token is in its secret and the group only (the listener rule and the distribution hold the CDN's).
    expect(plaintextSecretLeaks(g[8], [T.secretVersion, T.rds, T.cache, T.listenerRule, T.dist])).toEqual([]);
  });

  it("leaves its names to Pulumi (unique per account), lower case as AWS stores them, within AWS's lengths", () => {
    for (const graph of [g[7], g.prod7]) {
      const group = graph.one(T.cache, "use1-sessions");
      // No explicit id: Pulumi adds a random suffix, so two stacks in one account never share one.
      expect(group.inputs.replicationGroupId).toBeUndefined();
      for (const r of [group, ...childrenOf(graph, "use1-sessions")]) {
        // ElastiCache stores replication group, subnet group and parameter group names in lower case: an upper-case
        // name would read back different and every `pulumi up` would try to change it.
        expect(r.name).toBe(r.name.toLowerCase());
      }
      // `<name>-<7 hex>`: ReplicationGroupId allows 40 characters, and the nodes add `-00N` within that.
      expect(`${group.name}-abcdef0`.length).toBeLessThanOrEqual(40);
    }
  });

  it("changes nothing on a second `pulumi up` once AWS has read it back (engine version kept as major.minor)", () => {
    for (const step of [7, 11]) {
      const graph = g[step];
      const sessions = new Set(
        graph.resources.filter((r) => /^[a-z0-9]+-sessions(-|$)/.test(r.name)).map((r) => r.urn),
      );
      expect(sessions.size).toBeGreaterThan(0);
      const changes = secondUpChanges(graph.resources, graph.resources, mockOutputsOf).filter((c) =>
        graph.resources.some((r) => sessions.has(r.urn) && r.name === c.name),
      );
      expect(changes.map(describeChange)).toEqual([]);
      // The provider keeps `<major>.<minor>` in engineVersion (the patch AWS applies lives in engineVersionActual):
      // a configured patch version would differ from what it reads back after every service update.
      for (const rg of graph.ofType(T.cache)) expect(rg.inputs.engineVersion).toMatch(/^\d+\.\d+$/);
    }
  });

  it("climbing 6 → 7 → 8 keeps every stateful resource (same URN); the group keeps its URN up to step 11", () => {
    const stateful = /^aws:(rds|s3|elasticache|secretsmanager|ssm\/parameter|route53)/;
    const lost = (from: Graph, to: Graph) => {
      const urns = new Set(to.resources.map((r) => r.urn));
      return from.resources.filter((r) => stateful.test(r.type) && !urns.has(r.urn)).map((r) => r.name);
    };
    expect(lost(g[6], g[7])).toEqual([]);
    expect(lost(g[7], g[8])).toEqual([]);
    const urns = [7, 8, 9, 10, 11].map((step) => g[step].one(T.cache, "use1-sessions").urn);
    expect(new Set(urns).size).toBe(1);
    expect(g[7].one(T.cache, "use1-cache").urn).toBe(g[6].one(T.cache, "use1-cache").urn);
  });

  it("step 11: one group per region, each through its region's provider, admitting that region's web tier", () => {
    const groups = g[11].ofType(T.cache).filter((r) => r.name.endsWith("-sessions"));
    expect(groups.map((r) => r.name).sort()).toEqual(["euw1-sessions", "use1-sessions"]);
    const index = new GraphIndex(g[11]);
    expect(groups.map((r) => index.regionOf(r)).sort()).toEqual(["eu-west-1", "us-east-1"]);
    for (const code of ["use1", "euw1"]) {
      const sg = sgIdOf(g[11].one(T.sg, `${code}-sessions-sg`));
      const web = sgIdOf(g[11].one(T.sg, `${code}-network-web-sg`));
      expect(ingressRules(g[11]).filter((r) => r.groupId === sg)).toEqual([
        expect.objectContaining({ from: 6379, to: 6379, sourceSg: web }),
      ]);
      expect(userDataOf(g[11], `${code}-web-lt`)).toContain(`@master.${code}-sessions.`);
    }
  });

  it("step 10 alarms before it is full: memory over 80 % on its primary node", () => {
    expect(g[9].ofType(T.alarm).map((a) => a.name)).not.toContain("use1-monitoring-sessions-memory");
    const alarm = g[10].one(T.alarm, "use1-monitoring-sessions-memory").inputs;
    expect(alarm).toMatchObject({
      namespace: "AWS/ElastiCache",
      metricName: "DatabaseMemoryUsagePercentage",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 80,
    });
    // The group's id (the mocks answer its logical name) and the first member node's suffix.
    expect(alarm.dimensions.CacheClusterId).toBe("use1-sessions-001");
  });

  it("is in the plan's price table: two cache.t4g.micro nodes and the token's secret", () => {
    const component = (step: number) =>
      estimateCost(new GraphIndex(g[step])).byComponent.find((c) => c.name === "use1-sessions");
    expect(component(6)).toBeUndefined();
    const node = VALKEY_HOURLY["cache.t4g.micro"] * HOURS_PER_MONTH;
    expect(
      component(7)
        ?.lines.map((l) => l.item)
        .sort(),
    ).toEqual(["2 × cache.t4g.micro (Valkey)", "Secrets Manager secret"]);
    expect(component(7)?.monthly).toBeCloseTo(2 * node + 0.4, 1);
  });
});
