/**
 * One listener's outgoing audio. The shared path only appends here and never waits for a
 * socket; `flush` (paced by the group) sends chunks while the socket's buffer is small and
 * the chunk lies within the lead the client can hold; chunks that would arrive late are dropped for this listener
 * only; a socket that stays stuck is reported so the session can close it.
 */
import type { Clock } from "../protocol/clock.ts";
import type { FramedChunk } from "./future_audio.ts";

/** Where the queue sends: the listener's connection, which frames audio its own way. */
export interface AudioSink {
  sendAudio(chunk: FramedChunk): void;
  bufferedAmount(): number;
}

/** Above this many unsent socket bytes we hold chunks back, so time answers stay quick. */
export const SOCKET_HIGH_WATER_BYTES = 256 * 1024;
/** A socket that drains nothing for this long is closed. */
export const STALL_TIMEOUT_US = 5_000_000;

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

  clear(): void {
    this.#queue = [];
  }

  /**
   * Sends what may go now (`nowUs` lets a caller flushing many queues read the clock once).
   * Returns false if the socket is stuck past the stall timeout.
   */
  flush(nowUs = this.clock.nowUs()): boolean {
    let buffered = this.socket.bufferedAmount();
    const draining = buffered < this.#lastBuffered || buffered <= SOCKET_HIGH_WATER_BYTES;
    while (this.#queue.length) {
      const next = this.#queue[0];
      if (next.endUs <= nowUs) {
        this.#queue.shift();
        this.dropped++;
        continue;
      }
      if (next.playAtUs - nowUs > this.maxLeadUs) break;
      if (buffered > SOCKET_HIGH_WATER_BYTES) break;
      this.socket.sendAudio(next);
      buffered += next.bytes.byteLength;
      this.lastSentEndUs = next.endUs;
      this.#queue.shift();
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
