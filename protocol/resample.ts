/**
 * Streaming band-limited resampler: a Kaiser-windowed sinc low-pass evaluated as a polyphase
 * FIR at the exact rational ratio toRate/fromRate. Output frame n sits at input time
 * n * fromRate / toRate, so output and input stay time-aligned (no added delay); frames
 * before the start and after the end of the stream count as silence.
 */

export interface ResamplerOptions {
  /** Input sample rate in Hz (a positive integer). */
  fromRate: number;
  /** Output sample rate in Hz (a positive integer). */
  toRate: number;
  /** Interleaved channels per frame, in and out. */
  channels: number;
  /** Half the filter length, in zero crossings of the low-pass sinc. Default 32. */
  zeroCrossings?: number;
  /** Low-pass cut-off as a fraction of the lower of the two Nyquist frequencies. Default 0.92. */
  rolloff?: number;
  /** Kaiser window shape; 9 gives about 90 dB of stop-band attenuation. Default 9. */
  kaiserBeta?: number;
}

import { buildTable } from "./resample_kernel.ts";

/** Above this many phases, coefficients are interpolated between neighbouring table rows. */
const MAX_TABLE_PHASES = 1024;

export class Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  readonly channels: number;
  readonly #up: number;
  readonly #down: number;
  readonly #halfTaps: number;
  readonly #taps: number;
  readonly #tablePhases: number;
  readonly #table: Float64Array;
  readonly #coefficients: Float64Array;
  /** Interleaved input frames from absolute frame #historyStart on. */
  #history: Float32Array;
  #historyStart: number;
  #inputFrames = 0;
  /** Next output frame sits at input time #nextIndex + #nextPhase / #up. */
  #nextIndex = 0;
  #nextPhase = 0;

  constructor(options: ResamplerOptions) {
    const { fromRate, toRate, channels } = options;
    for (const [name, value] of Object.entries({ fromRate, toRate, channels })) {
      if (!Number.isInteger(value) || value <= 0) {
        throw new RangeError(`Cannot resample: ${name} must be a positive integer, not ${value}`);
      }
    }
    this.fromRate = fromRate;
    this.toRate = toRate;
    this.channels = channels;
    const divisor = gcd(fromRate, toRate);
    this.#up = toRate / divisor;
    this.#down = fromRate / divisor;
    // Cut-off in units of the input Nyquist frequency.
    const cutoff = (options.rolloff ?? 0.92) * Math.min(1, this.#up / this.#down);
    const halfWidth = (options.zeroCrossings ?? 32) / cutoff;
    this.#halfTaps = Math.ceil(halfWidth);
    this.#taps = 2 * this.#halfTaps;
    this.#tablePhases = Math.min(this.#up, MAX_TABLE_PHASES);
    this.#table = buildTable({
      phases: this.#tablePhases,
      halfTaps: this.#halfTaps,
      cutoff,
      halfWidth,
      kaiserBeta: options.kaiserBeta ?? 9,
    });
    this.#coefficients = new Float64Array(this.#taps);
    this.#history = new Float32Array(0);
    this.#historyStart = 0;
    this.reset();
  }

  /** Forgets all input: the next call starts a new stream. */
  reset(): void {
    // Silence before the first frame, so the first outputs have a full filter window.
    this.#history = new Float32Array((this.#halfTaps - 1) * this.channels);
    this.#historyStart = -(this.#halfTaps - 1);
    this.#inputFrames = 0;
    this.#nextIndex = 0;
    this.#nextPhase = 0;
  }

  /** Resamples interleaved frames; returns every output frame whose inputs are all known. */
  process(input: Float32Array): Float32Array {
    if (input.length % this.channels !== 0) {
      throw new RangeError(
        `Cannot resample: ${input.length} samples is not a whole number of ${this.channels}-channel frames`,
      );
    }
    if (this.#up === this.#down) return input.slice();
    this.#inputFrames += input.length / this.channels;
    return this.#run(input, Infinity);
  }

  /** Emits the last outputs (the stream's end is followed by silence), then resets. */
  flush(): Float32Array {
    if (this.#up === this.#down) return new Float32Array(0);
    const padding = new Float32Array(this.#halfTaps * this.channels);
    const output = this.#run(padding, this.#inputFrames);
    this.reset();
    return output;
  }

  /** Appends `input`; computes the outputs whose window is buffered and whose index is below `indexLimit`. */
  #run(input: Float32Array, indexLimit: number): Float32Array {
    const channels = this.channels;
    const buffer = new Float32Array(this.#history.length + input.length);
    buffer.set(this.#history);
    buffer.set(input, this.#history.length);
    const bufferStart = this.#historyStart;
    const bufferEnd = bufferStart + buffer.length / channels;
    const lastIndex = Math.min(bufferEnd - this.#halfTaps - 1, indexLimit - 1);
    const maxOutputs = Math.max(
      0,
      Math.ceil(((lastIndex - this.#nextIndex + 1) * this.#up) / this.#down) + 1,
    );
    const output = new Float32Array(maxOutputs * channels);
    let outputFrames = 0;
    while (this.#nextIndex <= lastIndex) {
      const coefficients = this.#coefficientsFor(this.#nextPhase);
      const base = (this.#nextIndex - this.#halfTaps + 1 - bufferStart) * channels;
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let j = 0, k = base + c; j < this.#taps; j++, k += channels) {
          sum += coefficients[j] * buffer[k];
        }
        output[outputFrames * channels + c] = sum;
      }
      outputFrames++;
      this.#nextPhase += this.#down;
      this.#nextIndex += Math.floor(this.#nextPhase / this.#up);
      this.#nextPhase %= this.#up;
    }
    // Keep what the next output's window needs.
    const keepFrom = Math.min(this.#nextIndex - this.#halfTaps + 1, bufferEnd);
    this.#history = buffer.slice((keepFrom - bufferStart) * channels);
    this.#historyStart = keepFrom;
    return output.subarray(0, outputFrames * channels);
  }

  #coefficientsFor(phase: number): Float64Array {
    const taps = this.#taps;
    if (this.#tablePhases === this.#up) {
      return this.#table.subarray(phase * taps, (phase + 1) * taps);
    }
    const position = (phase * this.#tablePhases) / this.#up;
    const row = Math.floor(position);
    const fraction = position - row;
    const a = row * taps;
    const b = a + taps;
    for (let j = 0; j < taps; j++) {
      this.#coefficients[j] = this.#table[a + j] * (1 - fraction) + this.#table[b + j] * fraction;
    }
    return this.#coefficients;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
