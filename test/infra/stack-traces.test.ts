/**
 * The program runs with stack traces off (the SDK formats one per promise it makes; stacks/stack-traces.ts), unless
 * the environment asks for them, and the entry point applies it before it composes the step.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { runProgram } from "../../lib/graph/harness";
import { STACK_TRACES_ENV, programStackTraceLimit } from "../../stacks/stack-traces";

describe("the program's stack trace limit", () => {
  it("is 0 by default", () => {
    expect(programStackTraceLimit({}, 10)).toBe(0);
    expect(programStackTraceLimit({ [STACK_TRACES_ENV]: "" }, 10)).toBe(0);
    expect(programStackTraceLimit({ [STACK_TRACES_ENV]: "0" }, 10)).toBe(0);
    expect(programStackTraceLimit({ [STACK_TRACES_ENV]: "false" }, 10)).toBe(0);
  });

  it("stays as it was when SCALE_LADDER_STACK_TRACES or PULUMI_DEBUG_PROMISE_LEAKS asks for traces", () => {
    expect(programStackTraceLimit({ [STACK_TRACES_ENV]: "1" }, 10)).toBe(10);
    expect(programStackTraceLimit({ PULUMI_DEBUG_PROMISE_LEAKS: "true" }, 25)).toBe(25);
  });

  it("is applied by the entry point before the ladder is composed", () => {
    const entry = fs.readFileSync(path.join(__dirname, "../../stacks/index.ts"), "utf8");
    const applied = entry.indexOf("Error.stackTraceLimit = programStackTraceLimit(process.env, Error.stackTraceLimit)");
    expect(applied).toBeGreaterThan(0);
    expect(applied).toBeLessThan(entry.indexOf("ladder(readLadderConfig())"));
  });

  it("is what the mock harness evaluates a program with, and the test's own limit is back afterwards", async () => {
    const before = Error.stackTraceLimit;
    let during: number | undefined;
    await runProgram(() => {
      during = Error.stackTraceLimit;
    });
    expect(during).toBe(0);
    expect(Error.stackTraceLimit).toBe(before);
  });
});
