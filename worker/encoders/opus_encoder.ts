/**
 * Opus output through libopus compiled to WebAssembly (npm `libopus-wasm`, one ES module
 * with the wasm inside, so it also runs in a compiled binary): one 60 ms packet per timeline
 * chunk, resampled to 48 kHz first for a source at another rate (Opus codes only 8, 12, 16,
 * 24 and 48 kHz; we offer 48). A shorter last unit at a source format change is padded
 * with silence to a whole packet. libopus delays its output by its look-ahead; the stream stamps Opus units that
 * much earlier (`leadFrames`), so an Opus listener hears every sample at the same instant
 * as PCM and FLAC listeners. No `codec_header`: it is optional for Opus, and an OpusHead's
 * pre-skip could make a client drop the look-ahead a second time.
 */
import type { OpusEncoderHandle } from "libopus-wasm";
import type { AudioFormat } from "../../protocol/messages.ts";
import { DEMO_FORMAT, type PcmFormat } from "../../protocol/pcm.ts";
import { Rechunker, toOutputInts, type Unit } from "./rechunk.ts";
import type { EncodedUnit, Encoder } from "./encoder.ts";

/** libopus look-ahead at 48 kHz outside low-delay mode (Fs/400 + Fs/250); checked at start. */
export const OPUS_LOOKAHEAD_FRAMES = 312;
/** Transparent for most music in stereo. */
export const DEFAULT_OPUS_BITRATE = 128_000;
export const OPUS_SAMPLE_RATE = 48_000;
/** 60 ms at 48 kHz: one timeline chunk. */
const OPUS_FRAME_SIZE = 2_880;

export interface OpusEncoderOptions {
  /** Bits per second; default DEFAULT_OPUS_BITRATE. */
  bitrate?: number;
}

/**
 * libopus (some 15 MiB once instantiated) is loaded when a first Opus listener needs it, not
 * at start: a party of PCM or FLAC listeners never pays for it. The first Opus listener
 * waits for it once (about 150 ms); its audio is held meanwhile (`takeHeld`).
 */
function libopus(): Promise<typeof import("libopus-wasm")> {
  return import("libopus-wasm");
}

export class OpusEncoder implements Encoder {
  readonly leadFrames = OPUS_LOOKAHEAD_FRAMES;
  /** Resolves once libopus is ready; input given before then is held (see `takeHeld`). */
  readonly ready: Promise<void>;
  #opus?: OpusEncoderHandle;
  /** Units that arrived while libopus was still being instantiated (once per encoder). */
  #waiting: Unit[] = [];
  readonly #rechunker = new Rechunker(OPUS_SAMPLE_RATE);
  #closed = false;
  #failure?: Error;

  constructor(readonly format: AudioFormat, options: OpusEncoderOptions = {}) {
    if (format.sample_rate !== OPUS_SAMPLE_RATE || format.channels < 1 || format.channels > 2) {
      throw new RangeError(
        `Cannot encode Opus at ${format.sample_rate} Hz / ${format.channels} ch: 48000 Hz, 1-2 ch only`,
      );
    }
    this.ready = libopus().then(({ createEncoder }) =>
      createEncoder({
        sampleRate: OPUS_SAMPLE_RATE,
        channels: format.channels as 1 | 2,
        application: 2049, // audio: music, not voice
        bitrate: options.bitrate ?? DEFAULT_OPUS_BITRATE,
        frameSize: OPUS_FRAME_SIZE,
      })
    ).then((opus) => {
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

  encode(pcm: Uint8Array, source: PcmFormat = DEMO_FORMAT): EncodedUnit[] {
    this.#waiting.push(...this.#rechunker.push(source, pcm).map(copyUnit));
    return this.takeHeld();
  }

  finish(): EncodedUnit[] {
    this.#waiting.push(...this.#rechunker.finish());
    return this.takeHeld();
  }

  /** Encodes input held while libopus was starting; nothing before it is ready. */
  takeHeld(): EncodedUnit[] {
    if (this.#failure) throw new Error(`Cannot encode Opus: ${this.#failure.message}`);
    if (!this.#opus) return [];
    return this.#waiting.splice(0).map((chunk) => this.#encodeOne(this.#opus!, chunk));
  }
  #encodeOne(opus: OpusEncoderHandle, unit: Unit): EncodedUnit {
    const channels = this.format.channels;
    const ints = toOutputInts(unit, channels, 16);
    const packet = new Int16Array(OPUS_FRAME_SIZE * channels); // short units: silence after
    packet.set(ints.subarray(0, packet.length));
    return { payload: opus.encode(packet), frames: Math.min(unit.frames, OPUS_FRAME_SIZE) };
  }

  close(): void {
    this.#closed = true;
    this.#opus?.free();
    this.#opus = undefined;
  }
}

/** The rechunker's units are views into its buffer: one held for later needs its own copy. */
/** Resampled units are views into the rechunker's buffer; the source's own are fresh. */
function copyUnit(unit: Unit): Unit {
  return unit.samples instanceof Float32Array ? { ...unit, samples: unit.samples.slice() } : unit;
}
