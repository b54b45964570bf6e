/**
 * Cuts the timeline (48 kHz stereo s16le chunks) into an encoder's units at its output rate.
 * At 48 kHz every chunk is one unit, as it is. At other rates the chunks are resampled and
 * the output is held and cut into units of one chunk's length at that rate
 * (floor(CHUNK_FRAMES * rate / SAMPLE_RATE) frames: 2646 at 44.1 kHz), one chunk behind
 * (the filter needs a few frames of look-ahead), so unit borders fall on the timeline's
 * chunk borders and every encoder fed the same chunks cuts in the same places.
 */
import { CHANNELS, CHUNK_FRAMES, SAMPLE_RATE } from "../../protocol/pcm.ts";
import { Resampler } from "../../protocol/resample.ts";

/**
 * Interleaved stereo frames: the chunk's own 16-bit samples, or resampled samples as floats
 * where full scale is 1 (scale by 32768 to get back to 16-bit values).
 */
export type StereoUnit = Int16Array | Float32Array;

export class Rechunker {
  /** Frames per resampled unit (at 48 kHz a unit is whatever chunk was pushed). */
  readonly unitFrames: number;
  readonly #resampler?: Resampler;
  #input = new Float32Array(0);
  /** Resampled interleaved samples; [#start, #end) not yet handed out. */
  #held = new Float32Array(0);
  #start = 0;
  #end = 0;

  constructor(readonly outputRate: number) {
    this.unitFrames = Math.floor((CHUNK_FRAMES * outputRate) / SAMPLE_RATE);
    if (outputRate !== SAMPLE_RATE) {
      this.#resampler = new Resampler({
        fromRate: SAMPLE_RATE,
        toRate: outputRate,
        channels: CHANNELS,
      });
    }
  }

  /**
   * Takes one timeline chunk (48k/16/2 little-endian bytes); returns the whole units now
   * complete. The returned arrays are views, valid until the next call.
   */
  push(pcm: Uint8Array): StereoUnit[] {
    const samples = pcm.byteOffset % 2 === 0
      ? new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength >> 1)
      : new Int16Array(pcm.slice().buffer, 0, pcm.byteLength >> 1);
    if (!this.#resampler) return [samples];
    if (this.#input.length < samples.length) this.#input = new Float32Array(samples.length);
    const input = this.#input.subarray(0, samples.length);
    for (let i = 0; i < samples.length; i++) input[i] = samples[i] / 32768;
    this.#append(this.#resampler.process(input));
    const units: StereoUnit[] = [];
    const unitSamples = this.unitFrames * CHANNELS;
    while (this.#end - this.#start >= unitSamples) {
      units.push(this.#held.subarray(this.#start, this.#start + unitSamples));
      this.#start += unitSamples;
    }
    return units;
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
