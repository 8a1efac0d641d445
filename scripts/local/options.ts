/**
 * The options of `npm start` (the local topology), parsed once from the command line. Defaults follow the stack's
 * per-step defaults (stacks/config.ts) where a local equivalent exists, scaled down where this machine is small.
 */
import path from "node:path";
import { MAX_WEB, MAX_WORKERS } from "./plan";

/** Where the project lives: the launcher's paths are relative to it, whatever the caller's working directory. */
export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/** The steps of the ladder. */
export const MIN_STEP = 1;
export const MAX_STEP = 11;

/** Redis `maxmemory-policy` values (the same list as components/cache.ts's MAXMEMORY_POLICIES). */
export const MAXMEMORY_POLICIES = [
  "volatile-lru",
  "allkeys-lru",
  "volatile-lfu",
  "allkeys-lfu",
  "volatile-random",
  "allkeys-random",
  "volatile-ttl",
  "noeviction",
] as const;

/** Everything the launcher needs to know. */
export interface LocalOptions {
  /** Step of the ladder, 1–11. @default 11 */
  step: number;
  /** Entry port (load balancer, single server, or geo router); every other port is an offset from it. @default 8080 */
  port: number;
  /** Where data, logs, pid files and the release live. @default <project>/.local */
  dataDir: string;
  /** Wipe dataDir before starting. @default false */
  reset: boolean;
  /** Products the app seeds into an empty catalog. @default 2000 */
  seedProducts: number;
  /** Web processes per region from step 3 (1 before). @default 2 */
  web: number;
  /** Workers per region from step 8. @default 1 */
  workers: number;
  /** Read replicas in the primary region from step 4 (the secondary region gets one). @default 2 */
  replicas: number;
  /** Order shards from step 9. @default 2 */
  shards: number;
  /** Redis `maxmemory`. @default "64mb" */
  cacheMaxmemory: string;
  /** Redis `maxmemory-policy`. @default "allkeys-lru" */
  cachePolicy: (typeof MAXMEMORY_POLICIES)[number];
  /** CACHE_TTL_SECONDS. @default 60 */
  cacheTtlSeconds: number;
  /** SQS visibility timeout of the local orders queue, seconds. @default 10 */
  queueVisibilitySeconds: number;
  /** LOG_LEVEL of the app processes. @default "info" */
  logLevel: string;
  /** How the app runs: the built release (`dist`, built when stale) or the TypeScript sources (`ts`). @default "dist"
   * */
  runtime: "dist" | "ts";
  /** Echo every child's output on the launcher's stdout, prefixed with its name. @default false */
  logs: boolean;
}

export const DEFAULTS: Omit<LocalOptions, "dataDir"> = {
  step: MAX_STEP,
  port: 8080,
  reset: false,
  seedProducts: 2000,
  web: 2,
  workers: 1,
  replicas: 2,
  shards: 2,
  cacheMaxmemory: "64mb",
  cachePolicy: "allkeys-lru",
  cacheTtlSeconds: 60,
  queueVisibilitySeconds: 10,
  logLevel: "info",
  runtime: "dist",
  logs: false,
};

export const USAGE = `npm start [-- options]     start the local topology of one step of the ladder

  --step N              step 1-11 (default ${DEFAULTS.step})
  --port P              entry port on 127.0.0.1 (default ${DEFAULTS.port}); other ports are P+1 ... P+299
  --data-dir DIR        data, logs and pid files (default .local/)
  --reset               wipe the data directory first
  --seed-products N     products seeded into an empty catalog (default ${DEFAULTS.seedProducts})
  --web N               web processes per region, step 3 on (default ${DEFAULTS.web})
  --workers N           workers per region, step 8 on (default ${DEFAULTS.workers})
  --replicas N          read replicas of the primary region, step 4 on (default ${DEFAULTS.replicas})
  --shards N            order shards, step 9 on (default ${DEFAULTS.shards})
  --cache-maxmemory S   redis maxmemory (default ${DEFAULTS.cacheMaxmemory})
  --cache-policy P      redis maxmemory-policy (default ${DEFAULTS.cachePolicy})
  --cache-ttl S         CACHE_TTL_SECONDS (default ${DEFAULTS.cacheTtlSeconds})
  --log-level L         LOG_LEVEL of the app processes (default ${DEFAULTS.logLevel})
  --ts                  run the app from its TypeScript sources instead of the built release
  --logs                echo every process's output here, prefixed with its name
  --help                this text

Faults, while it runs: npm run local:fault -- <kind> [target]   (npm run local:fault -- --help)`;

