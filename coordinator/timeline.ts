/**
 * The one timeline: cuts decoded PCM into chunks of about 60 ms and stamps each with the
 * server time of its first sample, from a running frame count at the source's own rate. It
 * paces the source so the newest chunk is never more than about 5 s ahead of real time, and
 * starts a new segment (anchored 250 ms ahead) whenever the source fell so far behind that
 * the next chunk would arrive late.
 *
 * A block of another format (a playlist's next track at 44.1 kHz after one at 48 kHz) ends
 * the current format's run with a shorter last chunk holding what was pending, and the new
 * format's first chunk is stamped exactly where that run's samples end: the same segment, a
 * new run counted from there. Workers see the format change on the chunk itself.
 */
import type { Clock } from "../protocol/clock.ts";
import {
  type AudioBlock,
  bytesPerFrame,
  CHUNK_FRAMES,
  type PcmFormat,
  samePcmFormat,
  SAMPLE_RATE,
} from "../protocol/pcm.ts";
import { sleepMs } from "../protocol/sleep.ts";
import { playAtUs } from "../protocol/timestamps.ts";
import { concat } from "../protocol/concat.ts";

export interface StampedChunk {
  segment: number;
  playAtUs: number;
  /** The format of `pcm`: the source's own (see protocol/pcm.ts). */
  format: PcmFormat;
  /** Interleaved little-endian samples (the platforms we run on are little-endian). */
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
  /** Frames per chunk at 48 kHz, scaled to the source's rate; default CHUNK_FRAMES (60 ms). */
  chunkFrames?: number;
}

/** A next chunk due sooner than this would reach clients too late: start a new segment. */
const MIN_LEAD_US = 50_000;

export class Timeline {
  segment = 0;
  /** Server time of the first frame of the current run (one format, one segment). */
  #anchorUs = 0;
  #framesInRun = 0;
  #started = false;
  #format?: PcmFormat;
  #pending: Uint8Array = new Uint8Array(0);
  /** Who wants the play time of a frame not emitted yet (counted in frames pushed). */
  #marks: { frame: number; tell: (playAtUs: number) => void }[] = [];
  /** Frames emitted and pushed since the last restart, over every format. */
  #emittedFrames = 0;
  #pushedFrames = 0;
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

  /** The format of the audio pushed last (undefined before any). */
  get format(): PcmFormat | undefined {
    return this.#format;
  }

  /** Adds decoded PCM (any whole number of frames); emits every whole chunk, paced. */
  async push(block: AudioBlock, signal?: AbortSignal): Promise<void> {
    if (this.#format && !samePcmFormat(this.#format, block.format)) {
      await this.#endRun(signal);
      if (signal?.aborted) return;
    }
    this.#format = block.format;
    const { sampleRate } = block.format;
    const frames = this.#chunkFramesAt(sampleRate);
    const chunkBytes = frames * bytesPerFrame(block.format);
    const data = this.#pending.length ? concat(this.#pending, block.pcm) : block.pcm;
    this.#pushedFrames += block.pcm.length / bytesPerFrame(block.format);
    let offset = 0;
    while (data.length - offset >= chunkBytes) {
      await this.#emit(data.slice(offset, offset + chunkBytes), signal);
      if (signal?.aborted) return;
      offset += chunkBytes;
    }
    this.#pending = data.slice(offset);
  }

  /**
   * `tell` gets the server time at which the next frame pushed is heard, once the chunk
   * holding it is emitted (so a track change is announced for when it is heard).
   */
  onNextSample(tell: (playAtUs: number) => void): void {
    this.#marks.push({ frame: this.#pushedFrames, tell });
  }

  /**
   * Emits what is pending as a last chunk padded with silence (the source ended for good);
   * resolves with the server time at which everything emitted has been heard.
   */
  async flush(signal?: AbortSignal): Promise<number> {
    const format = this.#format;
    if (format && this.#pending.length > 0) {
      const frames = this.#chunkFramesAt(format.sampleRate);
      const padded = new Uint8Array(frames * bytesPerFrame(format));
      padded.set(this.#pending);
      this.#pending = new Uint8Array(0);
      this.#pushedFrames = this.#emittedFrames + frames;
      await this.#emit(padded, signal);
    }
    return this.#started ? this.#nextPlayAtUs() : this.#options.clock.nowUs();
  }

  /** Forget everything: the next chunk starts a new segment (after the source stopped). */
  restart(): void {
    this.#started = false;
    this.#format = undefined;
    this.#pending = new Uint8Array(0);
    this.#marks = [];
    this.#emittedFrames = this.#pushedFrames = 0;
  }

  #chunkFramesAt(sampleRate: number): number {
    return Math.max(1, Math.floor((this.#options.chunkFrames * sampleRate) / SAMPLE_RATE));
  }

  /** The format changes: what is pending goes out as a short chunk, the next run starts at its end. */
  async #endRun(signal?: AbortSignal): Promise<void> {
    const format = this.#format!;
    const frameBytes = bytesPerFrame(format);
    const whole = this.#pending.length - (this.#pending.length % frameBytes);
    if (whole > 0) await this.#emit(this.#pending.slice(0, whole), signal);
    this.#pending = new Uint8Array(0);
    if (!this.#started) return;
    this.#anchorUs = this.#nextPlayAtUs();
    this.#framesInRun = 0;
  }

  async #emit(pcm: Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.#pace(signal);
    if (signal?.aborted) return;
    const format = this.#format!;
    this.#options.emit({ segment: this.segment, playAtUs: this.#nextPlayAtUs(), format, pcm });
    const frames = pcm.length / bytesPerFrame(format);
    const end = this.#emittedFrames + frames;
    while (this.#marks.length > 0 && this.#marks[0].frame < end) {
      const { frame, tell } = this.#marks.shift()!;
      const into = Math.max(0, frame - this.#emittedFrames);
      tell(playAtUs(this.#anchorUs, this.#framesInRun + into, format.sampleRate));
    }
    this.#emittedFrames = end;
    this.#framesInRun += frames;
  }

  #nextPlayAtUs(): number {
    return playAtUs(this.#anchorUs, this.#framesInRun, this.#format!.sampleRate);
  }

  async #pace(signal?: AbortSignal): Promise<void> {
    const { clock, maxLeadUs, firstLeadUs } = this.#options;
    if (!this.#started || this.#nextPlayAtUs() < clock.nowUs() + MIN_LEAD_US) {
      this.segment++;
      this.#started = true;
      this.#anchorUs = clock.nowUs() + firstLeadUs;
      this.#framesInRun = 0;
      return;
    }
    let aheadUs = this.#nextPlayAtUs() - clock.nowUs();
    while (aheadUs > maxLeadUs && !signal?.aborted) {
      await this.#options.sleep(Math.ceil((aheadUs - maxLeadUs) / 1000), signal);
      aheadUs = this.#nextPlayAtUs() - clock.nowUs();
    }
  }
}
