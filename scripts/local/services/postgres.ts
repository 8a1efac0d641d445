/**
 * PostgreSQL servers as services: a writable server (step 1's `server` on the web server's host, the catalog
 * `primary` from step 2, each order shard from step 9), kept between runs, and a streaming replica of the
 * primary (step 4; rebuilt at every start). The mechanics are ../postgres.ts's; a replica answers the
 * replica-stop and replica-start faults.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { LocalError } from "../checks";
import type { LocalSecrets, PgSpec } from "../plan";
import * as pg from "../postgres";
import {
  type FaultKind,
  type Service,
  type ServiceContext,
  type ServiceStatus,
  type Tier,
  alive,
  relativePath,
} from "./service";

/** What a server is to the topology, for the table: it changes with a failover. */
export type PgRole = () => string;

abstract class PostgresService implements Service {
  abstract readonly tier: Tier;

  constructor(
    protected readonly ctx: ServiceContext,
    readonly spec: PgSpec,
    private readonly role: PgRole,
    private readonly region?: string,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  abstract start(): Promise<string>;

  async stop(): Promise<void> {
    await pg.stopLeftover(this.spec);
  }

  health(): Promise<boolean> {
    return pg.pgRunning(this.spec);
  }

  status(): ServiceStatus[] {
    const pid = readPid(this.spec.dataDir);
    return [
      {
        name: this.spec.name,
        kind: this.role(),
        region: this.region,
        url: `postgres://127.0.0.1:${this.spec.port}/${this.spec.database}`,
        pid,
        running: pid !== undefined && alive(pid),
        data: relativePath(this.spec.dataDir),
        log: relativePath(this.spec.logFile),
        note: this.spec.name === "server" ? "on the web server's host" : undefined,
      },
    ];
  }
}

/** A writable server: step 1's `server`, the catalog primary, an order shard. Its data is kept between runs. */
export class PostgresPrimary extends PostgresService {
  readonly tier = "database";

  constructor(
    ctx: ServiceContext,
    spec: PgSpec,
    role: PgRole,
    /** Creates the replication role (the catalog's server, which replicas copy from step 4). */
    private readonly replication: boolean,
  ) {
    super(ctx, spec, role);
  }

  async start(): Promise<string> {
    const { created } = await pg.startPrimary(this.ctx.pgRuntime, this.spec, this.ctx.secrets, {
      replication: this.replication,
    });
    return `127.0.0.1:${this.spec.port}${created ? ", new cluster" : ""}`;
  }
}

/** A streaming replica of the current primary, rebuilt from it at every start. */
export class PostgresReplica extends PostgresService {
  readonly tier = "replica";
  /** Stopped by a fault (and not yet started again). */
  stopped = false;

  constructor(
    ctx: ServiceContext,
    spec: PgSpec,
    role: PgRole,
    region: string | undefined,
    /** The server it copies: the primary, or the replica a failover promoted. */
    private readonly source: () => PgSpec,
  ) {
    super(ctx, spec, role, region);
  }

  async start(): Promise<string> {
    await pg.startReplica(this.ctx.pgRuntime, this.source(), this.spec, this.ctx.secrets);
    return `127.0.0.1:${this.spec.port}, streaming from ${this.source().name}`;
  }

  async fault(kind: FaultKind): Promise<string> {
    if (kind === "replica-stop") {
      await pg.stopPg(this.spec);
      this.stopped = true;
      return `stopped ${this.name} (127.0.0.1:${this.spec.port}); reads fall back to the other replicas or the primary`;
    }
    if (kind === "replica-start") {
      await pg.restartServer(this.ctx.pgRuntime, this.spec);
      this.stopped = false;
      return `started ${this.name} again; it catches up by streaming`;
    }
    throw new LocalError(`${this.name} has no fault ${kind}`);
  }

  /** Follows a new primary after a failover. */
  refollow(newPrimary: PgSpec, secrets: LocalSecrets): Promise<void> {
    return pg.refollow(this.ctx.pgRuntime, newPrimary, this.spec, secrets);
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
