/** `npm run climb`'s options (scripts/climb/options.ts) and the load's sizing under the rate limits. */
import path from "node:path";
import { CLIMB_DEFAULTS, parseClimbOptions } from "../../scripts/climb/options";
import { THINK_TIME, assertUnderRateLimits } from "../../scripts/climb/shoppers";
import { LOCAL_RATE_LIMITS } from "../../stacks/app-environment";

const parse = (...argv: string[]) => parseClimbOptions(argv, {});

test("defaults: 1 → 11, a handful of shoppers, 10 minutes at most, a data directory of its own", () => {
  const options = parse();
  expect(options).toEqual({ ...CLIMB_DEFAULTS, dataDir: path.resolve(__dirname, "../../.local/climb") });
  expect(options).toMatchObject({ from: 1, to: 11, shoppers: 6, maxMinutes: 10 });
});

test("every flag, with a value after it or after =", () => {
  expect(
    parse(
      "--from",
      "6",
      "--to=8",
      "--shoppers",
      "4",
      "--dwell",
      "3",
      "--port",
      "21900",
      "--data-dir",
      "/tmp/x",
      "--reset",
      "--seed-products=120",
      "--max-minutes",
      "5",
      "--log-level",
      "info",
    ),
  ).toEqual({
    from: 6,
    to: 8,
    shoppers: 4,
    dwellSeconds: 3,
    port: 21900,
    dataDir: "/tmp/x",
    reset: true,
    seedProducts: 120,
    maxMinutes: 5,
    logLevel: "info",
  });
  expect(parse("--help")).toBe("help");
});

test("bad input is refused with the flag and what is allowed", () => {
  expect(() => parse("--from", "0")).toThrow("--from must be from 1 to 10, got 0");
  expect(() => parse("--from", "11")).toThrow("--from must be from 1 to 10, got 11");
  expect(() => parse("--to", "12")).toThrow("--to must be from 2 to 11, got 12");
  expect(() => parse("--from", "8", "--to", "6")).toThrow("--from (8) must be below --to (6): the climb goes up");
  expect(() => parse("--from", "5", "--to", "5")).toThrow("--from (5) must be below --to (5)");
  expect(() => parse("--shoppers", "0")).toThrow("--shoppers must be from 1 to 50, got 0");
  expect(() => parse("--shoppers", "two")).toThrow('--shoppers needs a whole number, got "two"');
  expect(() => parse("--dwell")).toThrow('--dwell needs a whole number, got ""');
  expect(() => parse("--max-minutes", "0")).toThrow("--max-minutes must be from 1 to 120, got 0");
  expect(() => parse("--log-level", "loud")).toThrow(
    '--log-level must be fatal, error, warn, info, debug, trace or silent, got "loud"',
  );
  expect(() => parse("--step", "3")).toThrow('unknown option "--step" (npm run climb -- --help lists them)');
});

test("the most shoppers allowed stay under local mode's rate limits; lower limits refuse the load", () => {
  expect(() => assertUnderRateLimits(50)).not.toThrow();
  // The app's own defaults would refuse a handful of shoppers behind one address: 6 × 60,000 / 100 ms > 120.
  expect(THINK_TIME.minMs).toBe(100);
  expect(() =>
    assertUnderRateLimits(6, THINK_TIME, { ...LOCAL_RATE_LIMITS, RATE_LIMIT_CART_PER_MINUTE: "120" }),
  ).toThrow("6 shoppers may send 3600 requests a minute, over RATE_LIMIT_CART_PER_MINUTE=120: use fewer shoppers");
  // 0 turns a limit off.
  expect(() => assertUnderRateLimits(6, THINK_TIME, { RATE_LIMIT_CART_PER_MINUTE: "0" })).not.toThrow();
});
