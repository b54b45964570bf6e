/**
 * Opus output through libopus compiled to WebAssembly (npm `libopus-wasm`, one ES module
 * with the wasm inside, so it also runs in a compiled binary): one 60 ms packet per timeline
 * chunk. libopus delays its output by its look-ahead; the stream stamps Opus units that
 * much earlier (`leadFrames`), so an Opus listener hears every sample at the same instant
 * as PCM and FLAC listeners. No `codec_header`: it is optional for Opus, and an OpusHead's
 * pre-skip could make a client drop the look-ahead a second time.
 */
import { createEncoder, loadLibopus, type OpusEncoderHandle } from "libopus-wasm";
import type { AudioFormat } from "../../protocol/messages.ts";
import { CHANNELS } from "../../protocol/pcm.ts";
import type { EncodedUnit, Encoder } from "./encoder.ts";

/** libopus look-ahead at 48 kHz outside low-delay mode (Fs/400 + Fs/250); checked at start. */
export const OPUS_LOOKAHEAD_FRAMES = 312;
/** Transparent for most music in stereo. */
export const DEFAULT_OPUS_BITRATE = 128_000;
export const OPUS_SAMPLE_RATE = 48_000;

export interface OpusEncoderOptions {
  /** Bits per second; default DEFAULT_OPUS_BITRATE. */
  bitrate?: number;
}

/**
 * Compiles and instantiates libopus now, so the first Opus listener does not wait for it
 * (about 150 ms). Workers call it at start; it is harmless to call again.
 */
export function preloadOpus(): Promise<void> {
  return loadLibopus().then(() => {});
}

export class OpusEncoder implements Encoder {
  readonly leadFrames = OPUS_LOOKAHEAD_FRAMES;
  /** Resolves once libopus is ready; input given before then is held (see `takeHeld`). */
  readonly ready: Promise<void>;
  #opus?: OpusEncoderHandle;
  /** Chunks that arrived while libopus was still being instantiated (once per encoder). */
  #waiting: Uint8Array[] = [];
  #closed = false;
  #failure?: Error;

  constructor(readonly format: AudioFormat, options: OpusEncoderOptions = {}) {
    if (format.sample_rate !== OPUS_SAMPLE_RATE || format.channels < 1 || format.channels > 2) {
      throw new RangeError(
        `Cannot encode Opus at ${format.sample_rate} Hz / ${format.channels} ch: 48000 Hz, 1-2 ch only`,
      );
    }
    this.ready = createEncoder({
      sampleRate: OPUS_SAMPLE_RATE,
      channels: format.channels as 1 | 2,
      application: 2049, // audio: music, not voice
      bitrate: options.bitrate ?? DEFAULT_OPUS_BITRATE,
      frameSize: 2_880,
    }).then((opus) => {
      if (this.#closed) return opus.free();
      if (opus.getLookahead() !== OPUS_LOOKAHEAD_FRAMES) {
        opus.free();
        throw new Error(`libopus look-ahead is ${opus.getLookahead()}, expected 312`);
      }
      this.#opus = opus;
    }).catch((error) => {
      this.#failure = error;
    });
  }

  encode(pcm: Uint8Array): EncodedUnit[] {
    this.#waiting.push(pcm);
    return this.takeHeld();
  }

  /** Encodes input held while libopus was starting; nothing before it is ready. */
  takeHeld(): EncodedUnit[] {
    if (this.#failure) throw new Error(`Cannot encode Opus: ${this.#failure.message}`);
    if (!this.#opus) return [];
    return this.#waiting.splice(0).map((chunk) => this.#encodeOne(this.#opus!, chunk));
  }
  #encodeOne(opus: OpusEncoderHandle, pcm: Uint8Array): EncodedUnit {
    const frames = pcm.byteLength / (CHANNELS * 2);
    const stereo = new Int16Array(pcm.buffer, pcm.byteOffset, frames * CHANNELS);
    if (this.format.channels === 2) return { payload: opus.encode(stereo), frames };
    const mono = new Int16Array(frames);
    for (let f = 0; f < frames; f++) mono[f] = Math.round((stereo[2 * f] + stereo[2 * f + 1]) / 2);
    return { payload: opus.encode(mono), frames };
  }

  close(): void {
    this.#closed = true;
    this.#opus?.free();
    this.#opus = undefined;
  }
}
