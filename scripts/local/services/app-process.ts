/**
 * One of the app's processes (a web server or a worker) as a service: the built release (or the sources with
 * `--ts`) run with the environment of stacks/app-environment.ts for its step, role and region (plan.ts), restarted
 * after an unexpected exit as systemd does. It answers the web-kill and worker-kill faults.
 *
 * A process runs on one of its two slots (plan.ts): a climb starts its replacement on the other one, with the new
 * step's environment, and retires it once the replacement serves. The slot names the process for the supervisor
 * and HAProxy (`web-1`, `web-1.b`), so both run side by side during a roll.
 */
import path from "node:path";
import { readFileSync } from "node:fs";
import { LocalError, httpGet, waitFor } from "../checks";
import { slotServerName } from "../haproxy";
import { PROJECT_DIR } from "../options";
import { type Plan, type ProcessSpec, type RegionPlan, processEnv } from "../plan";
import type { ProcessDefinition } from "../supervisor";
import { type FaultKind, type Service, type ServiceContext, type ServiceStatus, relativePath } from "./service";

export type AppKind = "web" | "worker";

export class AppProcess implements Service {
  readonly tier = "app";
  /** The step's plan this process was started with (its environment). */
  readonly plan: Plan;

  constructor(
    private readonly ctx: ServiceContext,
    readonly region: RegionPlan,
    readonly spec: ProcessSpec,
    readonly kind: AppKind,
    /** Which of the process's two slots it runs on. */
    readonly slot: 0 | 1 = 0,
  ) {
    this.plan = ctx.plan;
  }

  get name(): string {
    return this.spec.name;
  }

  /** Its name for the supervisor (log and pid files) and in HAProxy. */
  get key(): string {
    return slotServerName(this.spec.name, this.slot);
  }

  /** The port it listens on (a worker: its health port). Steps 1–2: both slots are the entry port. */
  get port(): number {
    return this.slot === 1 && this.spec.spare ? this.spec.spare : this.spec.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Memory sessions: what a replacement must be handed (steps 1–6). */
  get memorySessions(): boolean {
    return this.kind === "web" && !this.plan.features.redisSessions;
  }

  private definition(): ProcessDefinition {
    const { ctx, spec, kind } = this;
    // Named as the supervisor and HAProxy name it (PROCESS_NAME): a climb's replacement (web-1.b) is told apart.
    const proc = { ...spec, name: this.key, port: this.port };
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      ...processEnv(this.plan, this.region, proc, kind, ctx.secrets, ctx.runtime),
      NODE_NO_WARNINGS: "1",
    };
    const entry = kind === "web" ? "server" : "worker";
    const ts = ctx.options.runtime === "ts";
    const echo = ctx.options.logs;
    const emf = this.plan.emf;
    return {
      name: this.key,
      kind,
      command: process.execPath,
      args: ts
        ? [
            "--enable-source-maps",
            path.join(PROJECT_DIR, "scripts", "run.mjs"),
            path.join(PROJECT_DIR, "app", "src", `${entry}.ts`),
          ]
        : ["--enable-source-maps", path.join(ctx.releaseDir, `${entry}.js`)],
      env,
      cwd: ts ? PROJECT_DIR : ctx.releaseDir,
      restart: true,
      onLine:
        echo || emf
          ? (line) => {
              if (echo) ctx.out(`[${this.key}] ${line}`);
              // Step 10: the business metrics, one EMF document per line, on the launcher's stdout.
              else if (line.includes('"_aws"')) ctx.out(line);
            }
          : undefined,
    };
  }

  /**
   * Starts the process and resolves once `ready` says so.
   * @param ready what tells it serves. @default its /readyz answers 200
   */
  async start(ready: () => Promise<boolean> = () => this.health()): Promise<string> {
    const started = await this.ctx.supervisor.start(this.definition());
    await waitFor(`${this.key} /readyz`, ready, {
      timeoutMs: 120_000,
      failed: async () =>
        started.child ? undefined : `${started.lastExit}; the end of ${started.logFile}:\n${tail(started.logFile)}`,
    });
    return `${this.url}${this.kind === "worker" ? " (health)" : ""}`;
  }

  /** SIGTERM (the app stops taking work, finishes what it has, hands memory sessions over), then forgotten. */
  async stop(): Promise<void> {
    await this.ctx.supervisor.stop(this.key);
    this.ctx.supervisor.forget(this.key);
  }

  async health(): Promise<boolean> {
    return (await httpGet(`${this.url}/readyz`)).status === 200;
  }

  status(): ServiceStatus[] {
    const p = this.ctx.supervisor.processes.get(this.key);
    return [
      {
        name: this.name,
        kind: this.kind,
        region: this.ctx.plan.regions.length > 1 ? this.region.name : undefined,
        url: this.kind === "worker" ? `${this.url}/readyz` : this.url,
        pid: p?.pid,
        running: Boolean(p?.child),
        restarts: p?.restarts,
        log: p ? relativePath(p.logFile) : undefined,
      },
    ];
  }

  async fault(kind: FaultKind): Promise<string> {
    if (kind !== "web-kill" && kind !== "worker-kill") throw new LocalError(`${this.name} has no fault ${kind}`);
    const pid = this.ctx.supervisor.kill(this.key, "SIGKILL");
    if (pid === undefined) throw new LocalError(`${this.name} is not running`);
    return `killed ${this.name} (pid ${pid}) with SIGKILL; it restarts in 1 s`;
  }

  /** True while its process runs. */
  get running(): boolean {
    return Boolean(this.ctx.supervisor.processes.get(this.key)?.child);
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no output)";
  }
}
