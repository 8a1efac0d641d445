/** test/app/support/start-all.ts: a failed start stops what the others started, then rejects with its error. */
import { startAll } from "./support/start-all";

/** A start that resolves (or rejects) after `ms`, recording what is stopped. */
function started(name: string, ms: number, stopped: string[], fails = false) {
  const start = new Promise<{ name: string }>((resolve, reject) =>
    setTimeout(() => (fails ? reject(new Error(`${name} failed`)) : resolve({ name })), ms),
  );
  return [start, (thing: { name: string }) => stopped.push(thing.name)] as const;
}

test("all starts succeed: their values in order, nothing stopped", async () => {
  const stopped: string[] = [];
  const [a, b] = await startAll([started("a", 20, stopped), started("b", 5, stopped)]);
  expect([a.name, b.name]).toEqual(["a", "b"]);
  expect(stopped).toEqual([]);
});

test("one start fails: the others are awaited and stopped, even one that ends after the failure", async () => {
  const stopped: string[] = [];
  await expect(
    startAll([started("suite", 5, stopped), started("shards", 10, stopped, true), started("redis", 40, stopped)]),
  ).rejects.toThrow("shards failed");
  expect(stopped.sort()).toEqual(["redis", "suite"]);
});

test("a stop that throws does not hide the start's failure", async () => {
  const failingStop = [Promise.resolve(1), () => Promise.reject(new Error("stop failed"))] as const;
  const stopped: string[] = [];
  await expect(startAll([failingStop, started("x", 5, stopped, true)])).rejects.toThrow("x failed");
});
