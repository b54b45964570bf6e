import type { CipherState } from "./cipher_state.ts";
import { dh, generateKeyPair, X25519_KEY_BYTES, type X25519KeyPair } from "./keys.ts";
import { PSK_BYTES } from "./psk.ts";
import { AEAD_TAG_BYTES, suiteByName, type SuiteName } from "./suites.ts";
import { SymmetricState } from "./symmetric_state.ts";

/** Noise rev 34 §3: no Noise message is longer. */
export const MAX_HANDSHAKE_MESSAGE_BYTES = 65535;

/** The full Noise protocol name of a suite, e.g. `Noise_KKpsk2_25519_ChaChaPoly_SHA256`. */
export function protocolName(suite: SuiteName): string {
  return `Noise_KKpsk2_${suite}`;
}

/** Options of {@linkcode Kkpsk2Initiator}. */
export interface Kkpsk2InitiatorOptions {
  /** From `client/init.suite`. */
  suite: SuiteName;
  /**
   * First handshake: the raw UTF-8 of `client/init` then `server/init` as they crossed the wire.
   * Re-handshake: the previous handshake's `handshakeHash`.
   */
  prologue: Uint8Array;
  /** The server's static keypair (its `server_id`). */
  localStatic: X25519KeyPair;
  /** The client's static public key (its `client_id`). */
  remoteStaticPublicKey: Uint8Array;
  /** Known-answer tests only. Default: a fresh CSPRNG keypair per handshake. */
  ephemeral?: X25519KeyPair;
}

/** A completed handshake: the server sends with `send` (c1) and receives with `receive` (c2). */
export interface HandshakeResult {
  /** Message 2's payload (Sendspin: must be exactly `{}`; the caller checks). */
  payload: Uint8Array;
  send: CipherState;
  receive: CipherState;
  /** h: bound into pairing derivations, and the prologue of the next re-handshake. */
  handshakeHash: Uint8Array;
}

/** A handshake message failed (wrong PSK, tampering, a bad key, a bad length): close silently. */
export class HandshakeError extends Error {
  override name = "HandshakeError";
}

/**
 * Noise_KKpsk2 with the server as initiator (Sendspin's rule, whoever opened the socket):
 *   -> s, <- s (both statics known)   -> e, es, ss   <- e, ee, se, psk
 * Message 1 does not depend on the PSK, so `readMessage2` may be called again with another
 * PSK after a failure (the Sentinel fallback): each attempt starts from a snapshot taken right
 * after message 1, and only a successful one completes the handshake.
 */
export class Kkpsk2Initiator {
  readonly #options: Kkpsk2InitiatorOptions;
  readonly #state: SymmetricState;
  #ephemeral: X25519KeyPair | undefined;
  #afterMessage1: SymmetricState | undefined;
  #done = false;

  constructor(options: Kkpsk2InitiatorOptions) {
    const suite = suiteByName(options.suite);
    if (suite === undefined) {
      throw new TypeError(
        `Cannot start a handshake: unknown suite ${JSON.stringify(options.suite)}`,
      );
    }
    const remoteBytes = options.remoteStaticPublicKey.byteLength;
    if (remoteBytes !== X25519_KEY_BYTES) {
      throw new RangeError(
        `Cannot start a handshake: the remote static key is ${remoteBytes} bytes, expected 32`,
      );
    }
    this.#options = options;
    this.#state = new SymmetricState(suite, protocolName(options.suite));
    this.#state.mixHash(options.prologue);
    // Pre-messages: initiator's static, then responder's.
    this.#state.mixHash(options.localStatic.publicKey);
    this.#state.mixHash(options.remoteStaticPublicKey);
  }

  /** -> e, es, ss, payload (Sendspin: `{"psk_id":…,"psk_category":…}`). */
  writeMessage1(payload: Uint8Array): Uint8Array {
    if (this.#afterMessage1 !== undefined || this.#done) {
      throw new Error("Cannot write message 1: it was already written");
    }
    if (payload.byteLength > MAX_HANDSHAKE_MESSAGE_BYTES - X25519_KEY_BYTES - AEAD_TAG_BYTES) {
      throw new RangeError(
        `Cannot write message 1: a payload of ${payload.byteLength} bytes is too long`,
      );
    }
    const { localStatic, remoteStaticPublicKey } = this.#options;
    const ephemeral = this.#options.ephemeral ?? generateKeyPair();
    const state = this.#state;
    state.mixHash(ephemeral.publicKey);
    state.mixKey(ephemeral.publicKey); // psk patterns also MixKey(e.pub) (Noise §9.2)
    try {
      state.mixKey(dh(ephemeral.privateKey, remoteStaticPublicKey)); // es
      state.mixKey(dh(localStatic.privateKey, remoteStaticPublicKey)); // ss
    } catch (cause) {
      throw new HandshakeError("Cannot write message 1: the client's static key is unusable", {
        cause,
      });
    }
    const ciphertext = state.encryptAndHash(payload);
    this.#ephemeral = ephemeral;
    this.#afterMessage1 = state;
    const message = new Uint8Array(X25519_KEY_BYTES + ciphertext.byteLength);
    message.set(ephemeral.publicKey);
    message.set(ciphertext, X25519_KEY_BYTES);
    return message;
  }

  /**
   * <- e, ee, se, psk, payload under `psk`. Throws HandshakeError and leaves the state after
   * message 1 untouched, so the caller may retry the same message under the Sentinel PSK.
   */
  readMessage2(message: Uint8Array, psk: Uint8Array): HandshakeResult {
    if (this.#done) throw new Error("Cannot read message 2: the handshake is already complete");
    if (this.#afterMessage1 === undefined || this.#ephemeral === undefined) {
      throw new Error("Cannot read message 2: message 1 has not been written");
    }
    if (psk.byteLength !== PSK_BYTES) {
      throw new RangeError(
        `Cannot read message 2: the PSK is ${psk.byteLength} bytes, expected 32`,
      );
    }
    const minBytes = X25519_KEY_BYTES + AEAD_TAG_BYTES;
    if (message.byteLength < minBytes || message.byteLength > MAX_HANDSHAKE_MESSAGE_BYTES) {
      throw new HandshakeError(
        `Cannot read message 2: ${message.byteLength} bytes is outside ${minBytes}..65535`,
      );
    }
    const state = this.#afterMessage1.clone();
    const remoteEphemeral = message.slice(0, X25519_KEY_BYTES);
    state.mixHash(remoteEphemeral);
    state.mixKey(remoteEphemeral);
    let payload: Uint8Array;
    try {
      state.mixKey(dh(this.#ephemeral.privateKey, remoteEphemeral)); // ee
      state.mixKey(dh(this.#options.localStatic.privateKey, remoteEphemeral)); // se
      state.mixKeyAndHash(psk);
      payload = state.decryptAndHash(message.subarray(X25519_KEY_BYTES));
    } catch (cause) {
      throw new HandshakeError("Cannot read message 2: it does not authenticate under this PSK", {
        cause,
      });
    }
    const [send, receive] = state.split();
    this.#done = true;
    this.#afterMessage1 = undefined;
    this.#ephemeral = undefined;
    return { payload, send, receive, handshakeHash: state.handshakeHash };
  }
}
