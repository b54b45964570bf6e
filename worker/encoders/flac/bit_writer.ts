/**
 * MSB-first bit writer over a growable byte buffer that is reused from frame to frame.
 * Writes do not check the capacity: callers reserve room with `reserve` first (an encoder
 * knows its frame's exact size before writing it) and the frame encoder verifies the total.
 */
export class BitWriter {
  #bytes: Uint8Array;
  #pos = 0;
  /** Pending bits: the low #count bits of #acc (bits above them are stale and never read). */
  #acc = 0;
  #count = 0;

  constructor(initialBytes = 1 << 14) {
    this.#bytes = new Uint8Array(initialBytes);
  }

  /** Starts over at the beginning of the buffer. */
  reset(): void {
    this.#pos = 0;
    this.#acc = 0;
    this.#count = 0;
  }

  /** Makes room for `bytes` more bytes beyond what has been written. */
  reserve(bytes: number): void {
    const needed = this.#pos + bytes + 8;
    if (needed <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(needed, this.#bytes.length * 2));
    grown.set(this.#bytes.subarray(0, this.#pos));
    this.#bytes = grown;
  }

  /** Bits written since `reset`. */
  get bitLength(): number {
    return this.#pos * 8 + this.#count;
  }

  /** Whole bytes written so far (valid until the next write or reset). */
  get bytes(): Uint8Array {
    return this.#bytes.subarray(0, this.#pos);
  }

  /** Writes the low `n` bits of a non-negative `value`, 0 <= n <= 24. */
  writeBits(value: number, n: number): void {
    // #count <= 7 between calls, so #count + n <= 31 bits fit in the accumulator.
    this.#acc = (this.#acc << n) | value;
    let count = this.#count + n;
    while (count >= 8) {
      count -= 8;
      this.#bytes[this.#pos++] = this.#acc >>> count;
    }
    this.#count = count;
  }

  /** Writes the low `n` bits of `value`, 0 <= n <= 32. */
  writeLong(value: number, n: number): void {
    if (n <= 24) {
      this.writeBits(n === 0 ? 0 : value & ((1 << n) - 1) & 0xffffff, n);
      return;
    }
    this.writeBits((value >>> 16) & ((1 << (n - 16)) - 1), n - 16);
    this.writeBits(value & 0xffff, 16);
  }

  /** Writes a two's complement value in `n` bits, 1 <= n <= 32. */
  writeSigned(value: number, n: number): void {
    if (n <= 24) this.writeBits(value & ((1 << n) - 1), n);
    else this.writeLong(value, n);
  }

  writeZeros(n: number): void {
    while (n > 24) {
      this.writeBits(0, 24);
      n -= 24;
    }
    this.writeBits(0, n);
  }

  /** Rice code of the folded residual `u` (u >= 0) with parameter `k` (0..30): unary quotient, then k bits. */
  writeRice(u: number, k: number): void {
    const q = u >>> k;
    const n = q + 1 + k;
    if (n <= 24) {
      this.writeBits((1 << k) | (u & ((1 << k) - 1)), n);
      return;
    }
    this.writeZeros(q);
    this.writeLong(((1 << k) | (u & ((1 << k) - 1))) >>> 0, k + 1);
  }

  /** Pads with zero bits to the next byte boundary. */
  alignToByte(): void {
    if (this.#count > 0) this.writeBits(0, 8 - this.#count);
  }
}
