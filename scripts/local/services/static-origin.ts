/**
 * The static origin (step 6): the release's `static/` served with the Cache-Control of stacks/static-assets.ts and
 * ETags (../static-origin.mjs), behind HAProxy's CDN edge, as S3 is behind CloudFront.
 */
import path from "node:path";
import { httpGet, waitFor } from "../checks";
import { type Service, type ServiceContext, type ServiceStatus, relativePath } from "./service";

const NAME = "static-origin";

export class StaticOrigin implements Service {
  readonly name = NAME;
  readonly tier = "static";

  constructor(
    private readonly ctx: ServiceContext,
    private readonly port: number,
  ) {}

  private get dir(): string {
    return path.join(this.ctx.releaseDir, "static");
  }

  async start(): Promise<string> {
    const proc = await this.ctx.supervisor.start({
      name: NAME,
      kind: "static",
      command: process.execPath,
      args: [path.join(__dirname, "..", "static-origin.mjs"), this.dir, String(this.port)],
      env: process.env,
    });
    await waitFor("static origin", () => this.health(), {
      timeoutMs: 20_000,
      failed: async () => (proc.child ? undefined : `${proc.lastExit}; see ${proc.logFile}`),
    });
    return `127.0.0.1:${this.port}, ${this.dir}`;
  }

  stop(): Promise<void> {
    return this.ctx.supervisor.stop(NAME);
  }

  async health(): Promise<boolean> {
    return (await httpGet(`http://127.0.0.1:${this.port}/healthz`)).status === 200;
  }

  status(): ServiceStatus[] {
    const p = this.ctx.supervisor.processes.get(NAME);
    return [
      {
        name: NAME,
        kind: "static origin",
        url: `http://127.0.0.1:${this.port}/static/`,
        pid: p?.pid,
        running: Boolean(p?.child),
        log: p ? relativePath(p.logFile) : undefined,
        data: relativePath(this.dir),
        note: "Cache-Control, ETag",
      },
    ];
  }
}
