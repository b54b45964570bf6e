/** Types shared by the built-in decoders; `builtin.ts` re-exports the public ones. */

import type { TrackTags } from "../../protocol/tags.ts";
export type { TrackTags };

export interface DecodeOptions {
  /** Stops decoding; the generator returns. Default: never stops early. */
  signal?: AbortSignal;
  /**
   * Called when tags (title/artist/album) become known, e.g. from ID3, Vorbis comments,
   * WAV LIST/INFO. Default: tags are ignored.
   */
  onTags?: (tags: TrackTags) => void;
}

/** Thrown when the bytes are not a format we can decode; message is one clear line for a person. */
export class UnsupportedFormatError extends Error {
  override name = "UnsupportedFormatError";
}

/** A loudspeaker position, as in WAVE channel masks; "other" for anything we don't place. */
export type Speaker =
  | "FL"
  | "FR"
  | "FC"
  | "LFE"
  | "BL"
  | "BR"
  | "FLC"
  | "FRC"
  | "BC"
  | "SL"
  | "SR"
  | "other";

/** Integer samples at the source's bit depth, one array per channel. */
export interface IntPcmBlock {
  kind: "int";
  sampleRate: number;
  bitDepth: number;
  channels: Int32Array[];
  /** Position of each channel; needed only for more than two channels. */
  speakers?: readonly Speaker[];
}

/** Float samples (full scale is ±1.0), one array per channel. */
export interface FloatPcmBlock {
  kind: "float";
  sampleRate: number;
  channels: Float32Array[];
  /** Position of each channel; needed only for more than two channels. */
  speakers?: readonly Speaker[];
}

export type PcmBlock = IntPcmBlock | FloatPcmBlock;
