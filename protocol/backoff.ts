/**
 * The waits between attempts of every retry loop (a source, a worker restart, a dialled
 * client, a Cast device): each failure waits longer, up to the last step, and a success that
 * lasted (the caller decides what lasting means) starts the steps over.
 */
export class Backoff {
  #failures = 0;

  /** `stepsMs`: the wait after the first, second, ... failure; the last one repeats. */
  constructor(readonly stepsMs: readonly number[]) {
    if (stepsMs.length === 0) throw new RangeError("Cannot back off: no steps given");
  }

  /** From `firstMs`, doubling each time, up to `maxMs`. */
  static doubling(firstMs: number, maxMs: number): Backoff {
    const steps = [firstMs];
    while (steps.at(-1)! * 2 < maxMs) steps.push(steps.at(-1)! * 2);
    if (maxMs > firstMs) steps.push(maxMs);
    return new Backoff(steps);
  }

  /** Failures since the last reset. */
  get failures(): number {
    return this.#failures;
  }

  /** Counts a failure; returns how long to wait before the next attempt. */
  next(): number {
    const waitMs = this.stepsMs[Math.min(this.#failures, this.stepsMs.length - 1)];
    this.#failures++;
    return waitMs;
  }

  /** What `next` would return, without counting a failure. */
  peek(): number {
    return this.stepsMs[Math.min(this.#failures, this.stepsMs.length - 1)];
  }

  reset(): void {
    this.#failures = 0;
  }
}
