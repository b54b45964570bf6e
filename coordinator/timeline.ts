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
    let offset = 0;
    while (data.length - offset >= chunkSamples) {
      await this.#pace(signal);
      if (signal?.aborted) return;
      const samples = data.slice(offset, offset + chunkSamples);
      offset += chunkSamples;
      this.#options.emit({
        segment: this.segment,
        playAtUs: this.#nextPlayAtUs(),
        pcm: new Uint8Array(samples.buffer),
      });
      this.#framesInSegment += this.#options.chunkFrames;
    }
    data = data.subarray(offset);
    this.#pending = data.slice();
  }

  /** Forget everything: the next chunk starts a new segment (after the source stopped). */
  restart(): void {
    this.#started = false;
    this.#pending = new Int16Array(0);
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
