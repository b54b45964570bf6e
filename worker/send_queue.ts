/**
 * One listener's outgoing audio. The shared path only appends here and never waits for a
 * socket. A listener is topped up in batches: each `flush` (its pace slot, once per
 * `BATCH_PERIOD_US`) sends every queued chunk that lies within the lead the client can hold in
 * one socket write, so a listener holding 5 s gets a write about once a second, not every 60
 * ms: nearly all of a send's cost is per write, not per byte. A hungry listener (its lead
 * under `HUNGRY_LEAD_US`: it just joined, or the timeline just started) is topped up every
 * chunk period with what came meanwhile (group.ts). Chunks that would arrive late are dropped for this listener only; a socket that
 * stays stuck is reported so the session can close it.
 */
import type { Clock } from "../protocol/clock.ts";
import type { FramedChunk } from "./future_audio.ts";

/** Where the queue sends: the listener's connection, which frames audio its own way. */
export interface AudioSink {
  /** Chunks in order, each its own message, all in one socket write. */
  sendAudio(chunks: readonly FramedChunk[]): void;
  bufferedAmount(): number;
}

/** Above this many unsent socket bytes we hold chunks back, so time answers stay quick. */
export const SOCKET_HIGH_WATER_BYTES = 256 * 1024;
/** A socket that drains nothing for this long is closed. */
export const STALL_TIMEOUT_US = 5_000_000;
/** How often a listener is topped up: 16 chunks of 60 ms, so its lead stays within 4-5 s. */
export const BATCH_PERIOD_US = 960_000;
/** A listener with less audio ahead than this gets each chunk as it comes. */
export const HUNGRY_LEAD_US = 1_000_000;

export class SendQueue {
  #queue: FramedChunk[] = [];
  #stuckSinceUs: number | undefined;
  #lastBuffered = 0;
  dropped = 0;
  /** End of the last chunk handed to the socket. */
  lastSentEndUs = 0;

  constructor(
    readonly socket: AudioSink,
    readonly clock: Clock,
    /** How far ahead of real time this client can hold audio. */
    public maxLeadUs: number,
  ) {}

  get pending(): number {
    return this.#queue.length;
  }

  /** Queues a chunk; it goes out on the next `flush`. */
  push(chunk: FramedChunk): void {
    this.#queue.push(chunk);
  }

  /**
   * Drops what is queued. `clientCleared`: the client dropped what it held too (`stream/clear`
   * or `stream/end`), so nothing is ahead of it and the next chunk must not wait for a slot.
   */
  clear(clientCleared = false): void {
    this.#queue = [];
    if (clientCleared) this.lastSentEndUs = 0;
  }

  /** Less audio ahead than HUNGRY_LEAD_US: it should not wait for its pace slot. */
  hungry(nowUs = this.clock.nowUs()): boolean {
    return this.lastSentEndUs - nowUs < Math.min(HUNGRY_LEAD_US, this.maxLeadUs / 2);
  }

  /**
   * Sends what may go now, in one write (`nowUs` lets a caller flushing many queues read the
   * clock once). Returns false if the socket is stuck past the stall timeout.
   */
  flush(nowUs = this.clock.nowUs()): boolean {
    let buffered = this.socket.bufferedAmount();
    const draining = buffered < this.#lastBuffered || buffered <= SOCKET_HIGH_WATER_BYTES;
    let late = 0;
    while (late < this.#queue.length && this.#queue[late].endUs <= nowUs) late++;
    if (late) {
      this.#queue.splice(0, late);
      this.dropped += late;
    }
    // Within the client's lead, and no more bytes than the high water mark in one go (a
    // joiner of PCM is sent its first 256 KiB, the rest at the next flush).
    let count = 0;
    while (count < this.#queue.length && buffered <= SOCKET_HIGH_WATER_BYTES) {
      const chunk = this.#queue[count];
      if (chunk.playAtUs - nowUs > this.maxLeadUs) break;
      buffered += chunk.bytes.byteLength;
      count++;
    }
    if (count) {
      const batch = this.#queue.splice(0, count);
      this.socket.sendAudio(batch);
      this.lastSentEndUs = batch[count - 1].endUs;
    }
    this.#lastBuffered = buffered;
    if (draining) {
      this.#stuckSinceUs = undefined;
      return true;
    }
    this.#stuckSinceUs ??= nowUs;
    return nowUs - this.#stuckSinceUs < STALL_TIMEOUT_US;
  }
}
