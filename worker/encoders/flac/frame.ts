/**
 * One whole FLAC frame from per-channel integer samples: header (fixed-blocksize strategy,
 * UTF-8 frame number, CRC-8), one subframe per channel with the cheapest stereo
 * decorrelation, zero padding to a byte and CRC-16.
 */
import { BitWriter } from "./bit_writer.ts";
import { crc16, crc8 } from "./crc.ts";
import { blockSizeCode, sampleRateCode, sampleSizeCode } from "./stream_info.ts";
import { SUBFRAME_CONSTANT, SubframeCoder } from "./subframe.ts";

/** Channel assignment codes (frame header) for two channels. */
export const INDEPENDENT = 1;
export const LEFT_SIDE = 8;
export const RIGHT_SIDE = 9;
export const MID_SIDE = 10;

export interface FrameFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Highest LPC order tried, 0 for fixed predictors only. Default 8. */
  maxLpcOrder?: number;
}

/** Frame numbers are coded in at most 31 bits (fixed-blocksize strategy); they wrap there. */
export const FRAME_NUMBER_LIMIT = 2 ** 31;

export class FrameEncoder {
  /** The last frame's channel assignment code (for tests and diagnostics). */
  channelAssignment = 0;
  readonly #format: FrameFormat;
  readonly #writer = new BitWriter();
  /** Left, right, mid, side (only the first is used for mono). */
  readonly #coders: SubframeCoder[];
  #mid = new Int32Array(0);
  #side = new Int32Array(0);

  constructor(format: FrameFormat) {
    this.#format = format;
    const options = { maxLpcOrder: format.maxLpcOrder };
    this.#coders = Array.from({ length: 4 }, () => new SubframeCoder(options));
  }

  /** The coders of the last frame's subframes, in frame order. */
  get subframes(): readonly SubframeCoder[] {
    const [left, right, mid, side] = this.#coders;
    if (this.#format.channels === 1) return [left];
    switch (this.channelAssignment) {
      case LEFT_SIDE:
        return [left, side];
      case RIGHT_SIDE:
        return [side, right];
      case MID_SIDE:
        return [mid, side];
      default:
        return [left, right];
    }
  }

  /** Encodes `channels[c][0..n)` as frame number `frameNumber`; returns a new byte array. */
  encode(channels: readonly Int32Array[], n: number, frameNumber: number): Uint8Array {
    const { channels: count, bitsPerSample: bps, sampleRate } = this.#format;
    const [left, right, mid, side] = this.#coders;
    let subframeBits: number;
    if (count === 1) {
      left.plan(channels[0], n, bps);
      subframeBits = left.finish();
      this.channelAssignment = 0;
    } else {
      const leftBits = left.plan(channels[0], n, bps);
      const rightBits = right.plan(channels[1], n, bps);
      this.channelAssignment = INDEPENDENT;
      if (left.kind !== SUBFRAME_CONSTANT || right.kind !== SUBFRAME_CONSTANT) {
        this.#midSide(channels[0], channels[1], n);
        const midBits = mid.plan(this.#mid, n, bps);
        const sideBits = side.plan(this.#side, n, bps + 1);
        let best = leftBits + rightBits;
        if (leftBits + sideBits < best) {
          best = leftBits + sideBits;
          this.channelAssignment = LEFT_SIDE;
        }
        if (sideBits + rightBits < best) {
          best = sideBits + rightBits;
          this.channelAssignment = RIGHT_SIDE;
        }
        if (midBits + sideBits < best) this.channelAssignment = MID_SIDE;
      }
      const [first, second] = this.subframes;
      subframeBits = first.finish() + second.finish();
    }

    const w = this.#writer;
    w.reset();
    w.reserve(16 + Math.ceil(subframeBits / 8) + 2);
    const blockSize = blockSizeCode(n);
    const rate = sampleRateCode(sampleRate);
    w.writeBits(0xfff8, 16); // sync code, reserved 0, fixed-blocksize strategy
    w.writeBits((blockSize.code << 4) | rate.code, 8);
    const assignment = count === 1 ? 0 : this.channelAssignment;
    w.writeBits((assignment << 4) | (sampleSizeCode(bps) << 1), 8);
    writeUtf8(w, frameNumber % FRAME_NUMBER_LIMIT);
    if (blockSize.extraBits) w.writeBits(blockSize.extra, blockSize.extraBits);
    if (rate.extraBits) w.writeBits(rate.extra, rate.extraBits);
    w.writeBits(crc8(w.bytes), 8);
    for (const coder of this.subframes) {
      const start = w.bitLength;
      coder.write(w);
      if (w.bitLength - start !== coder.bits) {
        throw new Error(
          `FLAC encoder bug: subframe wrote ${w.bitLength - start} bits, planned ${coder.bits}`,
        );
      }
    }
    w.alignToByte();
    w.writeBits(crc16(w.bytes), 16);
    return w.bytes.slice();
  }

  #midSide(left: Int32Array, right: Int32Array, n: number): void {
    if (this.#mid.length < n) {
      this.#mid = new Int32Array(n);
      this.#side = new Int32Array(n);
    }
    const mid = this.#mid;
    const side = this.#side;
    for (let i = 0; i < n; i++) {
      const l = left[i];
      const r = right[i];
      mid[i] = (l + r) >> 1;
      side[i] = l - r;
    }
  }
}

/** The frame number in FLAC's UTF-8-like coding (up to 6 bytes for 31 bits). */
function writeUtf8(w: BitWriter, value: number): void {
  if (value < 0x80) {
    w.writeBits(value, 8);
    return;
  }
  const bytes = value < 0x800
    ? 2
    : value < 0x10000
    ? 3
    : value < 0x200000
    ? 4
    : value < 0x4000000
    ? 5
    : 6;
  let shift = 6 * (bytes - 1);
  w.writeBits(((0xff00 >> bytes) & 0xff) | (value >>> shift), 8);
  while (shift > 0) {
    shift -= 6;
    w.writeBits(0x80 | ((value >>> shift) & 0x3f), 8);
  }
}
