/**
 * Runs `npm start`'s launcher (start.ts) as a child process, as a developer does, and waits until it reports
 * every /readyz green in its launcher.json: the e2e tests and the benchmark start topologies through this.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { LauncherFile } from "./launcher";
import { PROJECT_DIR } from "./options";

/** The one way the repository runs a TypeScript script (package.json's `npm start` is the same command). */
const RUN = path.join(PROJECT_DIR, "scripts", "run.mjs");

/** A launcher running as a child process. */
export interface SpawnedLauncher {
  launcher: LauncherFile;
  /** Milliseconds from spawning the process to launcher.json saying `ready`. */
  startMs: number;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM; resolves once it has stopped its children and exited. */
  stop(): Promise<void>;
}

/** Spawns the launcher with `args` (which must include `--data-dir`) and resolves once it is ready. */
export async function spawnLauncher(args: string[], options: { timeoutMs?: number } = {}): Promise<SpawnedLauncher> {
  const dataDir = args[args.indexOf("--data-dir") + 1];
  if (!args.includes("--data-dir") || !dataDir) throw new Error("spawnLauncher: pass --data-dir");
  const t0 = Date.now();
  const child: ChildProcess = spawn(process.execPath, [RUN, path.join(__dirname, "start.ts"), ...args], {
    cwd: PROJECT_DIR,
    stdio: ["ignore", "pipe", "pipe"],
  });
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
  const stop = async () => {
    if (!exit) child.kill("SIGTERM");
    await exited;
  };
  const deadline = t0 + (options.timeoutMs ?? 150_000);
  for (;;) {
    if (exit) throw new Error(`the launcher ${exit} before it was ready:\n${output}`);
    try {
      const launcher = JSON.parse(readFileSync(path.join(dataDir, "launcher.json"), "utf8")) as LauncherFile;
      if (launcher.state === "ready") return { launcher, startMs: Date.now() - t0, output: () => output, stop };
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the launcher was not ready after ${(options.timeoutMs ?? 150_000) / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
