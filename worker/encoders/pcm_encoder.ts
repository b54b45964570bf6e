/**
 * PCM output: the timeline's 48k/16/2 bytes as they are when the client asks for exactly
 * that (no copy), otherwise resampled, remixed and re-packed to the requested format.
 * Other rates are cut by the Rechunker on the timeline's chunk borders, so a listener
 * switching formats continues exactly where it was.
 */
import type { AudioFormat } from "../../protocol/messages.ts";
import { CHANNELS, SAMPLE_RATE } from "../../protocol/pcm.ts";
import { Rechunker } from "./rechunk.ts";
import type { EncodedUnit, Encoder } from "./encoder.ts";

export const PCM_BIT_DEPTHS = [16, 24, 32];

export class PcmEncoder implements Encoder {
  #rechunker: Rechunker;

  constructor(readonly format: AudioFormat) {
    this.#rechunker = new Rechunker(format.sample_rate);
  }

  encode(pcm: Uint8Array): EncodedUnit[] {
    const { channels, bit_depth: bits } = this.format;
    if (this.format.sample_rate === SAMPLE_RATE && channels === CHANNELS && bits === 16) {
      return [{ payload: pcm, frames: pcm.byteLength / (CHANNELS * 2) }];
    }
    return this.#rechunker.push(pcm).map((unit) => {
      const frames = unit.length / CHANNELS;
      return { payload: pack(unit, frames, channels, bits), frames };
    });
  }
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
