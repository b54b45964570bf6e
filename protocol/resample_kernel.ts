/** The resampler's low-pass: a Kaiser-windowed sinc, tabulated per fractional phase. */

export interface KernelOptions {
  /** Table rows: fractional positions q / phases between two input frames, q = 0..phases. */
  phases: number;
  /** Taps on each side of the output position; each row has 2 * halfTaps taps. */
  halfTaps: number;
  /** Cut-off in units of the input Nyquist frequency. */
  cutoff: number;
  /** Window half-length in input frames (at most halfTaps). */
  halfWidth: number;
  kaiserBeta: number;
}

/** Row q holds the taps for output times q/phases past an input frame; rows sum to 1. */
export function buildTable(
  { phases, halfTaps, cutoff, halfWidth, kaiserBeta: beta }: KernelOptions,
): Float64Array {
  const taps = 2 * halfTaps;
  const i0Beta = besselI0(beta);
  const table = new Float64Array((phases + 1) * taps);
  for (let q = 0; q <= phases; q++) {
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      const x = q / phases + halfTaps - 1 - j; // distance from input frame, in frames
      const ratio = x / halfWidth;
      const window = Math.abs(ratio) < 1
        ? besselI0(beta * Math.sqrt(1 - ratio * ratio)) / i0Beta
        : 0;
      const value = cutoff * sinc(cutoff * x) * window;
      table[q * taps + j] = value;
      sum += value;
    }
    for (let j = 0; j < taps; j++) table[q * taps + j] /= sum;
  }
  return table;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const angle = Math.PI * x;
  return Math.sin(angle) / angle;
}

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const quarterSquare = (x * x) / 4;
  for (let k = 1; term > sum * 1e-17; k++) {
    term *= quarterSquare / (k * k);
    sum += term;
  }
  return sum;
}
