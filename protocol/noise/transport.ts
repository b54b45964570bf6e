import { Buffer } from "node:buffer";
import type { CipherState } from "./cipher_state.ts";
import { AEAD_TAG_BYTES, plain } from "./suites.ts";

// Sendspin connection.md, transport framing after the handshake. Every WebSocket binary
// message is one Noise transport message whose plaintext is [type][body].
export const MAX_TRANSPORT_MESSAGE_BYTES = 65535; // Noise's limit, tag included
export const MAX_PLAINTEXT_BYTES = MAX_TRANSPORT_MESSAGE_BYTES - AEAD_TAG_BYTES; // 65519
export const MAX_UNFRAGMENTED_BODY_BYTES = MAX_PLAINTEXT_BYTES - 1; // 65518, after the type byte
export const FIRST_FRAGMENT_DATA_BYTES = MAX_PLAINTEXT_BYTES - 3; // [1][flags][orig_type][data]
export const NEXT_FRAGMENT_DATA_BYTES = MAX_PLAINTEXT_BYTES - 2; // [1][flags][data]

export const TYPE_JSON = 0;
export const TYPE_FRAGMENT = 1;
const FLAG_LAST = 0x01;
const FLAG_FIRST = 0x02;
const FLAGS_RESERVED = 0xfc;

/** sendspin-js's reassembly cap; the spec sets none, so a peer could otherwise grow us forever. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** One logical message: its type byte and the bytes after it. */
export interface TransportMessage {
  type: number;
  body: Uint8Array;
}

/** The peer broke the transport (AEAD failure, replay, framing): close without a message. */
export class TransportCloseError extends Error {
  override name = "TransportCloseError";
}

/** Seals logical messages into WebSocket binary messages with the send CipherState (c1). */
export class TransportSender {
  readonly #cipher: CipherState;

  constructor(cipher: CipherState) {
    this.#cipher = cipher;
  }

  /**
   * The WebSocket binary message(s) for one logical message, to be sent in order and before
   * anything else sealed later. `body` may be parts (a per-listener header in front of a
   * shared audio frame, without copying the frame). A body over 65518 bytes is fragmented.
   */
  seal(type: number, body: Uint8Array | readonly Uint8Array[]): Uint8Array[] {
    if (!Number.isInteger(type) || type < 0 || type > 255 || type === TYPE_FRAGMENT) {
      throw new RangeError(`Cannot seal a message of type ${type}: expected 0 or 2..255`);
    }
    const parts = body instanceof Uint8Array ? [body] : body;
    let bodyBytes = 0;
    for (const part of parts) bodyBytes += part.byteLength;
    if (bodyBytes <= MAX_UNFRAGMENTED_BODY_BYTES) {
      return [this.#cipher.encrypt([Uint8Array.of(type), ...parts])];
    }
    return this.#fragments(
      type,
      parts.length === 1 ? parts[0] : plain(Buffer.concat(parts, bodyBytes)),
    );
  }

  /** A JSON message (type 0): the UTF-8 of `text`. */
  sealJson(text: string): Uint8Array[] {
    return this.seal(TYPE_JSON, new TextEncoder().encode(text));
  }

  #fragments(type: number, body: Uint8Array): Uint8Array[] {
    const out = [
      this.#cipher.encrypt([
        Uint8Array.of(TYPE_FRAGMENT, FLAG_FIRST, type),
        body.subarray(0, FIRST_FRAGMENT_DATA_BYTES),
      ]),
    ];
    for (let at = FIRST_FRAGMENT_DATA_BYTES; at < body.byteLength; at += NEXT_FRAGMENT_DATA_BYTES) {
      const end = at + NEXT_FRAGMENT_DATA_BYTES;
      const flags = end >= body.byteLength ? FLAG_LAST : 0;
      out.push(this.#cipher.encrypt([Uint8Array.of(TYPE_FRAGMENT, flags), body.subarray(at, end)]));
    }
    return out;
  }
}

/** Options of {@linkcode TransportReceiver}. */
export interface TransportReceiverOptions {
  /** Largest reassembled body accepted; beyond it the receiver closes. Default 4 MiB. */
  maxMessageBytes?: number;
}

/**
 * Opens every received WebSocket binary message, in order (each one advances the counter, so
 * none may be skipped), and reassembles fragments. After it throws once it is dead: every
 * later call throws too, so a caller that forgets to close cannot resynchronise by accident.
 */
export class TransportReceiver {
  readonly #cipher: CipherState;
  readonly #maxMessageBytes: number;
  #pending: Uint8Array[] | undefined; // data of the fragmented message in flight
  #pendingType = 0;
  #pendingBytes = 0;
  #failed = false;

  constructor(cipher: CipherState, options: TransportReceiverOptions = {}) {
    this.#cipher = cipher;
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** The logical message this binary message completes, or undefined (a fragment so far). */
  open(message: Uint8Array): TransportMessage | undefined {
    if (this.#failed) throw new TransportCloseError("Cannot open: this transport already failed");
    try {
      return this.#open(message);
    } catch (error) {
      this.#failed = true;
      this.#pending = undefined;
      if (error instanceof TransportCloseError) throw error;
      throw new TransportCloseError("Cannot open transport message: authentication failed", {
        cause: error,
      });
    }
  }

  #open(message: Uint8Array): TransportMessage | undefined {
    if (message.byteLength > MAX_TRANSPORT_MESSAGE_BYTES) {
      throw new TransportCloseError(
        `Cannot open transport message: ${message.byteLength} bytes is over 65535`,
      );
    }
    const plaintext = this.#cipher.decrypt(message);
    if (plaintext.byteLength === 0) {
      throw new TransportCloseError("Cannot open transport message: no type byte");
    }
    const type = plaintext[0];
    if (type !== TYPE_FRAGMENT) {
      if (this.#pending !== undefined) {
        throw violation(`a message of type ${type} while a fragmented message is in flight`);
      }
      return { type, body: plaintext.subarray(1) };
    }
    if (plaintext.byteLength < 2) throw violation("a fragment without flags");
    const flags = plaintext[1];
    if ((flags & FLAGS_RESERVED) !== 0) {
      throw violation(`reserved fragment flag bits in 0x${hex(flags)}`);
    }
    let data: Uint8Array;
    if ((flags & FLAG_FIRST) !== 0) {
      if (this.#pending !== undefined) throw violation("a first fragment while one is in flight");
      if (plaintext.byteLength < 3) throw violation("a first fragment without orig_type");
      const origType = plaintext[2];
      if (origType === TYPE_FRAGMENT) throw violation("a fragment with orig_type 1");
      data = plaintext.subarray(3);
      this.#pending = [];
      this.#pendingType = origType;
      this.#pendingBytes = 0;
    } else {
      if (this.#pending === undefined) throw violation("a non-first fragment with none in flight");
      data = plaintext.subarray(2);
    }
    this.#pendingBytes += data.byteLength;
    if (this.#pendingBytes > this.#maxMessageBytes) {
      throw violation(`a fragmented message over ${this.#maxMessageBytes} bytes`);
    }
    this.#pending.push(data);
    if ((flags & FLAG_LAST) === 0) return undefined;
    const pieces = this.#pending;
    this.#pending = undefined;
    const body = pieces.length === 1 ? pieces[0] : plain(Buffer.concat(pieces, this.#pendingBytes));
    return { type: this.#pendingType, body };
  }
}

function violation(what: string): TransportCloseError {
  return new TransportCloseError(`Cannot reassemble: ${what}`);
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
