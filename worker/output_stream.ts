/**
 * One output format on one worker: one encoder, fed every timeline chunk once; each encoded
 * unit is framed once and the same bytes go to every subscribed listener. It keeps its
 * future framed chunks so a listener joining later gets them without a second encode.
 */
import { frameAudioChunk } from "../protocol/audio_chunk.ts";
import type { Clock } from "../protocol/clock.ts";
import type { AudioFormat } from "../protocol/messages.ts";
import { durationUs, playAtUs } from "../protocol/timestamps.ts";
import type { EncodedUnit, Encoder } from "./encoders/encoder.ts";
import type { PcmChunk } from "./pcm_ring.ts";
import type { FramedChunk } from "./send_queue.ts";

/** A chunk due sooner than this cannot be decoded and scheduled by a client in time. */
export const MIN_USEFUL_LEAD_US = 50_000;
/** `catchUp` encodes at once what plays this soon; the rest of the backlog in slices. */
const URGENT_US = 300_000;
const BACKLOG_SLICE_MS = 1;

export interface Subscriber {
  deliver(chunk: FramedChunk): void;
  close(code: number, reason: string): void;
}

export class OutputStream {
  readonly subscribers = new Set<Subscriber>();
  /** How many timeline chunks went through the encoder (the encode-once tests count it). */
  encodedChunks = 0;
  /** An encoder failed outside `feed` (while publishing what it held during its start). */
  onError?: (error: unknown) => void;
  #held: FramedChunk[] = [];
  /** Held audio still to encode after `catchUp`; new chunks queue behind it. */
  #backlog: PcmChunk[] = [];
  #closed = false;
  #segment = -1;
  #anchorUs = 0;
  #framesOut = 0;

  #encoder!: Encoder;

  constructor(
    readonly format: AudioFormat,
    readonly makeEncoder: (f: AudioFormat) => Encoder,
    readonly clock: Clock,
  ) {
    this.#startEncoder();
  }

  get codecHeader(): string | undefined {
    return this.#encoder.codecHeader;
  }

  /** Encodes one timeline chunk and hands the framed result to every subscriber. */
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
    const urgentUntilUs = this.clock.nowUs() + URGENT_US;
    let i = 0;
    for (; i < chunks.length && chunks[i].playAtUs < urgentUntilUs; i++) this.#encode(chunks[i]);
    if (i === chunks.length) return;
    this.#backlog.push(...chunks.slice(i));
    this.#drainBacklogSoon();
  }

  #drainBacklogSoon() {
    setTimeout(() => {
      if (this.#closed) return;
      const until = performance.now() + BACKLOG_SLICE_MS;
      try {
        while (this.#backlog.length && performance.now() < until) {
          this.#encode(this.#backlog.shift()!);
        }
      } catch (error) {
        this.#backlog = [];
        return this.onError?.(error);
      }
      if (this.#backlog.length) this.#drainBacklogSoon();
    }, 0);
  }

  #encode(chunk: PcmChunk) {
    if (chunk.segment !== this.#segment) this.#restart(chunk);
    this.encodedChunks++;
    this.#publish(this.#encoder.encode(chunk.pcm));
  }

  #publish(units: EncodedUnit[]) {
    const rate = this.format.sample_rate;
    const nowUs = this.clock.nowUs(); // after encoding: a burst of waiting chunks takes time
    for (const unit of units) {
      const startUs = playAtUs(this.#anchorUs, this.#framesOut, rate);
      this.#framesOut += unit.frames;
      // Units of chunks that waited for the encoder (or took long to encode in a burst) may
      // be about to play: no client could decode and schedule them in time, so nobody gets them.
      if (startUs < nowUs + MIN_USEFUL_LEAD_US) continue;
      const framed = {
        bytes: frameAudioChunk(startUs, unit.payload),
        playAtUs: startUs,
        endUs: playAtUs(this.#anchorUs, this.#framesOut, rate),
      };
      this.#held.push(framed);
      for (const subscriber of this.subscribers) subscriber.deliver(framed);
    }
    this.#prune(nowUs);
  }

  /** A new encoder; one that starts asynchronously publishes what it held once ready. */
  #startEncoder() {
    const encoder = this.makeEncoder(this.format);
    this.#encoder = encoder;
    encoder.ready?.then(() => {
      if (this.#closed || this.#encoder !== encoder) return;
      try {
        this.#publish(encoder.takeHeld?.() ?? []);
      } catch (error) {
        this.onError?.(error);
      }
    });
  }

  /** Framed chunks that have not finished playing, oldest first. */
  future(nowUs: number): FramedChunk[] {
    this.#prune(nowUs);
    return this.#held;
  }

  /** The timeline stopped: forget held audio; the next chunk starts a fresh encoder. */
  reset(): void {
    if (this.#segment !== -1) this.#replaceEncoder();
    this.#held = [];
    this.#backlog = [];
    this.#segment = -1;
  }

  #restart(chunk: PcmChunk) {
    if (this.#segment !== -1) this.#replaceEncoder();
    this.#segment = chunk.segment;
    // A codec with look-ahead plays its first input sample `leadFrames` late: stamp earlier.
    this.#anchorUs = chunk.playAtUs -
      durationUs(this.#encoder.leadFrames ?? 0, this.format.sample_rate);
    this.#framesOut = 0;
    this.#held = [];
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

  #prune(nowUs: number) {
    let drop = 0;
    while (drop < this.#held.length && this.#held[drop].endUs <= nowUs) drop++;
    if (drop) this.#held = this.#held.slice(drop);
  }
}
