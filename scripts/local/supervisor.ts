/**
 * The launcher's child processes (everything but PostgreSQL, whose servers are managed through their data
 * directories): each one's output goes to its own log file, its pid to a pid file (so that a launcher killed
 * without a word leaves a trail the next start can clean up), and web servers and workers come back after an
 * unexpected exit, as systemd's `Restart=always` brings them back on AWS.
 */
import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import {
  closeSync,
  createWriteStream,
  existsSync,
  openSync,
  readFileSync,
  readdirSync,
  type WriteStream,
} from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/** How to start one process. */
export interface ProcessDefinition {
  name: string;
  kind: "web" | "worker" | "redis" | "haproxy" | "static" | "fauxqs";
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Come back after an exit nobody asked for. @default false */
  restart?: boolean;
  /** Lines of output also handed to this function (the launcher echoes some). */
  onLine?: (line: string) => void;
}

/** A supervised process. */
export interface Supervised {
  def: ProcessDefinition;
  child?: ChildProcess;
  pid?: number;
  /** True while it should be running. */
  wanted: boolean;
  restarts: number;
  logFile: string;
  /** The last exit, for the status. */
  lastExit?: string;
}

const RESTART_DELAY_MS = 1000;

/** Starts, watches and stops a set of processes. */
export class Supervisor {
  readonly processes = new Map<string, Supervised>();
  private stopping = false;

  constructor(
    private readonly logDir: string,
    private readonly pidDir: string,
    private readonly onEvent: (message: string) => void,
  ) {}

  /** Starts `def` and resolves once it has been spawned (readiness is the caller's business). */
  async start(def: ProcessDefinition): Promise<Supervised> {
    await mkdir(this.logDir, { recursive: true });
    await mkdir(this.pidDir, { recursive: true });
    const existing = this.processes.get(def.name);
    const entry: Supervised = existing ?? {
      def,
      wanted: true,
      restarts: 0,
      logFile: path.join(this.logDir, `${def.name}.log`),
    };
    entry.def = def;
    entry.wanted = true;
    this.processes.set(def.name, entry);
    await this.spawn(entry);
    return entry;
  }

  private async spawn(entry: Supervised): Promise<void> {
    const { def } = entry;
    // A process whose lines nobody reads here writes its log file itself: relaying every line through this
    // process cost the launcher a quarter of a core at step 5 under `npm run bench` (one access line a request).
    const onLine = def.onLine;
    const direct = onLine ? undefined : openSync(entry.logFile, "a");
    const stdio: StdioOptions = direct === undefined ? ["ignore", "pipe", "pipe"] : ["ignore", direct, direct];
    let child: ChildProcess;
    try {
      child = spawn(def.command, def.args, { env: def.env, cwd: def.cwd, stdio });
    } finally {
      if (direct !== undefined) closeSync(direct); // the child holds its own copy
    }
    entry.child = child;
    entry.pid = child.pid;
    let log: WriteStream | undefined;
    if (onLine) {
      const out = createWriteStream(entry.logFile, { flags: "a" });
      log = out;
      let pending = "";
      const onData = (chunk: Buffer) => {
        out.write(chunk);
        pending += chunk.toString("utf8");
        let nl: number;
        while ((nl = pending.indexOf("\n")) >= 0) {
          onLine(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
    }
    const pidFile = path.join(this.pidDir, `${def.name}.pid`);
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (error) => reject(new Error(`${def.name}: cannot run ${def.command} (${error.message})`)));
    });
    await writeFile(pidFile, `${child.pid}\n${def.command}\n`);
    child.once("exit", (code, signal) => {
      log?.end();
      entry.child = undefined;
      entry.pid = undefined;
      entry.lastExit = signal ? `killed by ${signal}` : `exited with ${code}`;
      rm(pidFile, { force: true }).catch(() => undefined);
      if (!entry.wanted || this.stopping) return;
      this.onEvent(
        `${def.name} ${entry.lastExit}${def.restart ? `; restarting in ${RESTART_DELAY_MS / 1000} s` : ""} ` +
          `(log: ${entry.logFile})`,
      );
      if (def.restart) {
        setTimeout(() => {
          if (!entry.wanted || this.stopping || entry.child) return;
          entry.restarts++;
          this.spawn(entry).catch((error: Error) => this.onEvent(error.message));
        }, RESTART_DELAY_MS);
      }
    });
  }

  /** Sends `signal` to a process without changing whether it is wanted (a fault: it may come back). */
  kill(name: string, signal: NodeJS.Signals): number | undefined {
    const entry = this.processes.get(name);
    const pid = entry?.child?.pid;
    if (!entry || pid === undefined) return undefined;
    entry.child!.kill(signal);
    return pid;
  }

  /** Stops a process for good: SIGTERM, then SIGKILL after `timeoutMs`. */
  async stop(name: string, timeoutMs = 15_000): Promise<void> {
    const entry = this.processes.get(name);
    if (!entry) return;
    entry.wanted = false;
    const child = entry.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Drops a stopped process from the table (a climb replaced it: its name may come back on another slot). */
  forget(name: string): void {
    const entry = this.processes.get(name);
    if (entry && !entry.child) this.processes.delete(name);
  }

  /** Stops every process of the given kinds, all at once. */
  async stopKinds(kinds: ProcessDefinition["kind"][]): Promise<void> {
    await Promise.all(
      [...this.processes.values()].filter((p) => kinds.includes(p.def.kind)).map((p) => this.stop(p.def.name)),
    );
  }

  /** Stops everything (nothing restarts from now on). */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.processes.keys()].map((name) => this.stop(name)));
  }
}

/**
 * Ends processes a previous launcher left behind (it was killed before it could stop them): each pid file names a
 * pid and the command it ran, and a pid is only signalled while /proc says it still runs that command.
 */
export function killLeftovers(pidDir: string): string[] {
  const killed: string[] = [];
  if (!existsSync(pidDir)) return killed;
  for (const file of readdirSync(pidDir).filter((f) => f.endsWith(".pid"))) {
    const [pidText, command] = readFileSync(path.join(pidDir, file), "utf8").split("\n");
    const pid = Number(pidText);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0];
    } catch {
      continue; // gone
    }
    // Redis rewrites its title ("redis-server 127.0.0.1:6379"): compare the program's name only.
    if (command && path.basename(cmdline.split(" ")[0]) === path.basename(command)) {
      try {
        process.kill(pid, "SIGKILL");
        killed.push(`${file.replace(/\.pid$/, "")} (pid ${pid})`);
      } catch {
        // gone meanwhile
      }
    }
  }
  return killed;
}
