/**
 * CPU seconds used by local mode's services, by the capacity model's tier (lib/capacity/measurements.ts), read from
 * /proc: each service's process and its descendants (a PostgreSQL server is its postmaster and one backend per
 * connection). The capacity benchmark (scripts/bench-capacity.ts) measures each route class's cost with it, and the
 * capacity e2e test the CPU a run got. Linux only.
 */
import { execSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import type { ServiceStatus } from "../../scripts/local/launcher";
import { MEASURED_TIERS, type MeasuredTier } from "./measurements";

const TICKS_PER_SECOND = Number(execSync("getconf CLK_TCK").toString().trim()) || 100;

/** CPU seconds (user + system) used so far by every process, and each process's parent. */
function processTable(): Map<number, { ppid: number; cpu: number }> {
  const table = new Map<number, { ppid: number; cpu: number }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command's closing parenthesis: state ppid ... utime (14th) stime (15th).
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      table.set(Number(entry), {
        ppid: Number(fields[1]),
        cpu: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
      });
    } catch {
      // the process ended while we read
    }
  }
  return table;
}

/** The tier a local service stands for, or undefined for one the model does not count (the static origin). */
export function tierOf(s: ServiceStatus): MeasuredTier | undefined {
  if (/^web/.test(s.name)) return "web";
  if (/^worker/.test(s.name)) return "worker";
  if (s.name === "primary") return "primary";
  if (/^replica/.test(s.name)) return "replicas";
  if (/^shard/.test(s.name)) return "shards";
  if (/^redis-sessions/.test(s.name)) return "sessions";
  if (/^redis/.test(s.name)) return "cache";
  if (/haproxy|load balancer|primary endpoint|CDN/i.test(`${s.kind} ${s.name}`)) return "balancer";
  if (/fauxqs|SQS/i.test(`${s.kind} ${s.name}`)) return "queue";
  return undefined;
}

/**
 * CPU seconds used so far by each tier's process trees (each pid counted once), and by this process (`loadgen`: the
 * load generator runs in it).
 */
export function cpuByTier(services: ServiceStatus[]): Record<MeasuredTier, number> {
  const table = processTable();
  const children = new Map<number, number[]>();
  for (const [pid, p] of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  const out = Object.fromEntries(MEASURED_TIERS.map((t) => [t, 0])) as Record<MeasuredTier, number>;
  const seen = new Set<number>();
  const tree = (pid: number): number => {
    if (seen.has(pid)) return 0;
    seen.add(pid);
    return (table.get(pid)?.cpu ?? 0) + (children.get(pid) ?? []).reduce((sum, c) => sum + tree(c), 0);
  };
  for (const s of services) {
    const tier = tierOf(s);
    if (tier && s.pid) out[tier] += tree(s.pid);
  }
  const own = process.cpuUsage();
  out.loadgen = (own.user + own.system) / 1e6;
  return out;
}
