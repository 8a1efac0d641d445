/**
 * "Log once per interval": a dependency that is down fails on every request, and one line per failure would bury
 * everything else. The first failure is logged at once; later ones within the interval are only counted, and the
 * next line says how many were left out.
 */
export class ThrottledLog {
  private lastAt = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls `write` (with how many records were suppressed since the last write) if the interval has passed. */
  record(write: (suppressed: number) => void): void {
    const now = this.now();
    if (now - this.lastAt < this.intervalMs) {
      this.suppressed += 1;
      return;
    }
    const suppressed = this.suppressed;
    this.lastAt = now;
    this.suppressed = 0;
    write(suppressed);
  }
}
