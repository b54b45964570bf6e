import { CipherState } from "./cipher_state.ts";
import { HASH_BYTES, hkdf2, hkdf3, sha256, type Suite } from "./suites.ts";

const EMPTY = new Uint8Array(0);

/** Noise rev 34 §5.2 SymmetricState: chaining key ck, handshake hash h, and a CipherState. */
export class SymmetricState {
  #cipher: CipherState;
  #chainingKey: Uint8Array;
  #hash: Uint8Array;

  /** InitializeSymmetric(protocol_name), e.g. "Noise_KKpsk2_25519_AESGCM_SHA256". */
  constructor(suite: Suite, protocolName: string) {
    const name = new TextEncoder().encode(protocolName);
    // A name of at most HASHLEN bytes is zero-padded, a longer one hashed. The AESGCM name is
    // exactly 32 bytes, so it is taken as it is; the ChaChaPoly name (36) is hashed.
    this.#hash = name.byteLength <= HASH_BYTES ? padded(name) : sha256(name);
    this.#chainingKey = this.#hash;
    this.#cipher = new CipherState(suite);
  }

  /** h, a copy: the Sendspin handshake hash and the next re-handshake's prologue. */
  get handshakeHash(): Uint8Array {
    return this.#hash.slice();
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [chainingKey, tempKey] = hkdf2(this.#chainingKey, inputKeyMaterial);
    this.#chainingKey = chainingKey;
    this.#cipher = new CipherState(this.#cipher.suite, tempKey);
  }

  mixHash(data: Uint8Array): void {
    this.#hash = sha256(this.#hash, data);
  }

  /** For the psk token. */
  mixKeyAndHash(inputKeyMaterial: Uint8Array): void {
    const [chainingKey, tempHash, tempKey] = hkdf3(this.#chainingKey, inputKeyMaterial);
    this.#chainingKey = chainingKey;
    this.mixHash(tempHash);
    this.#cipher = new CipherState(this.#cipher.suite, tempKey);
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.#cipher.encryptWithAd(this.#hash, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** Throws AeadOpenError on a bad tag; the state is then unusable and should be dropped. */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.#cipher.decryptWithAd(this.#hash, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Split(): [c1 initiator→responder, c2 responder→initiator]. */
  split(): [CipherState, CipherState] {
    const [key1, key2] = hkdf2(this.#chainingKey, EMPTY);
    return [new CipherState(this.#cipher.suite, key1), new CipherState(this.#cipher.suite, key2)];
  }

  /** An independent copy (ck, h, k, n). */
  clone(): SymmetricState {
    // ck and h are replaced, never written in place, so sharing the arrays is safe.
    const copy = new SymmetricState(this.#cipher.suite, "");
    copy.#cipher = this.#cipher.clone();
    copy.#chainingKey = this.#chainingKey;
    copy.#hash = this.#hash;
    return copy;
  }
}

function padded(name: Uint8Array): Uint8Array {
  const out = new Uint8Array(HASH_BYTES);
  out.set(name);
  return out;
}
