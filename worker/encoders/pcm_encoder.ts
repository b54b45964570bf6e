/**
 * PCM output: the timeline's 48k/16/2 bytes as they are when the client asks for exactly
 * that (no copy), otherwise resampled, remixed and re-packed to the requested format.
 * Resampled output is cut into units of one chunk's length at the output rate, one chunk
 * behind (the filter needs a few frames of look-ahead), so its chunk borders fall on the
 * timeline's: a listener switching formats continues exactly where it was.
 */
import type { AudioFormat } from "../../protocol/messages.ts";
import { CHANNELS, CHUNK_FRAMES, SAMPLE_RATE } from "../../protocol/pcm.ts";
import { Resampler } from "../../protocol/resample.ts";
import type { EncodedUnit, Encoder } from "./encoder.ts";

export const PCM_BIT_DEPTHS = [16, 24, 32];

export class PcmEncoder implements Encoder {
  #resampler?: Resampler;
  #held: Float32Array = new Float32Array(0);
  #unitFrames: number;

  constructor(readonly format: AudioFormat) {
    this.#unitFrames = Math.floor((CHUNK_FRAMES * format.sample_rate) / SAMPLE_RATE);
    if (format.sample_rate !== SAMPLE_RATE) {
      this.#resampler = new Resampler({
        fromRate: SAMPLE_RATE,
        toRate: format.sample_rate,
        channels: CHANNELS,
      });
    }
  }

  encode(pcm: Uint8Array): EncodedUnit[] {
    const { channels, bit_depth: bits } = this.format;
    const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2);
    if (!this.#resampler) {
      if (channels === CHANNELS && bits === 16) {
        return [{ payload: pcm, frames: pcm.byteLength / 4 }];
      }
      const frames = samples.length / CHANNELS;
      return [{ payload: pack(samples, frames, channels, bits), frames }];
    }
    this.#held = concat(this.#held, this.#resampler.process(toFloat(samples)));
    const units: EncodedUnit[] = [];
    const unitSamples = this.#unitFrames * CHANNELS;
    let offset = 0;
    while (this.#held.length - offset >= unitSamples) {
      const unit = this.#held.subarray(offset, offset + unitSamples);
      units.push({
        payload: pack(unit, this.#unitFrames, channels, bits),
        frames: this.#unitFrames,
      });
      offset += unitSamples;
    }
    this.#held = this.#held.slice(offset);
    return units;
  }
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function toFloat(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i] / 32768;
  return out;
}

/** Float input is scaled to 16-bit first, so every depth carries the same 16-bit values. */
function pack(
  stereo: Int16Array | Float32Array,
  frames: number,
  channels: number,
  bits: number,
): Uint8Array {
  const scale = stereo instanceof Float32Array ? 32768 : 1;
  const bytesPerSample = bits / 8;
  const out = new Uint8Array(frames * channels * bytesPerSample);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (let f = 0; f < frames; f++) {
    const left = stereo[2 * f] * scale;
    const right = stereo[2 * f + 1] * scale;
    const values = channels === 1 ? [(left + right) / 2] : [left, right];
    for (const value of values) {
      const s16 = Math.max(-32768, Math.min(32767, Math.round(value)));
      if (bits === 16) view.setInt16(offset, s16, true);
      else if (bits === 24) {
        const s24 = s16 * 256;
        out[offset] = s24 & 0xff;
        out[offset + 1] = (s24 >> 8) & 0xff;
        out[offset + 2] = (s24 >> 16) & 0xff;
      } else view.setInt32(offset, s16 * 65536, true);
      offset += bytesPerSample;
    }
  }
  return out;
}
