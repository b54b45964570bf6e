/**
 * One output format on one worker: one encoder, fed every timeline chunk once, stamping
 * each encoded unit from a running frame count; each unit is framed once and handed to
 * `onFramed` (the group keeps it and gives the same object to every listener of the format).
 * When the source's format changes, the encoder hands out what it holds (ending no later
 * than the change), and a fresh one starts exactly at the change: the output format stays.
 */
import { AUDIO_HEADER_BYTES, frameAudioChunk } from "../protocol/audio_chunk.ts";
import type { Clock } from "../protocol/clock.ts";
import type { AudioFormat } from "../protocol/messages.ts";
import { type PcmFormat, samePcmFormat } from "../protocol/pcm.ts";
import { durationUs, playAtUs } from "../protocol/timestamps.ts";
import type { EncodedUnit, Encoder } from "./encoders/encoder.ts";
import type { FramedChunk, PcmChunk } from "./future_audio.ts";

/** A chunk due sooner than this cannot be decoded and scheduled by a client in time. */
export const MIN_USEFUL_LEAD_US = 50_000;
/** `catchUp` encodes at once what plays this soon; the rest of the backlog in slices. */
const URGENT_US = 300_000;
const BACKLOG_SLICE_MS = 1;

export interface OutputStreamOptions {
  makeEncoder: (format: AudioFormat) => Encoder;
  clock: Clock;
  /** Every framed unit, in time order. */
  onFramed: (chunk: FramedChunk) => void;
  /** The encoder failed outside `feed` (in a backlog slice, or publishing after its start). */
  onError: (error: unknown) => void;
}

export class OutputStream {
  /** How many timeline chunks went through the encoder (the encode-once tests count it). */
  encodedChunks = 0;
  /** Held audio still to encode after `catchUp`; new chunks queue behind it. */
  #backlog: PcmChunk[] = [];
  #closed = false;
  #segment = -1;
  #anchorUs = 0;
  #framesOut = 0;
  /** The source format the encoder is fed. */
  #input?: PcmFormat;
  /** Units published end no later than this (the server time of a format change). */
  #endLimitUs = Infinity;

  #encoder!: Encoder;
  /** Until the encoder can encode (`Encoder.ready`); the backlog waits for it. */
  #starting?: Promise<void>;

  constructor(readonly format: AudioFormat, readonly options: OutputStreamOptions) {
    this.#startEncoder();
  }

  get codecHeader(): string | undefined {
    return this.#encoder.codecHeader;
  }

  /** Encodes one timeline chunk; its framed units go to `onFramed`. */
  feed(chunk: PcmChunk): void {
    if (this.#backlog.length) this.#backlog.push(chunk); // after the backlog, in order
    else this.#encode(chunk);
  }

  /**
   * Starts the stream from audio the worker already holds (up to 5 s): what plays within
   * URGENT_US is encoded now, so the first listener hears audio at once; the rest in slices
   * of BACKLOG_SLICE_MS, so time answers and sends of everyone on this worker go on meanwhile.
   */
  catchUp(chunks: readonly PcmChunk[]): void {
    const urgentUntilUs = this.options.clock.nowUs() + URGENT_US;
    let i = 0;
    for (; i < chunks.length && chunks[i].playAtUs < urgentUntilUs; i++) this.#encode(chunks[i]);
    if (i === chunks.length) return;
    this.#backlog.push(...chunks.slice(i));
    this.#drainBacklogSoon();
  }

  /**
   * The next slice, once the encoder can encode: one still starting (libopus loading) would
   * only hold the backlog, then encode all of it in one go once ready, and hold this worker's
   * event loop (every listener's time answers and sends) for as long.
   */
  #drainBacklogSoon() {
    if (this.#starting) {
      this.#starting.then(() => this.#drainBacklogSoon());
      return;
    }
    setTimeout(() => {
      if (this.#closed) return;
      const until = performance.now() + BACKLOG_SLICE_MS;
      try {
        while (this.#backlog.length && performance.now() < until && !this.#starting) {
          this.#encode(this.#backlog.shift()!);
        }
      } catch (error) {
        this.#backlog = [];
        return this.options.onError(error);
      }
      if (this.#backlog.length) this.#drainBacklogSoon();
    }, 0);
  }

  #encode(chunk: PcmChunk) {
    if (chunk.segment !== this.#segment) this.#restart(chunk);
    else if (!samePcmFormat(this.#input!, chunk.format)) this.#changeFormat(chunk);
    this.encodedChunks++;
    this.#publish(this.#encoder.encode(chunk.pcm, chunk.format));
  }

  /** The source's format changed at `chunk.playAtUs`: the old run ends there, a new one starts. */
  #changeFormat(chunk: PcmChunk) {
    this.#endLimitUs = chunk.playAtUs;
    this.#publish(this.#encoder.finish?.() ?? []);
    this.#endLimitUs = Infinity;
    this.#replaceEncoder();
    this.#anchor(chunk);
  }

  #publish(units: EncodedUnit[]) {
    const rate = this.format.sample_rate;
    const nowUs = this.options.clock.nowUs(); // after encoding: a burst takes time
    for (const unit of units) {
      const startUs = playAtUs(this.#anchorUs, this.#framesOut, rate);
      this.#framesOut += unit.frames;
      const endUs = Math.min(playAtUs(this.#anchorUs, this.#framesOut, rate), this.#endLimitUs);
      // Units of chunks that waited for the encoder (or took long to encode in a burst) may
      // be about to play: no client could decode and schedule them in time, so nobody gets them.
      if (startUs < nowUs + MIN_USEFUL_LEAD_US) continue;
      const bytes = frameAudioChunk(startUs, unit.payload); // a copy: encoders reuse buffers
      this.options.onFramed({
        segment: this.#segment,
        playAtUs: startUs,
        endUs,
        payload: bytes.subarray(AUDIO_HEADER_BYTES),
        bytes,
      });
    }
  }

  /** A new encoder; one that starts asynchronously publishes what it held once ready. */
  #startEncoder() {
    const encoder = this.options.makeEncoder(this.format);
    this.#encoder = encoder;
    this.#starting = encoder.ready?.then(() => {
      if (this.#closed || this.#encoder !== encoder) return;
      this.#starting = undefined;
      try {
        this.#publish(encoder.takeHeld?.() ?? []);
      } catch (error) {
        this.options.onError(error);
      }
    });
  }

  /** The timeline stopped: the next chunk starts a fresh encoder. */
  reset(): void {
    if (this.#segment !== -1) this.#replaceEncoder();
    this.#backlog = [];
    this.#segment = -1;
  }

  #restart(chunk: PcmChunk) {
    if (this.#segment !== -1) this.#replaceEncoder();
    this.#segment = chunk.segment;
    this.#anchor(chunk);
  }

  #anchor(chunk: PcmChunk) {
    this.#input = chunk.format;
    // A codec with look-ahead plays its first input sample `leadFrames` late: stamp earlier.
    this.#anchorUs = chunk.playAtUs -
      durationUs(this.#encoder.leadFrames ?? 0, this.format.sample_rate);
    this.#framesOut = 0;
  }

  /** Frees the encoder; the stream is not used after this. */
  close(): void {
    this.#closed = true;
    this.#backlog = [];
    this.#encoder.close?.();
  }

  #replaceEncoder() {
    this.#encoder.close?.();
    this.#startEncoder();
  }
}
