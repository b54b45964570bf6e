/**
 * Converts decoded blocks to the timeline's PCM, keeping the source's rate: only what the
 * timeline cannot carry changes (see protocol/pcm.ts). Depths of 16 bits and below become
 * 16 (shifted up), deeper integers and floats become 24; more than two channels are mixed
 * down to stereo.
 *
 * The sample conversions copy ffmpeg's (libswresample), so that sources give the same bytes
 * with or without ffmpeg: integers are shifted (32-bit `>> 8`, no dither), floats are scaled,
 * rounded half to even (lrintf) and clipped (see floatToInt).
 */
import {
  type AudioBlock,
  carriedBitDepth,
  packSamples,
  type PcmFormat,
} from "../../protocol/pcm.ts";
import { downmixToStereo } from "./downmix.ts";
import type { PcmBlock } from "./types.ts";

/** One integer sample at `fromBits` to `toBits` bits, as ffmpeg converts (shift, no rounding). */
export function shiftSample(sample: number, fromBits: number, toBits: number): number {
  return fromBits <= toBits ? sample << (toBits - fromBits) : sample >> (fromBits - toBits);
}

/** One integer sample at `bitDepth` bits to 16 bits, as ffmpeg converts. */
export function intToInt16(sample: number, bitDepth: number): number {
  return shiftSample(sample, bitDepth, 16);
}

/**
 * One float sample (full scale ±1) to `bits` bits, as ffmpeg converts: 16 bits directly
 * (round half to even, clip); 24 bits through 32 (round half to even, clip, then `>> 8`).
 */
export function floatToInt(sample: number, bits: 16 | 24): number {
  const full = bits === 16 ? 32768 : 2147483648;
  const scaled = sample * full;
  let rounded = Math.round(scaled); // rounds halves up
  if (rounded - scaled === 0.5 && (rounded & 1) !== 0) rounded -= 1;
  const clipped = rounded > full - 1 ? full - 1 : rounded < -full ? -full : rounded;
  return bits === 16 ? clipped : clipped >> 8;
}

/** One float sample (full scale ±1) to 16 bits: round half to even, then clip. */
export function floatToInt16(sample: number): number {
  return floatToInt(sample, 16);
}

/** The block in the timeline's format for it; undefined for an empty block. */
export function toAudioBlock(block: PcmBlock): AudioBlock | undefined {
  const frames = block.channels[0]?.length ?? 0;
  if (frames === 0 || block.channels.length === 0) return undefined;
  const sourceBits = block.kind === "int" ? block.bitDepth : 32;
  const bitDepth = carriedBitDepth(sourceBits);
  if (block.channels.length <= 2) {
    const format: PcmFormat = {
      sampleRate: block.sampleRate,
      bitDepth,
      channels: block.channels.length as 1 | 2,
    };
    const samples = block.kind === "int"
      ? interleaveInts(block.channels, block.bitDepth, bitDepth)
      : interleaveFloats(block.channels, bitDepth);
    return { format, pcm: packSamples(samples, bitDepth) };
  }
  const floats = block.kind === "int"
    ? block.channels.map((channel) => intsToFloats(channel, block.bitDepth))
    : block.channels;
  const stereo = downmixToStereo(floats, block.speakers ?? []);
  const format: PcmFormat = { sampleRate: block.sampleRate, bitDepth, channels: 2 };
  return { format, pcm: packSamples(interleaveFloats(stereo, bitDepth), bitDepth) };
}

function interleaveInts(channels: readonly Int32Array[], fromBits: number, toBits: number) {
  const count = channels.length;
  const frames = channels[0].length;
  const out = new Int32Array(frames * count);
  for (let c = 0; c < count; c++) {
    const channel = channels[c];
    for (let i = 0; i < frames; i++) out[i * count + c] = shiftSample(channel[i], fromBits, toBits);
  }
  return out;
}

function interleaveFloats(channels: readonly Float32Array[], bits: 16 | 24) {
  const count = channels.length;
  const frames = channels[0].length;
  const out = new Int32Array(frames * count);
  for (let c = 0; c < count; c++) {
    const channel = channels[c];
    for (let i = 0; i < frames; i++) out[i * count + c] = floatToInt(channel[i], bits);
  }
  return out;
}

function intsToFloats(channel: Int32Array, bitDepth: number): Float32Array {
  const scale = 1 / 2 ** (bitDepth - 1);
  return Float32Array.from(channel, (sample) => sample * scale);
}
