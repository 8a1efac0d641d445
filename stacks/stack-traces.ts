/**
 * Stack traces while the program runs under the Pulumi CLI.
 *
 * The Pulumi SDK formats a stack trace for every promise it makes (`runtime/debuggable.js`, kept for its
 * promise-leak report) — about 80 per resource — and under the CLI each one goes through the CLI's source-map
 * support, frame by frame. That was more than half of the CPU time of evaluating step 11 (`npm run bench:program`:
 * 6.4 s against 3.0 s with the limit at 0). The program's own errors name the key or argument and the allowed values
 * in their message, which stays; the SDK still records each resource's source position (it lifts the limit itself
 * for that). Set `SCALE_LADDER_STACK_TRACES=1`, or `PULUMI_DEBUG_PROMISE_LEAKS` (which asks the SDK for those very
 * traces), to keep every stack trace, for example while debugging a change to a component.
 */
export const STACK_TRACES_ENV = "SCALE_LADDER_STACK_TRACES";

/** The stack trace limit the program runs with: 0, unless the environment asks for traces (then unchanged). */
export function programStackTraceLimit(env: NodeJS.ProcessEnv, current: number): number {
  const asked = (value: string | undefined) =>
    value !== undefined && value !== "" && value !== "0" && value !== "false";
  return asked(env[STACK_TRACES_ENV]) || asked(env.PULUMI_DEBUG_PROMISE_LEAKS) ? current : 0;
}
