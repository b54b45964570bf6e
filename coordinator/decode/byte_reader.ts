/**
 * Pull-based reader over an async byte stream: exact reads for container headers, pass-through
 * pieces for bulk data. Buffers only what a caller asked to peek at, so endless streams work.
 */

const ABORTED = Symbol("aborted");

export class ByteReader implements AsyncIterable<Uint8Array> {
  #source: AsyncIterator<Uint8Array>;
  #signal?: AbortSignal;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #ended = false;
  #pulling = false;
  #position = 0;

  constructor(bytes: AsyncIterable<Uint8Array>, signal?: AbortSignal) {
    this.#source = bytes[Symbol.asyncIterator]();
    this.#signal = signal;
  }

  /** Reuses `bytes` when it already is a reader, so its buffered bytes are not lost. */
  static from(bytes: AsyncIterable<Uint8Array>, signal?: AbortSignal): ByteReader {
    return bytes instanceof ByteReader ? bytes : new ByteReader(bytes, signal);
  }

  /** Bytes consumed so far (for error messages). */
  get position(): number {
    return this.#position;
  }

  /** Up to `count` bytes without consuming them; fewer only at the end of the stream. */
  async peek(count: number): Promise<Uint8Array> {
    while (this.#pendingBytes < count && await this.#pull());
    if (this.#pending.length === 0) return new Uint8Array(0);
    const first = this.#pending[0];
    if (first.length >= count) return first.subarray(0, count);
    // Coalesce so that the next peek of the same size is free.
    const merged = concatBytes(this.#pending);
    this.#pending = [merged];
    return merged.subarray(0, count);
  }

  /** Consumes up to `count` bytes; fewer only at the end of the stream. */
  async read(count: number): Promise<Uint8Array> {
    const bytes = (await this.peek(count)).slice();
    this.#consume(bytes.length);
    return bytes;
  }

  /** Consumes up to `count` bytes without keeping them; returns how many were skipped. */
  async skip(count: number): Promise<number> {
    let skipped = 0;
    while (skipped < count) {
      const piece = await this.readChunk(count - skipped);
      if (piece === undefined) break;
      skipped += piece.length;
    }
    return skipped;
  }

  /** The next available bytes (at most `maxBytes`), or undefined at the end of the stream. */
  async readChunk(maxBytes = Infinity): Promise<Uint8Array | undefined> {
    while (this.#pendingBytes === 0) {
      if (!await this.#pull()) return undefined;
    }
    const first = this.#pending[0];
    const piece = first.length <= maxBytes ? first : first.subarray(0, maxBytes);
    this.#consume(piece.length);
    return piece;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (let piece = await this.readChunk(); piece; piece = await this.readChunk()) yield piece;
  }

  /** Stops reading and lets the source release what it holds (e.g. an HTTP body). */
  async close(): Promise<void> {
    this.#ended = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    const closing = this.#source.return?.();
    if (!closing) return;
    // A generator source queues return() behind a pending next(), which may never settle.
    if (this.#pulling) {
      closing.catch((error: unknown) => console.debug("Closing the byte source failed:", error));
    } else {
      await closing;
    }
  }

  #consume(count: number): void {
    this.#position += count;
    this.#pendingBytes -= count;
    while (count > 0) {
      const first = this.#pending[0];
      if (first.length <= count) {
        this.#pending.shift();
        count -= first.length;
      } else {
        this.#pending[0] = first.subarray(count);
        count = 0;
      }
    }
  }

  async #pull(): Promise<boolean> {
    if (this.#ended || this.#signal?.aborted) return false;
    this.#pulling = true;
    let result: IteratorResult<Uint8Array> | typeof ABORTED;
    try {
      result = await abortable(this.#source.next(), this.#signal);
    } catch (error) {
      this.#pulling = false;
      throw error;
    }
    // After an abort the source's next() is still pending.
    this.#pulling = result === ABORTED;
    if (result === ABORTED || result.done) {
      this.#ended = true;
      return false;
    }
    if (result.value.length > 0) {
      this.#pending.push(result.value);
      this.#pendingBytes += result.value.length;
    }
    return true;
  }
}

/** Resolves like `promise`, or with ABORTED as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T | typeof ABORTED> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

export function concatBytes(pieces: readonly Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  let length = 0;
  for (const piece of pieces) length += piece.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}
