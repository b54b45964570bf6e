/**
 * The future PCM a worker holds: every chunk the coordinator sent that has not started
 * playing yet. It is kept even with no listener, so the first listener of any format (on
 * any worker) hears audio at once instead of waiting for the next chunks.
 */
import { CHUNK_FRAMES, SAMPLE_RATE } from "../protocol/pcm.ts";
import { durationUs } from "../protocol/timestamps.ts";

export interface PcmChunk {
  segment: number;
  playAtUs: number;
  /** 48k/16/2 little-endian interleaved, as it came down the pipe. */
  pcm: Uint8Array;
}

/** Bounds memory if the coordinator ever ran far ahead: 8 s, above its 5 s lead. */
const MAX_HELD_US = 8_000_000;
const CHUNK_US = durationUs(CHUNK_FRAMES, SAMPLE_RATE);

export class PcmRing {
  #chunks: PcmChunk[] = [];

  push(chunk: PcmChunk): void {
    const last = this.#chunks.at(-1);
    if (last && last.segment !== chunk.segment) this.#chunks = [];
    this.#chunks.push(chunk);
    while (this.#chunks.length && chunk.playAtUs - this.#chunks[0].playAtUs > MAX_HELD_US) {
      this.#chunks.shift();
    }
  }

  /** Chunks that still end in the future, oldest first; older ones are dropped. */
  future(nowUs: number): PcmChunk[] {
    while (this.#chunks.length && this.#chunks[0].playAtUs + CHUNK_US <= nowUs) {
      this.#chunks.shift();
    }
    return this.#chunks;
  }

  clear(): void {
    this.#chunks = [];
  }
}
