/**
 * The data migrations' command line (app/src/data-migrations/cli.ts): what it accepts, and a usage error naming the
 * argument and what it takes for everything else, never echoing a URL (it may hold a password). The release runs
 * the command for real in build.test.ts.
 */
import { UsageError, formatReport, parseCommand, runCommand } from "../../app/src/data-migrations/cli";

const SOURCE = "postgres://shop:secret-password@127.0.0.1:5432/shop";
const TARGET = "postgres://shop_admin@db.example.internal:5432/shop?sslmode=verify-full";
const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:use1-db-credentials-AbC123";

test("move takes a source and a target URL, each with an optional secret, and a batch size", () => {
  expect(parseCommand(["move", "--source", SOURCE, "--target", TARGET])).toEqual({
    command: "move",
    source: SOURCE,
    target: TARGET,
  });
  expect(
    parseCommand(["move", "--target", TARGET, "--target-secret", ARN, "--source", SOURCE, "--batch-size", "200"]),
  ).toEqual({
    command: "move",
    source: SOURCE,
    target: TARGET,
    targetSecret: { kind: "secretsManager", arn: ARN, region: "us-east-1" },
    batchSize: 200,
  });
  expect(parseCommand(["backfill-order-shards"])).toEqual({ command: "backfill-order-shards" });
  expect(parseCommand([])).toEqual({ command: "help" });
});

const both = ["--source", SOURCE, "--target", TARGET];
test.each<[string, string[], string]>([
  ["an unknown command", ["copy"], 'unknown command "copy": the commands are move and backfill-order-shards'],
  ["no source", ["move", "--target", TARGET], "move needs --source <postgres URL>"],
  ["no target", ["move", "--source", SOURCE], "move needs --target <postgres URL>"],
  ["a source of another kind", ["move", "--source", "mysql://r:pw@db/shop", "--target", TARGET], "--source must be"],
  ["one database twice", ["move", "--source", SOURCE, "--target", SOURCE], "--source and --target name the same"],
  ["a secret's bare name", ["move", ...both, "--target-secret", "use1-db"], "--target-secret must be a Secrets Man"],
  ["an option without its value", ["move", "--source", SOURCE, "--target"], "--target needs a value"],
  ["an option twice", ["move", "--source", SOURCE, "--source", SOURCE], "--source is given twice"],
  ["a batch of 0", ["move", ...both, "--batch-size", "0"], "--batch-size must be a whole number from 1 to 10000"],
  ["an unknown option", ["move", "--from", SOURCE], "move takes --source, --target, --source-secret, --target-sec"],
  ["move's option", ["backfill-order-shards", "--source", SOURCE], 'backfill-order-shards takes --batch-size; not "'],
])("%s is refused with a message naming it", (_label, argv, message) => {
  expect(() => parseCommand(argv)).toThrow(UsageError);
  expect(() => parseCommand(argv)).toThrow(message);
  try {
    parseCommand(argv);
  } catch (error) {
    expect((error as Error).message).not.toContain("secret-password");
  }
});

test("a usage error exits 2 with the message and the usage; --help 0; a missing environment exits 2", async () => {
  const run = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCommand(
      argv,
      env,
      (line) => out.push(line),
      (line) => err.push(line),
    );
    return { code, out: out.join("\n"), err: err.join("\n") };
  };
  const bad = await run(["move", "--source", SOURCE]);
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/^data-migrations: move needs --target <postgres URL>\nusage:/);
  expect(bad.out).toBe("");
  expect((await run(["--help"])).code).toBe(0);
  expect((await run(["--help"])).out).toContain("node data-migrations.js backfill-order-shards");
  const noShards = await run(["backfill-order-shards"], { DATABASE_URL: SOURCE });
  expect(noShards).toMatchObject({ code: 2 });
  expect(noShards.err).toContain("backfill-order-shards needs ORDER_SHARDS in the environment");
});

test("the report prints one row per table: rows and checksum, then the rows written and the time", () => {
  const checksum = "a".repeat(64);
  expect(
    formatReport({
      name: "backfill-order-shards",
      tables: [
        { table: "orders", rows: 3050, checksum },
        { table: "order_items", rows: 6100, checksum },
      ],
      copied: 12_000,
      ms: 812,
    }),
  ).toBe(
    [
      "backfill-order-shards: verified",
      "table             rows  checksum (sha256)",
      `orders            3050  ${checksum}`,
      `order_items       6100  ${checksum}`,
      "12000 rows written in 812 ms",
    ].join("\n"),
  );
});
