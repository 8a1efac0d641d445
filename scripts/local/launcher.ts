/**
 * Runs the local topology of one step: starts everything in dependency order with progress lines, prints one
 * table of what runs where, answers a small control endpoint on 127.0.0.1 (status, faults, stop), and stops
 * every child in reverse order. See plan.ts for what runs at which step and on which port.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { adminTokenProblem } from "../../components/admin-token";
import { LocalError, httpGet, redisPing, requireCommand, requireFreePort, waitFor } from "./checks";
import { haproxyCommand, renderHaproxyConfig } from "./haproxy";
import { type LocalOptions, PROJECT_DIR } from "./options";
import {
  type LocalSecrets,
  type PgSpec,
  type Plan,
  type ProcessSpec,
  type RedisSpec,
  type RegionPlan,
  type Runtime,
  SESSION_REDIS_MEMORY,
  buildPlan,
  localCredentials,
  localCredentialsFile,
  plannedPorts,
  processEnv,
} from "./plan";
import * as pg from "./postgres";
import { type ProcessDefinition, Supervisor, killLeftovers } from "./supervisor";
import { renderTable } from "./table";

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
  step: number;
  entryUrl: string;
  controlUrl: string;
  state: "starting" | "ready" | "stopping";
  /** Milliseconds from the launcher's start to every /readyz green. */
  readyAfterMs?: number;
}

/** The fault kinds `npm run local:fault` knows. */
export const FAULTS = {
  "replica-stop": "stop a read replica (default: the first running one)",
  "replica-start": "start a stopped replica again",
  "primary-failover": "stop the primary and promote a replica with pg_promote(); the stable primary endpoint follows",
  "redis-stop": "stop Redis (default: the first region's cache; redis-sessions names the sessions' one)",
  "redis-start": "start a stopped Redis again (empty)",
  "worker-kill": "SIGKILL a worker (default: the first); it is restarted after 1 s",
  "web-kill": "SIGKILL a web process (default: the first); it is restarted after 1 s",
  status: "print what runs, with pids",
} as const;
export type FaultKind = keyof typeof FAULTS;

/** One row of the status: a service and where it is. */
export interface ServiceStatus {
  name: string;
  kind: string;
  region?: string;
  url: string;
  pid?: number;
  running: boolean;
  restarts?: number;
  data?: string;
  log?: string;
  note?: string;
}

export class Launcher {
  readonly plan: Plan;
  private secrets!: LocalSecrets;
  private runtime: Runtime = { queueUrls: {} };
  private pgRuntime!: pg.PgRuntime;
  private readonly supervisor: Supervisor;
  private control?: http.Server;
  private releaseDir = "";
  /** The server currently acting as the catalog primary (a replica after a failover). */
  private currentPrimary: PgSpec;
  /** Replicas stopped on purpose (a fault). */
  private readonly stoppedReplicas = new Set<string>();
  private readonly startedAt = Date.now();
  private stopping?: Promise<void>;
  private startedPg: PgSpec[] = [];

