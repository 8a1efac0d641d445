/**
 * HAProxy (step 3 on) as a service: every local load balancer, the CDN edge and the primary endpoint in one process
 * (the configuration is ../haproxy.ts's). It runs in master-worker mode (`-W`): a climb that changes the
 * configuration reloads it with SIGUSR2 to the master, which starts a new worker on the same listening sockets
 * (handed over through the stats socket's `expose-fd listeners`) while the old worker finishes the requests it
 * has; no connection is refused or reset. The runtime API takes web processes in and out during a roll.
 */
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { LocalError, httpGet, waitFor } from "../checks";
import { type HaproxyView, haproxyCommand, renderHaproxyConfig } from "../haproxy";
import type { Plan } from "../plan";
import { type Service, type ServiceContext, type ServiceStatus, relativePath } from "./service";

const NAME = "haproxy";

/** One server's line of the statistics CSV. */
export interface ServerStats {
  backend: string;
  server: string;
  /** Current sessions (requests being served, in HTTP mode). */
  current: number;
  /** UP, DOWN, MAINT, `UP 1/2`... */
  status: string;
}

export class HaproxyService implements Service {
  readonly name = NAME;
  readonly tier = "edge";
  /** The configuration the running worker loaded. */
  private loaded = "";

  constructor(
    private readonly ctx: ServiceContext,
    /** Where things run now (slots, the primary), for the configuration. */
    private readonly view: () => HaproxyView,
    /** The name of the server the primary endpoint leads to, for the table. */
    private readonly primaryName: () => string,
  ) {}

  private get h(): NonNullable<Plan["haproxy"]> {
    const h = this.ctx.plan.haproxy;
    if (!h) throw new LocalError(`step ${this.ctx.plan.step} has no load balancer`);
    return h;
  }

  /** Writes the configuration of the current plan and view; refuses one HAProxy refuses. */
  private async writeConfig(view: HaproxyView): Promise<string> {
    const text = renderHaproxyConfig(this.ctx.plan, view);
    await writeFile(this.h.configFile, text);
    try {
      execFileSync("haproxy", ["-c", "-q", "-f", this.h.configFile], { stdio: "pipe" });
    } catch (error) {
      throw new LocalError(
        `haproxy rejects ${this.h.configFile}:\n${(error as { stderr?: Buffer }).stderr?.toString()}`,
      );
    }
    return text;
  }

  async start(): Promise<string> {
    const { plan } = this.ctx;
    this.loaded = await this.writeConfig(this.view());
    const proc = await this.ctx.supervisor.start({
      name: NAME,
      kind: "haproxy",
      command: "haproxy",
      args: ["-W", "-db", "-f", this.h.configFile],
      env: process.env,
    });
    await waitFor("haproxy", () => this.health(), {
      timeoutMs: 20_000,
      failed: async () => (proc.child ? undefined : `${proc.lastExit}; see ${proc.logFile}`),
    });
    const parts = [`127.0.0.1:${plan.entryPort}`, this.h.sticky ? "sticky by cookie" : "round-robin"];
    if (plan.pgProxyPort) parts.push(`primary endpoint 127.0.0.1:${plan.pgProxyPort}`);
    if (plan.cdn) parts.push(`CDN edge 127.0.0.1:${plan.cdn.edgePort}`);
    return parts.join(", ");
  }

  /**
   * Loads the configuration of the current plan and view without dropping a connection: SIGUSR2 to the master,
   * then waits until the new worker answers the runtime API. Resolves false when the configuration is unchanged
   * (nothing reloaded).
   */
  async reload(view: HaproxyView = this.view()): Promise<boolean> {
    const text = renderHaproxyConfig(this.ctx.plan, view);
    if (text === this.loaded) return false;
    await this.writeConfig(view);
    const before = await this.workerPid();
    if (this.ctx.supervisor.kill(NAME, "SIGUSR2") === undefined) throw new LocalError("haproxy is not running");
    await waitFor(
      "the reloaded haproxy worker",
      async () => {
        const pid = await this.workerPid();
        return pid !== undefined && pid !== before;
      },
      { timeoutMs: 20_000 },
    );
    this.loaded = text;
    return true;
  }

  /** The pid of the worker that answers the runtime API. */
  private async workerPid(): Promise<number | undefined> {
    const info = await haproxyCommand(this.h.adminPort, "show info").catch(() => "");
    const pid = /^Pid: (\d+)$/m.exec(info)?.[1];
    return pid ? Number(pid) : undefined;
  }

  /** Sends one runtime API command; an answer other than empty or a success is an error. */
  async command(command: string): Promise<string> {
    const answer = await haproxyCommand(this.h.adminPort, command);
    if (/^(No such|Unknown|Require|'set server' expects)/m.test(answer))
      throw new LocalError(`haproxy: ${command}: ${answer}`);
    return answer;
  }

  /** Every server of every backend, from the statistics CSV. */
  async servers(): Promise<ServerStats[]> {
    const csv = (await httpGet(`http://127.0.0.1:${this.h.statsPort}/;csv`)).body;
    return csv
      .split("\n")
      .map((l) => l.split(","))
      .filter((c) => c.length > 17 && c[1] !== "FRONTEND" && c[1] !== "BACKEND" && !c[0].startsWith("#"))
      .map((c) => ({ backend: c[0], server: c[1], current: Number(c[4]), status: c[17] }));
  }

  stop(): Promise<void> {
    return this.ctx.supervisor.stop(NAME);
  }

  async health(): Promise<boolean> {
    return (await httpGet(`http://127.0.0.1:${this.h.statsPort}/`)).status === 200;
  }

  status(): ServiceStatus[] {
    const { plan } = this.ctx;
    const h = this.h;
    const p = this.ctx.supervisor.processes.get(NAME);
    const running = Boolean(p?.child);
    const rows: ServiceStatus[] = [
      {
        name: NAME,
        kind: plan.features.multiRegion ? "geo router + load balancers" : "load balancer",
        url: `http://127.0.0.1:${plan.entryPort}`,
        pid: p?.pid,
        running,
        restarts: p?.restarts,
        log: p ? relativePath(p.logFile) : undefined,
        note:
          (plan.features.multiRegion
            ? `X-Geo-Continent ${Object.keys(plan.geo ?? {}).join("/")} → ${plan.regions[1].name}, ` +
              `else ${plan.regions[0].name}; `
            : "") + `${h.sticky ? "sticky cookie SHOPLB" : "round-robin"}; stats http://127.0.0.1:${h.statsPort}/`,
        data: relativePath(h.configFile),
      },
    ];
    if (plan.features.multiRegion)
      for (const r of plan.regions)
        rows.push({
          name: `lb-${r.name}`,
          kind: "load balancer",
          region: r.name,
          url: `http://127.0.0.1:${r.lbPort}`,
          running,
          note: "in the haproxy process",
        });
    if (plan.pgProxyPort)
      rows.push({
        name: "pg-primary-endpoint",
        kind: "primary endpoint (TCP)",
        url: `postgres://127.0.0.1:${plan.pgProxyPort}`,
        running,
        note: `→ ${this.primaryName()} :${this.view().primaryPort ?? plan.primary.port}`,
      });
    if (plan.cdn)
      rows.push({
        name: "cdn-edge",
        kind: "CDN edge (cache)",
        url: `http://127.0.0.1:${plan.cdn.edgePort}/static/`,
        running,
        note: "in the haproxy process; a hit has an Age header",
      });
    return rows;
  }
}
