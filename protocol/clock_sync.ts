/**
 * Puts a worker's clock into the coordinator's domain. The worker stamps a probe with its own
 * clock, the coordinator answers with its clock at once, and the worker takes
 * offset = coordinator - (sent + received) / 2 from the probe with the shortest round trip
 * of a burst: the pipe's delay is then nearly symmetric and below a few microseconds.
 */
export interface ClockSample {
  offsetUs: number;
  roundTripUs: number;
}

export function sampleFrom(sentUs: number, coordinatorUs: number, receivedUs: number): ClockSample {
  return {
    offsetUs: coordinatorUs - (sentUs + receivedUs) / 2,
    roundTripUs: receivedUs - sentUs,
  };
}

/** The sample with the shortest round trip wins. */
export function bestSample(samples: readonly ClockSample[]): ClockSample | undefined {
  let best: ClockSample | undefined;
  for (const sample of samples) {
    if (!best || sample.roundTripUs < best.roundTripUs) best = sample;
  }
  return best;
}

/** Probes per burst, and how often a burst re-checks the offset (clocks drift slowly). */
export const CLOCK_BURST_PROBES = 16;
export const CLOCK_RECHECK_MS = 10_000;
/**
 * A round trip over the pipes this short bounds the offset's error to a quarter of a
 * millisecond. A burst with no probe this fast (a process busy starting up) is trusted only
 * if it beats what we have, and the next burst comes soon, not in 10 s.
 */
export const GOOD_ROUND_TRIP_US = 500;
export const CLOCK_RETRY_MS = 250;
