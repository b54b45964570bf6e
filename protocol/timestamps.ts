/**
 * Timestamps from a running sample count: `anchorUs + round(frames * 1e6 / rate)`.
 * Adding rounded per-chunk durations instead drifts (two public servers shipped that bug).
 */
export function playAtUs(anchorUs: number, framesBefore: number, sampleRate: number): number {
  return anchorUs + Math.round((framesBefore * 1_000_000) / sampleRate);
}

/** Microseconds that `frames` frames last, rounded: for lead and lateness checks only. */
export function durationUs(frames: number, sampleRate: number): number {
  return Math.round((frames * 1_000_000) / sampleRate);
}
