/**
 * `npm run load -- --url <URL> --step N [options]`: the ladder's load profile (scripts/load/profile.ts) against a
 * deployed shop (the stack's `siteUrl`) or local mode's entry, then the gate. Exit 0 when the step holds the rate,
 * 1 when it does not, 2 for a usage error (named, with the allowed values).
 *
 * One machine is one client address, and the shop limits each address (app/src/http/rate-limit.ts, and AWS WAF from
 * step 3): a rate one address cannot send without being refused is refused here, with the number of addresses it
 * needs. Run the same command on that many machines, each with its share of the rate, and judge each gate; or state
 * limits you raised for the test with `--limits`.
 */
import { MAX_STEP, MIN_STEP } from "../../stacks/steps";
import { parseLadderConfig } from "../../stacks/config";
import { type AddressLimits, addressCeiling, defaultLimits, scenarioAt } from "./profile";
import { type LoadOptions, renderReport, runLoad } from "./run";

/** The gate's and the run's defaults, stated once (the usage, the docs). */
export const LOAD_DEFAULTS = {
  /** Seconds. */
  duration: 60,
  /** Virtual shoppers at once. */
  shoppers: 16,
  /** 99 % of requests answered 2xx. */
  minSuccess: 0.99,
  /** A shopper notices a second; the ALB's and CloudFront's own latency are in what is measured. */
  maxP99Ms: 1000,
  /** The rate when `--rate` is not given and the address limits are off. */
  rate: 50,
  seed: 1,
} as const;

export const USAGE = [
  "usage: npm run load -- --url <http(s)://host[:port]> --step <1-11> [--rate R] [--duration S] [--shoppers N]",
  `         [--min-success F] [--max-p99-ms MS] [--limits waf=N,cart=N,checkout=N] [--seed N] [--json]`,
  `  --rate        requests per second (default: what one client address may send at that step, at most ` +
    `${LOAD_DEFAULTS.rate})`,
  `  --duration    seconds (default ${LOAD_DEFAULTS.duration}); --shoppers: at once ` +
    `(default ${LOAD_DEFAULTS.shoppers})`,
  `  --min-success least share answered 2xx (default ${LOAD_DEFAULTS.minSuccess}); --max-p99-ms default ` +
    `${LOAD_DEFAULTS.maxP99Ms}`,
  "  --limits      the deployment's per-address limits, when not the defaults: waf (requests per 5 minutes, " +
    "wafRateLimit), cart and checkout (per minute, RATE_LIMIT_*_PER_MINUTE); 0 = off",
].join("\n");

/** A command line that cannot be run; the message names the argument and what it accepts. */
export class UsageError extends Error {}

const FLAGS = [
  "--url",
  "--step",
  "--rate",
  "--duration",
  "--shoppers",
  "--min-success",
  "--max-p99-ms",
  "--limits",
  "--seed",
] as const;

function number(flag: string, raw: string, ok: (n: number) => boolean, allowed: string): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || !ok(n))
    throw new UsageError(`${flag} must be ${allowed}, got ${raw}`);
  return n;
}

