/**
 * Runs the local topology of one step: composes the services of its plan (services/: one file per service),
 * starts them tier by tier with progress lines, prints one table of what runs where, answers a small control
 * endpoint on 127.0.0.1 (status, faults, climb, stop), and stops every service in reverse order.
 *
 * `climb(to)` takes the running shop one step up the way `pulumi up` changes AWS (climb.ts has the order of
 * work). See plan.ts for what runs at which step and on which port.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import type { PoolConfig } from "pg";
import { adminTokenProblem } from "../../components/admin-token";
import { moveDatabase } from "../../app/src/data-migrations/move-database";
import { LocalError, httpGet, requireCommand, requireFreePort, waitFor } from "./checks";
import { type ClimbReport, climb } from "./climb";
import type { PgTarget } from "./console/collector";
import { type ConsoleHost, ConsoleServer, crossSiteProblem } from "./console/server";
import { EventLog } from "./console/events";
import { type HaproxyView, haproxyCommand } from "./haproxy";
import { type LocalOptions, MAX_STEP, PROJECT_DIR } from "./options";
import {
  type LocalSecrets,
  type PgSpec,
  type Plan,
  type Runtime,
  SESSION_REDIS_MEMORY,
  buildPlan,
  localCredentials,
  localCredentialsFile,
  plannedPorts,
} from "./plan";
import * as pg from "./postgres";
import { AppProcess } from "./services/app-process";
import { FauxqsService } from "./services/fauxqs";
import { HaproxyService } from "./services/haproxy";
import { PostgresPrimary, PostgresReplica } from "./services/postgres";
import { RedisService } from "./services/redis";
import {
  FAULTS,
  type FaultKind,
  type Service,
  type ServiceContext,
  type ServiceStatus,
  TIERS,
  alive,
} from "./services/service";
import { StaticOrigin } from "./services/static-origin";
import { Supervisor, killLeftovers } from "./supervisor";
import { renderTable } from "./table";

export { FAULTS, type FaultKind, type ServiceStatus, type ClimbReport };

/** Names of the steps, as stacks/steps.ts has them. */
export const STEP_NAMES = [
  "single-server",
  "separate-database",
  "load-balancer",
  "read-replicas",
  "cache",
  "cdn",
  "stateless-web",
  "message-queue",
  "sharding",
  "observability",
  "multi-region",
];

/** What `launcher.json` in the data directory holds while a launcher runs: how the fault CLI and tests find it. */
export interface LauncherFile {
  pid: number;
  /** The step that runs now (it changes with a climb). */
  step: number;
  entryUrl: string;
  controlUrl: string;
  state: "starting" | "ready" | "climbing" | "stopping";
  /** Milliseconds from the launcher's start to every /readyz green. */
  readyAfterMs?: number;
}

export class Launcher {
  private currentPlan: Plan;
  private secrets!: LocalSecrets;
  private readonly runtime: Runtime = { queueUrls: {} };
  private pgRuntime!: pg.PgRuntime;
  private readonly supervisor: Supervisor;
  private control?: http.Server;
  private releaseDir = "";
  /** The server currently acting as the catalog primary (a replica after a failover). */
  private currentPrimary: PgSpec;
  private readonly startedAt = Date.now();
  private stopping?: Promise<void>;
  private climbing?: Promise<ClimbReport>;
  /** Every service that runs, by name, in the order it started. */
  readonly services = new Map<string, Service>();
  /** Which slot each web process runs on, as HAProxy routes to it (plan.ts, haproxy.ts). */
  readonly slots = new Map<string, 0 | 1>();
  /** Cookie stickiness while memory-session processes still run (a 6 → 7 roll), beyond the plan's. */
  stickyOverride?: boolean;
  /** What every service reads: the current plan and the launcher's shared state. */
  readonly ctx: ServiceContext;
  /** The console's event log: faults, failovers, restarts, climbs (and health changes the console sees). */
  readonly events = new EventLog();
  /** The console, on the control endpoint (console/server.ts). */
  private console?: ConsoleServer;

