// Test-side Sendspin transport framing (connection.md), independent of protocol/noise/:
// [type][body] in one Noise message when it fits, else type-1 fragments; and a strict
// reassembler that throws on every rule the spec says must close the connection.
import type { TestCipher } from "./responder.ts";
import { joinBytes } from "./responder.ts";

const PLAINTEXT_LIMIT = 65535 - 16; // a Noise message is at most 65535 bytes, tag included

/** The plaintexts, in order, that carry one logical message. */
export function framePlaintexts(type: number, body: Uint8Array): Uint8Array[] {
  if (1 + body.length <= PLAINTEXT_LIMIT) return [joinBytes(Uint8Array.of(type), body)];
  const out = [joinBytes(Uint8Array.of(1, 0x02, type), body.subarray(0, PLAINTEXT_LIMIT - 3))];
  let rest = body.subarray(PLAINTEXT_LIMIT - 3);
  while (rest.length > 0) {
    const data = rest.subarray(0, PLAINTEXT_LIMIT - 2);
    rest = rest.subarray(data.length);
    out.push(joinBytes(Uint8Array.of(1, rest.length === 0 ? 0x01 : 0x00), data));
  }
  return out;
}

/** framePlaintexts, each encrypted in order: the WebSocket binary messages. */
export function sealMessage(cipher: TestCipher, type: number, body: Uint8Array): Uint8Array[] {
  return framePlaintexts(type, body).map((plaintext) => cipher.encrypt(plaintext));
}

/** Decrypts and reassembles; `open` returns a complete message or undefined, or throws. */
export class TestReceiver {
  #parts: Uint8Array[] | null = null;
  #origType = -1;
  constructor(readonly cipher: TestCipher) {}

  open(message: Uint8Array): { type: number; body: Uint8Array } | undefined {
    if (message.length > 65535) throw new Error("transport message over 65535 bytes");
    const plaintext = this.cipher.decrypt(message);
    const [type, flags] = plaintext;
    if (type === undefined) throw new Error("empty plaintext");
    if (type !== 1) {
      if (this.#parts) throw new Error("non-fragment while a fragmented message is in flight");
      return { type, body: plaintext.subarray(1) };
    }
    if (flags === undefined || flags > 3) throw new Error(`bad fragment flags ${flags}`);
    if (flags & 0x02) {
      if (this.#parts) throw new Error("first fragment while one is in flight");
      if (plaintext.length < 3 || plaintext[2] === 1) throw new Error("bad orig_type");
      this.#parts = [plaintext.subarray(3)];
      this.#origType = plaintext[2];
    } else {
      if (!this.#parts) throw new Error("non-first fragment with none in flight");
      this.#parts.push(plaintext.subarray(2));
    }
    if (!(flags & 0x01)) return undefined;
    const body = joinBytes(...this.#parts);
    this.#parts = null;
    return { type: this.#origType, body };
  }
}
