/**
 * Issue 17, item 6, without a shop: the visit is the mix, the per-address ceiling follows from the app's and the
 * WAF's default limits, and `npm run load`'s command line refuses what it cannot run, naming the argument. The run
 * itself, against local mode, is test/app/e2e/load-profile.test.ts.
 */
import { LOAD_DEFAULTS, UsageError, parseLoadArgs } from "../../scripts/load/cli";
import {
  CLASS_OF,
  LIMITED_PER_VISIT,
  ROUTE_CLASSES,
  TRAFFIC_MIX,
  VISIT,
  addressCeiling,
  defaultLimits,
  scenarioAt,
} from "../../scripts/load/profile";
import { applySetCookies } from "../../lib/cookie-jar";
import { firstStepOf } from "../../stacks/steps";

const URL_ = "http://127.0.0.1:8080";

test("a visit's requests are the traffic mix exactly, and the mix adds up to 1", () => {
  expect(ROUTE_CLASSES.reduce((n, c) => n + TRAFFIC_MIX[c], 0)).toBeCloseTo(1, 12);
  for (const c of ROUTE_CLASSES)
    expect({ c, share: VISIT.filter((r) => CLASS_OF[r] === c).length / VISIT.length }).toEqual({
      c,
      share: TRAFFIC_MIX[c],
    });
  // The cart is filled before the checkout, and the order is read after it.
  expect(VISIT.indexOf("add")).toBeLessThan(VISIT.indexOf("remove"));
  expect(VISIT.lastIndexOf("add")).toBeLessThan(VISIT.indexOf("checkout"));
  expect(VISIT.indexOf("checkout")).toBeLessThan(VISIT.indexOf("order"));
  expect(LIMITED_PER_VISIT).toEqual({ cart: 4, checkout: 1 });
});

test("one address may send: up to the checkout limit before the fleet, the WAF's from it, no limit when off", () => {
  const fleet = firstStepOf("fleet");
  // 20 checkouts a minute, one per 40 requests: 13.3 req/s, 90 % of it.
  expect(addressCeiling(defaultLimits(fleet - 1, 2000))).toEqual({ rate: 12, by: "checkout" });
  // 2000 requests per 5 minutes: 6.67 req/s, 90 % of it.
  expect(addressCeiling(defaultLimits(fleet, 2000))).toEqual({ rate: 6, by: "waf" });
  expect(addressCeiling({ waf: 0, cart: 600, checkout: 0 })).toEqual({ rate: 90, by: "cart" });
  expect(addressCeiling({ waf: 0, cart: 0, checkout: 0 })).toEqual({ rate: Infinity, by: "none" });
  expect(scenarioAt(firstStepOf("queue") - 1).checkoutStatus).toBe(201);
  expect(scenarioAt(firstStepOf("queue")).checkoutStatus).toBe(202);
});

test("the command line: defaults, and every refusal names the argument and what it takes", () => {
  const o = parseLoadArgs(["--url", "https://shop.example.com/anything", "--step", "5"]);
  expect(o).toMatchObject({
    url: "https://shop.example.com",
    step: 5,
    rate: 6,
    duration: LOAD_DEFAULTS.duration,
    minSuccess: 0.99,
    maxP99Ms: 1000,
    limits: { waf: 2000, cart: 120, checkout: 20 },
  });
  expect(parseLoadArgs(["--url", URL_, "--step", "9", "--limits", "waf=0,cart=0,checkout=0"]).rate).toBe(
    LOAD_DEFAULTS.rate,
  );
  const refusals: Array<[string[], RegExp]> = [
    [["--step", "3"], /^--url is required/],
    [["--url", "ftp://shop.example.com", "--step", "3"], /^--url must be an http:\/\/ or https:\/\/ URL, got ftp:/],
    [["--url", "file:///etc/passwd", "--step", "3"], /^--url must be an http:\/\/ or https:\/\/ URL/],
    [["--url", "shop.example.com", "--step", "3"], /^--url must be an http:\/\/ or https:\/\/ URL/],
    [["--url", URL_], /^--step is required: the deployed step, 1-11/],
    [["--url", URL_, "--step", "12"], /^--step must be an integer from 1 to 11, got 12/],
    [["--url", URL_, "--step", "3", "--rate", "0"], /^--rate must be an integer from 1 to 100000, got 0/],
    [["--url", URL_, "--step", "3", "--min-success", "1.5"], /^--min-success must be a share from 0 to 1/],
    [["--url", URL_, "--step", "3", "--max-p99-ms", "-1"], /^--max-p99-ms must be a number of milliseconds/],
    [["--url", URL_, "--step", "3", "--limits", "alb=5"], /^--limits: unknown limit alb; the limits are waf, cart/],
    [["--url", URL_, "--step", "3", "--limits", "cart=x"], /^--limits cart must be a whole number \(0: off\)/],
    [["--url", URL_, "--step", "3", "--users", "5"], /^unknown argument --users; the arguments are --url/],
    [
      ["--url", URL_, "--step", "3", "--rate", "100"],
      new RegExp(
        "^--rate 100 is more than one client address may send at step 3: 6 req/s, set by the WAF's 2000 .*" +
          "from 17 machines with --rate 6 each",
      ),
    ],
    [
      ["--url", URL_, "--step", "2", "--rate", "30"],
      /^--rate 30 .* step 2: 12 req\/s, set by the app's 20 checkouts a minute .* from 3 machines with --rate 10 each/,
    ],
  ];
  for (const [argv, message] of refusals) {
    let error: unknown;
    try {
      parseLoadArgs(argv);
    } catch (e) {
      error = e;
    }
    expect({ argv, error: error instanceof UsageError ? error.message : String(error) }).toEqual({
      argv,
      error: expect.stringMatching(message),
    });
  }
});

test("cookies: set in order, cleared by an expired or empty line", () => {
  const jar = new Map<string, string>();
  applySetCookies(jar, ["SHOPLB=web-1; path=/", "shop_session=a; Path=/; HttpOnly"]);
  expect(Object.fromEntries(jar)).toEqual({ SHOPLB: "web-1", shop_session: "a" });
  // Checkout: the old session cookie cleared, then the new one.
  applySetCookies(jar, [
    "shop_session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    "shop_session=b; Path=/; HttpOnly; SameSite=Lax",
  ]);
  expect(Object.fromEntries(jar)).toEqual({ SHOPLB: "web-1", shop_session: "b" });
  applySetCookies(jar, "SHOPLB=web-2; Max-Age=0");
  expect(Object.fromEntries(jar)).toEqual({ shop_session: "b" });
});
