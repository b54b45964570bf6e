/**
 * One channel of one FLAC frame: picks the cheapest of CONSTANT, FIXED (orders 0-4), LPC
 * (orders 1-8) and VERBATIM, with the Rice partition order searched, then writes it. All
 * buffers are owned and reused.
 *
 * `plan` estimates the best encoding (used to pick the stereo decorrelation), `finish`
 * computes the chosen encoding's exact size (falling back to VERBATIM when that is
 * smaller), and `write` emits exactly `bits` bits.
 */
import type { BitWriter } from "./bit_writer.ts";
import { LpcAnalyzer, lpcPrecision, MAX_LPC_ORDER } from "./lpc.ts";

export const SUBFRAME_CONSTANT = 0;
export const SUBFRAME_VERBATIM = 1;
export const SUBFRAME_FIXED = 2;
export const SUBFRAME_LPC = 3;
export type SubframeKind =
  | typeof SUBFRAME_CONSTANT
  | typeof SUBFRAME_VERBATIM
  | typeof SUBFRAME_FIXED
  | typeof SUBFRAME_LPC;

export const MAX_FIXED_ORDER = 4;
/** The largest Rice partition order searched (when the block size allows it). */
export const MAX_PARTITION_ORDER = 8;
/** 4-bit Rice parameters go up to 14 (15 is the escape code); 5-bit ones up to 30. */
const MAX_RICE_PARAM = 14;
const MAX_RICE2_PARAM = 30;
/** Encoded sample values must fit in 32-bit arithmetic with a margin: see `plan`. */
export const MAX_SUBFRAME_BITS = 25;

const MAX_PARTITIONS = 1 << MAX_PARTITION_ORDER;
/** Rows of partition sums: one per fixed order, then one for the LPC candidate. */
const LPC_ROW = MAX_FIXED_ORDER + 1;
/** LPC residuals beyond this are not coded (they must stay well inside int32 arithmetic). */
const MAX_LPC_RESIDUAL = 2 ** 29;
const LN2 = Math.LN2;
const POW2_NEG = Float64Array.from({ length: 33 }, (_, k) => 2 ** -k);

export interface SubframeOptions {
  /** Highest LPC order tried, 0 for fixed predictors only. Default MAX_LPC_ORDER (8). */
  maxLpcOrder?: number;
}

export class SubframeCoder {
  /** The chosen encoding. */
  kind: SubframeKind = SUBFRAME_VERBATIM;
  /** Size in bits: an estimate after `plan`, exact after `finish`. */
  bits = 0;
  /** Predictor order (FIXED, LPC). */
  order = 0;
  /** LPC: quantized coefficient precision in bits, and their shift. */
  precision = 0;
  shift = 0;
  /** Zero low bits shared by every sample, shifted out before coding. */
  wasted = 0;
  partitionOrder = 0;
  /** Whether the Rice parameters are 5-bit (some partition needs 15 or more). */
  rice2 = false;

  #n = 0;
  /** Declared sample size (the side channel's is one more than the frame's). */
  #bps = 0;
  /** Sample size after removing the wasted bits. */
  #ebps = 0;
  #verbatimBits = 0;
  #samples: Int32Array = new Int32Array(0);
  #shifted: Int32Array = new Int32Array(0);
  /** Folded residuals (2r, or -2r - 1 for negative r) of the chosen order, by sample index. */
  #residual: Uint32Array = new Uint32Array(0);
  /** Sums of folded residuals per order, per partition at the largest partition order. */
  #sums = new Float64Array((LPC_ROW + 1) * MAX_PARTITIONS);
  #merged = new Float64Array(MAX_PARTITIONS);
  #params = new Uint8Array(MAX_PARTITIONS);
  #maxPartitionOrder = 0;
  #chosenPartitionOrder = 0;
  readonly #maxLpcOrder: number;
  readonly #lpc = new LpcAnalyzer();
  /** LPC coefficients: the candidate's while planning, then the chosen ones. */
  readonly #qlp = new Int32Array(MAX_LPC_ORDER);

  constructor(options: SubframeOptions = {}) {
    this.#maxLpcOrder = Math.max(0, Math.min(MAX_LPC_ORDER, options.maxLpcOrder ?? MAX_LPC_ORDER));
  }

