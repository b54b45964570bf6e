/** What every output encoder offers: whole encoded units, each with its length in frames. */
import type { AudioFormat } from "../../protocol/messages.ts";

export interface EncodedUnit {
  payload: Uint8Array;
  /** Frames at the output sample rate. */
  frames: number;
}

export interface Encoder {
  readonly format: AudioFormat;
  /** base64 `codec_header` for `stream/start`, where the codec has one. */
  readonly codecHeader?: string;
  /** Consumes one timeline chunk (48k/16/2 bytes); returns zero or more whole units. */
  encode(pcm: Uint8Array): EncodedUnit[];
}