/** A command-line problem; the message says what is wrong and what is allowed. */
export class UsageError extends Error {}

/**
 * How the scripts answer a command line: `parse` returns their options, or `"help"` for `usage` on stdout (exit 0);
 * a {@link UsageError} it throws is printed with `usage` on stderr (exit 2). Any other error is the script's own.
 */
export function parseCommandLine<T>(
  argv: string[],
  parse: (argv: string[]) => T | "help",
  usage: string,
): { options: T } | { exit: number } {
  let options: T | "help";
  try {
    options = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${usage}\n`);
    return { exit: 2 };
  }
  if (options === "help") {
    process.stdout.write(`${usage}\n`);
    return { exit: 0 };
  }
  return { options };
}

/** `value` as a whole number from `min` to `max`; a {@link UsageError} naming `flag` and the range otherwise. */
export function integer(flag: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined || !/^\d+$/.test(value))
    throw new UsageError(`${flag} needs a whole number, got ${JSON.stringify(value ?? "")}`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${flag} must be from ${min} to ${max}, got ${n}`);
  return n;
}

/** Parses `argv` (without node and the script); throws {@link UsageError}, or returns `"help"`. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): LocalOptions | "help" {
  const options: LocalOptions = {
    ...DEFAULTS,
    dataDir: env.SCALE_LADDER_LOCAL_DIR ?? path.join(PROJECT_DIR, ".local"),
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
      case "--step":
        options.step = integer(flag, value(), MIN_STEP, MAX_STEP);
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
        options.seedProducts = integer(flag, value(), 0, 1_000_000);
        break;
      case "--web":
        options.web = integer(flag, value(), 1, MAX_WEB);
        break;
      case "--workers":
        options.workers = integer(flag, value(), 1, MAX_WORKERS);
        break;
      case "--replicas":
        options.replicas = integer(flag, value(), 1, 5);
        break;
      case "--shards":
        options.shards = integer(flag, value(), 1, 16);
        break;
      case "--cache-maxmemory": {
        const v = value();
        if (!v || !/^\d+(kb|mb|gb)?$/i.test(v))
          throw new UsageError(`--cache-maxmemory needs a size such as 64mb, got ${JSON.stringify(v ?? "")}`);
        options.cacheMaxmemory = v;
        break;
      }
      case "--cache-policy": {
        const v = value() as LocalOptions["cachePolicy"];
        if (!MAXMEMORY_POLICIES.includes(v))
          throw new UsageError(
            `--cache-policy must be one of ${MAXMEMORY_POLICIES.join(", ")}, got ${JSON.stringify(v ?? "")}`,
          );
        options.cachePolicy = v;
        break;
      }
      case "--cache-ttl":
        options.cacheTtlSeconds = integer(flag, value(), 1, 86_400);
        break;
      case "--queue-visibility":
        options.queueVisibilitySeconds = integer(flag, value(), 1, 43_200);
        break;
      case "--log-level": {
        const v = value();
        if (!v || !["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(v))
          throw new UsageError(`--log-level must be fatal, error, warn, info, debug, trace or silent`);
        options.logLevel = v;
        break;
      }
      case "--ts":
        options.runtime = "ts";
        break;
      case "--logs":
        options.logs = true;
        break;
      default:
        throw new UsageError(`unknown option ${JSON.stringify(arg)} (npm start -- --help lists them)`);
    }
  }
  return options;
}
