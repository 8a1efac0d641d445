/**
 * What every service of the local topology is: one file per service in this folder (PostgreSQL servers, Redis,
 * the SQS emulator, the static origin, HAProxy, the app's processes), each with `start`, `stop`, `health` and the
 * faults it answers to. The launcher composes them from the plan: tier by tier in {@link TIERS}' order (the
 * services of one tier at once), and stops them in reverse.
 */
import path from "node:path";
import type { LocalOptions } from "../options";
import type { LocalSecrets, Plan, Runtime } from "../plan";
import type { PgRuntime } from "../postgres";
import type { Supervisor } from "../supervisor";

/**
 * The start order, from the step table's features (stacks/steps.ts): the catalog database (singleServer,
 * separateDatabase) and the order shards (shards) first, the replicas that copy the primary (replicas), the caches
 * (cache, redisSessions), the queue (queue), the static origin (cdn), the load balancer in front of them all
 * (fleet), and last the app, which needs every one of them. Shutdown runs the other way.
 */
export const TIERS = ["database", "replica", "cache", "queue", "static", "edge", "app"] as const;
export type Tier = (typeof TIERS)[number];

/** The fault kinds `npm run local:fault` knows (the FIS templates share these names: stacks/drills.ts). */
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

/** What the services share: the launcher's state. `plan` is the current step's (it changes with a climb). */
export interface ServiceContext {
  readonly plan: Plan;
  readonly options: LocalOptions;
  readonly secrets: LocalSecrets;
  readonly runtime: Runtime;
  readonly pgRuntime: PgRuntime;
  readonly supervisor: Supervisor;
  /** The unpacked release the app processes run (or app/ with `--ts`). */
  readonly releaseDir: string;
  /** A progress or warning line on the launcher's output. */
  out(line: string): void;
}

/** One service of the topology. */
export interface Service {
  /** Its name in the table, the fault CLI and the logs. */
  readonly name: string;
  readonly tier: Tier;
  /** Starts it and resolves once it is healthy, with the detail of its progress line. */
  start(): Promise<string>;
  /** Stops it for good (a fault's stop is not this: the service stays planned). */
  stop(): Promise<void>;
  /** True while it serves. */
  health(): Promise<boolean>;
  /** Its rows in the table. */
  status(): ServiceStatus[];
  /** Injects one of its faults; resolves with a sentence saying what was done. */
  fault?(kind: FaultKind): Promise<string>;
}

/** A path as the table shows it: relative to the working directory when inside it. */
export function relativePath(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r === "" ? "." : r.startsWith("..") ? p : r;
}

/** True while `pid` runs. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
