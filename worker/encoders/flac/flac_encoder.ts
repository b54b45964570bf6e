/**
 * FLAC output: every unit is one whole, independently decodable FLAC frame (fixed block
 * size: one timeline chunk at the output rate, 2880 frames at 48 kHz, 2646 at 44.1 kHz),
 * and `codecHeader` is "fLaC" + STREAMINFO, so header + any frame is a valid FLAC file.
 * Samples are the ones PcmEncoder would send for the same format (resampled and cut the
 * same way, mono as the rounded mean of left and right, 24-bit as the 16-bit value << 8),
 * coded losslessly.
 */
import type { AudioFormat } from "../../../protocol/messages.ts";
import { CHUNK_FRAMES, SAMPLE_RATE } from "../../../protocol/pcm.ts";
import type { EncodedUnit, Encoder } from "../encoder.ts";
import { Rechunker, type StereoUnit } from "../rechunk.ts";
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

  encode(pcm: Uint8Array): EncodedUnit[] {
    const units: EncodedUnit[] = [];
    for (const unit of this.#rechunker.push(pcm)) {
      if (unit.length >= 2) units.push(this.#encodeUnit(unit));
    }
    return units;
  }

  #encodeUnit(unit: StereoUnit): EncodedUnit {
    const frames = unit.length >> 1;
    if (frames > MAX_FLAC_BLOCK_SIZE) {
      throw new RangeError(`Cannot encode FLAC: ${frames} frames in one block`);
    }
    this.#split(unit, frames);
    const payload = this.#frames.encode(this.#channels, frames, this.#frameNumber);
    this.#frameNumber = (this.#frameNumber + 1) % FRAME_NUMBER_LIMIT;
    return { payload, frames };
  }

  /** De-interleaves to the output channels and depth, as PcmEncoder packs them. */
  #split(unit: StereoUnit, frames: number): void {
    if (this.#channels[0].length < frames) {
      this.#channels = this.#channels.map(() => new Int32Array(frames));
    }
    const scale = unit instanceof Float32Array ? 32768 : 1;
    const shift = this.format.bit_depth - 16;
    const [first, second] = this.#channels;
    if (second) {
      if (scale === 1) {
        for (let f = 0, i = 0; f < frames; f++, i += 2) {
          first[f] = unit[i] << shift;
          second[f] = unit[i + 1] << shift;
        }
      } else {
        for (let f = 0, i = 0; f < frames; f++, i += 2) {
          first[f] = toS16(unit[i] * scale) << shift;
          second[f] = toS16(unit[i + 1] * scale) << shift;
        }
      }
    } else {
      for (let f = 0, i = 0; f < frames; f++, i += 2) {
        first[f] = toS16((unit[i] * scale + unit[i + 1] * scale) / 2) << shift;
      }
    }
  }
}

function toS16(value: number): number {
  const s = Math.round(value);
  return s < -32768 ? -32768 : s > 32767 ? 32767 : s;
}
