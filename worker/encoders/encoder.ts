/** What every output encoder offers: whole encoded units, each with its length in frames. */
import type { AudioFormat } from "../../protocol/messages.ts";
import type { PcmFormat } from "../../protocol/pcm.ts";

export interface EncodedUnit {
  payload: Uint8Array;
  /** Frames at the output sample rate. */
  frames: number;
}

export interface Encoder {
  readonly format: AudioFormat;
  /** base64 `codec_header` for `stream/start`, where the codec has one. */
  readonly codecHeader?: string;
  /**
   * Output frames the codec plays before the input's first sample (its look-ahead): the
   * stream stamps units this much earlier so every format plays in step. Default 0.
   */
  readonly leadFrames?: number;
  /**
   * Consumes one timeline chunk in `source`'s format (default the demo's, 48k/16/2);
   * returns zero or more whole units.
   */
  encode(pcm: Uint8Array, source?: PcmFormat): EncodedUnit[];
  /**
   * The source's format changes (the stream re-anchors at the change): returns what the
   * encoder still holds (a resampler's tail), as shorter last units. Default nothing.
   */
  finish?(): EncodedUnit[];
  /**
   * For an encoder that starts asynchronously (wasm): resolves when it can encode. Until
   * then `encode` holds its input; `takeHeld` then returns the units for it.
   */
  readonly ready?: Promise<void>;
  takeHeld?(): EncodedUnit[];
  /** Frees what the encoder holds outside the JS heap (wasm memory). */
  close?(): void;
}
