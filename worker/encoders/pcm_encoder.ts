/**
 * PCM output: the timeline's bytes as they are when the client asks for exactly the source's
 * format (no copy, every bit unchanged), otherwise resampled, remixed and re-packed to the
 * requested format. Other rates are cut by the Rechunker on the timeline's chunk borders, so
 * a listener switching formats continues exactly where it was.
 */
import type { AudioFormat } from "../../protocol/messages.ts";
import { bytesPerFrame, DEMO_FORMAT, packSamples, type PcmFormat } from "../../protocol/pcm.ts";
import { Rechunker, toOutputInts, type Unit } from "./rechunk.ts";
import type { EncodedUnit, Encoder } from "./encoder.ts";

export const PCM_BIT_DEPTHS = [16, 24, 32];

/** Whether `output` is `source` itself: PCM at its rate, depth and channels. */
export function isSourceFormat(output: AudioFormat, source: PcmFormat): boolean {
  return output.codec === "pcm" && output.sample_rate === source.sampleRate &&
    output.bit_depth === source.bitDepth && output.channels === source.channels;
}

export class PcmEncoder implements Encoder {
  #rechunker: Rechunker;

  constructor(readonly format: AudioFormat) {
    this.#rechunker = new Rechunker(format.sample_rate);
  }

  encode(pcm: Uint8Array, source: PcmFormat = DEMO_FORMAT): EncodedUnit[] {
    if (isSourceFormat(this.format, source)) {
      return [{ payload: pcm, frames: pcm.byteLength / bytesPerFrame(source) }];
    }
    return this.#rechunker.push(source, pcm).map((unit) => this.#pack(unit));
  }

  finish(): EncodedUnit[] {
    return this.#rechunker.finish().map((unit) => this.#pack(unit));
  }

  #pack(unit: Unit): EncodedUnit {
    const { channels, bit_depth: bits } = this.format;
    const ints = toOutputInts(unit, channels, bits);
    return { payload: packSamples(ints, bits as 16 | 24 | 32), frames: unit.frames };
  }
}
