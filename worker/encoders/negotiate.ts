/** Picks the output format for a listener: the first entry of its list that we can produce. */
import type { AudioFormat } from "../../protocol/messages.ts";
import { PCM_BIT_DEPTHS, PcmEncoder } from "./pcm_encoder.ts";
import { DEFAULT_OPUS_BITRATE, OPUS_SAMPLE_RATE, OpusEncoder } from "./opus_encoder.ts";
import { canEncodeFlac, FlacEncoder } from "./flac/flac_encoder.ts";
import type { Encoder } from "./encoder.ts";

export interface EncoderOptions {
  /** Opus bits per second; default DEFAULT_OPUS_BITRATE. */
  opusBitrate?: number;
}

const MIN_RATE = 8_000;
const MAX_RATE = 192_000;

export function canProduce(format: AudioFormat): boolean {
  if (format.channels !== 1 && format.channels !== 2) return false;
  switch (format.codec) {
    case "pcm":
      return format.sample_rate >= MIN_RATE && format.sample_rate <= MAX_RATE &&
        PCM_BIT_DEPTHS.includes(format.bit_depth);
    case "opus":
      return format.sample_rate === OPUS_SAMPLE_RATE;
    case "flac":
      return canEncodeFlac(format);
    default:
      return false;
  }
}

export function chooseFormat(supported: readonly AudioFormat[]): AudioFormat | undefined {
  return supported.find(canProduce);
}

/** A stable key, so listeners of one format share one encoder. */
export function formatKey(format: AudioFormat): string {
  return `${format.codec}/${format.sample_rate}/${format.channels}/${format.bit_depth}`;
}

export function createEncoder(format: AudioFormat, options: EncoderOptions = {}): Encoder {
  switch (format.codec) {
    case "opus":
      return new OpusEncoder(format, { bitrate: options.opusBitrate ?? DEFAULT_OPUS_BITRATE });
    case "flac":
      return new FlacEncoder(format);
    default:
      return new PcmEncoder(format);
  }
}
