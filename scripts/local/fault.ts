/**
 * `npm run local:fault -- <kind> [target] [--data-dir DIR]`: injects a failure into the topology that `npm start`
 * runs, through the launcher's control endpoint on 127.0.0.1 (found in <data-dir>/launcher.json).
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { FAULTS, type LauncherFile } from "./launcher";
import { PROJECT_DIR } from "./options";

const USAGE = `npm run local:fault -- <kind> [target] [--data-dir DIR]

${Object.entries(FAULTS)
  .map(([kind, what]) => `  ${kind.padEnd(17)} ${what}`)
  .join("\n")}

target: a replica (replica-2), a worker or web process (web-2, web-eu-west-1-1), a region for its cache Redis
(eu-west-1), or a Redis by name (redis-sessions, redis-sessions-eu-west-1).`;

function post(url: string, body: unknown): Promise<{ status: number; json: { done?: string; error?: string } }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(
      url,
      { method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

export async function main(args: string[]): Promise<void> {
  let dataDir = process.env.SCALE_LADDER_LOCAL_DIR ?? path.join(PROJECT_DIR, ".local");
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--data-dir") dataDir = path.resolve(args[++i] ?? "");
    else if (args[i] === "--help" || args[i] === "-h") return void process.stdout.write(`${USAGE}\n`);
    else positional.push(args[i]);
  }
  const [kind, target] = positional;
  if (!kind || !(kind in FAULTS)) {
    process.stderr.write(`${kind ? `unknown fault ${JSON.stringify(kind)}` : "which fault?"}\n\n${USAGE}\n`);
    process.exit(2);
  }
  let launcher: LauncherFile;
  try {
    launcher = JSON.parse(readFileSync(path.join(dataDir, "launcher.json"), "utf8")) as LauncherFile;
  } catch {
    process.stderr.write(`no topology runs on ${dataDir} (no launcher.json): start one with npm start\n`);
    process.exit(1);
  }
  try {
    const { status, json } = await post(`${launcher.controlUrl}/fault`, { kind, target });
    if (status !== 200) {
      process.stderr.write(`${kind}: ${json.error}\n`);
      process.exit(1);
    }
    process.stdout.write(`${json.done}\n`);
  } catch (error) {
    process.stderr.write(
      `the launcher (pid ${launcher.pid}) does not answer on ${launcher.controlUrl}: ${(error as Error).message}\n`,
    );
    process.exit(1);
  }
}
