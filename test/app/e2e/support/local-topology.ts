/**
 * The end-to-end tests' handle on `npm start`: runs the launcher (scripts/local/start.ts) as a child process, the
 * way a developer does, on a data directory of its own under the OS temp dir and a block of ports of its own,
 * waits for it to report every /readyz green, and drives it through its control endpoint (faults, status). Every
 * wait is on a state with a generous deadline; nothing here measures time.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import type { FaultKind, LauncherFile, ServiceStatus } from "../../../../scripts/local/launcher";
import type { LocalSecrets } from "../../../../scripts/local/plan";
import { httpRequest } from "../../support/http-client";
import { pollUntil } from "../../support/poll";

const PROJECT_DIR = path.resolve(__dirname, "..", "..", "..", "..");
const TS_NODE = path.join(PROJECT_DIR, "node_modules", "ts-node", "dist", "bin.js");

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
  /** A superuser-free client (role `shop`) to one of the topology's PostgreSQL servers, by name. */
  db(name: string): Promise<Client>;
  /** Everything the launcher printed so far. */
  output(): string;
  /** SIGTERM to the launcher; resolves once it has stopped every child and exited; removes the data directory. */
  stop(): Promise<void>;
}

/**
 * Starts `npm start -- --step <step>` on entry port `port` (each test file passes its own, 300 apart) and resolves
 * once the launcher reports ready. On failure the error carries the launcher's output.
 */
export async function startTopology(step: number, port: number, extraArgs: string[] = []): Promise<Topology> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `scale-ladder-e2e-${step}-`));
  const args = [TS_NODE, "--swc", path.join(PROJECT_DIR, "scripts", "local", "start.ts"), "--step", String(step), "--port", String(port), "--data-dir", dataDir, "--seed-products", String(E2E_SEED_PRODUCTS), "--log-level", "warn", ...extraArgs];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: PROJECT_DIR, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0" } });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exit = `exited with ${signal ?? code}`;
      resolve();
    }),
  );
  const launcherFile = path.join(dataDir, "launcher.json");
  let launcher: LauncherFile | undefined;
  try {
    await pollUntil(
      `the step-${step} topology to be ready`,
      async () => {
        if (exit) throw new Error(`the launcher ${exit} before it was ready:\n${output}`);
        try {
          launcher = JSON.parse(readFileSync(launcherFile, "utf8")) as LauncherFile;
        } catch {
          return false;
        }
        return launcher.state === "ready";
      },
      { timeoutMs: 150_000, intervalMs: 200, detail: async () => output },
    );
  } catch (error) {
    if (!exit) child.kill("SIGTERM");
    await exited;
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const secrets = JSON.parse(readFileSync(path.join(dataDir, "secrets.json"), "utf8")) as LocalSecrets;
  const control = launcher!.controlUrl;
  const topology: Topology = {
    step,
    entryUrl: launcher!.entryUrl,
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
    async db(name) {
      const service = (await topology.status()).find((s) => s.name === name);
      if (!service) throw new Error(`no service ${name}`);
      const url = new URL(service.url);
      const client = new Client({ host: "127.0.0.1", port: Number(url.port), user: "shop", password: secrets.shopPassword, database: url.pathname.slice(1) });
      await client.connect();
      return client;
    },
    output: () => output,
    async stop() {
      if (!exit) child.kill("SIGTERM");
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return topology;
}
