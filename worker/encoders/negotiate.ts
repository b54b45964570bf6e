/**
 * Picks the output format for a listener: the first entry of its list that we can produce,
 * or the source's own format where the client lists it in the codec it prefers (see
 * preferSourceFormat).
 */
import type { AudioFormat } from "../../protocol/messages.ts";
import type { PcmFormat } from "../../protocol/pcm.ts";
import { PCM_BIT_DEPTHS, PcmEncoder } from "./pcm_encoder.ts";
import { DEFAULT_OPUS_BITRATE, OPUS_SAMPLE_RATE, OpusEncoder } from "./opus_encoder.ts";
import { canEncodeFlac, FlacEncoder } from "./flac/flac_encoder.ts";
import type { Encoder } from "./encoder.ts";

export interface EncoderOptions {
  /** Opus bits per second; default DEFAULT_OPUS_BITRATE. */
  opusBitrate?: number;
}

/**
 * The rates we resample to: the ones real devices use. Each distinct format costs a worker an
 * encoder (and a resampler), so a client cannot make us run one at 12,345 Hz or 655 kHz.
 */
export const OUTPUT_RATES: readonly number[] = [
  8_000,
  11_025,
  16_000,
  22_050,
  24_000,
  32_000,
  44_100,
  48_000,
  88_200,
  96_000,
  176_400,
  192_000,
];

export function canProduce(format: AudioFormat): boolean {
  if (format.channels !== 1 && format.channels !== 2) return false;
  if (!OUTPUT_RATES.includes(format.sample_rate)) return false;
  switch (format.codec) {
    case "pcm":
      return PCM_BIT_DEPTHS.includes(format.bit_depth);
    case "opus":
      return format.sample_rate === OPUS_SAMPLE_RATE;
    case "flac":
      return canEncodeFlac(format);
    default:
      return false;
  }
}

/** The client's formats we can produce, in its order of preference, normalised. */
export function producibleFormats(supported: readonly AudioFormat[]): AudioFormat[] {
  return supported.filter(canProduce).map(normalizeFormat);
}

/**
 * The client's formats with the source's own format first, if the client lists it in the
 * codec of its first choice (PCM or FLAC: lossless, so those bits pass unchanged). A client
 * that prefers FLAC at 48 kHz but also lists FLAC at the source's 44.1 kHz gets 44.1 kHz,
 * no resampling; one that prefers Opus keeps Opus. The order is otherwise the client's.
 */
export function preferSourceFormat(
  formats: readonly AudioFormat[],
  source: PcmFormat | undefined,
): AudioFormat[] {
  const first = formats[0];
  if (!source || !first || first.codec === "opus") return [...formats];
  const own = formats.find((f) =>
    f.codec === first.codec && f.sample_rate === source.sampleRate &&
    f.channels === source.channels && f.bit_depth === source.bitDepth
  );
  return own ? [own, ...formats.filter((f) => f !== own)] : [...formats];
}

export function chooseFormat(supported: readonly AudioFormat[]): AudioFormat | undefined {
  return producibleFormats(supported)[0];
}

/** Opus carries no bit depth: every Opus request is one format, so one encoder. */
export function normalizeFormat(format: AudioFormat): AudioFormat {
  return format.codec === "opus" ? { ...format, bit_depth: 16 } : format;
}

/** The formats nearly every client asks for; a worker always has room for these. */
export function isCommonFormat(format: AudioFormat): boolean {
  return format.channels === 2 && format.bit_depth === 16 &&
    (format.sample_rate === 48_000 || format.sample_rate === 44_100);
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
