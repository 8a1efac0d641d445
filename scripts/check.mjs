// The static half of `npm test`: `npm run typecheck`, `npm run lint` and `npm run format:check` at the same time
// (tsc and eslint each build a TypeScript program of the whole code base; on two cores, side by side they take about
// as long as the slower of them). Each one's output is printed whole when it ends, with its time; the exit status is
// 1 if any of them failed, so `npm test` stops before jest.
// Usage: node scripts/check.mjs [script ...]   (default: typecheck lint format:check)
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const scripts = process.argv.length > 2 ? process.argv.slice(2) : ["typecheck", "lint", "format:check"];

/** `npm run -s <script>` with the npm that runs us (npm test), else the one on PATH. */
function npmRun(script) {
  const npmCli = process.env.npm_execpath;
  const [command, args] = npmCli?.endsWith(".js")
    ? [process.execPath, [npmCli, "run", "-s", script]]
    : ["npm", ["run", "-s", script]];
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    let done = false;
    const finish = (ok, status) => {
      if (done) return;
      done = true;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const text = output.trimEnd();
      process.stdout.write(`── npm run ${script}: ${status}, ${seconds} s\n${text ? `${text}\n` : ""}`);
      resolve({ script, ok });
    };
    child.on("error", (error) => finish(false, `could not start (${error.message})`));
    child.on("close", (code, signal) =>
      finish(code === 0, code === 0 ? "ok" : signal ? `killed by ${signal}` : `failed (exit ${code})`),
    );
  });
}

const results = await Promise.all(scripts.map(npmRun));
const failed = results.filter((r) => !r.ok).map((r) => r.script);
if (failed.length > 0) {
  process.stdout.write(`check: ${failed.join(", ")} failed\n`);
  process.exit(1);
}
