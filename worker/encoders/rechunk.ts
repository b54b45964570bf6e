/**
 * Cuts the timeline (chunks in the source's format, protocol/pcm.ts) into an encoder's units
 * at its output rate. At the source's own rate every chunk is one unit, its samples as they
 * are. At other rates the chunks are resampled and the output is held and cut into units of
 * one chunk's length at that rate (floor(CHUNK_FRAMES * rate / 48000) frames: 2646 at
 * 44.1 kHz), one chunk behind (the filter needs a few frames of look-ahead), so unit borders
 * fall on the timeline's chunk borders and every encoder fed the same chunks cuts in the same
 * places. A new source format ends the run: `finish` hands out what is held.
 */
import {
  CHUNK_FRAMES,
  type PcmFormat,
  samePcmFormat,
  SAMPLE_RATE,
  unpackSamples,
} from "../../protocol/pcm.ts";
import { Resampler } from "../../protocol/resample.ts";

/**
 * Interleaved frames in the source's channel count: its own integer samples at its depth, or
 * resampled samples as floats where full scale is 1.
 */
export interface Unit {
  samples: Int32Array | Float32Array;
  channels: 1 | 2;
  bitDepth: 16 | 24;
  frames: number;
}

export class Rechunker {
  /** Frames per resampled unit (at the source's rate a unit is whatever chunk was pushed). */
  readonly unitFrames: number;
  #format?: PcmFormat;
  #resampler?: Resampler;
  /** Resampled interleaved samples; [#start, #end) not yet handed out. */
  #held = new Float32Array(0);
  #start = 0;
  #end = 0;

  constructor(readonly outputRate: number) {
    this.unitFrames = Math.floor((CHUNK_FRAMES * outputRate) / SAMPLE_RATE);
  }

  /**
   * Takes one timeline chunk; returns the whole units now complete. A chunk of another
   * format than the last first finishes the run (its units come first). The returned arrays
   * are views, valid until the next call.
   */
  push(format: PcmFormat, pcm: Uint8Array): Unit[] {
    const units = this.#format && !samePcmFormat(this.#format, format) ? this.finish() : [];
    if (!this.#format) this.#begin(format);
    const samples = unpackSamples(pcm, format.bitDepth);
    const { channels, bitDepth } = format;
    if (!this.#resampler) {
      units.push({ samples, channels, bitDepth, frames: samples.length / channels });
      return units;
    }
    const scale = 1 / 2 ** (bitDepth - 1);
    const input = new Float32Array(samples.length);
    for (let i = 0; i < samples.length; i++) input[i] = samples[i] * scale;
    this.#append(this.#resampler.process(input));
    const unitSamples = this.unitFrames * channels;
    while (this.#end - this.#start >= unitSamples) {
      const unit = this.#held.subarray(this.#start, this.#start + unitSamples);
      units.push({ samples: unit, channels, bitDepth, frames: this.unitFrames });
      this.#start += unitSamples;
    }
    return units;
  }

  /** The run ends (the source's format changes): the resampler's tail and what is held. */
  finish(): Unit[] {
    const format = this.#format;
    const resampler = this.#resampler;
    this.#format = undefined;
    this.#resampler = undefined;
    if (!format || !resampler) return [];
    this.#append(resampler.flush());
    const samples = this.#held.slice(this.#start, this.#end);
    this.#start = this.#end = 0;
    const frames = samples.length / format.channels;
    if (frames === 0) return [];
    return [{ samples, channels: format.channels, bitDepth: format.bitDepth, frames }];
  }

  #begin(format: PcmFormat): void {
    this.#format = format;
    if (format.sampleRate === this.outputRate) return;
    this.#resampler = new Resampler({
      fromRate: format.sampleRate,
      toRate: this.outputRate,
      channels: format.channels,
    });
  }

  #append(output: Float32Array): void {
    // The previous call's units are no longer in use: move the remainder to the front.
    const remaining = this.#end - this.#start;
    const needed = remaining + output.length;
    if (needed > this.#held.length) {
      const grown = new Float32Array(Math.max(needed, 2 * this.#held.length));
      grown.set(this.#held.subarray(this.#start, this.#end));
      this.#held = grown;
    } else {
      this.#held.copyWithin(0, this.#start, this.#end);
    }
    this.#held.set(output, remaining);
    this.#start = 0;
    this.#end = needed;
  }
}

/**
 * A unit's samples as integers in the output's channels and depth, interleaved. Mono is the
 * rounded mean of left and right; mono to stereo is the same sample on both sides. Integers
 * are shifted to the output depth (down as ffmpeg does, without dither); floats are rounded
 * at the lower of the source's and the output's depth, then shifted, so no depth invents
 * precision the source never had (a 16-bit source gives 24-bit values `<< 8`).
 */
export function toOutputInts(unit: Unit, channels: number, bits: number): Int32Array {
  const { samples, frames } = unit;
  const isFloat = samples instanceof Float32Array;
  if (!isFloat && unit.channels === channels && unit.bitDepth === bits) return samples; // as is
  if (!isFloat && unit.channels === channels && bits > unit.bitDepth) {
    const shift = bits - unit.bitDepth; // the common 16 → 24 for FLAC: a shift, no rounding
    const shifted = new Int32Array(samples.length);
    for (let i = 0; i < samples.length; i++) shifted[i] = samples[i] << shift;
    return shifted;
  }
  const out = new Int32Array(frames * channels);
  const quantBits = isFloat ? Math.min(unit.bitDepth, bits) : unit.bitDepth;
  const full = 2 ** (quantBits - 1);
  const shift = bits - quantBits;
  const scale = isFloat ? full : 1;
  const up = shift >= 0 ? 2 ** shift : 1;
  const down = shift >= 0 ? 0 : -shift;
  const toInt = (value: number) => {
    const s = Math.round(value * scale);
    const clipped = s < -full ? -full : s > full - 1 ? full - 1 : s;
    return (clipped * up) >> down;
  };
  if (unit.channels === channels) {
    // The common case, spelled out: one loop, no call per sample.
    const top = full - 1;
    for (let i = 0; i < out.length; i++) {
      const s = Math.round(samples[i] * scale);
      out[i] = ((s < -full ? -full : s > top ? top : s) * up) >> down;
    }
  } else if (channels === 1) {
    for (let f = 0; f < frames; f++) out[f] = toInt((samples[2 * f] + samples[2 * f + 1]) / 2);
  } else {
    for (let f = 0; f < frames; f++) out[2 * f] = out[2 * f + 1] = toInt(samples[f]);
  }
  return out;
}