  constructor(
    private readonly options: LocalOptions,
    private readonly out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {
    this.plan = buildPlan(options);
    this.currentPrimary = this.plan.primary;
    this.supervisor = new Supervisor(this.plan.logDir, path.join(this.plan.runDir, "pids"), (message) =>
      this.out(`  ! ${message}`),
    );
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
      await Promise.all([this.startDatabases(), this.startCaches(), this.startQueue(), this.startStaticOrigin()]);
      await this.startLoadBalancer();
      await this.startApp();
      await this.waitForEntry();
      const readyAfterMs = Date.now() - this.startedAt;
      await this.writeLauncherFile("ready", readyAfterMs);
      this.out(`ready in ${(readyAfterMs / 1000).toFixed(1)} s\n`);
      this.out(renderTable(this.status()));
      this.out(
        `\nOpen http://127.0.0.1:${plan.entryPort}/` +
          (plan.features.multiRegion ? "  (send X-Geo-Continent: EU to reach eu-west-1)" : ""),
      );
      this.out(
        `Faults: npm run local:fault -- <${Object.keys(FAULTS).join("|")}> ` +
          `[name]${this.options.dataDir !== path.join(PROJECT_DIR, ".local") ? ` --data-dir ${plan.dataDir}` : ""}`,
      );
      if (plan.emf)
        this.out("Business metrics (EMF, AWS_EMF_ENVIRONMENT=Local): one JSON line per process every minute, here.");
      this.out("Ctrl-C stops everything.");
    } catch (error) {
      await this.stop();
      throw error;
    }
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
    for (const spec of this.allPgSpecs(true)) if (await pg.stopLeftover(spec)) leftovers.push(`postgres ${spec.name}`);
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

  private async startDatabases(): Promise<void> {
    const { plan } = this;
    // A failover in the last run made a replica the primary: its data directory is the primary's from now on.
    const state = await this.readState();
    if (state.promoted) {
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
    const replication = plan.regions.some((r) => r.replicas.length > 0);
    const primary = this.timed("postgres primary", async () => {
      const { created } = await pg.startPrimary(this.pgRuntime, plan.primary, this.secrets, { replication: true });
      this.startedPg.push(plan.primary);
      return `127.0.0.1:${plan.primary.port}${created ? ", new cluster" : ""}`;
    });
    const shards = plan.shards.map((s) =>
      this.timed(`postgres ${s.name}`, async () => {
        const { created } = await pg.startPrimary(this.pgRuntime, s, this.secrets, { replication: false });
        this.startedPg.push(s);
        return `127.0.0.1:${s.port}${created ? ", new cluster" : ""}`;
      }),
    );
    await primary;
    if (replication) {
      // Replicas are rebuilt from the primary at every start: a base backup of a small catalog takes a second.
      await Promise.all(
        plan.regions.flatMap((r) =>
          r.replicas.map((spec) =>
            this.timed(`postgres ${spec.name}`, async () => {
              await pg.startReplica(this.pgRuntime, plan.primary, spec, this.secrets);
              this.startedPg.push(spec);
              return `127.0.0.1:${spec.port}, streaming from the primary`;
            }),
          ),
        ),
      );
    }
    await Promise.all(shards);
  }

  /** `maxmemory` and its policy: the cache's options, or the sessions' fixed `noeviction`. */
  private redisMemory(redis: RedisSpec): { maxmemory: string; policy: string } {
    const { cache } = this.plan;
    return this.plan.regions.some((r) => r.sessionRedis?.name === redis.name) ? SESSION_REDIS_MEMORY : cache!;
  }

  private redisDefinition(redis: RedisSpec): ProcessDefinition {
    const memory = this.redisMemory(redis);
    return {
      name: redis.name,
      kind: "redis",
      command: "redis-server",
      // No persistence: a cache, and sessions that are lost with their server (on AWS a replica takes over).
      args: [
        "--bind",
        "127.0.0.1",
        "--port",
        String(redis.port),
        "--requirepass",
        this.secrets.redisPassword,
        "--maxmemory",
        memory.maxmemory,
        "--maxmemory-policy",
        memory.policy,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        redis.dir,
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
      ],
      env: process.env,
    };
  }

  private async startRedis(redis: RedisSpec): Promise<void> {
    await mkdir(redis.dir, { recursive: true });
    const proc = await this.supervisor.start(this.redisDefinition(redis));
    await waitFor(redis.name, () => redisPing(redis.port, this.secrets.redisPassword), {
      timeoutMs: 20_000,
      failed: async () => (proc.child ? undefined : `redis-server ${proc.lastExit}; see ${proc.logFile}`),
    });
  }

  private async startCaches(): Promise<void> {
    const servers = this.plan.regions.flatMap((r) => [r.redis, r.sessionRedis].filter((x) => x !== undefined));
    await Promise.all(
      servers.map((redis) =>
        this.timed(redis.name, async () => {
          await this.startRedis(redis);
          const memory = this.redisMemory(redis);
          return `127.0.0.1:${redis.port}, maxmemory ${memory.maxmemory}, ${memory.policy}`;
        }),
      ),
    );
  }

  private async startQueue(): Promise<void> {
    const { plan } = this;
    if (!plan.queue) return;
    await this.timed("fauxqs (SQS)", async () => {
      const queues = plan.regions
        .filter((r) => r.queue)
        .map((r) => ({ region: r.name, name: r.queue!.name, deadLetter: r.queue!.deadLetter }));
      let ready: ((urls: Record<string, string>) => void) | undefined;
      const urls = new Promise<Record<string, string>>((resolve) => (ready = resolve));
      const proc = await this.supervisor.start({
        name: "fauxqs",
        kind: "fauxqs",
        command: process.execPath,
        args: [
          path.join(__dirname, "fauxqs.mjs"),
          String(plan.queue!.port),
          String(plan.queue!.visibilitySeconds),
          JSON.stringify(queues),
        ],
        env: { ...process.env, NODE_NO_WARNINGS: "1" },
        cwd: PROJECT_DIR,
        onLine: (line) => {
          if (line.includes('"fauxqs ready"'))
            ready?.((JSON.parse(line) as { queueUrls: Record<string, string> }).queueUrls);
        },
      });
      const failed = new Promise<never>((_, reject) =>
        proc.child?.once("exit", () => reject(new LocalError(`fauxqs ${proc.lastExit}; see ${proc.logFile}`))),
      );
      this.runtime.queueUrls = await Promise.race([urls, failed]);
      return (
        `127.0.0.1:${plan.queue!.port}, queues ${queues.map((q) => q.name).join(", ")} (visibility ` +
        `${plan.queue!.visibilitySeconds} s, DLQ after 5 receives)`
      );
    });
  }

  private async startStaticOrigin(): Promise<void> {
    const { plan } = this;
    if (!plan.cdn) return;
    await this.timed("static origin", async () => {
      const dir = path.join(this.releaseDir, "static");
      const proc = await this.supervisor.start({
        name: "static-origin",
        kind: "static",
        command: process.execPath,
        args: [path.join(__dirname, "static-origin.mjs"), dir, String(plan.cdn!.originPort)],
        env: process.env,
      });
      await waitFor(
        "static origin",
        async () => (await httpGet(`http://127.0.0.1:${plan.cdn!.originPort}/healthz`)).status === 200,
        { timeoutMs: 20_000, failed: async () => (proc.child ? undefined : `${proc.lastExit}; see ${proc.logFile}`) },
      );
      return `127.0.0.1:${plan.cdn!.originPort}, ${dir}`;
    });
  }

  private async startLoadBalancer(): Promise<void> {
    const { plan } = this;
    if (!plan.haproxy) return;
    await this.timed("haproxy", async () => {
      await writeFile(plan.haproxy!.configFile, renderHaproxyConfig(plan));
      try {
        execFileSync("haproxy", ["-c", "-q", "-f", plan.haproxy!.configFile], { stdio: "pipe" });
      } catch (error) {
        throw new LocalError(
          `haproxy rejects ${plan.haproxy!.configFile}:\n${(error as { stderr?: Buffer }).stderr?.toString()}`,
        );
      }
      const proc = await this.supervisor.start({
        name: "haproxy",
        kind: "haproxy",
        command: "haproxy",
        args: ["-db", "-f", plan.haproxy!.configFile],
        env: process.env,
      });
      await waitFor(
        "haproxy",
        async () => (await httpGet(`http://127.0.0.1:${plan.haproxy!.statsPort}/`)).status === 200,
        { timeoutMs: 20_000, failed: async () => (proc.child ? undefined : `${proc.lastExit}; see ${proc.logFile}`) },
      );
      const parts = [`127.0.0.1:${plan.entryPort}`, plan.haproxy!.sticky ? "sticky by cookie" : "round-robin"];
      if (plan.pgProxyPort) parts.push(`primary endpoint 127.0.0.1:${plan.pgProxyPort}`);
      if (plan.cdn) parts.push(`CDN edge 127.0.0.1:${plan.cdn.edgePort}`);
      return parts.join(", ");
    });
  }

  private appDefinition(region: RegionPlan, proc: ProcessSpec, kind: "web" | "worker"): ProcessDefinition {
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      ...processEnv(this.plan, region, proc, kind, this.secrets, this.runtime),
      NODE_NO_WARNINGS: "1",
    };
    const entry = kind === "web" ? "server" : "worker";
    const ts = this.options.runtime === "ts";
    const echo = this.options.logs;
    const emf = this.plan.emf;
    return {
      name: proc.name,
      kind,
      command: process.execPath,
      args: ts
        ? [
            "--enable-source-maps",
            path.join(PROJECT_DIR, "scripts", "run.mjs"),
            path.join(PROJECT_DIR, "app", "src", `${entry}.ts`),
          ]
        : ["--enable-source-maps", path.join(this.releaseDir, `${entry}.js`)],
      env,
      cwd: ts ? PROJECT_DIR : this.releaseDir,
      restart: true,
      onLine:
        echo || emf
          ? (line) => {
              if (echo) this.out(`[${proc.name}] ${line}`);
              // Step 10: the business metrics, one EMF document per line, on the launcher's stdout.
              else if (line.includes('"_aws"')) this.out(line);
            }
          : undefined,
    };
  }

  private async startApp(): Promise<void> {
    const { plan } = this;
    const all: Array<{ region: RegionPlan; proc: ProcessSpec; kind: "web" | "worker" }> = plan.regions.flatMap(
      (region) => [
        ...region.web.map((proc) => ({ region, proc, kind: "web" as const })),
        ...region.workers.map((proc) => ({ region, proc, kind: "worker" as const })),
      ],
    );
    // The first web server migrates and seeds (the others would wait on its advisory lock anyway).
    const [first, ...rest] = all;
    await this.startAppProcess(first.region, first.proc, first.kind);
    await Promise.all(rest.map((p) => this.startAppProcess(p.region, p.proc, p.kind)));
  }

  private async startAppProcess(region: RegionPlan, proc: ProcessSpec, kind: "web" | "worker"): Promise<void> {
    await this.timed(proc.name, async () => {
      const started = await this.supervisor.start(this.appDefinition(region, proc, kind));
      await waitFor(
        `${proc.name} /readyz`,
        async () => (await httpGet(`http://127.0.0.1:${proc.port}/readyz`)).status === 200,
        {
          timeoutMs: 120_000,
          failed: async () =>
            started.child ? undefined : `${started.lastExit}; the end of ${started.logFile}:\n${tail(started.logFile)}`,
        },
      );
      return `http://127.0.0.1:${proc.port}${kind === "worker" ? " (health)" : ""}`;
    });
  }

  private async waitForEntry(): Promise<void> {
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
        if (plan.haproxy) {
          // HAProxy must see every server healthy (not only one) before the entry counts as ready.
          await waitFor(
            "every web server healthy in HAProxy",
            async () => {
              const csv = (await httpGet(`http://127.0.0.1:${plan.haproxy!.statsPort}/;csv`)).body;
              return csv
                .split("\n")
                .filter((l) => /^web[^,]*,web/.test(l) && !l.includes("_any,"))
                .every((l) => l.split(",")[17] === "UP");
            },
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
    this.control = http.createServer((req, res) => {
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { "content-type": "application/json" }).end(`${JSON.stringify(body, null, 2)}\n`);
      };
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", (): void => {
        const url = req.url ?? "/";
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
          let request: { kind?: string; target?: string };
          try {
            request = JSON.parse(body || "{}");
          } catch {
            return reply(400, { error: "body must be JSON { kind, target? }" });
          }
          this.fault(request.kind as FaultKind, request.target).then(
            (done) => reply(200, { done }),
            (error: Error) => reply(error instanceof LocalError ? 409 : 500, { error: error.message }),
          );
          return;
        }
        reply(404, { error: "GET /status, POST /fault { kind, target? }, POST /stop" });
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.control!.once("error", reject);
      this.control!.listen(this.plan.controlPort, "127.0.0.1", () => resolve());
    });
  }

