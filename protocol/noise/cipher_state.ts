import { Buffer } from "node:buffer";
import { AEAD_KEY_BYTES, plain, type Plaintext, type Suite } from "./suites.ts";

/** Noise rev 34 §5.1: nonce 2^64-1 is reserved, so a CipherState refuses to use it. */
export const RESERVED_NONCE = 2n ** 64n - 1n;

const EMPTY = new Uint8Array(0);

/**
 * Noise CipherState (k, n): one direction's key and message counter. Without a key it passes
 * plaintext through, as Noise specifies for the start of a handshake. Sendspin never calls
 * Rekey(): keys change only by re-handshake.
 */
export class CipherState {
  readonly suite: Suite;
  #key: Uint8Array | undefined;
  #nonce = 0n;

  /** InitializeKey(key); no key = empty k. */
  constructor(suite: Suite, key?: Uint8Array) {
    if (key !== undefined && key.byteLength !== AEAD_KEY_BYTES) {
      throw new RangeError(`Cannot use a cipher key of ${key.byteLength} bytes: expected 32`);
    }
    this.suite = suite;
    this.#key = key?.slice();
  }

  hasKey(): boolean {
    return this.#key !== undefined;
  }

  /** The counter the next message uses. */
  get nonce(): bigint {
    return this.#nonce;
  }

  /** SetNonce(n), for tests of the counter's end; a session never needs it. */
  setNonce(nonce: bigint): void {
    if (nonce < 0n || nonce > RESERVED_NONCE) {
      throw new RangeError(`Cannot set nonce: ${nonce} is outside 0..2^64-1`);
    }
    this.#nonce = nonce;
  }

  /** EncryptWithAd(ad, plaintext); `plaintext` may be parts, encrypted as their concatenation. */
  encryptWithAd(ad: Uint8Array, plaintext: Plaintext): Uint8Array {
    if (this.#key === undefined) {
      return plaintext instanceof Uint8Array ? plaintext : plain(Buffer.concat(plaintext));
    }
    const ciphertext = this.suite.seal(this.#key, this.#useNonce(), ad, plaintext);
    this.#nonce++;
    return ciphertext;
  }

  /** DecryptWithAd(ad, ciphertext); on an AeadOpenError the counter stays where it was. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.#key === undefined) return ciphertext;
    const plaintext = this.suite.open(this.#key, this.#useNonce(), ad, ciphertext);
    this.#nonce++;
    return plaintext;
  }

  /** Transport messages have empty associated data (Sendspin connection.md). */
  encrypt(plaintext: Plaintext): Uint8Array {
    return this.encryptWithAd(EMPTY, plaintext);
  }

  decrypt(ciphertext: Uint8Array): Uint8Array {
    return this.decryptWithAd(EMPTY, ciphertext);
  }

  /** An independent copy (k, n), for the handshake snapshot after message 1. */
  clone(): CipherState {
    const copy = new CipherState(this.suite, this.#key);
    copy.#nonce = this.#nonce;
    return copy;
  }

  #useNonce(): bigint {
    if (this.#nonce === RESERVED_NONCE) {
      throw new RangeError("Cannot use this cipher any more: its nonce reached 2^64-1");
    }
    return this.#nonce;
  }
}
