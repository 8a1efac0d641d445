/**
 * Local mode's plan (scripts/local/plan.ts): every port it uses is named by plannedPorts (the "port taken" check
 * runs on that list), none twice, all inside the block P…P+299 that `--port` moves, at every step and with the most
 * processes the options allow, spare slots included; and a climb changes no name that runs on (the first region
 * keeps its names at step 11).
 */
import { DEFAULTS, MAX_STEP, MIN_STEP } from "../../scripts/local/options";
import { MAX_WEB, MAX_WORKERS, type Plan, buildPlan, plannedPorts } from "../../scripts/local/plan";

const P = 30000;
const plan = (step: number, more: Partial<typeof DEFAULTS> = {}): Plan =>
  buildPlan({ ...DEFAULTS, ...more, step, port: P, dataDir: "/tmp/scale-ladder-plan-test" });
const steps = Array.from({ length: MAX_STEP - MIN_STEP + 1 }, (_, i) => MIN_STEP + i);

/** Every port a plan's services and processes listen on, read from the plan itself rather than plannedPorts. */
function usedPorts(p: Plan): number[] {
  const ports = [p.entryPort, p.controlPort, p.catalog.port, ...p.shards.map((s) => s.port)];
  if (p.pgProxyPort) ports.push(p.pgProxyPort);
  if (p.haproxy) ports.push(p.haproxy.statsPort, p.haproxy.adminPort);
  if (p.cdn) ports.push(p.cdn.edgePort, p.cdn.originPort);
  if (p.queue) ports.push(p.queue.port);
  for (const r of p.regions) {
    if (r.lbPort) ports.push(r.lbPort);
    ports.push(...r.replicas.map((s) => s.port));
    if (r.redis) ports.push(r.redis.port);
    if (r.sessionRedis) ports.push(r.sessionRedis.port);
    for (const proc of [...r.web, ...r.workers]) ports.push(proc.port, ...(proc.spare ? [proc.spare] : []));
  }
  return [...new Set(ports)];
}

test.each(steps)("step %i: plannedPorts names every port once, inside P…P+299, at the most processes", (step) => {
  for (const p of [plan(step), plan(step, { web: MAX_WEB, workers: MAX_WORKERS, replicas: 5, shards: 16 })]) {
    const planned = plannedPorts(p).map((x) => x.port);
    expect(planned.length).toBe(new Set(planned).size);
    expect([...planned].sort()).toEqual(usedPorts(p).sort());
    expect(Math.min(...planned)).toBe(P);
    expect(Math.max(...planned)).toBeLessThanOrEqual(P + 299);
  }
});

test("from step 3 every web process and every worker has a spare slot for a climb's replacement", () => {
  for (const step of steps.filter((s) => s >= 3)) {
    for (const proc of plan(step).regions.flatMap((r) => [...r.web, ...r.workers]))
      expect([step, proc.name, proc.spare]).toEqual([step, proc.name, expect.any(Number)]);
  }
  // Steps 1–2: the single server's replacement shares the entry port (SO_REUSEPORT).
  expect(plan(2).regions[0].web).toEqual([{ name: "web-1", region: "us-east-1", port: P, spare: undefined }]);
});

test("step 1's catalog is its own server; from step 2 it is the primary", () => {
  expect(plan(1).catalog).toMatchObject({ name: "server", port: P + 8 });
  expect(plan(2).catalog).toMatchObject({ name: "primary", port: P + 10 });
  expect(plan(2).server).toBeUndefined();
});

test("climbing one step never renames what runs on: every name of step N is planned at N+1 but step 1's server", () => {
  const names = (p: Plan) => [
    p.catalog.name,
    ...p.shards.map((s) => s.name),
    ...p.regions.flatMap((r) => [
      ...r.replicas.map((s) => s.name),
      ...[r.redis?.name, r.sessionRedis?.name, r.queue?.name].filter((n) => n !== undefined),
      ...r.web.map((w) => w.name),
      ...r.workers.map((w) => w.name),
    ]),
  ];
  for (const step of steps.slice(0, -1)) {
    const next = new Set(names(plan(step + 1)));
    expect([step, names(plan(step)).filter((n) => !next.has(n))]).toEqual([step, step === 1 ? ["server"] : []]);
  }
});
