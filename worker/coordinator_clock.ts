/**
 * A subprocess worker's clock in the coordinator's domain: bursts of probes over the pipes
 * (protocol/clock_sync.ts), at start and then every 10 s, so `server/time` answers and the
 * coordinator's chunk timestamps agree across processes.
 */
import { type Clock, localNowUs } from "../protocol/clock.ts";
import {
  bestSample,
  CLOCK_BURST_PROBES,
  CLOCK_RECHECK_MS,
  CLOCK_RETRY_MS,
  type ClockSample,
  GOOD_ROUND_TRIP_US,
  sampleFrom,
} from "../protocol/clock_sync.ts";
import { sleepMs } from "../protocol/sleep.ts";

/** Between probes of a burst, so one slow moment of the coordinator spoils only one. */
const PROBE_SPACING_MS = 3;

export class CoordinatorClock implements Clock {
  offsetUs = 0;
  lastRoundTripUs = Infinity;
  #samples: ClockSample[] = [];
  #wake?: () => void;
  #firstSync: Promise<void>;
  #synced!: () => void;

  constructor(readonly sendProbe: (sentUs: number) => void) {
    this.#firstSync = new Promise((resolve) => this.#synced = resolve);
  }

  nowUs(): number {
    return localNowUs() + this.offsetUs;
  }

  /** Resolves after the first burst has set the offset. */
  synced(): Promise<void> {
    return this.#firstSync;
  }

  onAnswer(sentUs: number, coordinatorUs: number): void {
    this.#samples.push(sampleFrom(sentUs, coordinatorUs, localNowUs()));
    if (this.#samples.length < CLOCK_BURST_PROBES) return;
    const best = bestSample(this.#samples)!;
    this.#samples = [];
    if (best.roundTripUs <= GOOD_ROUND_TRIP_US || best.roundTripUs < this.lastRoundTripUs) {
      this.offsetUs = Math.round(best.offsetUs);
      this.lastRoundTripUs = best.roundTripUs;
    }
    this.#synced();
  }

  /**
   * The coordinator's clock moved (an edge's estimate of its origin's improved): a burst at
   * once, whose result is taken even if slower than the last.
   */
  recheck(): void {
    this.lastRoundTripUs = Infinity;
    this.#wake?.();
  }

  /** Runs bursts until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let retryMs = CLOCK_RETRY_MS / 2;
    while (!signal.aborted) {
      this.#samples = [];
      for (let i = 0; i < CLOCK_BURST_PROBES && !signal.aborted; i++) {
        this.sendProbe(localNowUs());
        await sleepMs(PROBE_SPACING_MS, signal);
      }
      // Until a burst is good, try again soon, backing off so a loaded machine is not probed
      // ever faster.
      const good = this.lastRoundTripUs <= GOOD_ROUND_TRIP_US;
      retryMs = good ? CLOCK_RETRY_MS : Math.min(retryMs * 2, CLOCK_RECHECK_MS);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        sleepMs(good ? CLOCK_RECHECK_MS : retryMs, signal).then(resolve);
      });
      this.#wake = undefined;
    }
  }
}
