/**
 * Waiting on a state (a server accepting connections, a lock request queued, a replica caught up), never on time
 * passing: `attempt` is asked again and again until it says yes, and only a generous deadline ends the wait.
 */

/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** @default 30000 */
  timeoutMs?: number;
  /** @default 50 */
  intervalMs?: number;
  /** Extra text for the timeout error, e.g. the tail of a server log. */
  detail?: () => Promise<string>;
}

/**
 * Resolves once `attempt` resolves true; rejects with an error naming `what` after the deadline, or with whatever
 * `attempt` throws (an attempt throws to say "this will never happen", e.g. the server exited).
 */
export async function pollUntil(
  what: string,
  attempt: () => Promise<boolean>,
  options: PollOptions = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!(await attempt())) {
    if (Date.now() > deadline) {
      const detail = options.detail ? `\n${await options.detail()}` : "";
      throw new Error(`timed out waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
