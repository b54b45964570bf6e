/**
 * The one timeline: cuts decoded PCM into fixed chunks and stamps each with the server time
 * of its first sample, from a running sample count. It paces the source so the newest chunk
 * is never more than about 5 s ahead of real time, and starts a new segment (anchored 250 ms
 * ahead) whenever the source fell so far behind that the next chunk would arrive late.
 */
import type { Clock } from "../protocol/clock.ts";
import { CHANNELS, CHUNK_FRAMES, SAMPLE_RATE } from "../protocol/pcm.ts";
import { sleepMs } from "../protocol/sleep.ts";
import { playAtUs } from "../protocol/timestamps.ts";
import { concat } from "../protocol/concat.ts";

export interface StampedChunk {
  segment: number;
  playAtUs: number;
  /** 48k/16/2 little-endian interleaved (the platforms we run on are little-endian). */
  pcm: Uint8Array;
}

export interface TimelineOptions {
  clock: Clock;
  emit: (chunk: StampedChunk) => void;
  /** Waits; default a timer. Tests pass one that advances a fake clock. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Default 5 s: the reference keeps at most about 5 s ahead. */
  maxLeadUs?: number;
  /** Default 250 ms: the first chunk of a segment plays this far in the future. */
  firstLeadUs?: number;
  /** Default CHUNK_FRAMES (60 ms). */
  chunkFrames?: number;
}

/** A next chunk due sooner than this would reach clients too late: start a new segment. */
const MIN_LEAD_US = 50_000;

export class Timeline {
  segment = 0;
  #anchorUs = 0;
  #framesInSegment = 0;
  #started = false;
  #pending: Int16Array = new Int16Array(0);
  /** Who wants the play time of a sample not emitted yet (counted in samples pushed). */
  #marks: { sample: number; tell: (playAtUs: number) => void }[] = [];
  /** Samples emitted and pushed since the last restart. */
  #emittedSamples = 0;
  #pushedSamples = 0;
  #options: Required<TimelineOptions>;

  constructor(options: TimelineOptions) {
    this.#options = {
      sleep: sleepMs,
      maxLeadUs: 5_000_000,
      firstLeadUs: 250_000,
      chunkFrames: CHUNK_FRAMES,
      ...options,
    };
  }

  /** Adds decoded PCM (48k stereo interleaved, any length); emits every whole chunk, paced. */
  async push(block: Int16Array, signal?: AbortSignal): Promise<void> {
    const chunkSamples = this.#options.chunkFrames * CHANNELS;
    let data = this.#pending.length ? concat(this.#pending, block) : block;
    this.#pushedSamples += block.length;
    let offset = 0;
    while (data.length - offset >= chunkSamples) {
      await this.#pace(signal);
      if (signal?.aborted) return;
      const samples = data.slice(offset, offset + chunkSamples);
      offset += chunkSamples;
      this.#emit(samples);
    }
    data = data.subarray(offset);
    this.#pending = data.slice();
  }

  /**
   * `tell` gets the server time at which the next sample pushed is heard, once the chunk
   * holding it is emitted (so a track change is announced for when it is heard).
   */
  onNextSample(tell: (playAtUs: number) => void): void {
    this.#marks.push({ sample: this.#pushedSamples, tell });
  }

  /**
   * Emits what is pending as a last chunk padded with silence (the source ended for good);
   * resolves with the server time at which everything emitted has been heard.
   */
  async flush(signal?: AbortSignal): Promise<number> {
    if (this.#pending.length > 0) {
      await this.#pace(signal);
      if (signal?.aborted) return this.#nextPlayAtUs();
      const samples = new Int16Array(this.#options.chunkFrames * CHANNELS);
      samples.set(this.#pending);
      this.#pending = new Int16Array(0);
      this.#pushedSamples = this.#emittedSamples + samples.length;
      this.#emit(samples);
    }
    return this.#nextPlayAtUs();
  }

  /** Forget everything: the next chunk starts a new segment (after the source stopped). */
  restart(): void {
    this.#started = false;
    this.#pending = new Int16Array(0);
    this.#marks = [];
    this.#emittedSamples = this.#pushedSamples = 0;
  }

  #emit(samples: Int16Array): void {
    const firstUs = this.#nextPlayAtUs();
    this.#options.emit({
      segment: this.segment,
      playAtUs: firstUs,
      pcm: new Uint8Array(samples.buffer),
    });
    const end = this.#emittedSamples + samples.length;
    while (this.#marks.length > 0 && this.#marks[0].sample < end) {
      const { sample, tell } = this.#marks.shift()!;
      const frames = Math.max(0, sample - this.#emittedSamples) / CHANNELS;
      tell(playAtUs(this.#anchorUs, this.#framesInSegment + frames, SAMPLE_RATE));
    }
    this.#emittedSamples = end;
    this.#framesInSegment += this.#options.chunkFrames;
  }

  #nextPlayAtUs(): number {
    return playAtUs(this.#anchorUs, this.#framesInSegment, SAMPLE_RATE);
  }

  async #pace(signal?: AbortSignal): Promise<void> {
    const { clock, maxLeadUs, firstLeadUs } = this.#options;
    if (!this.#started || this.#nextPlayAtUs() < clock.nowUs() + MIN_LEAD_US) {
      this.segment++;
      this.#started = true;
      this.#anchorUs = clock.nowUs() + firstLeadUs;
      this.#framesInSegment = 0;
      return;
    }
    let aheadUs = this.#nextPlayAtUs() - clock.nowUs();
    while (aheadUs > maxLeadUs && !signal?.aborted) {
      await this.#options.sleep(Math.ceil((aheadUs - maxLeadUs) / 1000), signal);
      aheadUs = this.#nextPlayAtUs() - clock.nowUs();
    }
  }
}