  /** What runs where, for the table and `GET /status`. */
  status(): ServiceStatus[] {
    const { plan } = this;
    const rel = (p: string) => {
      const r = path.relative(process.cwd(), p);
      return r === "" ? "." : r.startsWith("..") ? p : r;
    };
    const multiRegion = plan.regions.length > 1;
    const rows: ServiceStatus[] = [];
    const procRow = (name: string, kind: string, url: string, extra: Partial<ServiceStatus> = {}) => {
      const p = this.supervisor.processes.get(name);
      rows.push({
        name,
        kind,
        url,
        pid: p?.pid,
        running: Boolean(p?.child),
        restarts: p?.restarts,
        log: p ? rel(p.logFile) : undefined,
        ...extra,
      });
    };
    if (plan.haproxy) {
      procRow(
        "haproxy",
        plan.features.multiRegion ? "geo router + load balancers" : "load balancer",
        `http://127.0.0.1:${plan.entryPort}`,
        {
          note:
            (plan.features.multiRegion
              ? `X-Geo-Continent ${Object.keys(plan.geo ?? {}).join("/")} → ${plan.regions[1].name}, ` +
                `else ${plan.regions[0].name}; `
              : "") +
            `${plan.haproxy.sticky ? "sticky cookie SHOPLB" : "round-robin"}; ` +
            `stats http://127.0.0.1:${plan.haproxy.statsPort}/`,
          data: rel(plan.haproxy.configFile),
        },
      );
      if (plan.features.multiRegion)
        for (const r of plan.regions)
          rows.push({
            name: `lb-${r.name}`,
            kind: "load balancer",
            region: r.name,
            url: `http://127.0.0.1:${r.lbPort}`,
            running: Boolean(this.supervisor.processes.get("haproxy")?.child),
            note: "in the haproxy process",
          });
      if (plan.pgProxyPort)
        rows.push({
          name: "pg-primary-endpoint",
          kind: "primary endpoint (TCP)",
          url: `postgres://127.0.0.1:${plan.pgProxyPort}`,
          running: Boolean(this.supervisor.processes.get("haproxy")?.child),
          note: `→ ${this.currentPrimary.name} :${this.currentPrimary.port}`,
        });
      if (plan.cdn)
        rows.push({
          name: "cdn-edge",
          kind: "CDN edge (cache)",
          url: `http://127.0.0.1:${plan.cdn.edgePort}/static/`,
          running: Boolean(this.supervisor.processes.get("haproxy")?.child),
          note: "in the haproxy process; a hit has an Age header",
        });
    }
    if (plan.cdn)
      procRow("static-origin", "static origin", `http://127.0.0.1:${plan.cdn.originPort}/static/`, {
        data: rel(path.join(this.releaseDir, "static")),
        note: "Cache-Control, ETag",
      });
    for (const r of plan.regions) {
      for (const w of r.web)
        procRow(w.name, "web", `http://127.0.0.1:${w.port}`, { region: multiRegion ? r.name : undefined });
      for (const w of r.workers)
        procRow(w.name, "worker", `http://127.0.0.1:${w.port}/readyz`, { region: multiRegion ? r.name : undefined });
      if (r.redis)
        procRow(r.redis.name, "redis", `redis://127.0.0.1:${r.redis.port}`, {
          region: multiRegion ? r.name : undefined,
          data: rel(r.redis.dir),
          note: `${plan.cache!.maxmemory}, ${plan.cache!.policy}, TTL ${plan.cache!.ttlSeconds} s`,
        });
      if (r.sessionRedis)
        procRow(r.sessionRedis.name, "redis", `redis://127.0.0.1:${r.sessionRedis.port}`, {
          region: multiRegion ? r.name : undefined,
          data: rel(r.sessionRedis.dir),
          note: `sessions, ${SESSION_REDIS_MEMORY.maxmemory}, ${SESSION_REDIS_MEMORY.policy}`,
        });
    }
    if (plan.queue)
      procRow("fauxqs", "SQS emulator", `http://127.0.0.1:${plan.queue.port}`, {
        note: plan.regions
          .map((r) => r.queue?.name)
          .filter(Boolean)
          .join(", "),
      });
    for (const spec of this.allPgSpecs(false)) {
      const role =
        spec === this.currentPrimary
          ? "postgres primary"
          : spec === plan.primary
            ? "postgres (old primary)"
            : spec.name.startsWith("shard")
              ? "postgres shard"
              : "postgres replica";
      const region = multiRegion ? plan.regions.find((r) => r.replicas.includes(spec))?.name : undefined;
      const pid = readPid(spec.dataDir);
      rows.push({
        name: spec.name,
        kind: role,
        region,
        url: `postgres://127.0.0.1:${spec.port}/${spec.database}`,
        pid,
        running: pid !== undefined && alive(pid),
        data: rel(spec.dataDir),
        log: rel(spec.logFile),
        note: spec === plan.primary && !plan.features.separateDatabase ? "on the web server's host" : undefined,
      });
    }
    return rows;
  }

