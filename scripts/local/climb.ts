/**
 * One step up the ladder on the running shop, the way `pulumi up` changes AWS (Launcher.climb, `POST /climb`):
 *
 *   1. the services the new step adds start, tier by tier: replicas copy the current primary, shards, Redis,
 *      the queue (the emulator is never restarted: a region's queue is created on the running one), the origin;
 *   2. the data move of 1 → 2 (moveDatabase while the shop runs, then the write fence, a catch-up copy, the new
 *      server on the same port, and the old one told it has been replaced), see {@link cutOverToStepTwo};
 *   3. HAProxy: started at 2 → 3 beside the step-2 server on the entry port (both SO_REUSEPORT), reloaded at
 *      every later climb that changes its configuration (SIGUSR2 to the master: the listening sockets pass to the
 *      new worker, nothing is refused);
 *   4. the app processes roll ONE AT A TIME with the new step's environment: a web process's replacement starts
 *      on its other slot, passes /readyz and is enabled in HAProxy; then the old one hands its memory sessions
 *      over (POST /admin/sessions/handoff, while sessions live in memory: steps 1–6), is put in maintenance
 *      (sticky shoppers go to another server, which claims their session), drains and gets SIGTERM. Workers:
 *      the new one starts, then the old one gets SIGTERM. While old processes keep sessions in memory, HAProxy
 *      stays sticky (6 → 7), and turns round-robin once the last one is gone;
 *   5. 8 → 9: once no step-8 process writes orders any more, backfillOrderShards copies the catalog's orders into
 *      their shards;
 *   6. the services the new step no longer plans stop, in reverse order (step 1's `server`).
 *
 * Every climb but 1 → 2 is seamless: no request fails. 1 → 2 holds writes during the cutover and answers them
 * with a redirect to the same URL, which the new server then serves.
 */
import { existsSync } from "node:fs";
import { rename } from "node:fs/promises";
import path from "node:path";
import { backfillOrderShards } from "../../app/src/data-migrations/backfill-order-shards";
import { moveDatabase } from "../../app/src/data-migrations/move-database";
import type { ShardMap } from "../../app/src/shards/shard-map";
import {
  LocalError,
  PinnedConnection,
  httpSend,
  listenerCount,
  requireCommand,
  requireFreePort,
  waitFor,
} from "./checks";
import { sendCommand } from "../../lib/servers/redis-server";
import { webBackends } from "./haproxy";
import { type Launcher, STEP_NAMES } from "./launcher";
import { MAX_STEP } from "./options";
import { type Plan, type ProcessSpec, type RegionPlan, buildPlan, plannedPorts, processEnv } from "./plan";
import { reusePortProblem } from "../../app/src/config";
import { AppProcess } from "./services/app-process";
import { FauxqsService } from "./services/fauxqs";
import { HaproxyService } from "./services/haproxy";
import { type Service, TIERS } from "./services/service";

/** What a climb did, phase by phase. */
export interface ClimbReport {
  from: number;
  to: number;
  /** True when no request should fail during it (every climb but 1 → 2, which holds writes for the cutover). */
  seamless: boolean;
  phases: Array<{ name: string; ms: number; detail?: string }>;
}

/** How long a process taken out of HAProxy may take to finish what it serves before it gets SIGTERM anyway. */
const DRAIN_TIMEOUT_MS = 20_000;

