/**
 * FLAC output: every unit is one whole, independently decodable FLAC frame (fixed block
 * size: one timeline chunk at the output rate, 2880 frames at 48 kHz, 2646 at 44.1 kHz),
 * and `codecHeader` is "fLaC" + STREAMINFO, so header + any frame is a valid FLAC file.
 * Samples are the ones PcmEncoder would send for the same format (resampled and cut the
 * same way, converted by rechunk.ts's toOutputInts), coded losslessly: a 24-bit source to a
 * 24-bit FLAC listener at its rate keeps every bit.
 */
import type { AudioFormat } from "../../../protocol/messages.ts";
import { CHUNK_FRAMES, DEMO_FORMAT, type PcmFormat, SAMPLE_RATE } from "../../../protocol/pcm.ts";
import type { EncodedUnit, Encoder } from "../encoder.ts";
import { Rechunker, toOutputInts, type Unit } from "../rechunk.ts";
import { FRAME_NUMBER_LIMIT, FrameEncoder } from "./frame.ts";
import {
  MAX_FLAC_BLOCK_SIZE,
  MIN_FLAC_BLOCK_SIZE,
  sampleRateCode,
  streamHeader,
} from "./stream_info.ts";

export const FLAC_BIT_DEPTHS = [16, 24];

/**
 * Why FlacEncoder cannot produce `format`, or undefined when it can: 1 or 2 channels, 16 or
 * 24 bits, and a sample rate every frame header can name (a standard code, whole kHz up to
 * 255, Hz up to 65535, or tens of Hz up to 655350) with blocks of 16 to 65535 frames.
 */
export function flacUnsupportedReason(format: AudioFormat): string | undefined {
  const { sample_rate: rate, channels, bit_depth: bits } = format;
  if (channels !== 1 && channels !== 2) return `${channels} channels (1 or 2 are supported)`;
  if (!FLAC_BIT_DEPTHS.includes(bits)) return `${bits}-bit samples (16 or 24 are supported)`;
  if (!Number.isInteger(rate) || rate <= 0 || sampleRateCode(rate).code === 0) {
    return `${rate} Hz (not expressible in a FLAC frame header)`;
  }
  const blockSize = Math.floor((CHUNK_FRAMES * rate) / SAMPLE_RATE);
  if (blockSize < MIN_FLAC_BLOCK_SIZE || blockSize > MAX_FLAC_BLOCK_SIZE) {
    return `${rate} Hz (${blockSize}-frame blocks)`;
  }
  return undefined;
}

/** Whether FlacEncoder can produce `format` (see flacUnsupportedReason). */
export function canEncodeFlac(format: AudioFormat): boolean {
  return flacUnsupportedReason(format) === undefined;
}

export class FlacEncoder implements Encoder {
  readonly codecHeader: string;
  readonly #rechunker: Rechunker;
  readonly #frames: FrameEncoder;
  #channels: Int32Array[];
  #frameNumber = 0;

  constructor(readonly format: AudioFormat) {
    const reason = flacUnsupportedReason(format);
    if (reason) throw new RangeError(`Cannot encode FLAC: ${reason}`);
    const { sample_rate: rate, channels, bit_depth: bits } = format;
    this.#rechunker = new Rechunker(rate);
    const blockSize = this.#rechunker.unitFrames;
    this.#frames = new FrameEncoder({ sampleRate: rate, channels, bitsPerSample: bits });
    this.#channels = Array.from({ length: channels }, () => new Int32Array(blockSize));
    const header = streamHeader({ blockSize, sampleRate: rate, channels, bitsPerSample: bits });
    this.codecHeader = btoa(String.fromCharCode(...header));
  }

  encode(pcm: Uint8Array, source: PcmFormat = DEMO_FORMAT): EncodedUnit[] {
    return this.#encodeAll(this.#rechunker.push(source, pcm));
  }

  finish(): EncodedUnit[] {
    return this.#encodeAll(this.#rechunker.finish());
  }

  #encodeAll(units: Unit[]): EncodedUnit[] {
    const out: EncodedUnit[] = [];
    for (const unit of units) {
      if (unit.frames >= 1) out.push(this.#encodeUnit(unit));
    }
    return out;
  }

  #encodeUnit(unit: Unit): EncodedUnit {
    const { frames } = unit;
    if (frames > MAX_FLAC_BLOCK_SIZE) {
      throw new RangeError(`Cannot encode FLAC: ${frames} frames in one block`);
    }
    this.#split(unit);
    const payload = this.#frames.encode(this.#channels, frames, this.#frameNumber);
    this.#frameNumber = (this.#frameNumber + 1) % FRAME_NUMBER_LIMIT;
    return { payload, frames };
  }

  /** De-interleaves to the output channels and depth, as PcmEncoder packs them. */
  #split(unit: Unit): void {
    const { frames } = unit;
    if (this.#channels[0].length < frames) {
      this.#channels = this.#channels.map(() => new Int32Array(frames));
    }
    const count = this.format.channels;
    const ints = toOutputInts(unit, count, this.format.bit_depth);
    for (let c = 0; c < count; c++) {
      const channel = this.#channels[c];
      for (let f = 0, i = c; f < frames; f++, i += count) channel[f] = ints[i];
    }
  }
}
