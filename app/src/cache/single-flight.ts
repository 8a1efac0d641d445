/**
 * Single flight: while a load for a key is in progress, every other caller asking for that key waits for the same
 * promise instead of starting its own. A hundred concurrent misses on a hot product are one database query, not a
 * hundred. It is per process; across a fleet, each server loads a key at most once at a time.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();
  /** Callers that joined a load in progress instead of starting one. */
  joined = 0;

  /** The result of `load()`, shared with every caller that asks for `key` before it settles. */
  run(key: string, load: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(key);
    if (pending) {
      this.joined += 1;
      return pending;
    }
    const promise = load().finally(() => {
      // Only if it is still ours: forget() may have let a newer load take the key meanwhile.
      if (this.inFlight.get(key) === promise) this.inFlight.delete(key);
    });
    this.inFlight.set(key, promise);
    return promise;
  }

  /**
   * Lets the next caller of `key` start a fresh load (after a write, a load begun before it may return the old
   * value). Callers already waiting keep the load they joined.
   */
  forget(key: string): void {
    this.inFlight.delete(key);
  }

  /** {@link forget} for every key. */
  forgetAll(): void {
    this.inFlight.clear();
  }

  /** Loads in progress. */
  get size(): number {
    return this.inFlight.size;
  }
}
