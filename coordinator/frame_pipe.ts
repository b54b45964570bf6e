/**
 * The coordinator's queue towards one worker. The coordinator never waits for a worker and
 * never kills one for reading slowly: frames queue here and go out one write at a time
 * (whatever queued meanwhile is joined into the next write). The queue stays bounded by what
 * the worker can still use: audio that has played is dropped, and a count or tag update not
 * yet written is replaced by the newer one.
 */
import type { Clock } from "../protocol/clock.ts";
import { concatBytes } from "../protocol/concat.ts";
import type { SendOptions } from "./worker_link.ts";

interface Queued extends SendOptions {
  frame: Uint8Array;
}

/** One write joins at most this much, so a backlog goes out in pieces the pipe takes. */
const MAX_WRITE_BYTES = 256 * 1024;

export class FramePipe {
  #queue: Queued[] = [];
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #writing = false;
  #closing = false;
  #broken = false;
  /** Frames dropped because their audio had played before the worker read them. */
  expired = 0;

  constructor(output: WritableStream<Uint8Array>, readonly clock: Clock) {
    this.#writer = output.getWriter();
  }

  /** Frames waiting to be written. */
  get queued(): number {
    return this.#queue.length;
  }

  send(frame: Uint8Array, options: SendOptions = {}): void {
    if (this.#closing || this.#broken) return;
    if (options.key !== undefined) {
      const older = this.#queue.findIndex((q) => q.key === options.key);
      if (older >= 0) this.#queue.splice(older, 1);
    }
    this.#queue.push({ frame, ...options });
    this.#pump();
  }

  /** Writes what is queued, then ends the stream. */
  close(): void {
    this.#closing = true;
    this.#pump();
  }

  /** Drops everything and breaks the stream off. */
  abort(): void {
    this.#broken = true;
    this.#queue = [];
    this.#writer.abort().catch(() => {});
  }

  async #pump(): Promise<void> {
    if (this.#writing || this.#broken) return;
    this.#writing = true;
    try {
      while (this.#queue.length && !this.#broken) {
        const nowUs = this.clock.nowUs();
        const before = this.#queue.length;
        this.#queue = this.#queue.filter((q) => q.expiresUs === undefined || q.expiresUs > nowUs);
        this.expired += before - this.#queue.length;
        let take = 0;
        let bytes = 0;
        while (take < this.#queue.length && (take === 0 || bytes < MAX_WRITE_BYTES)) {
          bytes += this.#queue[take++].frame.byteLength;
        }
        const batch = this.#queue.splice(0, take).map((q) => q.frame);
        if (batch.length) {
          await this.#writer.write(batch.length === 1 ? batch[0] : concatBytes(...batch));
        }
      }
      if (this.#closing && !this.#broken) await this.#writer.close();
    } catch {
      // The worker is gone: its exit is what the pool reports.
      this.#broken = true;
      this.#queue = [];
    } finally {
      this.#writing = false;
    }
  }
}
