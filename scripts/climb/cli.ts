/**
 * `npm run climb [-- --from A --to B --shoppers K --dwell S ...]`: starts step A of the local topology in this
 * process (as `npm start` does), runs a steady shopper load on it, climbs one step at a time to B on the same data,
 * then prints one row per climb and the totals, and exits 1 when a bar of issue 15 is broken. See options.ts for the
 * flags, runner.ts for the run, report.ts for the bars.
 */
import { LocalError } from "../local/checks";
import { Launcher } from "../local/launcher";
import { DEFAULTS, parseCommandLine } from "../local/options";
import { closeConnections } from "./browser";
import { CLIMB_USAGE, parseClimbOptions } from "./options";
import { brokenBars, renderReport } from "./report";
import { ClimbRun } from "./runner";
import { assertUnderRateLimits } from "./shoppers";

/** How long the check after an early stop may take. */
const CHECK_AFTER_STOP_MS = 60_000;

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(
    argv,
    (args) => {
      const options = parseClimbOptions(args);
      if (options !== "help") assertUnderRateLimits(options.shoppers);
      return options;
    },
    CLIMB_USAGE,
  );
  if ("exit" in parsed) return parsed.exit;
  const options = parsed.options;
  process.stdout.on("error", () => undefined);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const launcher = new Launcher(
    {
      ...DEFAULTS,
      step: options.from,
      port: options.port,
      dataDir: options.dataDir,
      reset: options.reset,
      seedProducts: options.seedProducts,
      logLevel: options.logLevel,
    },
    out,
  );
  const run = new ClimbRun(options, launcher, out);

  // Bounded in time: past --max-minutes the run stops by itself, reports what it found so far, and fails.
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`the time bound of ${options.maxMinutes} minutes`), options.maxMinutes * 60_000);
  });
  let interrupted: (why: string) => void = () => undefined;
  const interrupt = new Promise<string>((resolve) => (interrupted = resolve));
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => interrupted(signal));

  let stoppedEarly: string | undefined;
  try {
    stoppedEarly = await Promise.race([run.run().then(() => undefined), bound, interrupt]);
  } catch (error) {
    const message = error instanceof LocalError ? error.message : ((error as Error).stack ?? String(error));
    out(`✗ ${message}`);
    stoppedEarly = `an error: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
  if (stoppedEarly) {
    out(`\nclimb: stopping early (${stoppedEarly}); checking what was acknowledged so far`);
    // Bounded too: a topology left broken may not answer.
    const check = run.checkAfterStop().catch((error: Error) => out(`  ✗ the check failed: ${error.message}`));
    await Promise.race([check, new Promise((resolve) => setTimeout(resolve, CHECK_AFTER_STOP_MS).unref())]);
  }
  const outcome = run.outcome(stoppedEarly);
  await run.stopLoad();
  await launcher.stop();
  closeConnections();
  out(`\n${renderReport(outcome)}`);
  const code = brokenBars(outcome).length === 0 ? 0 : 1;
  // A climb still in flight when the bound struck holds timers of its own: nothing more is to be waited for.
  if (stoppedEarly) process.exit(code);
  return code;
}
