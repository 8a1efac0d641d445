/**
 * Local mode's supervisor (scripts/local/supervisor.ts) writes each process's output to its log file. A process whose
 * lines nobody reads writes the file itself (its stdout is the file, not a pipe through the launcher, which relayed
 * every access line at a quarter of a core under `npm run bench`); a process with `onLine` is still piped, and its
 * lines reach both the file and the function.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Supervisor } from "../../scripts/local/supervisor";
import { pollUntil } from "../../lib/servers/poll";

let dir: string;
let supervisor: Supervisor;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "scale-ladder-supervisor-"));
  supervisor = new Supervisor(path.join(dir, "logs"), path.join(dir, "run"), () => undefined);
});
afterEach(async () => {
  await supervisor.stopAll();
  await rm(dir, { recursive: true, force: true });
});

const PRINT = "console.log('out line'); console.error('err line'); setInterval(() => undefined, 1000);";

test("a process nobody reads the lines of writes its own log file: no pipe through the launcher", async () => {
  const entry = await supervisor.start({
    name: "quiet",
    kind: "web",
    command: process.execPath,
    args: ["-e", PRINT],
    env: process.env,
  });
  expect({ stdoutPiped: entry.child!.stdout !== null, stderrPiped: entry.child!.stderr !== null }).toEqual({
    stdoutPiped: false,
    stderrPiped: false,
  });
  await pollUntil("the log file has both lines", async () => readFileSync(entry.logFile, "utf8").includes("err line"));
  expect(readFileSync(entry.logFile, "utf8")).toContain("out line\n");
});

test("a process with onLine is piped: its lines reach the function and the log file", async () => {
  const lines: string[] = [];
  const entry = await supervisor.start({
    name: "echoed",
    kind: "worker",
    command: process.execPath,
    args: ["-e", PRINT],
    env: process.env,
    onLine: (line) => lines.push(line),
  });
  expect(entry.child!.stdout !== null).toBe(true);
  await pollUntil("onLine saw both lines", async () => lines.includes("out line") && lines.includes("err line"));
  await pollUntil("the log file has both lines", async () => readFileSync(entry.logFile, "utf8").includes("err line"));
});