  private allPgSpecs(includeUnplanned: boolean): PgSpec[] {
    const specs = [this.plan.primary, ...this.plan.regions.flatMap((r) => r.replicas), ...this.plan.shards];
    if (!includeUnplanned) return specs;
    // A previous run at another step may have left servers this step does not plan.
    const pgDir = path.join(this.plan.dataDir, "pg");
    const names = existsSync(pgDir) ? readdirSync(pgDir).filter((n) => !specs.some((s) => s.name === n)) : [];
    return [
      ...specs,
      ...names.map((name) => ({ name, port: 0, dataDir: path.join(pgDir, name), logFile: "", database: "" })),
    ];
  }

  private region(target: string | undefined): RegionPlan {
    if (!target) return this.plan.regions[0];
    const r = this.plan.regions.find(
      (x) => x.name === target || x.redis?.name === target || x.sessionRedis?.name === target,
    );
    if (!r)
      throw new LocalError(
        `no region or redis named ${target}: ${this.plan.regions.map((x) => x.redis?.name ?? x.name).join(", ")}`,
      );
    return r;
  }

  /** The Redis a fault names: a sessions' Redis by its name, else the cache of the region named (or the first). */
  private redisNamed(target: string | undefined): RedisSpec {
    const r = this.region(target);
    const redis = target !== undefined && r.sessionRedis?.name === target ? r.sessionRedis : r.redis;
    if (!redis) throw new LocalError(`step ${this.plan.step} has no Redis (it comes at step 5)`);
    return redis;
  }