/** The load options of a command line, checked against the step's per-address limits. */
export function parseLoadArgs(argv: string[]): LoadOptions & { json: boolean } {
  const given: Partial<Record<(typeof FLAGS)[number], string>> = {};
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--json") {
      json = true;
      continue;
    }
    if (!(FLAGS as readonly string[]).includes(flag))
      throw new UsageError(`unknown argument ${flag}; the arguments are ${[...FLAGS, "--json"].join(", ")}`);
    const value = argv[i + 1];
    if (value === undefined || value.startsWith("--")) throw new UsageError(`${flag} needs a value`);
    given[flag as (typeof FLAGS)[number]] = value;
    i++;
  }
  if (given["--url"] === undefined) throw new UsageError("--url is required: the site's http:// or https:// URL");
  let url: URL;
  try {
    url = new URL(given["--url"]);
  } catch {
    throw new UsageError(`--url must be an http:// or https:// URL, got ${given["--url"]}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`--url must be an http:// or https:// URL, got ${url.protocol}//…`);
  if (url.username || url.password) throw new UsageError("--url must not carry a user or password");
  if (given["--step"] === undefined)
    throw new UsageError(`--step is required: the deployed step, ${MIN_STEP}-${MAX_STEP}`);
  const step = number(
    "--step",
    given["--step"],
    (n) => Number.isInteger(n) && n >= MIN_STEP && n <= MAX_STEP,
    `an integer from ${MIN_STEP} to ${MAX_STEP}`,
  );
  const positiveInt = (flag: (typeof FLAGS)[number], fallback: number, max: number) =>
    given[flag] === undefined
      ? fallback
      : number(flag, given[flag], (n) => Number.isInteger(n) && n >= 1 && n <= max, `an integer from 1 to ${max}`);

  const limits = parseLimits(given["--limits"], step);
  const ceiling = addressCeiling(limits);
  const rate =
    given["--rate"] === undefined
      ? Math.max(1, Math.floor(Math.min(ceiling.rate, LOAD_DEFAULTS.rate)))
      : number(
          "--rate",
          given["--rate"],
          (n) => Number.isInteger(n) && n >= 1 && n <= 100_000,
          "an integer from 1 to 100000",
        );
  if (rate > ceiling.rate) {
    const addresses = Math.ceil(rate / Math.max(1, Math.floor(ceiling.rate)));
    throw new UsageError(
      `--rate ${rate} is more than one client address may send at step ${step}: ${ceiling.rate} req/s, set by the ` +
        `${describeLimit(ceiling.by, limits)} (90 % of it, for the visit's mix). Run this command from ${addresses} ` +
        `machines with --rate ${Math.ceil(rate / addresses)} each and judge each gate, or raise that limit on the ` +
        "stack for the test and say so with --limits",
    );
  }
  return {
    url: url.origin,
    step,
    rate,
    duration: positiveInt("--duration", LOAD_DEFAULTS.duration, 3600),
    shoppers: positiveInt("--shoppers", LOAD_DEFAULTS.shoppers, 10_000),
    minSuccess:
      given["--min-success"] === undefined
        ? LOAD_DEFAULTS.minSuccess
        : number("--min-success", given["--min-success"], (n) => n >= 0 && n <= 1, "a share from 0 to 1"),
    maxP99Ms:
      given["--max-p99-ms"] === undefined
        ? LOAD_DEFAULTS.maxP99Ms
        : number("--max-p99-ms", given["--max-p99-ms"], (n) => n > 0, "a number of milliseconds above 0"),
    limits,
    seed: given["--seed"] === undefined ? LOAD_DEFAULTS.seed : positiveInt("--seed", LOAD_DEFAULTS.seed, 2 ** 31),
    json,
  };
}

const describeLimit = (by: keyof AddressLimits | "none", l: AddressLimits) =>
  by === "waf"
    ? `WAF's ${l.waf} requests per 5 minutes (wafRateLimit)`
    : by === "cart"
      ? `app's ${l.cart} cart writes a minute (RATE_LIMIT_CART_PER_MINUTE)`
      : `app's ${l.checkout} checkouts a minute (RATE_LIMIT_CHECKOUT_PER_MINUTE)`;

/** `waf=N,cart=N,checkout=N` over the step's defaults (the stack's `wafRateLimit` default and the app's). */
function parseLimits(raw: string | undefined, step: number): AddressLimits {
  const limits = defaultLimits(step, parseLadderConfig({ step: String(step) }).waf.rateLimit);
  if (raw === undefined) return limits;
  for (const part of raw.split(",")) {
    const [key, value = ""] = part.split("=");
    if (!(key in limits))
      throw new UsageError(`--limits: unknown limit ${key}; the limits are waf, cart and checkout (e.g. cart=0)`);
    limits[key as keyof AddressLimits] = number(
      `--limits ${key}`,
      value,
      (n) => Number.isInteger(n) && n >= 0,
      "a whole number (0: off)",
    );
  }
  return limits;
}

/** `npm run load` (through scripts/run.mjs). */
export async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let options: ReturnType<typeof parseLoadArgs>;
  try {
    options = parseLoadArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    return 2;
  }
  const scenario = scenarioAt(options.step);
  if (!options.json) {
    process.stdout.write(`npm run load: step ${options.step}, order read: ${scenario.orderRead}\n`);
    for (const note of scenario.notes) process.stdout.write(`  note: ${note}\n`);
  }
  const report = await runLoad(options);
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report)}\n`);
  return report.gate.held ? 0 : 1;
}
