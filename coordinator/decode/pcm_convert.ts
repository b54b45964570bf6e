/**
 * Converts decoded blocks to the timeline's PCM: 48 kHz, stereo, signed 16-bit interleaved.
 *
 * The sample conversions copy ffmpeg's (libswresample), so that 48 kHz sources give the same
 * bytes with or without ffmpeg: integers are shifted (24-bit `>> 8`, 32-bit `>> 16`, no dither),
 * floats are scaled by 32768, rounded half to even (lrintf) and clipped.
 */
import { CHANNELS, SAMPLE_RATE } from "../../protocol/pcm.ts";
import { downmixToStereo } from "./downmix.ts";
import { Resampler } from "../../protocol/resample.ts";
import type { PcmBlock } from "./types.ts";
import { concat } from "../../protocol/concat.ts";

/** One integer sample at `bitDepth` bits to 16 bits, as ffmpeg converts. */
export function intToInt16(sample: number, bitDepth: number): number {
  return bitDepth <= 16 ? sample << (16 - bitDepth) : sample >> (bitDepth - 16);
}

/** One float sample (full scale ±1) to 16 bits: round half to even, then clip. */
export function floatToInt16(sample: number): number {
  const scaled = sample * 32768;
  let rounded = Math.round(scaled); // rounds halves up
  if (rounded - scaled === 0.5 && (rounded & 1) !== 0) rounded -= 1;
  return rounded > 32767 ? 32767 : rounded < -32768 ? -32768 : rounded;
}

export class PcmConverter {
  #resampler?: Resampler;

  /** The block as 48 kHz stereo s16; may be empty while the resampler fills its window. */
  push(block: PcmBlock): Int16Array {
    const frames = block.channels[0]?.length ?? 0;
    const channelCount = block.channels.length;
    if (frames === 0 || channelCount === 0) return new Int16Array(0);
    if (block.sampleRate === SAMPLE_RATE && channelCount <= CHANNELS) {
      // Exact path: no float round trip for integer sources.
      const tail = this.flush();
      const converted = block.kind === "int"
        ? interleaveInts(block.channels, block.bitDepth)
        : interleaveFloats(block.channels);
      return tail.length === 0 ? converted : concat(tail, converted);
    }
    let channels = block.kind === "int"
      ? block.channels.map((channel) => intsToFloats(channel, block.bitDepth))
      : block.channels;
    if (channels.length > CHANNELS) channels = downmixToStereo(channels, block.speakers ?? []);
    let tail: Int16Array = new Int16Array(0);
    if (
      this.#resampler &&
      (this.#resampler.fromRate !== block.sampleRate ||
        this.#resampler.channels !== channels.length)
    ) {
      tail = this.flush(); // the format changed mid-stream
    }
    this.#resampler ??= new Resampler({
      fromRate: block.sampleRate,
      toRate: SAMPLE_RATE,
      channels: channels.length,
    });
    const resampled = this.#resampler.process(interleave(channels));
    const converted = interleavedFloatsToStereo(resampled, channels.length);
    return tail.length === 0 ? converted : concat(tail, converted);
  }

  /** The resampler's last frames at the end of the stream (empty when not resampling). */
  flush(): Int16Array {
    const resampler = this.#resampler;
    if (!resampler) return new Int16Array(0);
    this.#resampler = undefined;
    return interleavedFloatsToStereo(resampler.flush(), resampler.channels);
  }
}

function interleaveInts(channels: readonly Int32Array[], bitDepth: number): Int16Array {
  const left = channels[0];
  const right = channels[1] ?? left; // mono: the same signal on both sides
  const out = new Int16Array(left.length * 2);
  for (let i = 0; i < left.length; i++) {
    out[2 * i] = intToInt16(left[i], bitDepth);
    out[2 * i + 1] = intToInt16(right[i], bitDepth);
  }
  return out;
}

function interleaveFloats(channels: readonly Float32Array[]): Int16Array {
  const left = channels[0];
  const right = channels[1] ?? left;
  const out = new Int16Array(left.length * 2);
  for (let i = 0; i < left.length; i++) {
    out[2 * i] = floatToInt16(left[i]);
    out[2 * i + 1] = floatToInt16(right[i]);
  }
  return out;
}

function interleavedFloatsToStereo(samples: Float32Array, channelCount: number): Int16Array {
  if (channelCount === 2) return Int16Array.from(samples, floatToInt16);
  const out = new Int16Array(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out[2 * i] = out[2 * i + 1] = floatToInt16(samples[i]);
  return out;
}

function intsToFloats(channel: Int32Array, bitDepth: number): Float32Array {
  const scale = 1 / 2 ** (bitDepth - 1);
  return Float32Array.from(channel, (sample) => sample * scale);
}

function interleave(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0];
  const frames = channels[0].length;
  const out = new Float32Array(frames * channels.length);
  channels.forEach((channel, c) => {
    for (let i = 0; i < frames; i++) out[i * channels.length + c] = channel[i];
  });
  return out;
}