  /** Chooses an encoding for `samples[0..n)` of `bps` bits each; returns its estimated size. */
  plan(samples: Int32Array, n: number, bps: number): number {
    if (bps > MAX_SUBFRAME_BITS) {
      throw new RangeError(`Cannot encode FLAC: ${bps}-bit subframes are not supported`);
    }
    this.#n = n;
    this.#bps = bps;
    this.order = 0;
    this.partitionOrder = 0;
    this.rice2 = false;
    const first = samples[0];
    let differ = 0;
    let or = 0;
    for (let i = 0; i < n; i++) {
      const v = samples[i];
      differ |= v ^ first;
      or |= v;
    }
    if (differ === 0) {
      this.kind = SUBFRAME_CONSTANT;
      this.wasted = 0;
      this.#samples = samples;
      this.bits = 8 + bps;
      return this.bits;
    }
    // Not constant, so some sample is non-zero and at least one bit survives the shift.
    const wasted = 31 - Math.clz32(or & -or);
    this.wasted = wasted;
    if (wasted > 0) {
      if (this.#shifted.length < n) this.#shifted = new Int32Array(n);
      const shifted = this.#shifted;
      for (let i = 0; i < n; i++) shifted[i] = samples[i] >> wasted;
      this.#samples = shifted;
    } else {
      this.#samples = samples;
    }
    const ebps = bps - wasted;
    this.#ebps = ebps;
    const headerBits = 8 + wasted;
    this.#verbatimBits = headerBits + n * ebps;
    this.kind = SUBFRAME_VERBATIM;
    this.bits = this.#verbatimBits;

    const maxOrder = Math.min(MAX_FIXED_ORDER, n - 1);
    let maxPartitionOrder = 0;
    while (
      maxPartitionOrder < MAX_PARTITION_ORDER && n % (2 << maxPartitionOrder) === 0 &&
      n >> (maxPartitionOrder + 1) > maxOrder
    ) maxPartitionOrder++;
    this.#maxPartitionOrder = maxPartitionOrder;
    this.#fixedSums(maxPartitionOrder);
    for (let order = 0; order <= maxOrder; order++) {
      const bits = headerBits + order * ebps + this.#bestPartitioning(order, order);
      if (bits < this.bits) {
        this.kind = SUBFRAME_FIXED;
        this.bits = bits;
        this.order = order;
        this.partitionOrder = this.#chosenPartitionOrder;
      }
    }
    this.#planLpc(headerBits);
    return this.bits;
  }

  /** Tries one LPC predictor (order by expected bits); keeps it if it beats the plan so far. */
  #planLpc(headerBits: number): void {
    const n = this.#n;
    const ebps = this.#ebps;
    // Every partition must hold more samples than the predictor order.
    const maxOrder = Math.min(this.#maxLpcOrder, (n >> this.#maxPartitionOrder) - 1);
    if (maxOrder < 1) return;
    const lpc = this.#lpc;
    const orders = lpc.analyze(this.#samples, n, maxOrder);
    if (orders === 0) return;
    const order = lpc.bestOrder(orders, n, ebps, lpcPrecision(n, ebps, maxOrder));
    const precision = lpcPrecision(n, ebps, order);
    const qlp = this.#qlp;
    const shift = lpc.quantize(order, precision, qlp);
    if (shift < 0 || !this.#lpcResidual(order, shift)) return;
    const bits = headerBits + order * ebps + 4 + 5 + order * precision +
      this.#bestPartitioning(LPC_ROW, order);
    if (bits < this.bits) {
      this.kind = SUBFRAME_LPC;
      this.bits = bits;
      this.order = order;
      this.precision = precision;
      this.shift = shift;
      this.partitionOrder = this.#chosenPartitionOrder;
    }
  }

  /**
   * The LPC candidate's folded residuals into #residual and their partition sums into the
   * LPC row; false when some residual is too large to code.
   */
  #lpcResidual(order: number, shift: number): boolean {
    const n = this.#n;
    if (this.#residual.length < n) this.#residual = new Uint32Array(n);
    const residual = this.#residual;
    const x = this.#samples;
    const q = this.#qlp;
    const scale = 2 ** -shift;
    // Predictions are exact: |sum| < 2^(25 + 15 + 3), well inside a double's 53 bits.
    let peak = 0;
    let i = order;
    for (const end = Math.min(MAX_LPC_ORDER, n); i < end; i++) {
      let prediction = 0;
      for (let k = 0; k < order; k++) prediction += q[k] * x[i - 1 - k];
      const r = x[i] - Math.floor(prediction * scale);
      const u = r < 0 ? -2 * r - 1 : 2 * r;
      if (u > peak) peak = u;
      residual[i] = u;
    }
    if (i < n) {
      // From MAX_LPC_ORDER on: all eight taps (zero beyond the order), history in locals.
      const c0 = q[0], c1 = order > 1 ? q[1] : 0, c2 = order > 2 ? q[2] : 0;
      const c3 = order > 3 ? q[3] : 0, c4 = order > 4 ? q[4] : 0, c5 = order > 5 ? q[5] : 0;
      const c6 = order > 6 ? q[6] : 0, c7 = order > 7 ? q[7] : 0;
      let x1 = x[i - 1], x2 = x[i - 2], x3 = x[i - 3], x4 = x[i - 4];
      let x5 = x[i - 5], x6 = x[i - 6], x7 = x[i - 7], x8 = x[i - 8];
      for (; i < n; i++) {
        const prediction = c0 * x1 + c1 * x2 + c2 * x3 + c3 * x4 + c4 * x5 + c5 * x6 +
          c6 * x7 + c7 * x8;
        const xi = x[i];
        const r = xi - Math.floor(prediction * scale);
        const u = r < 0 ? -2 * r - 1 : 2 * r;
        if (u > peak) peak = u;
        residual[i] = u;
        x8 = x7, x7 = x6, x6 = x5, x5 = x4, x4 = x3, x3 = x2, x2 = x1, x1 = xi;
      }
    }
    if (peak >= MAX_LPC_RESIDUAL) return false;
    const sums = this.#sums;
    const parts = 1 << this.#maxPartitionOrder;
    const size = n >> this.#maxPartitionOrder;
    i = order;
    for (let j = 0; j < parts; j++) {
      let sum = 0;
      for (const end = (j + 1) * size; i < end; i++) sum += residual[i];
      sums[LPC_ROW * MAX_PARTITIONS + j] = sum;
    }
    return true;
  }

  /** Computes the chosen encoding's residual, Rice parameters and exact size. */
  finish(): number {
    if (this.kind !== SUBFRAME_FIXED && this.kind !== SUBFRAME_LPC) return this.bits;
    const lpc = this.kind === SUBFRAME_LPC;
    const n = this.#n;
    const order = this.order;
    const partitionOrder = this.partitionOrder;
    const parts = 1 << partitionOrder;
    const size = n >> partitionOrder;
    this.#mergeTo(lpc ? LPC_ROW : order, partitionOrder);
    const merged = this.#merged;
    const params = this.#params;
    let maxParam = 0;
    for (let j = 0; j < parts; j++) {
      const param = riceParameter(merged[j], j === 0 ? size - order : size);
      params[j] = param;
      if (param > maxParam) maxParam = param;
    }
    this.rice2 = maxParam > MAX_RICE_PARAM;
    if (!lpc) this.#computeResidual(); // the LPC candidate's is already there
    const residual = this.#residual;
    let bits = 8 + this.wasted + order * this.#ebps + 6 + parts * (this.rice2 ? 5 : 4);
    if (lpc) bits += 4 + 5 + order * this.precision;
    let i = order;
    for (let j = 0; j < parts; j++) {
      const k = params[j];
      const end = (j + 1) * size;
      let quotients = 0;
      for (; i < end; i++) quotients += residual[i] >>> k;
      bits += quotients + (j === 0 ? size - order : size) * (k + 1);
    }
    if (bits >= this.#verbatimBits) {
      this.kind = SUBFRAME_VERBATIM;
      this.bits = this.#verbatimBits;
    } else {
      this.bits = bits;
    }
    return this.bits;
  }

  /** Writes the subframe: exactly `bits` bits after `finish`. */
  write(w: BitWriter): void {
    const samples = this.#samples;
    const n = this.#n;
    const wasted = this.wasted;
    const type = this.kind === SUBFRAME_CONSTANT
      ? 0
      : this.kind === SUBFRAME_VERBATIM
      ? 1
      : this.kind === SUBFRAME_FIXED
      ? 8 + this.order
      : 32 + this.order - 1;
    w.writeBits((type << 1) | (wasted > 0 ? 1 : 0), 8);
    if (wasted > 0) w.writeBits(1, wasted); // unary: wasted - 1 zeros, then a one
    if (this.kind === SUBFRAME_CONSTANT) {
      w.writeSigned(samples[0], this.#bps);
      return;
    }
    const ebps = this.#ebps;
    if (this.kind === SUBFRAME_VERBATIM) {
      for (let i = 0; i < n; i++) w.writeSigned(samples[i], ebps);
      return;
    }
    const order = this.order;
    for (let i = 0; i < order; i++) w.writeSigned(samples[i], ebps);
    if (this.kind === SUBFRAME_LPC) {
      const precision = this.precision;
      w.writeBits(precision - 1, 4);
      w.writeBits(this.shift, 5);
      for (let k = 0; k < order; k++) w.writeSigned(this.#qlp[k], precision);
    }
    const rice2 = this.rice2;
    w.writeBits(rice2 ? 1 : 0, 2);
    w.writeBits(this.partitionOrder, 4);
    const parts = 1 << this.partitionOrder;
    const size = n >> this.partitionOrder;
    const residual = this.#residual;
    const params = this.#params;
    let i = order;
    for (let j = 0; j < parts; j++) {
      const k = params[j];
      w.writeBits(k, rice2 ? 5 : 4);
      const end = (j + 1) * size;
      for (; i < end; i++) w.writeRice(residual[i], k);
    }
  }

  /**
   * One pass over the samples: for every fixed order, the sum of folded residuals in each
   * partition at `partitionOrder`. Samples have at most 25 bits, so order-4 residuals stay
   * below 2^29 and their folded values fit in int32 arithmetic.
   */
  #fixedSums(partitionOrder: number): void {
    const x = this.#samples;
    const n = this.#n;
    const sums = this.#sums;
    const parts = 1 << partitionOrder;
    const size = n >> partitionOrder;
    let p0 = 0, p1 = 0, p2 = 0, p3 = 0;
    let i = 0;
    for (let j = 0; j < parts; j++) {
      const end = (j + 1) * size;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
      if (j === 0) {
        // Warm-up samples: order k's residuals start at sample k.
        for (const warm = Math.min(MAX_FIXED_ORDER, end); i < warm; i++) {
          const d0 = x[i], d1 = d0 - p0, d2 = d1 - p1, d3 = d2 - p2;
          p0 = d0, p1 = d1, p2 = d2, p3 = d3;
          s0 += (d0 << 1) ^ (d0 >> 31);
          if (i >= 1) s1 += (d1 << 1) ^ (d1 >> 31);
          if (i >= 2) s2 += (d2 << 1) ^ (d2 >> 31);
          if (i >= 3) s3 += (d3 << 1) ^ (d3 >> 31);
        }
      }
      for (; i < end; i++) {
        const d0 = x[i], d1 = d0 - p0, d2 = d1 - p1, d3 = d2 - p2, d4 = d3 - p3;
        p0 = d0, p1 = d1, p2 = d2, p3 = d3;
        s0 += (d0 << 1) ^ (d0 >> 31);
        s1 += (d1 << 1) ^ (d1 >> 31);
        s2 += (d2 << 1) ^ (d2 >> 31);
        s3 += (d3 << 1) ^ (d3 >> 31);
        s4 += (d4 << 1) ^ (d4 >> 31);
      }
      sums[j] = s0;
      sums[MAX_PARTITIONS + j] = s1;
      sums[2 * MAX_PARTITIONS + j] = s2;
      sums[3 * MAX_PARTITIONS + j] = s3;
      sums[4 * MAX_PARTITIONS + j] = s4;
    }
  }

  /**
   * Estimated residual bits for the sums in `row` (a predictor of `order`) at the best
   * partition order (left in #chosenPartitionOrder).
   */
  #bestPartitioning(row: number, order: number): number {
    const n = this.#n;
    const merged = this.#merged;
    let best = Infinity;
    for (let partitionOrder = this.#maxPartitionOrder; partitionOrder >= 0; partitionOrder--) {
      this.#mergeTo(row, partitionOrder, partitionOrder !== this.#maxPartitionOrder);
      const parts = 1 << partitionOrder;
      const size = n >> partitionOrder;
      let bits = 6;
      let maxParam = 0;
      for (let j = 0; j < parts; j++) {
        const count = j === 0 ? size - order : size;
        const sum = merged[j];
        const k = riceParameter(sum, count);
        if (k > maxParam) maxParam = k;
        bits += riceBits(sum, count, k);
      }
      bits += parts * (maxParam > MAX_RICE_PARAM ? 5 : 4);
      if (bits < best) {
        best = bits;
        this.#chosenPartitionOrder = partitionOrder;
      }
    }
    return best;
  }

  /**
   * Fills #merged with `row`'s partition sums at `partitionOrder`: from the sums at the
   * largest order, or, with `fromPrevious`, by halving #merged's one-finer partitioning.
   */
  #mergeTo(row: number, partitionOrder: number, fromPrevious = false): void {
    const merged = this.#merged;
    if (fromPrevious) {
      const parts = 1 << partitionOrder;
      for (let j = 0; j < parts; j++) merged[j] = merged[2 * j] + merged[2 * j + 1];
      return;
    }
    const start = row * MAX_PARTITIONS;
    const finest = 1 << this.#maxPartitionOrder;
    const group = 1 << (this.#maxPartitionOrder - partitionOrder);
    for (let j = 0, f = 0; f < finest; j++) {
      let sum = 0;
      for (const end = f + group; f < end; f++) sum += this.#sums[start + f];
      merged[j] = sum;
    }
  }

  /** Folded residuals of the chosen fixed order into #residual. */
  #computeResidual(): void {
    const n = this.#n;
    if (this.#residual.length < n) this.#residual = new Uint32Array(n);
    const r = this.#residual;
    const x = this.#samples;
    switch (this.order) {
      case 0:
        for (let i = 0; i < n; i++) r[i] = fold(x[i]);
        break;
      case 1:
        for (let i = 1; i < n; i++) r[i] = fold(x[i] - x[i - 1]);
        break;
      case 2:
        for (let i = 2; i < n; i++) r[i] = fold(x[i] - 2 * x[i - 1] + x[i - 2]);
        break;
      case 3:
        for (let i = 3; i < n; i++) r[i] = fold(x[i] - 3 * (x[i - 1] - x[i - 2]) - x[i - 3]);
        break;
      default:
        for (let i = 4; i < n; i++) {
          r[i] = fold(x[i] - 4 * (x[i - 1] + x[i - 3]) + 6 * x[i - 2] + x[i - 4]);
        }
    }
  }
}

function fold(r: number): number {
  return (r << 1) ^ (r >> 31);
}

/**
 * The Rice parameter minimising the expected size of `count` residuals whose folded values
 * sum to `sum`: about log2(ln 2 * mean), settled between its two integer neighbours.
 */
function riceParameter(sum: number, count: number): number {
  if (count === 0) return 0;
  const t = Math.floor(LN2 * (sum / count + 0.5));
  if (t < 1) return 0;
  const k = 31 - Math.clz32(t);
  if (k >= MAX_RICE2_PARAM) return MAX_RICE2_PARAM;
  return riceBits(sum, count, k + 1) < riceBits(sum, count, k) ? k + 1 : k;
}

/**
 * Expected bits for `count` residuals with folded sum `sum` at parameter k: count * (k + 1)
 * plus the quotients, sum / 2^k less the truncated fractions (about (1 - 2^-k) / 2 each).
 */
function riceBits(sum: number, count: number, k: number): number {
  return count * (k + 0.5 + POW2_NEG[k + 1]) + sum * POW2_NEG[k];
}
