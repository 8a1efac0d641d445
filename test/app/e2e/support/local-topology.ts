/**
 * The end-to-end tests' handle on `npm start`: runs the launcher (scripts/local/start.ts) as a child process, the
 * way a developer does (scripts/local/spawn.ts), on a data directory of its own under the OS temp dir and a block
 * of ports of its own, waits for it to report every /readyz green, and drives it through its control endpoint
 * (faults, status). Every wait is on a state with a generous deadline; nothing here measures time.
 *
 * initdb runs once per test run (global-setup.ts): each topology's data directory starts with a copy of that
 * template as the launcher's own cluster template (pg/.template, which the launcher would otherwise initdb), and
 * with the secrets.json the launcher keeps per data directory, whose superuser password is the template's.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { cloneCluster, readCluster } from "../../../../lib/servers/postgres-cluster";
import type { ClimbReport, FaultKind, ServiceStatus } from "../../../../scripts/local/launcher";
import type { LocalSecrets } from "../../../../scripts/local/plan";
import { type SpawnedLauncher, spawnLauncher } from "../../../../scripts/local/spawn";
import { httpRequest } from "../../support/http-client";

/** Products seeded in every e2e topology: enough for a few pages, quick to copy into replicas. */
export const E2E_SEED_PRODUCTS = 120;

/** A running topology. */
export interface Topology {
  step: number;
  /** `http://127.0.0.1:<port>`: the load balancer, the single server, or the geo router. */
  entryUrl: string;
  dataDir: string;
  secrets: LocalSecrets;
  /** Injects a fault; resolves with the launcher's sentence, rejects with its error. */
  fault(kind: FaultKind, target?: string): Promise<string>;
  status(): Promise<ServiceStatus[]>;
  /** Climbs one step up (`POST /climb`); resolves with the launcher's report, rejects with its error. */
  climb(to: number): Promise<ClimbReport>;
  /** A superuser-free client (role `shop`) to one of the topology's PostgreSQL servers, by name. */
  db(name: string): Promise<Client>;
  /** Everything the launcher printed so far. */
  output(): string;
  /**
   * SIGTERM to the launcher; resolves once it has stopped every child and exited; removes the data directory unless
   * asked to keep it (for a launcher started on it next).
   */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/**
 * Starts `npm start -- --step <step>` on entry port `port` (each test file passes its own, 300 apart; a block taken
 * by another run moves 1500 up) and resolves once the launcher reports ready. On failure the error carries the
 * launcher's output. `dataDir`: a data directory a stopped topology kept, instead of a new one.
 */
export async function startTopology(
  step: number,
  port: number,
  extraArgs: string[] = [],
  dataDir?: string,
): Promise<Topology> {
  if (dataDir === undefined) {
    dataDir = mkdtempSync(path.join(os.tmpdir(), `scale-ladder-e2e-${step}-`));
    await seedDataDir(dataDir);
  }
  const dir = dataDir;
  let spawned: SpawnedLauncher | undefined;
  // Another run of the suite on this machine may hold the block of ports: the launcher says so, and the next
  // block (ports are offsets from the entry port) is tried.
  for (let attempt = 0; !spawned; attempt++) {
    const base = port + attempt * 1500;
    try {
      spawned = await spawnLauncher([
        "--step",
        String(step),
        "--port",
        String(base),
        "--data-dir",
        dataDir,
        "--seed-products",
        String(E2E_SEED_PRODUCTS),
        "--log-level",
        "warn",
        ...extraArgs,
      ]);
    } catch (error) {
      if (attempt < 4 && /port \d+ \(.*\) is taken/.test((error as Error).message)) continue;
      await rm(dataDir, { recursive: true, force: true });
      throw error;
    }
  }
  const { launcher } = spawned;
  const secrets = JSON.parse(readFileSync(path.join(dataDir, "secrets.json"), "utf8")) as LocalSecrets;
  const control = launcher.controlUrl;
  const topology: Topology = {
    step,
    entryUrl: launcher.entryUrl,
    dataDir,
    secrets,
    async fault(kind, target) {
      const res = await httpRequest(control, { method: "POST", path: "/fault", body: { kind, target } });
      const body = res.json<{ done?: string; error?: string }>();
      if (res.status !== 200) throw new Error(`fault ${kind}${target ? ` ${target}` : ""}: ${body.error}`);
      return body.done!;
    },
    async status() {
      return (await httpRequest(control, { path: "/status" })).json<{ services: ServiceStatus[] }>().services;
    },
    async climb(to) {
      const res = await httpRequest(control, { method: "POST", path: "/climb", body: { to } });
      if (res.status !== 200) throw new Error(`climb to ${to}: ${res.json<{ error: string }>().error}`);
      topology.step = to;
      return res.json<ClimbReport>();
    },
    async db(name) {
      const service = (await topology.status()).find((s) => s.name === name);
      if (!service) throw new Error(`no service ${name}`);
      const url = new URL(service.url);
      const client = new Client({
        host: "127.0.0.1",
        port: Number(url.port),
        user: "shop",
        password: secrets.shopPassword,
        database: url.pathname.slice(1),
      });
      await client.connect();
      return client;
    },
    output: spawned.output,
    async stop(options = {}) {
      await spawned.stop();
      if (!options.keepData) await rm(dir, { recursive: true, force: true });
    },
  };
  return topology;
}

/**
 * Rows and an md5 of every row's text in order, per catalog table (products, orders, order_items): equal on two
 * databases only if their rows are. Ends the client.
 */
export async function catalogFingerprint(db: Client): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  try {
    for (const table of ["products", "orders", "order_items"]) {
      const { rows } = await db.query<{ n: string; md5: string }>(
        `SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS md5 FROM ${table} t`,
      );
      out[table] = `${rows[0].n} rows, ${rows[0].md5}`;
    }
  } finally {
    await db.end();
  }
  return out;
}

/** The run's initdb'd template as the launcher's cluster template, and secrets whose superuser password fits it. */
async function seedDataDir(dataDir: string): Promise<void> {
  const cluster = await readCluster();
  if (!cluster.templateDir) return; // the launcher runs initdb itself
  const hex = (n: number) => randomBytes(n).toString("hex");
  const secrets: LocalSecrets = {
    superuserPassword: cluster.password,
    replicationPassword: hex(12),
    shopPassword: hex(12),
    redisPassword: hex(16),
    adminToken: hex(32), // 64 hex digits: the admin token rule refuses 32 (components/admin-token.ts)
    sessionSecret: hex(24),
  };
  await writeFile(path.join(dataDir, "secrets.json"), JSON.stringify(secrets, null, 2), { mode: 0o600 });
  // PostgreSQL runs as user postgres when we are root: it must be able to walk into the data directory.
  await chmod(dataDir, 0o755);
  await mkdir(path.join(dataDir, "pg"), { mode: 0o755 });
  await cloneCluster(cluster.templateDir, path.join(dataDir, "pg", ".template"));
}
