/**
 * The audio a worker holds that has not played yet, in one place with one rule (an item
 * goes once its end has passed, protocol/future_window.ts):
 * - the PCM of every timeline chunk, kept even with nobody listening, so the first listener
 *   of any format hears audio at once (a new encoder starts from it);
 * - per output format, the chunks already encoded and framed, so a listener joining a
 *   running stream gets them without a second encode.
 * A new timeline segment makes everything before it useless.
 */
import { FutureWindow } from "../protocol/future_window.ts";
import type { PcmFormat } from "../protocol/pcm.ts";

export interface PcmChunk {
  segment: number;
  playAtUs: number;
  endUs: number;
  /** The source's format, as the timeline says (protocol/pcm.ts). */
  format: PcmFormat;
  /** Interleaved little-endian samples in `format`, as they came down the pipe. */
  pcm: Uint8Array;
}

/** One encoded unit, framed once; the same object goes to every listener of its format. */
export interface FramedChunk {
  segment: number;
  playAtUs: number;
  endUs: number;
  /** The encoded audio alone. */
  payload: Uint8Array;
  /** The legacy dialect's binary message (type byte, timestamp, payload). */
  bytes: Uint8Array;
}

export class FutureAudio {
  #segment = -1;
  #pcm = new FutureWindow<PcmChunk>();
  #framed = new Map<string, FutureWindow<FramedChunk>>();

  get segment(): number {
    return this.#segment;
  }

  addPcm(chunk: PcmChunk): void {
    if (chunk.segment !== this.#segment) {
      this.clear();
      this.#segment = chunk.segment;
    }
    this.#pcm.push(chunk);
  }

  pcm(nowUs: number): readonly PcmChunk[] {
    return this.#pcm.at(nowUs);
  }

  /** Keeps an encoded chunk of format `key`; one of an older segment is of no use. */
  addFramed(key: string, chunk: FramedChunk): void {
    if (chunk.segment !== this.#segment) return;
    let window = this.#framed.get(key);
    if (!window) this.#framed.set(key, window = new FutureWindow());
    window.push(chunk);
  }

  framed(key: string, nowUs: number): readonly FramedChunk[] {
    return this.#framed.get(key)?.at(nowUs) ?? [];
  }

  /** Nobody listens to `key` any more. */
  dropFormat(key: string): void {
    this.#framed.delete(key);
  }

  /** The timeline stopped, or a new segment began. */
  clear(): void {
    this.#segment = -1;
    this.#pcm.clear();
    this.#framed.clear();
  }
}
