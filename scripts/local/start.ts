/**
 * `npm start [-- --step N --port P ...]`: runs the local topology of one step of the ladder until Ctrl-C or
 * SIGTERM, then stops every child. See options.ts for the flags and plan.ts for what runs at each step.
 */
import { LocalError } from "./checks";
import { Launcher } from "./launcher";
import { USAGE, UsageError, parseOptions } from "./options";

export async function main(argv: string[]): Promise<void> {
  let options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (options === "help") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // A closed stdout (the launcher piped into `head`, a terminal gone) must not kill the launcher and orphan its
  // children: output is best effort, stopping is not.
  process.stdout.on("error", () => undefined);
  process.stderr.on("error", () => undefined);
  const launcher = new Launcher(options);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return; // the first signal already stops everything; the wait is bounded
    signalled = true;
    process.stdout.write(`\n${signal}: `);
    launcher.stop().then(
      () => process.exit(0),
      (error: Error) => {
        process.stderr.write(`stopping failed: ${error.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  try {
    await launcher.start();
  } catch (error) {
    // A problem the user can fix is one line; anything else is a bug, with its stack.
    process.stderr.write(error instanceof LocalError ? `✗ ${error.message}\n` : `${(error as Error).stack}\n`);
    process.exit(1);
  }
}
