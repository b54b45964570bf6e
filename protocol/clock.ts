/**
 * Server time: one monotonic microsecond clock for every audio timestamp and every
 * `server/time` answer. Each process's `performance.now()` has its own origin, so a worker
 * adds an offset that maps its clock onto the coordinator's (0 inside the coordinator).
 */
export interface Clock {
  nowUs(): number;
}

/** This process's own monotonic clock in whole microseconds. */
export function localNowUs(): number {
  return Math.round(performance.now() * 1000);
}

/** A clock whose offset to this process's clock can be adjusted (worker calibration). */
export class OffsetClock implements Clock {
  offsetUs = 0;
  nowUs(): number {
    return localNowUs() + this.offsetUs;
  }
}

export const systemClock: Clock = { nowUs: localNowUs };