/** See the module comment. Throws a LocalError unless `to` is the next step. */
export async function climb(launcher: Launcher, to: number): Promise<ClimbReport> {
  const old = launcher.plan;
  const from = old.step;
  if (from >= MAX_STEP) throw new LocalError(`step ${from} is the top of the ladder: there is nothing to climb to`);
  if (to !== from + 1)
    throw new LocalError(`climb: "to" must be ${from + 1} (one step up from step ${from}), got ${JSON.stringify(to)}`);
  const next = buildPlan({ ...launcher.options, step: to });
  if (next.haproxy) requireCommand("haproxy");
  if (next.cache) requireCommand("redis-server");
  const reusePort = old.features.fleet ? undefined : reusePortProblem(process.versions.node);
  if (reusePort)
    throw new LocalError(
      `the ${from} → ${to} climb binds the entry port twice (SO_REUSEPORT, LISTEN_REUSE_PORT), which ${reusePort}`,
    );
  const taken = new Set(plannedPorts(old).map((p) => p.port));
  for (const { port, what } of plannedPorts(next)) if (!taken.has(port)) await requireFreePort(port, what);

  const report: ClimbReport = { from, to, seamless: to !== 2, phases: [] };
  const phase = async (name: string, work: () => Promise<string | void>): Promise<void> => {
    const t0 = Date.now();
    const detail = (await work()) || undefined;
    const ms = Date.now() - t0;
    report.phases.push({ name, ms, ...(detail ? { detail } : {}) });
    launcher.out(`  ✓ ${name.padEnd(30)} ${detail ?? ""}  (${(ms / 1000).toFixed(1)} s)`);
  };
  launcher.out(`climbing ${from} → ${to} (${STEP_NAMES[to - 1]})`);
  const t0 = Date.now();
  const oldApps = new Map(launcher.apps().map((a) => [a.name, a]));
  launcher.setPlan(next);
  try {
    // 1. What the new step adds, tier by tier (the load balancer and the app come below).
    for (const tier of TIERS.filter((t) => t !== "edge" && t !== "app")) {
      const fresh = launcher.compose(next).filter((s) => s.tier === tier && !launcher.services.has(s.name));
      if (fresh.length > 0)
        await phase(`start ${fresh.map((s) => s.name).join(", ")}`, () => launcher.startServices(fresh));
    }
    const queue = launcher.services.get("fauxqs");
    if (
      queue instanceof FauxqsService &&
      next.regions.some((r) => r.queue && !(r.queue.name in launcher.ctx.runtime.queueUrls))
    )
      await phase("queues", async () => `created ${(await queue.ensureQueues()).join(", ")}`);

    // 2–4. The data move and the cutover (1 → 2), the load balancer and the roll.
    if (from === 1) await cutOverToStepTwo(launcher, old, next, oldApps, phase);
    else if (!old.haproxy) await putLoadBalancerInFront(launcher, next, oldApps, phase);
    else {
      // Sticky while any process that keeps sessions in memory serves: a shopper must reach the one holding theirs.
      launcher.stickyOverride = old.haproxy.sticky && !next.haproxy!.sticky ? true : undefined;
      await phase("haproxy reload", async () =>
        (await launcher.haproxy!.reload()) ? "new worker on the same sockets" : "configuration unchanged",
      );
      await roll(launcher, next, oldApps, phase);
      if (launcher.stickyOverride) {
        launcher.stickyOverride = undefined;
        await phase("haproxy reload (round-robin)", async () => {
          await launcher.haproxy!.reload();
          return "no memory sessions left: no stickiness";
        });
      }
    }

    // 5. Orders placed before step 9 move to their shards once no step-8 process writes them.
    if (next.features.shards && !old.features.shards)
      await phase("backfill order shards", async () => {
        // The shard map the step-9 processes were given (ORDER_SHARDS), with the role's current password (the
        // credentials file's: a rotation changes it there) in each URL.
        const [region] = next.regions;
        const env = processEnv(next, region, region.web[0], "web", launcher.ctx.secrets, launcher.ctx.runtime);
        const { password } = launcher.shopPool(next.primary);
        const map = JSON.parse(env.ORDER_SHARDS) as ShardMap;
        const withPassword = (url: string) => Object.assign(new URL(url), { password: encodeURIComponent(password) });
        const shards = map.shards.map((s) => ({ ...s, url: withPassword(s.url).href, readerUrl: undefined }));
        const r = await backfillOrderShards({
          catalog: { ...launcher.shopPool(next.primary), port: next.pgProxyPort ?? next.primary.port },
          shards: { ...map, shards },
          log: (line) => launcher.out(`    ${line}`),
        });
        return `${r.copied} rows copied; ${r.tables.map((t) => `${t.table} ${t.rows}`).join(", ")} verified`;
      });

    // 6. What the new step no longer plans.
    const planned = new Set(launcher.compose(next).map((s) => s.name));
    const gone = [...launcher.services.values()].filter((s) => !planned.has(s.name));
    for (const tier of [...TIERS].reverse())
      for (const s of gone.filter((g) => g.tier === tier))
        await phase(`stop ${s.name}`, async () => {
          await s.stop();
          launcher.services.delete(s.name);
        });
    await phase("entry ready", async () => launcher.waitForEntry());
  } catch (error) {
    launcher.out(`  ✗ the ${from} → ${to} climb failed: ${(error as Error).message}`);
    throw error;
  }
  launcher.out(`climbed ${from} → ${to} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return report;
}

type Phase = (name: string, work: () => Promise<string | void>) => Promise<void>;

/** The region of `next` a process of the old plan belongs to (same name). */
function regionIn(next: Plan, region: RegionPlan): RegionPlan {
  return next.regions.find((r) => r.name === region.name)!;
}

/** Asks a web process that keeps sessions in memory to write them where its replacement claims them. */
async function handOver(launcher: Launcher, proc: AppProcess, send?: PinnedConnection): Promise<string> {
  const headers = { authorization: `Bearer ${launcher.ctx.secrets.adminToken}` };
  const res = send
    ? await send.request("POST", "/admin/sessions/handoff", {}, headers)
    : await httpSend(`${proc.url}/admin/sessions/handoff`, "POST", {}, headers);
  if (res.status !== 200)
    throw new LocalError(`${proc.key}: POST /admin/sessions/handoff answered ${res.status} ${res.body.slice(0, 200)}`);
  return `${(JSON.parse(res.body) as { sessions: number }).sessions} sessions from ${proc.key}`;
}

/** Rolls every app process, one at a time, primary region first, web processes before workers. */
async function roll(launcher: Launcher, next: Plan, oldApps: Map<string, AppProcess>, phase: Phase): Promise<void> {
  for (const region of next.regions) {
    const fresh: AppProcess[] = [];
    for (const spec of region.web) {
      const old = oldApps.get(spec.name);
      if (old) await phase(`roll ${spec.name}`, () => rollWeb(launcher, next, region, spec, old));
      else
        await phase(`start ${spec.name}`, async () => {
          const proc = new AppProcess(launcher.ctx, region, spec, "web", 0);
          fresh.push(proc);
          return proc.start();
        });
    }
    // A new region (10 → 11): its shoppers' sessions are in the first region's Redis until now.
    if (fresh.length > 0) await phase(`open ${region.name}`, () => openRegion(launcher, next, region, fresh));
    for (const spec of region.workers) {
      const old = oldApps.get(spec.name);
      if (old)
        await phase(`roll ${spec.name}`, async () => {
          const proc = new AppProcess(launcher.ctx, region, spec, "worker", old.slot === 0 ? 1 : 0);
          await proc.start();
          await old.stop();
          launcher.services.set(spec.name, proc);
          return `${old.key} → ${proc.key}`;
        });
      else
        await phase(`start ${spec.name}`, async () => {
          const proc = new AppProcess(launcher.ctx, region, spec, "worker", 0);
          const detail = await proc.start();
          launcher.services.set(spec.name, proc);
          return detail;
        });
    }
  }
}

/**
 * Puts a new region's web processes (started, ready, in maintenance in HAProxy) in front of its shoppers: first
 * the sessions' Redis of the first region is copied into the region's own (MIGRATE … COPY REPLACE, TTLs kept:
 * shoppers the geo router moves there keep their carts), then the processes are enabled and marked up at once, so
 * that the copy is as fresh as can be when the geo router starts sending them traffic.
 */
async function openRegion(launcher: Launcher, next: Plan, region: RegionPlan, fresh: AppProcess[]): Promise<string> {
  const from = next.regions[0].sessionRedis;
  const to = region.sessionRedis;
  let copied = 0;
  if (from && to) copied = await copySessions(from.port, to.port, launcher.ctx.secrets.redisPassword);
  const haproxy = launcher.haproxy!;
  const [checked, ...others] = webBackends(region, next);
  for (const proc of fresh) {
    await haproxy.command(`set server ${checked}/${proc.key} state ready`);
    await haproxy.command(`set server ${checked}/${proc.key} health up`);
    for (const b of others) await haproxy.command(`set server ${b}/${proc.key} state ready`);
    launcher.services.set(proc.name, proc);
    launcher.slots.set(proc.name, proc.slot);
  }
  return `${copied} sessions copied from ${from?.name ?? "nowhere"}; ${fresh.map((p) => p.key).join(", ")} enabled`;
}

/** Copies every key of one Redis into another (the sessions' Redis holds sessions alone), TTLs kept. */
async function copySessions(fromPort: number, toPort: number, password: string): Promise<number> {
  const keys = parseRespArray(await sendCommand(fromPort, ["EVAL", "return redis.call('KEYS', '*')", "0"], password));
  for (let i = 0; i < keys.length; i += 500) {
    const batch = keys.slice(i, i + 500);
    const args = ["MIGRATE", "127.0.0.1", String(toPort), "", "0", "5000", "COPY", "REPLACE", "AUTH", password];
    const answer = await sendCommand(fromPort, [...args, "KEYS", ...batch], password, 10_000);
    if (!/^\+(OK|NOKEY)/.test(answer))
      throw new LocalError(`copying sessions to 127.0.0.1:${toPort}: ${answer.trim()}`);
  }
  return keys.length;
}

/** The bulk strings of a RESP array reply (`*2\r\n$3\r\nabc\r\n...`). */
function parseRespArray(reply: string): string[] {
  const lines = reply.split("\r\n");
  if (!lines[0].startsWith("*")) throw new LocalError(`unexpected Redis reply: ${reply.slice(0, 200)}`);
  const out: string[] = [];
  for (let i = 1; i < lines.length - 1; i += 2) if (lines[i].startsWith("$")) out.push(lines[i + 1]);
  return out;
}

/** One web process behind HAProxy: see step 4 of the module comment. */
async function rollWeb(
  launcher: Launcher,
  next: Plan,
  region: RegionPlan,
  spec: ProcessSpec,
  old: AppProcess,
): Promise<string> {
  const haproxy = launcher.haproxy!;
  const fresh = new AppProcess(launcher.ctx, region, spec, "web", old.slot === 0 ? 1 : 0);
  await fresh.start();
  const backends = webBackends(regionIn(next, region), next);
  for (const b of backends) await haproxy.command(`set server ${b}/${fresh.key} state ready`);
  await waitFor(
    `${fresh.key} up in haproxy`,
    async () =>
      (await haproxy.servers()).some((s) => s.backend === backends[0] && s.server === fresh.key && s.status === "UP"),
    { timeoutMs: 30_000 },
  );
  launcher.slots.set(spec.name, fresh.slot);
  const handed = old.memorySessions ? await handOver(launcher, old) : undefined;
  for (const b of backends) await haproxy.command(`set server ${b}/${old.key} state maint`);
  await waitFor(
    `${old.key} drained`,
    async () => (await haproxy.servers()).filter((s) => s.server === old.key).every((s) => s.current === 0),
    { timeoutMs: DRAIN_TIMEOUT_MS },
  ).catch(() => launcher.out(`  ! ${old.key} still served requests after ${DRAIN_TIMEOUT_MS / 1000} s: SIGTERM`));
  await old.stop();
  launcher.services.set(spec.name, fresh);
  return `${old.key} → ${fresh.key}${handed ? `, ${handed}` : ""}`;
}

/**
 * 2 → 3: the fleet starts on its slots, the step-2 server hands its sessions over, HAProxy binds the entry port
 * beside it (both SO_REUSEPORT: new connections reach one or the other), and the step-2 server stops listening
 * and finishes what it serves. From then on HAProxy alone answers on the entry port.
 */
async function putLoadBalancerInFront(
  launcher: Launcher,
  next: Plan,
  oldApps: Map<string, AppProcess>,
  phase: Phase,
): Promise<void> {
  const [region] = next.regions;
  const [old] = oldApps.values();
  const fleet: AppProcess[] = [];
  for (const spec of region.web)
    await phase(`start ${spec.name}`, async () => {
      const slot = spec.name === old.name && old.slot === 0 ? 1 : 0;
      const fresh = new AppProcess(launcher.ctx, region, spec, "web", slot);
      const detail = await fresh.start();
      launcher.slots.set(spec.name, slot);
      // Not in launcher.services yet: the step-2 server of the same name runs until HAProxy is in front.
      fleet.push(fresh);
      return detail;
    });
  if (old.memorySessions) await phase("session handoff", () => handOver(launcher, old));
  const haproxy = launcher.compose(next).find((s): s is HaproxyService => s instanceof HaproxyService)!;
  await phase("haproxy", () =>
    launcher.startServices([haproxy]).then(() => "on the entry port, beside the step-2 server"),
  );
  await phase(`stop ${old.key} (step 2)`, async () => {
    await old.stop();
    for (const f of fleet) launcher.services.set(f.name, f);
    return `HAProxy alone on 127.0.0.1:${next.entryPort}`;
  });
}

/**
 * 1 → 2: the catalog moves from the web server's own PostgreSQL into the primary: a bulk copy while the shop runs,
 * then the old server's sessions handed over and its writes fenced (held, not refused), a catch-up copy of what
 * changed meanwhile (verified), the step-2 server started on the same port (SO_REUSEPORT), and the old one told it
 * has been replaced: it stops listening and answers each held write with a 307 to the same URL, which the client
 * repeats on the new server. The old server is reached through a connection opened before the new one listens.
 * A failure before the switch opens the fence again: the shop goes on at step 1.
 */
async function cutOverToStepTwo(
  launcher: Launcher,
  old: Plan,
  next: Plan,
  oldApps: Map<string, AppProcess>,
  phase: Phase,
): Promise<void> {
  const [server, spec] = [old.server!, next.regions[0].web[0]];
  const oldWeb = oldApps.get(spec.name)!;
  const source = launcher.shopPool(server);
  const target = launcher.shopPool(next.primary);
  const admin = { authorization: `Bearer ${launcher.ctx.secrets.adminToken}` };
  let pinned: PinnedConnection | undefined;
  let fresh: AppProcess | undefined;
  let moved = false;
  const expect200 = async (what: string, body: unknown, path: string) => {
    const res = await pinned!.request("POST", path, body, admin);
    if (res.status !== 200)
      throw new LocalError(`${oldWeb.key}: ${what} answered ${res.status} ${res.body.slice(0, 200)}`);
  };
  try {
    await phase("move database (bulk)", async () => {
      const r = await moveDatabase({ source, target });
      return `${r.copied} rows copied, ${r.tables.length} tables verified`;
    });
    pinned = await PinnedConnection.open(oldWeb.port);
    await phase("session handoff", () => handOver(launcher, oldWeb, pinned));
    await phase("write fence", () => expect200("the fence", { writes: "fenced" }, "/admin/maintenance"));
    await phase("move database (catch-up)", async () => {
      const r = await moveDatabase({ source, target });
      return `${r.copied} rows copied, ${r.tables.length} tables verified`;
    });
    await phase(`start ${spec.name} (step 2)`, async () => {
      fresh = new AppProcess(launcher.ctx, next.regions[0], spec, "web", oldWeb.slot === 0 ? 1 : 0);
      // Both listen on the entry port now: the new one is up once a second socket listens there.
      return fresh.start(async () => listenerCount(spec.port) >= 2);
    });
    await phase("cutover", async () => {
      await expect200("the switch", { writes: "moved" }, "/admin/maintenance");
      moved = true;
      launcher.catalogMoved();
      return `${oldWeb.key} stopped listening; held writes redirected to the same URL`;
    });
  } catch (error) {
    if (!moved) {
      await pinned?.request("POST", "/admin/maintenance", { writes: "open" }, admin).catch(() => undefined);
      await fresh?.stop();
      launcher.setPlan(old);
    }
    throw error;
  } finally {
    pinned?.close();
  }
  await phase(`stop ${oldWeb.key} (step 1)`, async () => {
    await oldWeb.stop();
    launcher.services.set(spec.name, fresh!);
  });
  const serverService: Service | undefined = launcher.services.get(server.name);
  await phase("stop postgres server (step 1)", async () => {
    await serverService?.stop();
    launcher.services.delete(server.name);
    if (existsSync(server.dataDir)) await rename(server.dataDir, launcher.movedServerDir());
    return `its data is kept in ${path.relative(next.dataDir, launcher.movedServerDir())}`;
  });
}
