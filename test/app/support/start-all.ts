/**
 * Starts what a test file needs at the same time, as `Promise.all` would, for a `beforeAll`. Unlike `Promise.all`,
 * when one start fails it waits for the others, stops the ones that started, and only then rejects with the first
 * failure. With `Promise.all`, the others went on starting after the rejection, and no variable ever held them, so
 * `afterAll` could not stop them: they ran to the end of the run. One full run lost 13 files that way: a shard's
 * PostgreSQL failed to start beside `openSuite`, whose suite kept its shared lock on the replica (test-database.ts
 * lockReplica) in that jest worker; the next file that pauses replication waited for the exclusive lock, every file
 * after it waited behind that request, and each failed at its 60 s hook timeout.
 */

/** A start, and how to stop what it started. */
export type Start<T> = readonly [start: Promise<T>, stop: (started: T) => unknown];

/** Awaits every start; if one failed, stops the others that succeeded and rethrows the first failure. */
export async function startAll<const T extends readonly unknown[]>(starts: {
  readonly [K in keyof T]: Start<T[K]>;
}): Promise<T> {
  const list = starts as unknown as ReadonlyArray<Start<unknown>>;
  const settled = await Promise.allSettled(list.map(([start]) => start));
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure === undefined) return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
  await Promise.allSettled(
    settled.map(async (r, i) => {
      if (r.status === "fulfilled") await list[i][1](r.value);
    }),
  );
  throw failure.reason;
}