  constructor(
    readonly options: LocalOptions,
    readonly out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {
    this.currentPlan = buildPlan(options);
    this.currentPrimary = this.currentPlan.catalog;
    this.supervisor = new Supervisor(this.currentPlan.logDir, path.join(this.currentPlan.runDir, "pids"), (m) => {
      this.out(`  ! ${m}`);
      this.events.add("restart", m);
    });
    // Read through: the plan changes with a climb, the secrets, binaries and release are known once started.
    const read = {
      plan: () => this.currentPlan,
      secrets: () => this.secrets,
      pgRuntime: () => this.pgRuntime,
      releaseDir: () => this.releaseDir,
    };
    this.ctx = {
      get plan() {
        return read.plan();
      },
      options,
      get secrets() {
        return read.secrets();
      },
      runtime: this.runtime,
      get pgRuntime() {
        return read.pgRuntime();
      },
      supervisor: this.supervisor,
      get releaseDir() {
        return read.releaseDir();
      },
      out: (line) => this.out(line),
    };
  }

  /** The plan of the step that runs now: the next step's once a climb has begun. */
  get plan(): Plan {
    return this.currentPlan;
  }

  /** @internal climb.ts moves the plan one step up. */
  setPlan(plan: Plan): void {
    this.currentPlan = plan;
  }

  /** @internal The 1 → 2 climb: the catalog now lives in the plan's primary. */
  catalogMoved(): void {
    this.currentPrimary = this.currentPlan.primary;
  }

  private get launcherFile(): string {
    return path.join(this.plan.dataDir, "launcher.json");
  }

  /** Starts everything; resolves once every /readyz is green. On failure, stops what it started and rethrows. */
  async start(): Promise<void> {
    const { plan } = this;
    this.out(
      `scale-ladder local: step ${plan.step} (${STEP_NAMES[plan.step - 1]}), entry ` +
        `http://127.0.0.1:${plan.entryPort}, data ${plan.dataDir}`,
    );
    await this.preflight();
    try {
      await this.startControl();
      await this.writeLauncherFile("starting");
      await this.timed("release", async () => this.prepareRelease());
      this.pgRuntime = await pg.preparePgRuntime(plan.runDir, this.secrets);
      await this.adoptFailover();
      const primaryIsNew = plan.features.separateDatabase && !existsSync(path.join(plan.primary.dataDir, "PG_VERSION"));
      for (const tier of TIERS) {
        await this.startServices(this.compose(plan).filter((s) => s.tier === tier && !this.services.has(s.name)));
        // A step-1 shop started at a later step: its catalog moves into the new primary before anything reads it.
        if (tier === "database") await this.moveStepOneDatabase(primaryIsNew);
      }
      await this.waitForEntry();
      const readyAfterMs = Date.now() - this.startedAt;
      await this.writeLauncherFile("ready", readyAfterMs);
      this.out(`ready in ${(readyAfterMs / 1000).toFixed(1)} s\n`);
      this.out(renderTable(this.status()));
      this.out(`\nConsole: http://127.0.0.1:${plan.controlPort}/  (the topology, health, figures, faults, events)`);
      this.out(
        `\nOpen http://127.0.0.1:${plan.entryPort}/` +
          (plan.features.multiRegion ? "  (send X-Geo-Continent: EU to reach eu-west-1)" : ""),
      );
      this.out(
        `Faults: npm run local:fault -- <${Object.keys(FAULTS).join("|")}> ` +
          `[name]${this.options.dataDir !== path.join(PROJECT_DIR, ".local") ? ` --data-dir ${plan.dataDir}` : ""}`,
      );
      if (plan.step < MAX_STEP)
        this.out(
          `Climb: curl -X POST -H 'content-type: application/json' -d '{"to": ${plan.step + 1}}' ` +
            `http://127.0.0.1:${plan.controlPort}/climb`,
        );
      if (plan.emf)
        this.out("Business metrics (EMF, AWS_EMF_ENVIRONMENT=Local): one JSON line per process every minute, here.");
      this.out("Ctrl-C stops everything.");
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /**
   * Starts `services` (of one tier) at once, each with its progress line, and records them. In the app tier the
   * first web process starts alone: it migrates and seeds, which the others would wait for on its advisory lock.
   */
  async startServices(services: Service[]): Promise<void> {
    const run = async (s: Service) => {
      await this.timed(s.name, () => s.start());
      this.services.set(s.name, s);
      if (s instanceof AppProcess && s.kind === "web") this.slots.set(s.name, s.slot);
    };
    const [first, ...rest] = services;
    if (!first) return;
    if (first.tier === "app") {
      await run(first);
      await Promise.all(rest.map(run));
    } else await Promise.all(services.map(run));
  }

  /**
   * The services of `plan`, tier by tier: the running one where a service of that name runs (a climb keeps it),
   * a new one otherwise.
   */
  compose(plan: Plan): Service[] {
    const ctx = this.ctx;
    const multi = plan.regions.length > 1;
    const keep = (make: () => Service, name: string): Service => this.services.get(name) ?? make();
    const list: Service[] = [];
    const catalog = plan.catalog;
    list.push(keep(() => new PostgresPrimary(ctx, catalog, () => this.pgRole(catalog), true), catalog.name));
    for (const s of plan.shards)
      list.push(keep(() => new PostgresPrimary(ctx, s, () => "postgres shard", false), s.name));
    for (const r of plan.regions)
      for (const s of r.replicas)
        list.push(
          keep(
            () =>
              new PostgresReplica(
                ctx,
                s,
                () => this.pgRole(s),
                multi ? r.name : undefined,
                () => this.currentPrimary,
              ),
            s.name,
          ),
        );
    for (const r of plan.regions) {
      if (r.redis && plan.cache) {
        const note = `${plan.cache.maxmemory}, ${plan.cache.policy}, TTL ${plan.cache.ttlSeconds} s`;
        const redis = r.redis;
        list.push(keep(() => new RedisService(ctx, redis, plan.cache!, note, multi ? r.name : undefined), redis.name));
      }
      if (r.sessionRedis) {
        const note = `sessions, ${SESSION_REDIS_MEMORY.maxmemory}, ${SESSION_REDIS_MEMORY.policy}`;
        const redis = r.sessionRedis;
        list.push(
          keep(() => new RedisService(ctx, redis, SESSION_REDIS_MEMORY, note, multi ? r.name : undefined), redis.name),
        );
      }
    }
    if (plan.queue) list.push(keep(() => new FauxqsService(ctx), "fauxqs"));
    if (plan.cdn) {
      const port = plan.cdn.originPort;
      list.push(keep(() => new StaticOrigin(ctx, port), "static-origin"));
    }
    if (plan.haproxy)
      list.push(
        keep(
          () =>
            new HaproxyService(
              ctx,
              () => this.haproxyView(),
              () => this.currentPrimary.name,
            ),
          "haproxy",
        ),
      );
    for (const r of plan.regions)
      for (const [specs, kind] of [
        [r.web, "web"],
        [r.workers, "worker"],
      ] as const)
        for (const spec of specs) list.push(keep(() => new AppProcess(ctx, r, spec, kind), spec.name));
    return list;
  }

  /** What HAProxy's configuration needs beyond the plan. */
  haproxyView(): HaproxyView {
    return {
      // A web process a climb has not started yet stays in maintenance until the climb enables it.
      slotOf: (name) => this.slots.get(name) ?? (this.climbing ? undefined : 0),
      primaryPort: this.currentPrimary.port,
      sticky: this.stickyOverride,
    };
  }

  get haproxy(): HaproxyService | undefined {
    const h = this.services.get("haproxy");
    return h instanceof HaproxyService ? h : undefined;
  }

  /** The app processes that run now, primary region first, web before workers. */
  apps(): AppProcess[] {
    return [...this.services.values()].filter((s): s is AppProcess => s instanceof AppProcess);
  }

  private pgRole(spec: PgSpec): string {
    if (spec === this.currentPrimary || spec.name === "server") return "postgres primary";
    if (spec.name === this.currentPlan.primary.name) return "postgres (old primary)";
    return "postgres replica";
  }

  /** Climbs one step up (`to` must be the next step); see climb.ts. Resolves with what each phase took. */
  climb(to: number): Promise<ClimbReport> {
    if (this.climbing) return Promise.reject(new LocalError("a climb is under way; wait for it to finish"));
    if (this.stopping) return Promise.reject(new LocalError("the launcher is stopping"));
    this.climbing = (async () => {
      await this.writeLauncherFile("climbing");
      const from = this.plan.step;
      this.events.add("climb", `climb ${from} → ${to} started`);
      try {
        const report = await climb(this, to);
        const seconds = (report.phases.reduce((sum, p) => sum + p.ms, 0) / 1000).toFixed(1);
        this.events.add("climb", `climb ${from} → ${to} done in ${seconds} s`);
        return report;
      } catch (error) {
        this.events.add("error", `climb ${from} → ${to} failed: ${(error as Error).message}`);
        throw error;
      } finally {
        await this.writeLauncherFile("ready");
      }
    })().finally(() => (this.climbing = undefined));
    return this.climbing;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Start-up phases

  private async preflight(): Promise<void> {
    const { plan } = this;
    if (plan.haproxy) requireCommand("haproxy");
    if (plan.cache) requireCommand("redis-server");
    // Another launcher on the same data directory?
    let previous: LauncherFile | undefined;
    try {
      previous = JSON.parse(await readFile(this.launcherFile, "utf8")) as LauncherFile;
    } catch {
      previous = undefined; // none, or half-written by a launcher that died
    }
    if (previous && previous.pid !== process.pid && alive(previous.pid)) {
      throw new LocalError(
        `a launcher (pid ${previous.pid}, step ${previous.step}) already runs on ${plan.dataDir}: stop it first ` +
          `(Ctrl-C there, or kill ${previous.pid}), or use another --data-dir.`,
      );
    }
    await mkdir(plan.dataDir, { recursive: true });
    // Whatever a killed launcher left running on this data directory goes first, then its data if asked to.
    const leftovers = killLeftovers(path.join(plan.runDir, "pids"));
    for (const spec of this.pgDirs()) if (await pg.stopLeftover(spec)) leftovers.push(`postgres ${spec.name}`);
    if (leftovers.length > 0) this.out(`  · stopped what a previous launcher left running: ${leftovers.join(", ")}`);
    for (const { port, what } of plannedPorts(plan)) await requireFreePort(port, what);
    if (this.options.reset) {
      await rm(plan.dataDir, { recursive: true, force: true });
      this.out(`  · --reset: wiped ${plan.dataDir}`);
    }
    await mkdir(plan.logDir, { recursive: true });
    await mkdir(plan.runDir, { recursive: true });
    // PostgreSQL runs as user postgres when we are root: it must be able to walk into the data directory.
    await chmod(plan.dataDir, 0o755);
    this.secrets = await this.loadSecrets();
    // Written once: after a rotation the file, not secrets.json, holds the role's password (as the secret does on
    // AWS), and a restart of the launcher must not take it back.
    const credentials = localCredentialsFile(plan);
    if (!existsSync(credentials)) await writeFile(credentials, localCredentials(this.secrets), { mode: 0o600 });
  }

  private async loadSecrets(): Promise<LocalSecrets> {
    const file = path.join(this.plan.dataDir, "secrets.json");
    const hex = (n: number) => randomBytes(n).toString("hex");
    if (existsSync(file)) {
      const kept = JSON.parse(await readFile(file, "utf8")) as LocalSecrets;
      // A data directory from before the admin token rule holds a 32-digit token, which the app now refuses.
      if (adminTokenProblem(kept.adminToken) === undefined) return kept;
      const secrets = { ...kept, adminToken: hex(32) };
      await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
      return secrets;
    }
    const secrets: LocalSecrets = {
      superuserPassword: hex(12),
      replicationPassword: hex(12),
      shopPassword: hex(12),
      redisPassword: hex(16),
      adminToken: hex(32), // 64 hex digits: the admin token rule refuses 32 (components/admin-token.ts)
      sessionSecret: hex(24),
    };
    await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    return secrets;
  }

  /** The built release, unpacked into the data directory so that a rebuild never changes what runs. */
  private async prepareRelease(): Promise<string> {
    if (this.options.runtime === "ts") {
      this.releaseDir = path.join(PROJECT_DIR, "app");
      return "TypeScript sources (scripts/run.mjs)";
    }
    const archive = path.join(PROJECT_DIR, "dist", "shop.tgz");
    let built = "";
    if (
      !existsSync(archive) ||
      newestMtime([path.join(PROJECT_DIR, "app"), path.join(PROJECT_DIR, "scripts", "build-app.mjs")]) >
        statSync(archive).mtimeMs
    ) {
      try {
        execFileSync(process.execPath, [path.join(PROJECT_DIR, "scripts", "build-app.mjs")], {
          cwd: PROJECT_DIR,
          stdio: "pipe",
        });
      } catch (error) {
        throw new LocalError(
          `npm run build failed:\n${(error as { stderr?: Buffer }).stderr?.toString() ?? (error as Error).message}`,
        );
      }
      built = "built, ";
    }
    const hash = createHash("sha256").update(readFileSync(archive)).digest("hex").slice(0, 12);
    this.releaseDir = path.join(this.plan.dataDir, "release", hash);
    if (!existsSync(path.join(this.releaseDir, "server.js"))) {
      await rm(this.releaseDir, { recursive: true, force: true });
      await mkdir(this.releaseDir, { recursive: true });
      execFileSync("tar", ["-xzf", archive, "-C", this.releaseDir]);
    }
    return `${built}dist/shop.tgz ${hash} → ${this.releaseDir}`;
  }

  /** A failover in the last run made a replica the primary: its data directory is the primary's from now on. */
  private async adoptFailover(): Promise<void> {
    const { plan } = this;
    const state = await this.readState();
    if (!state.promoted) return;
    const promoted = path.join(plan.dataDir, "pg", state.promoted);
    if (existsSync(path.join(promoted, "PG_VERSION"))) {
      await pg.adoptPromoted(plan.primary, promoted);
      this.out(
        `  · the last run failed over to ${state.promoted}: its data is the primary's now (the old primary's ` +
          `is in pg/primary.before-failover)`,
      );
    }
    await this.writeState({});
  }

  /** The pool settings of role `shop` on `spec`, with the password the credentials file holds now. */
  shopPool(spec: PgSpec): PoolConfig & { user: string; password: string } {
    const { username, password } = JSON.parse(readFileSync(localCredentialsFile(this.plan), "utf8")) as {
      username: string;
      password: string;
    };
    return { host: "127.0.0.1", port: spec.port, user: username, password, database: spec.database };
  }

  /** Where a step-1 database goes once its data has moved into the primary: kept for a look, never moved again. */
  movedServerDir(): string {
    return path.join(this.plan.dataDir, "pg", "server.moved");
  }

  /**
   * `npm start -- --step N` (N ≥ 2) on a data directory whose catalog is still in step 1's `server`: starts that
   * server on its own port, copies it into the new primary with moveDatabase (verified), and sets it aside.
   */
  private async moveStepOneDatabase(primaryIsNew: boolean): Promise<void> {
    const { plan } = this;
    const serverDir = path.join(plan.dataDir, "pg", "server");
    if (!plan.features.separateDatabase || !existsSync(path.join(serverDir, "PG_VERSION"))) return;
    if (!primaryIsNew) {
      this.out(
        `  ! ${serverDir} holds a step-1 database, and the primary has data of its own: nothing is moved (move ` +
          `it aside, or start with a data directory whose primary is empty)`,
      );
      return;
    }
    const server = buildPlan({ ...this.options, step: 1 }).server!;
    const service = new PostgresPrimary(this.ctx, server, () => "postgres (step 1)", false);
    await this.timed("postgres server (step 1)", () => service.start());
    try {
      await this.timed("move database (server → primary)", async () => {
        const report = await moveDatabase({ source: this.shopPool(server), target: this.shopPool(plan.primary) });
        return `${report.tables.length} tables verified, ${report.copied} rows copied`;
      });
    } finally {
      await service.stop();
    }
    await rename(serverDir, this.movedServerDir());
  }

  async waitForEntry(): Promise<void> {
    const { plan } = this;
    const entries = plan.features.multiRegion
      ? plan.regions.map((r) => ({ what: `load balancer ${r.name}`, url: `http://127.0.0.1:${r.lbPort}/readyz` }))
      : [];
    entries.push({
      what: plan.features.multiRegion ? "geo router" : plan.features.fleet ? "load balancer" : "entry",
      url: `http://127.0.0.1:${plan.entryPort}/readyz`,
    });
    for (const e of entries) {
      await this.timed(e.what, async () => {
        await waitFor(`${e.url}`, async () => (await httpGet(e.url)).status === 200, { timeoutMs: 30_000 });
        const haproxy = this.haproxy;
        if (haproxy) {
          // HAProxy must see every web server healthy (not only one) before the entry counts as ready; a spare
          // slot is in maintenance until a climb uses it.
          await waitFor(
            "every web server healthy in HAProxy",
            async () =>
              (await haproxy.servers())
                .filter((s) => s.backend.startsWith("web") && !s.backend.endsWith("_any") && s.status !== "MAINT")
                .every((s) => s.status === "UP"),
            { timeoutMs: 30_000 },
          );
        }
        return e.url.replace("/readyz", "");
      });
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Control endpoint, status and faults

  private async startControl(): Promise<void> {
    const port = this.plan.controlPort;
    this.console = new ConsoleServer(this.consoleHost(), this.events);
    this.control = http.createServer((req, res) => {
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { "content-type": "application/json" }).end(`${JSON.stringify(body, null, 2)}\n`);
      };
      // Another site's page must not stop the shop or inject faults through the developer's browser.
      const refused = crossSiteProblem(req, port);
      if (refused) {
        req.resume();
        return reply(403, { error: refused });
      }
      if (this.console?.handle(req, res)) return;
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", (): void => {
        const url = req.url ?? "/";
        const json = <T>(): T | undefined => {
          try {
            return JSON.parse(body || "{}") as T;
          } catch {
            return undefined;
          }
        };
        if (req.method === "GET" && url === "/status")
          return reply(200, {
            step: this.plan.step,
            entryUrl: `http://127.0.0.1:${this.plan.entryPort}`,
            services: this.status(),
          });
        if (req.method === "POST" && url === "/stop") {
          reply(202, { stopping: true });
          void this.stop().then(() => process.exit(0));
          return;
        }
        if (req.method === "POST" && url === "/fault") {
          const request = json<{ kind?: string; target?: string }>();
          if (!request) return reply(400, { error: "body must be JSON { kind, target? }" });
          this.fault(request.kind as FaultKind, request.target).then(
            (done) => reply(200, { done }),
            (error: Error) => reply(error instanceof LocalError ? 409 : 500, { error: error.message }),
          );
          return;
        }
        if (req.method === "POST" && url === "/climb") {
          const request = json<{ to?: unknown }>();
          if (!request || typeof request.to !== "number")
            return reply(400, { error: `body must be JSON { "to": ${Math.min(this.plan.step + 1, MAX_STEP)} }` });
          this.climb(request.to).then(
            (report) => reply(200, report),
            (error: Error) => reply(error instanceof LocalError ? 409 : 500, { error: error.message }),
          );
          return;
        }
        reply(404, {
          error:
            'GET / (the console), GET /status, POST /fault { kind, target? }, POST /climb { "to": N }, POST /stop ' +
            "(POSTs as application/json)",
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.control!.once("error", reject);
      this.control!.listen(this.plan.controlPort, "127.0.0.1", () => resolve());
    });
  }

  /**
   * What runs where, for the table and `GET /status`: the load balancer, the static origin, each region's web
   * processes, workers and Redis, the queue, then the databases; a service the plan no longer names (during a climb)
   * last.
   */
  status(): ServiceStatus[] {
    const planned = this.compose(this.plan).filter((s) => this.services.get(s.name) === s);
    const tier = (t: Service["tier"]) => planned.filter((s) => s.tier === t);
    const ordered = [
      ...tier("edge"),
      ...tier("static"),
      ...this.plan.regions.flatMap((r) => {
        const apps = planned.filter((s): s is AppProcess => s instanceof AppProcess && s.region.name === r.name);
        const redis = [r.redis?.name, r.sessionRedis?.name];
        return [
          ...apps.filter((a) => a.kind === "web"),
          ...apps.filter((a) => a.kind === "worker"),
          ...planned.filter((s) => s instanceof RedisService && redis.includes(s.name)),
        ];
      }),
      ...tier("queue"),
      ...tier("database"),
      ...tier("replica"),
    ];
    const rest = [...this.services.values()].filter((s) => !ordered.includes(s));
    return [...ordered, ...rest].flatMap((s) => s.status());
  }

  /**
   * Injects one fault into the current step's services; resolves with a sentence saying what was done, which the
   * console's event log records too (a failure as well).
   */
  async fault(kind: FaultKind, target?: string): Promise<string> {
    if (kind === "status") return this.injectFault(kind, target);
    const what = `${kind}${target ? ` ${target}` : ""}`;
    try {
      const done = await this.injectFault(kind, target);
      this.events.add(kind === "primary-failover" ? "failover" : "fault", `${what}: ${done}`);
      return done;
    } catch (error) {
      this.events.add("error", `${what} failed: ${(error as Error).message}`);
      throw error;
    }
  }

  private async injectFault(kind: FaultKind, target?: string): Promise<string> {
    const { plan } = this;
    if (kind === "status") return renderTable(this.status());
    if (!(kind in FAULTS))
      throw new LocalError(`unknown fault ${JSON.stringify(kind)}: ${Object.keys(FAULTS).join(", ")}`);
    if (this.climbing) throw new LocalError("a climb is under way: inject faults before or after it");
    const replicas = [...this.services.values()].filter(
      (s): s is PostgresReplica => s instanceof PostgresReplica && s.spec !== this.currentPrimary,
    );
    const pick = <T extends Service>(items: T[], what: string, filter: (t: T) => boolean = () => true): T => {
      const found = target ? items.find((i) => i.name === target) : items.find(filter);
      if (!found)
        throw new LocalError(
          target
            ? `no ${what} named ${target} (there: ${items.map((i) => i.name).join(", ") || "none"})`
            : `no ${what} to act on at step ${plan.step}`,
        );
      return found;
    };
    switch (kind) {
      case "replica-stop":
        return pick(replicas, "running replica", (s) => !s.stopped).fault(kind);
      case "replica-start":
        return pick(replicas, "stopped replica", (s) => s.stopped).fault(kind);
      case "primary-failover":
        return this.failover(pick);
      case "redis-stop":
      case "redis-start":
        return this.redisNamed(target).fault(kind);
      case "worker-kill":
      case "web-kill": {
        const procs = this.apps().filter((a) => a.kind === (kind === "web-kill" ? "web" : "worker"));
        const proc = pick(procs, kind === "web-kill" ? "web process" : "worker", (p) => p.running);
        return proc.fault(kind);
      }
    }
  }

  private async failover(
    pick: (items: PostgresReplica[], what: string, filter: (t: PostgresReplica) => boolean) => PostgresReplica,
  ): Promise<string> {
    const { plan } = this;
    if (!plan.pgProxyPort)
      throw new LocalError(`step ${plan.step} has no replica to promote (replicas come at step 4)`);
    const home = new Set(plan.regions[0].replicas.map((s) => s.name));
    const replicas = [...this.services.values()].filter(
      (s): s is PostgresReplica => s instanceof PostgresReplica && s.spec !== this.currentPrimary,
    );
    const candidate = pick(
      replicas.filter((s) => home.has(s.name)),
      "running replica of the primary region",
      (s) => !s.stopped,
    );
    const old = this.currentPrimary;
    await pg.stopPg(old);
    await pg.promote(this.pgRuntime, candidate.spec);
    this.currentPrimary = candidate.spec;
    await haproxyCommand(
      plan.haproxy!.adminPort,
      `set server pg_primary/primary addr 127.0.0.1 port ${candidate.spec.port}`,
    );
    await haproxyCommand(plan.haproxy!.adminPort, "shutdown sessions server pg_primary/primary");
    await this.writeState({ promoted: candidate.name });
    const refollowed: string[] = [];
    for (const r of replicas.filter((s) => s !== candidate && !s.stopped)) {
      await r.refollow(candidate.spec, this.secrets).then(
        () => refollowed.push(r.name),
        (error: Error) => this.out(`  ! ${r.name} could not follow ${candidate.name}: ${error.message}`),
      );
    }
    return (
      `stopped ${old.name}, promoted ${candidate.name} (127.0.0.1:${candidate.spec.port}) with pg_promote(); the ` +
      `primary endpoint 127.0.0.1:${plan.pgProxyPort} now leads there` +
      (refollowed.length ? `; ${refollowed.join(", ")} ${refollowed.length === 1 ? "follows" : "follow"} it` : "")
    );
  }

  /** The Redis a fault names: a Redis by its name, else the cache of the region named (or the first). */
  private redisNamed(target: string | undefined): RedisService {
    const redises = [...this.services.values()].filter((s): s is RedisService => s instanceof RedisService);
    if (redises.length === 0) throw new LocalError(`step ${this.plan.step} has no Redis (it comes at step 5)`);
    const byName = target === undefined ? undefined : redises.find((r) => r.name === target);
    if (byName) return byName;
    const region = target === undefined ? this.plan.regions[0] : this.plan.regions.find((r) => r.name === target);
    const redis = region?.redis && redises.find((r) => r.name === region.redis!.name);
    if (!redis) {
      const names = [...this.plan.regions.map((r) => r.name), ...redises.map((r) => r.name)];
      throw new LocalError(`no region or redis named ${target}: ${names.join(", ")}`);
    }
    return redis;
  }

  /** What the console reads from this launcher (console/server.ts, console/collector.ts). */
  private consoleHost(): ConsoleHost {
    const target = (spec: PgSpec): PgTarget => ({
      name: spec.name,
      port: spec.port,
      database: spec.database,
      user: "shop",
      password: () => this.shopPool(spec).password,
    });
    const running = <T extends Service>(type: abstract new (...args: never[]) => T): T[] =>
      [...this.services.values()].filter((s): s is T => s instanceof type);
    // One check per service per poll, however many rows it has.
    const checks = new WeakMap<Service, () => Promise<boolean>>();
    const checkOf = (service: Service) => {
      let check = checks.get(service);
      if (!check) checks.set(service, (check = () => service.health()));
      return check;
    };
    return {
      step: () => this.plan.step,
      entryUrl: () => `http://127.0.0.1:${this.plan.entryPort}`,
      climbing: () => this.climbing !== undefined,
      services: () => {
        // Each row with the health check of the service it belongs to (HAProxy has several rows).
        const owner = new Map<string, Service>();
        for (const s of this.services.values()) for (const row of s.status()) owner.set(row.name, s);
        return this.status().map((row) => {
          const service = owner.get(row.name);
          return { row, health: service ? checkOf(service) : async () => row.running };
        });
      },
      apps: () =>
        this.apps()
          .filter((a) => a.running)
          .map((a) => ({ name: a.name, kind: a.kind, region: a.region.name, url: a.url })),
      adminToken: () => this.secrets.adminToken,
      catalog: () => ({
        primary: target(this.currentPrimary),
        replicas: this.plan.regions.flatMap((r) =>
          r.replicas.filter((s) => s.name !== this.currentPrimary.name).map((s) => ({ ...target(s), region: r.name })),
        ),
      }),
      orderDatabases: () =>
        this.plan.shards.length > 0
          ? this.plan.shards.map((s) => ({ ...target(s), shard: s.name }))
          : [{ ...target(this.currentPrimary), shard: "main" }],
      queues: () =>
        this.plan.queue
          ? this.plan.regions.flatMap((r) => {
              const url = r.queue && this.runtime.queueUrls[r.queue.name];
              const deadLetterUrl = r.queue && this.runtime.queueUrls[r.queue.deadLetter];
              return url && deadLetterUrl
                ? [{ region: r.name, endpoint: `http://127.0.0.1:${this.plan.queue!.port}`, url, deadLetterUrl }]
                : [];
            })
          : [],
      faultTargets: () => {
        const names = (items: Service[]) => items.map((s) => s.name);
        const replicas = names(running(PostgresReplica).filter((s) => s.spec !== this.currentPrimary));
        const redis = running(RedisService);
        const redisTargets = [...(this.plan.regions.length > 1 ? this.plan.regions.map((r) => r.name) : [])];
        const workers = names(this.apps().filter((a) => a.kind === "worker"));
        // Only the faults this step can take: no Redis button before step 5, no worker before step 8.
        return {
          ...(replicas.length > 0 ? { "replica-stop": replicas, "replica-start": replicas } : {}),
          ...(this.plan.pgProxyPort && replicas.length > 0 ? { "primary-failover": [] } : {}),
          ...(redis.length > 0
            ? { "redis-stop": [...redisTargets, ...names(redis)], "redis-start": [...redisTargets, ...names(redis)] }
            : {}),
          "web-kill": names(this.apps().filter((a) => a.kind === "web")),
          ...(workers.length > 0 ? { "worker-kill": workers } : {}),
        };
      },
    };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Stopping

  /** Stops everything, in reverse order of the tiers (the load balancer before the app, as before). Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.out("stopping…");
      await this.writeLauncherFile("stopping").catch(() => undefined);
      const all = [...this.services.values()];
      // The entry first (no new requests), then the app, then what the app uses, tier by tier.
      const order: Array<Service["tier"]> = ["edge", ...[...TIERS].reverse().filter((t) => t !== "edge")];
      for (const tier of order)
        await Promise.all(
          all
            .filter((s) => s.tier === tier)
            .map((s) => s.stop().catch((e: Error) => this.out(`  ! ${s.name}: ${e.message}`))),
        );
      await this.supervisor.stopAll();
      await this.console?.stop();
      await Promise.all(
        this.pgDirs().map((s) => pg.stopLeftover(s).catch((e: Error) => this.out(`  ! ${s.name}: ${e.message}`))),
      );
      await new Promise<void>((resolve) => (this.control ? this.control.close(() => resolve()) : resolve()));
      this.control?.closeAllConnections();
      await rm(this.launcherFile, { force: true });
      this.out("stopped");
    })();
    return this.stopping;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Helpers

  /** Every PostgreSQL data directory under the data directory (a previous run, at any step, may have left one). */
  private pgDirs(): Array<Pick<PgSpec, "name" | "dataDir">> {
    const pgDir = path.join(this.plan.dataDir, "pg");
    if (!existsSync(pgDir)) return [];
    return readdirSync(pgDir)
      .filter((n) => !n.startsWith("."))
      .map((name) => ({ name, dataDir: path.join(pgDir, name) }));
  }

  async timed(label: string, work: () => Promise<string>): Promise<void> {
    const t0 = Date.now();
    const detail = await work();
    this.out(`  ✓ ${label.padEnd(30)} ${detail}  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }

  async writeLauncherFile(state: LauncherFile["state"], readyAfterMs?: number): Promise<void> {
    const previous = await readFile(this.launcherFile, "utf8")
      .then((t) => JSON.parse(t) as LauncherFile)
      .catch(() => undefined);
    const file: LauncherFile = {
      pid: process.pid,
      step: this.plan.step,
      entryUrl: `http://127.0.0.1:${this.plan.entryPort}`,
      controlUrl: `http://127.0.0.1:${this.plan.controlPort}`,
      state,
      readyAfterMs: readyAfterMs ?? previous?.readyAfterMs,
    };
    // Written whole or not at all: readers (the fault CLI, tests) never see half a file.
    await writeFile(`${this.launcherFile}.tmp`, JSON.stringify(file, null, 2));
    await rename(`${this.launcherFile}.tmp`, this.launcherFile);
  }

  private async readState(): Promise<{ promoted?: string }> {
    return readFile(path.join(this.plan.dataDir, "state.json"), "utf8").then(
      (t) => JSON.parse(t),
      () => ({}),
    );
  }

  private async writeState(state: { promoted?: string }): Promise<void> {
    await writeFile(path.join(this.plan.dataDir, "state.json"), JSON.stringify(state));
  }
}

/** The newest modification time of any file under `paths`. */
function newestMtime(paths: string[]): number {
  let newest = 0;
  const visit = (p: string) => {
    const s = statSync(p);
    if (s.isDirectory()) for (const e of readdirSync(p)) visit(path.join(p, e));
    else newest = Math.max(newest, s.mtimeMs);
  };
  for (const p of paths) if (existsSync(p)) visit(p);
  return newest;
}
