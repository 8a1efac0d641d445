/**
 * The options of `npm run climb`, parsed once from the command line in the style of `npm start`'s
 * (scripts/local/options.ts, whose UsageError and bounds it shares).
 */
import path from "node:path";
import { MAX_STEP, MIN_STEP, PROJECT_DIR, UsageError, integer } from "../local/options";

/** What the climb runner needs to know. */
export interface ClimbOptions {
  /** The step the shop starts at, 1–10. @default 1 */
  from: number;
  /** The step it climbs to, one step at a time; above `from`, at most 11. @default 11 */
  to: number;
  /** Concurrent shoppers. @default 6 */
  shoppers: number;
  /** Seconds of steady load at the first step and after each climb. @default 10 */
  dwellSeconds: number;
  /**
   * Entry port of the topology; it uses P … P+299. 300 above `npm start`'s default, so both can run side by side.
   * @default 8380
   */
  port: number;
  /** Data, logs and pid files. @default <project>/.local/climb */
  dataDir: string;
  /** Wipe the data directory first. @default false */
  reset: boolean;
  /** Products seeded into an empty catalog. @default 2000 */
  seedProducts: number;
  /** The run stops by itself, failing, after this many minutes; the bar for 1 → 11 is 10. @default 10 */
  maxMinutes: number;
  /** LOG_LEVEL of the app processes. @default "warn" */
  logLevel: string;
}

export const CLIMB_DEFAULTS: Omit<ClimbOptions, "dataDir"> = {
  from: MIN_STEP,
  to: MAX_STEP,
  shoppers: 6,
  dwellSeconds: 10,
  port: 8380,
  reset: false,
  seedProducts: 2000,
  maxMinutes: 10,
  logLevel: "warn",
};

/** Most shoppers: this is a 2-core machine's load generator, not a benchmark. */
export const MAX_SHOPPERS = 50;

export const CLIMB_USAGE = `npm run climb [-- options]   climb a live local shop one step at a time under shopper load

  --from A              first step, ${MIN_STEP}-${MAX_STEP - 1} (default ${CLIMB_DEFAULTS.from})
  --to B                last step, above --from, at most ${MAX_STEP} (default ${CLIMB_DEFAULTS.to})
  --shoppers K          concurrent shoppers, 1-${MAX_SHOPPERS} (default ${CLIMB_DEFAULTS.shoppers})
  --dwell S             seconds of steady load at the first step and after each climb, 1-600 (default ${
    CLIMB_DEFAULTS.dwellSeconds
  })
  --port P              entry port on 127.0.0.1 (default ${CLIMB_DEFAULTS.port}); the topology uses P ... P+299
  --data-dir DIR        data, logs and pid files (default .local/climb/)
  --reset               wipe the data directory first
  --seed-products N     products seeded into an empty catalog (default ${CLIMB_DEFAULTS.seedProducts})
  --max-minutes M       stop, failing, after M minutes, 1-120 (default ${CLIMB_DEFAULTS.maxMinutes})
  --log-level L         LOG_LEVEL of the app processes (default ${CLIMB_DEFAULTS.logLevel})
  --help                this text

Exit code 0 when every bar is met (no acknowledged order missing, no cart lost, failed requests <= 0.1 % and none
on a seamless climb, within --max-minutes), 1 otherwise, 2 for a bad option.`;

/** Parses `argv` (without node and the script); throws {@link UsageError}, or returns `"help"`. */
export function parseClimbOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): ClimbOptions | "help" {
  const options: ClimbOptions = {
    ...CLIMB_DEFAULTS,
    dataDir: env.SCALE_LADDER_CLIMB_DIR ?? path.join(PROJECT_DIR, ".local", "climb"),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--help":
      case "-h":
        return "help";
      case "--from":
        options.from = integer(flag, value(), MIN_STEP, MAX_STEP - 1);
        break;
      case "--to":
        options.to = integer(flag, value(), MIN_STEP + 1, MAX_STEP);
        break;
      case "--shoppers":
        options.shoppers = integer(flag, value(), 1, MAX_SHOPPERS);
        break;
      case "--dwell":
        options.dwellSeconds = integer(flag, value(), 1, 600);
        break;
      case "--port":
        options.port = integer(flag, value(), 1024, 65535 - 300);
        break;
      case "--data-dir": {
        const dir = value();
        if (!dir) throw new UsageError("--data-dir needs a directory");
        options.dataDir = path.resolve(dir);
        break;
      }
      case "--reset":
        options.reset = true;
        break;
      case "--seed-products":
        options.seedProducts = integer(flag, value(), 1, 1_000_000);
        break;
      case "--max-minutes":
        options.maxMinutes = integer(flag, value(), 1, 120);
        break;
      case "--log-level": {
        const v = value();
        if (!v || !["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(v))
          throw new UsageError(
            `--log-level must be fatal, error, warn, info, debug, trace or silent, got ${JSON.stringify(v ?? "")}`,
          );
        options.logLevel = v;
        break;
      }
      default:
        throw new UsageError(`unknown option ${JSON.stringify(arg)} (npm run climb -- --help lists them)`);
    }
  }
  if (options.from >= options.to)
    throw new UsageError(`--from (${options.from}) must be below --to (${options.to}): the climb goes up`);
  return options;
}
