/**
 * An edge's server time: the origin's clock, estimated over NATS request and reply. Bursts
 * of probes, each stamped with our clock before and after (protocol/clock_sync.ts's sample
 * arithmetic). Over a link with jitter, even the fastest probe is rarely symmetric, so the
 * estimate is the trimmed mean offset of the fastest quarter of the recent bursts' probes:
 * delays that vary alike both ways cancel out in the mean. The error shown is twice that
 * mean's standard error. A path slower one way than the other, always, shifts every
 * sample alike and cannot be seen from here. Re-checked every few seconds, so slow drift
 * between the machines' clocks is followed.
 *
 * When the origin restarts, its clock starts again from another origin. The party's time on
 * this edge stays continuous instead: from then on the edge's time is the new origin's plus
 * `shiftUs`, and timestamps from the origin are moved by it (`toParty`), so listeners keep
 * their clock sync and only get a new stream.
 */
import { type Clock, localNowUs } from "../../protocol/clock.ts";
import { type ClockSample, sampleFrom } from "../../protocol/clock_sync.ts";

/** Probes per burst, and the pause between them (one slow moment spoils only one). */
export const ORIGIN_BURST_PROBES = 16;
const PROBE_SPACING_MS = 5;
/** Bursts whose samples are kept: about 40 s at the steady pace. */
const KEPT_BURSTS = 8;
/** The fastest quarter of the samples makes the estimate, at least this many. */
const MIN_FAST_SAMPLES = 8;
/** Two machines' clocks drifting apart by a millisecond are heard as an echo between rooms. */
export const CLOCK_BOUND_US = 1_000;

export interface OriginProbe {
  /** The origin's clock when it answered, and the run (timeline) of the origin that did. */
  (): Promise<{ originUs: number; timeline: string }>;
}

export interface BurstResult {
  /** The run of the origin that answered the burst's best probe. */
  timeline: string;
  /** Answers received of the burst's probes. */
  answered: number;
}

export class OriginClock implements Clock {
  /** Maps our clock onto the origin's (the current run's). */
  #originOffsetUs = 0;
  /** The party's time here minus the current origin run's (0 until the origin restarts). */
  shiftUs = 0;
  /** The samples of each kept burst, oldest burst first. */
  #bursts: ClockSample[][] = [];
  #errorUs = Infinity;
  #roundTripUs = Infinity;
  #synced = false;

  /** The party's server time on this edge. */
  nowUs(): number {
    return localNowUs() + this.#originOffsetUs + this.shiftUs;
  }

  /** A timestamp of the origin's, in the party's time here. */
  toParty(originUs: number): number {
    return originUs + this.shiftUs;
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** The estimate's error: twice its standard error, µs (Infinity before two bursts). */
  get errorUs(): number {
    return this.#bursts.length < 2 ? Infinity : this.#errorUs;
  }

  /** The fastest round trip of the kept bursts, µs. */
  get roundTripUs(): number {
    return this.#roundTripUs;
  }

  /** Whether the estimate holds to CLOCK_BOUND_US (needs at least two bursts). */
  get withinBound(): boolean {
    return this.errorUs <= CLOCK_BOUND_US;
  }

  /**
   * One burst of probes; samples from another run than `timeline` are left out (the origin
   * restarted under us: `newOrigin` must come first). Resolves with what answered.
   */
  async burst(probe: OriginProbe, timeline: string, signal?: AbortSignal): Promise<BurstResult> {
    const samples: ClockSample[] = [];
    let seen = timeline;
    for (let i = 0; i < ORIGIN_BURST_PROBES && !signal?.aborted; i++) {
      const sentUs = localNowUs();
      try {
        const answer = await probe();
        const receivedUs = localNowUs();
        if (answer.timeline === timeline) {
          samples.push(sampleFrom(sentUs, answer.originUs, receivedUs));
        } else seen = answer.timeline;
      } catch {
        // a lost probe: the others of the burst decide
      }
      await new Promise((resolve) => setTimeout(resolve, PROBE_SPACING_MS));
    }
    if (samples.length) this.#keep(samples);
    return { timeline: samples.length ? timeline : seen, answered: samples.length };
  }

  /**
   * The origin restarted: forget the old run's samples. The next burst sets the offset, and
   * the party's time here goes on from where it is (see the header).
   */
  newOrigin(): void {
    if (this.#synced) {
      const partyOffset = this.#originOffsetUs + this.shiftUs;
      this.#continueFrom = partyOffset;
    }
    this.#bursts = [];
    this.#synced = false;
  }

  #continueFrom?: number;

  #keep(samples: ClockSample[]): void {
    this.#bursts.push(samples);
    if (this.#bursts.length > KEPT_BURSTS) this.#bursts.shift();
    const estimate = estimateOffset(this.#bursts.flat());
    this.#originOffsetUs = Math.round(estimate.offsetUs);
    this.#errorUs = estimate.errorUs;
    this.#roundTripUs = estimate.roundTripUs;
    if (this.#continueFrom !== undefined) {
      this.shiftUs = this.#continueFrom - this.#originOffsetUs;
      this.#continueFrom = undefined;
    }
    this.#synced = true;
  }
}

/**
 * The trimmed mean offset of the fastest quarter of `samples` (a tenth of them dropped at
 * each end, against one-way spikes), twice its standard error, and the fastest round trip.
 */
export function estimateOffset(
  samples: readonly ClockSample[],
): { offsetUs: number; errorUs: number; roundTripUs: number } {
  const byRoundTrip = [...samples].sort((a, b) => a.roundTripUs - b.roundTripUs);
  const fast = byRoundTrip.slice(0, Math.max(MIN_FAST_SAMPLES, Math.ceil(samples.length / 4)));
  const offsets = fast.map((s) => s.offsetUs).sort((a, b) => a - b);
  const trim = Math.floor(offsets.length / 10);
  const kept = offsets.slice(trim, offsets.length - trim);
  const mean = kept.reduce((sum, x) => sum + x, 0) / kept.length;
  const variance = kept.reduce((sum, x) => sum + (x - mean) ** 2, 0) / Math.max(1, kept.length - 1);
  return {
    offsetUs: mean,
    errorUs: kept.length > 1 ? 2 * Math.sqrt(variance / kept.length) : Infinity,
    roundTripUs: byRoundTrip[0]?.roundTripUs ?? Infinity,
  };
}
