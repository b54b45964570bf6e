// Test-side Noise_KKpsk2 responder (the Sendspin client role), written from the Noise spec
// (rev 34) on @noble primitives so that it shares no code and no crypto library with the
// server's protocol/noise/ (node:crypto). Slow and simple on purpose.
import { gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";

export type TestSuiteName = "25519_ChaChaPoly_SHA256" | "25519_AESGCM_SHA256";

const EMPTY: Uint8Array = new Uint8Array(0);

const join = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};

/** 96-bit AEAD nonce: 4 zero bytes, then n as 8 bytes (ChaChaPoly LE, AESGCM BE). */
function nonceBytes(suite: TestSuiteName, n: bigint): Uint8Array {
  const out = new Uint8Array(12);
  for (let i = 0; i < 8; i++) {
    const byte = Number((n >> BigInt(8 * i)) & 0xffn);
    out[suite === "25519_ChaChaPoly_SHA256" ? 4 + i : 11 - i] = byte;
  }
  return out;
}

/** One direction's key and counter (Noise CipherState), ENCRYPT/DECRYPT via @noble/ciphers. */
export class TestCipher {
  n = 0n;
  constructor(readonly suite: TestSuiteName, readonly key: Uint8Array) {}

  #aead(ad: Uint8Array) {
    const nonce = nonceBytes(this.suite, this.n++);
    return this.suite === "25519_ChaChaPoly_SHA256"
      ? chacha20poly1305(this.key, nonce, ad)
      : gcm(this.key, nonce, ad);
  }
  encrypt(plaintext: Uint8Array, ad: Uint8Array = EMPTY): Uint8Array {
    return this.#aead(ad).encrypt(plaintext);
  }
  /** Throws on a bad tag; the counter is then not advanced (Noise §5.1). */
  decrypt(ciphertext: Uint8Array, ad: Uint8Array = EMPTY): Uint8Array {
    const n = this.n;
    try {
      return this.#aead(ad).decrypt(ciphertext);
    } catch (error) {
      this.n = n;
      throw error;
    }
  }
}

/** Noise HKDF(ck, ikm, k) is RFC 5869 with salt = ck and empty info; noble's hkdf does that. */
const kdf = (ck: Uint8Array, ikm: Uint8Array, outputs: number): Uint8Array[] => {
  const okm = hkdf(sha256, ikm, ck, EMPTY, 32 * outputs);
  return Array.from({ length: outputs }, (_, i) => okm.slice(32 * i, 32 * i + 32));
};

export interface TestResponderOptions {
  suite: TestSuiteName;
  prologue: Uint8Array;
  staticPrivateKey: Uint8Array;
  /** The server's (initiator's) static public key. */
  remoteStaticPublicKey: Uint8Array;
  /** Known-answer tests; default random. */
  ephemeralPrivateKey?: Uint8Array;
}

/** KKpsk2 responder: readMessage1, then writeMessage2 under the PSK the client chose. */
export class TestResponder {
  #ck: Uint8Array;
  #h: Uint8Array;
  #k: TestCipher | undefined;
  #e: Uint8Array;
  #re = EMPTY;
  /** After writeMessage2: receive = c1 (server to client), send = c2 (client to server). */
  receive: TestCipher | undefined;
  send: TestCipher | undefined;

  constructor(readonly options: TestResponderOptions) {
    const name = new TextEncoder().encode(`Noise_KKpsk2_${options.suite}`);
    // Noise §5.2: a name of at most 32 bytes is zero-padded, a longer one hashed. The AESGCM
    // name is exactly 32 bytes, so it is used as it is (padding adds nothing).
    this.#h = name.length <= 32 ? join(name, new Uint8Array(32 - name.length)) : sha256(name);
    this.#ck = this.#h;
    this.#e = options.ephemeralPrivateKey ?? x25519.utils.randomSecretKey();
    this.#mixHash(options.prologue);
    this.#mixHash(options.remoteStaticPublicKey); // <- pre-message: initiator's s first
    this.#mixHash(x25519.getPublicKey(options.staticPrivateKey));
  }

  get handshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  #mixHash(data: Uint8Array) {
    this.#h = sha256(join(this.#h, data));
  }
  #mixKey(ikm: Uint8Array) {
    const [ck, k] = kdf(this.#ck, ikm, 2);
    this.#ck = ck;
    this.#k = new TestCipher(this.options.suite, k);
  }
  #dh(priv: Uint8Array, pub: Uint8Array) {
    this.#mixKey(x25519.getSharedSecret(priv, pub));
  }

  /** -> e, es, ss: returns the payload (Sendspin: the psk_id JSON). */
  readMessage1(message: Uint8Array): Uint8Array {
    this.#re = message.slice(0, 32);
    this.#mixHash(this.#re);
    this.#mixKey(this.#re);
    this.#dh(this.options.staticPrivateKey, this.#re); // es (responder side: s with re)
    this.#dh(this.options.staticPrivateKey, this.options.remoteStaticPublicKey); // ss
    const ciphertext = message.subarray(32);
    const payload = this.#k!.decrypt(ciphertext, this.#h);
    this.#mixHash(ciphertext);
    return payload;
  }

  /** <- e, ee, se, psk: message 2, then the transport ciphers are set. */
  writeMessage2(payload: Uint8Array, psk: Uint8Array): Uint8Array {
    const e = x25519.getPublicKey(this.#e);
    this.#mixHash(e);
    this.#mixKey(e);
    this.#dh(this.#e, this.#re); // ee
    this.#dh(this.#e, this.options.remoteStaticPublicKey); // se (responder side: e with rs)
    const [ck, tempH, k] = kdf(this.#ck, psk, 3);
    this.#ck = ck;
    this.#mixHash(tempH);
    this.#k = new TestCipher(this.options.suite, k);
    const ciphertext = this.#k.encrypt(payload, this.#h);
    this.#mixHash(ciphertext);
    const [k1, k2] = kdf(this.#ck, EMPTY, 2);
    this.receive = new TestCipher(this.options.suite, k1);
    this.send = new TestCipher(this.options.suite, k2);
    return join(e, ciphertext);
  }
}

export { join as joinBytes };
