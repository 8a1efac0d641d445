/**
 * A redis-server: a region's product cache (step 5, `--cache-*` options) or its sessions' own (step 7,
 * `noeviction`). No persistence: a cache, and sessions that are lost with their server (on AWS a replica takes
 * over). Answers the redis-stop and redis-start faults (started again, it is empty).
 */
import { mkdir } from "node:fs/promises";
import { LocalError, redisPing, waitFor } from "../checks";
import type { RedisSpec } from "../plan";
import type { ProcessDefinition } from "../supervisor";
import { type FaultKind, type Service, type ServiceContext, type ServiceStatus, relativePath } from "./service";

export class RedisService implements Service {
  readonly tier = "cache";

  constructor(
    private readonly ctx: ServiceContext,
    readonly spec: RedisSpec,
    /** `maxmemory` and its policy. */
    readonly memory: { maxmemory: string; policy: string },
    /** The table's note (what it holds). */
    private readonly note: string,
    private readonly region?: string,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  private definition(): ProcessDefinition {
    const { spec, memory } = this;
    return {
      name: spec.name,
      kind: "redis",
      command: "redis-server",
      args: [
        ...["--bind", "127.0.0.1", "--port", String(spec.port), "--requirepass", this.ctx.secrets.redisPassword],
        ...["--maxmemory", memory.maxmemory, "--maxmemory-policy", memory.policy],
        ...["--save", "", "--appendonly", "no", "--dir", spec.dir, "--daemonize", "no", "--protected-mode", "yes"],
      ],
      env: process.env,
    };
  }

  async start(): Promise<string> {
    await mkdir(this.spec.dir, { recursive: true });
    const proc = await this.ctx.supervisor.start(this.definition());
    await waitFor(this.spec.name, () => this.health(), {
      timeoutMs: 20_000,
      failed: async () => (proc.child ? undefined : `redis-server ${proc.lastExit}; see ${proc.logFile}`),
    });
    return `127.0.0.1:${this.spec.port}, maxmemory ${this.memory.maxmemory}, ${this.memory.policy}`;
  }

  stop(): Promise<void> {
    return this.ctx.supervisor.stop(this.spec.name);
  }

  health(): Promise<boolean> {
    return redisPing(this.spec.port, this.ctx.secrets.redisPassword);
  }

  status(): ServiceStatus[] {
    const p = this.ctx.supervisor.processes.get(this.spec.name);
    return [
      {
        name: this.spec.name,
        kind: "redis",
        region: this.region,
        url: `redis://127.0.0.1:${this.spec.port}`,
        pid: p?.pid,
        running: Boolean(p?.child),
        restarts: p?.restarts,
        log: p ? relativePath(p.logFile) : undefined,
        data: relativePath(this.spec.dir),
        note: this.note,
      },
    ];
  }

  async fault(kind: FaultKind): Promise<string> {
    if (kind === "redis-stop") {
      await this.stop();
      return `stopped ${this.name} (127.0.0.1:${this.spec.port})`;
    }
    if (kind === "redis-start") {
      if (this.ctx.supervisor.processes.get(this.name)?.child) throw new LocalError(`${this.name} is running`);
      await this.start();
      return `started ${this.name} again (empty)`;
    }
    throw new LocalError(`${this.name} has no fault ${kind}`);
  }
}
