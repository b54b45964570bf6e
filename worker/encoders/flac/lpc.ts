/**
 * Linear prediction for FLAC LPC subframes: Tukey(0.5)-windowed autocorrelation,
 * Levinson-Durbin recursion (all orders at once), libFLAC's expected-bits estimate to pick
 * the order, and coefficient quantization with error feedback.
 */

/**
 * The highest LPC order tried (libFLAC's -5 also stops at 8). The unrolled loops here and
 * in subframe.ts are written for exactly 8.
 */
export const MAX_LPC_ORDER = 8;
/** FLAC's bounds on the quantized coefficients' precision (4-bit field, 15 is the largest). */
const MIN_PRECISION = 5;
const MAX_PRECISION = 15;
/** The coefficient shift is a 5-bit signed field; negative shifts are not allowed. */
const MAX_SHIFT = 15;

const windows = new Map<number, Float64Array>();

/** libFLAC's tukey(0.5) window of length n (cached: there are only a few block sizes). */
function tukeyWindow(n: number): Float64Array {
  let window = windows.get(n);
  if (window) return window;
  window = new Float64Array(n).fill(1);
  const np = Math.floor(0.25 * n) - 1;
  if (np > 0) {
    for (let i = 0; i <= np; i++) {
      window[i] = 0.5 - 0.5 * Math.cos((Math.PI * i) / np);
      window[n - np - 1 + i] = 0.5 - 0.5 * Math.cos((Math.PI * (i + np)) / np);
    }
  }
  if (windows.size > 8) windows.clear();
  windows.set(n, window);
  return window;
}

export class LpcAnalyzer {
  #windowed = new Float64Array(0);
  #autoc = new Float64Array(MAX_LPC_ORDER + 1);
  #work = new Float64Array(MAX_LPC_ORDER);
  /** Row `order - 1`: that order's predictor coefficients (x[i] ~ sum c[j] * x[i-1-j]). */
  #coefficients = new Float64Array(MAX_LPC_ORDER * MAX_LPC_ORDER);
  /** Residual energy left by each order. */
  #errors = new Float64Array(MAX_LPC_ORDER);

  /**
   * Computes predictors of orders 1..maxOrder for `x[0..n)`; returns the number of usable
   * orders (fewer when the signal is perfectly predicted sooner, 0 when it is silent).
   */
  analyze(x: Int32Array, n: number, maxOrder: number): number {
    if (this.#windowed.length < n) this.#windowed = new Float64Array(n);
    const w = this.#windowed;
    const window = tukeyWindow(n);
    for (let i = 0; i < n; i++) w[i] = x[i] * window[i];
    const autoc = this.#autoc;
    if (maxOrder === MAX_LPC_ORDER && n > MAX_LPC_ORDER) {
      // All nine lags in one pass, the last eight samples in locals.
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, a8 = 0;
      let w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0, w6 = 0, w7 = 0, w8 = 0;
      for (let i = 0; i < n; i++) {
        const w0 = w[i];
        a0 += w0 * w0;
        a1 += w0 * w1;
        a2 += w0 * w2;
        a3 += w0 * w3;
        a4 += w0 * w4;
        a5 += w0 * w5;
        a6 += w0 * w6;
        a7 += w0 * w7;
        a8 += w0 * w8;
        w8 = w7, w7 = w6, w6 = w5, w5 = w4, w4 = w3, w3 = w2, w2 = w1, w1 = w0;
      }
      autoc[0] = a0, autoc[1] = a1, autoc[2] = a2, autoc[3] = a3, autoc[4] = a4;
      autoc[5] = a5, autoc[6] = a6, autoc[7] = a7, autoc[8] = a8;
    } else {
      for (let lag = 0; lag <= maxOrder; lag++) {
        let sum = 0;
        for (let i = lag; i < n; i++) sum += w[i] * w[i - lag];
        autoc[lag] = sum;
      }
    }
    if (!(autoc[0] > 0)) return 0;
    // Levinson-Durbin.
    const lpc = this.#work;
    let error = autoc[0];
    for (let i = 0; i < maxOrder; i++) {
      let r = -autoc[i + 1];
      for (let j = 0; j < i; j++) r -= lpc[j] * autoc[i - j];
      r /= error;
      lpc[i] = r;
      let j = 0;
      for (; j < i >> 1; j++) {
        const tmp = lpc[j];
        lpc[j] += r * lpc[i - 1 - j];
        lpc[i - 1 - j] += r * tmp;
      }
      if (i & 1) lpc[j] += lpc[j] * r;
      error *= 1 - r * r;
      const row = i * MAX_LPC_ORDER;
      for (let k = 0; k <= i; k++) this.#coefficients[row + k] = -lpc[k];
      this.#errors[i] = error;
      if (!(error > 0)) return i + 1;
    }
    return maxOrder;
  }

  /**
   * The order among the first `orders` with the fewest expected bits: residual bits
   * estimated from the prediction error, plus warm-up samples and coefficients.
   */
  bestOrder(orders: number, n: number, sampleBits: number, precision: number): number {
    let best = 1;
    let bestBits = Infinity;
    for (let order = 1; order <= orders; order++) {
      const samples = n - order;
      const error = this.#errors[order - 1];
      const perSample = error > 0 ? Math.max(0, 0.5 * Math.log2((0.5 * error) / samples)) : 0;
      const bits = perSample * samples + order * (sampleBits + precision);
      if (bits < bestBits) {
        bestBits = bits;
        best = order;
      }
    }
    return best;
  }

  /**
   * Quantizes `order`'s coefficients to `precision`-bit integers into `out`; returns the
   * shift (the coefficients' scale is 2^-shift), or -1 when they cannot be represented.
   */
  quantize(order: number, precision: number, out: Int32Array): number {
    const row = (order - 1) * MAX_LPC_ORDER;
    const coefficients = this.#coefficients;
    let cmax = 0;
    for (let j = 0; j < order; j++) cmax = Math.max(cmax, Math.abs(coefficients[row + j]));
    if (!(cmax > 0) || !Number.isFinite(cmax)) return -1;
    const bits = precision - 1; // one bit for the sign
    const qmax = (1 << bits) - 1;
    const qmin = -(1 << bits);
    // cmax = m * 2^exponent with 0.5 <= m < 1
    const exponent = Math.floor(Math.log2(cmax)) + 1;
    let shift = bits - exponent;
    if (shift > MAX_SHIFT) shift = MAX_SHIFT;
    if (shift < 0) return -1;
    const scale = 2 ** shift;
    let carry = 0;
    for (let j = 0; j < order; j++) {
      carry += coefficients[row + j] * scale;
      let q = Math.round(carry);
      if (q > qmax) q = qmax;
      else if (q < qmin) q = qmin;
      carry -= q;
      out[j] = q;
    }
    return shift;
  }
}

/** libFLAC's coefficient precision for a block size (16-bit audio), kept within FLAC's range. */
export function lpcPrecision(n: number, sampleBits: number, order: number): number {
  const byBlock = n <= 192
    ? 7
    : n <= 384
    ? 8
    : n <= 576
    ? 9
    : n <= 1152
    ? 10
    : n <= 2304
    ? 11
    : n <= 4608
    ? 12
    : 13;
  // Keep sample bits + precision + log2(order) within 32, so decoders may use 32-bit sums.
  const fits = 32 - sampleBits - (31 - Math.clz32(order));
  return Math.max(MIN_PRECISION, Math.min(byBlock, fits, MAX_PRECISION));
}
