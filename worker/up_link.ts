/**
 * The worker's messages to the coordinator, a few to a write. A pipe write costs about what a
 * listener's audio write costs, and a join storm says several things per join (who joined,
 * the count): what is said within UP_BATCH_MS goes in one write. A clock probe goes at once,
 * after what is queued before it, since the moment it leaves is what it measures.
 */
import { concatBytes } from "../protocol/concat.ts";
import { encodeUp, type UpMessage } from "../protocol/ipc.ts";

/** How long a status message may wait for others to share its write. */
const UP_BATCH_MS = 5;

export class UpLink {
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending: UpMessage[] = [];
  #timer?: ReturnType<typeof setTimeout>;

  constructor(output: WritableStream<Uint8Array>) {
    this.#writer = output.getWriter();
  }

  /** Queues `message`; `now` writes it (and what waits before it) at once. */
  send(message: UpMessage, { now = false } = {}): void {
    this.#pending.push(message);
    if (now) return this.flush();
    this.#timer ??= setTimeout(() => this.flush(), UP_BATCH_MS);
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#pending.length) return;
    const lines = this.#pending.map(encodeUp);
    this.#pending = [];
    const bytes = lines.length === 1 ? lines[0] : concatBytes(...lines);
    this.#writer.write(bytes).catch(() => {/* coordinator gone: stdin ends too */});
  }

  /** Writes what is queued and ends the stream. */
  async close(): Promise<void> {
    this.flush();
    await this.#writer.close().catch(() => {});
  }
}
