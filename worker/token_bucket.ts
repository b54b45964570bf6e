/** A token bucket: `take` allows a burst of `capacity`, then `perSecond` on average. */
export class TokenBucket {
  #tokens: number;
  #lastUs: number | undefined;

  constructor(readonly capacity: number, readonly perSecond: number) {
    this.#tokens = capacity;
  }

  /** Takes one token at time `nowUs` (µs); false when none is left. */
  take(nowUs: number): boolean {
    if (this.#lastUs !== undefined) {
      const refill = ((nowUs - this.#lastUs) / 1e6) * this.perSecond;
      this.#tokens = Math.min(this.capacity, this.#tokens + refill);
    }
    this.#lastUs = nowUs;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