  /** Injects one fault; resolves with a sentence saying what was done. */
  async fault(kind: FaultKind, target?: string): Promise<string> {
    const { plan } = this;
    const replicas = plan.regions.flatMap((r) => r.replicas).filter((s) => s !== this.currentPrimary);
    const pick = <T extends { name: string }>(items: T[], what: string, filter: (t: T) => boolean = () => true): T => {
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
      case "status":
        return renderTable(this.status());
      case "replica-stop": {
        const spec = pick(replicas, "running replica", (s) => !this.stoppedReplicas.has(s.name));
        await pg.stopPg(spec);
        this.stoppedReplicas.add(spec.name);
        return `stopped ${spec.name} (127.0.0.1:${spec.port}); reads fall back to the other replicas or the primary`;
      }
      case "replica-start": {
        const spec = pick(replicas, "stopped replica", (s) => this.stoppedReplicas.has(s.name));
        await pg.restartServer(this.pgRuntime, spec);
        this.stoppedReplicas.delete(spec.name);
        return `started ${spec.name} again; it catches up by streaming`;
      }
      case "primary-failover": {
        if (!plan.pgProxyPort)
          throw new LocalError(`step ${plan.step} has no replica to promote (replicas come at step 4)`);
        const candidate = pick(
          plan.regions[0].replicas.filter((s) => s !== this.currentPrimary),
          "running replica of the primary region",
          (s) => !this.stoppedReplicas.has(s.name),
        );
        const old = this.currentPrimary;
        await pg.stopPg(old);
        await pg.promote(this.pgRuntime, candidate);
        this.currentPrimary = candidate;
        await haproxyCommand(
          plan.haproxy!.adminPort,
          `set server pg_primary/primary addr 127.0.0.1 port ${candidate.port}`,
        );
        await haproxyCommand(plan.haproxy!.adminPort, "shutdown sessions server pg_primary/primary");
        await this.writeState({ promoted: candidate.name });
        const refollowed: string[] = [];
        for (const spec of replicas.filter((s) => s !== candidate && !this.stoppedReplicas.has(s.name))) {
          await pg.refollow(this.pgRuntime, candidate, spec, this.secrets).then(
            () => refollowed.push(spec.name),
            (error: Error) => this.out(`  ! ${spec.name} could not follow ${candidate.name}: ${error.message}`),
          );
        }
        return (
          `stopped ${old.name}, promoted ${candidate.name} (127.0.0.1:${candidate.port}) with pg_promote(); the ` +
          `primary endpoint 127.0.0.1:${plan.pgProxyPort} now leads ` +
          "there" +
          (refollowed.length ? `; ${refollowed.join(", ")} ${refollowed.length === 1 ? "follows" : "follow"} it` : "")
        );
      }
      case "redis-stop": {
        const redis = this.redisNamed(target);
        await this.supervisor.stop(redis.name);
        return `stopped ${redis.name} (127.0.0.1:${redis.port})`;
      }
      case "redis-start": {
        const redis = this.redisNamed(target);
        if (this.supervisor.processes.get(redis.name)?.child) throw new LocalError(`${redis.name} is running`);
        await this.startRedis(redis);
        return `started ${redis.name} again (empty)`;
      }
      case "worker-kill":
      case "web-kill": {
        const procs = plan.regions.flatMap((r) => (kind === "web-kill" ? r.web : r.workers));
        const proc = pick(procs, kind === "web-kill" ? "web process" : "worker", (p) =>
          Boolean(this.supervisor.processes.get(p.name)?.child),
        );
        const pid = this.supervisor.kill(proc.name, "SIGKILL");
        if (pid === undefined) throw new LocalError(`${proc.name} is not running`);
        return `killed ${proc.name} (pid ${pid}) with SIGKILL; it restarts in 1 s`;
      }
      default:
        throw new LocalError(`unknown fault ${JSON.stringify(kind)}: ${Object.keys(FAULTS).join(", ")}`);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Stopping

  /** Stops everything, in reverse order of dependency. Safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.out("stopping…");
      await this.writeLauncherFile("stopping").catch(() => undefined);
      await this.supervisor.stopKinds(["haproxy"]);
      await this.supervisor.stopKinds(["web", "worker"]);
      await this.supervisor.stopAll();
      await Promise.all(
        this.allPgSpecs(true).map((s) =>
          pg.stopLeftover(s).catch((e: Error) => this.out(`  ! ${s.name}: ${e.message}`)),
        ),
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

  private async timed(label: string, work: () => Promise<string>): Promise<void> {
    const t0 = Date.now();
    const detail = await work();
    this.out(`  ✓ ${label.padEnd(30)} ${detail}  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }

  private async writeLauncherFile(state: LauncherFile["state"], readyAfterMs?: number): Promise<void> {
    const file: LauncherFile = {
      pid: process.pid,
      step: this.plan.step,
      entryUrl: `http://127.0.0.1:${this.plan.entryPort}`,
      controlUrl: `http://127.0.0.1:${this.plan.controlPort}`,
      state,
      readyAfterMs,
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n", 1)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no output)";
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
