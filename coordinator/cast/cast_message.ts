/**
 * The Cast v2 channel's one message type, `CastMessage` (protobuf, proto2), and its framing
 * (a 4-byte big-endian length before each message). Only the seven fields exist, so they
 * are encoded by hand rather than with a protobuf library. JSON payloads only: Sendspin
 * needs no binary ones.
 */

import { concatBytes } from "../../protocol/concat.ts";

export interface CastMessage {
  sourceId: string;
  destinationId: string;
  namespace: string;
  /** A JSON message. */
  data: string;
}

/** Messages are at most 64 KiB (the Cast SDK's own limit). */
export const MAX_CAST_MESSAGE_BYTES = 64 * 1024;

const PROTOCOL_VERSION = 1; // varint: CASTV2_1_0 = 0
const SOURCE_ID = 2;
const DESTINATION_ID = 3;
const NAMESPACE = 4;
const PAYLOAD_TYPE = 5; // varint: STRING = 0, BINARY = 1
const PAYLOAD_UTF8 = 6;
const PAYLOAD_BINARY = 7;

const VARINT = 0;
const LENGTH_DELIMITED = 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class CastFormatError extends Error {}

/** One framed message: length prefix and protobuf body. */
export function encodeCastMessage(message: CastMessage): Uint8Array {
  const bytes: number[] = [];
  const varint = (value: number) => {
    while (value > 0x7f) {
      bytes.push((value & 0x7f) | 0x80);
      value >>>= 7;
    }
    bytes.push(value);
  };
  const text = (field: number, value: string) => {
    const encoded = encoder.encode(value);
    varint((field << 3) | LENGTH_DELIMITED);
    varint(encoded.byteLength);
    for (const byte of encoded) bytes.push(byte);
  };
  // proto2 `required` fields are written even when they hold their default, 0.
  varint((PROTOCOL_VERSION << 3) | VARINT);
  varint(0);
  text(SOURCE_ID, message.sourceId);
  text(DESTINATION_ID, message.destinationId);
  text(NAMESPACE, message.namespace);
  varint((PAYLOAD_TYPE << 3) | VARINT);
  varint(0);
  text(PAYLOAD_UTF8, message.data);
  const framed = new Uint8Array(4 + bytes.length);
  new DataView(framed.buffer).setUint32(0, bytes.length);
  framed.set(bytes, 4);
  return framed;
}

/** Decodes one protobuf body (without its length prefix). */
export function decodeCastMessage(body: Uint8Array): CastMessage {
  const message: CastMessage = { sourceId: "", destinationId: "", namespace: "", data: "" };
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= body.byteLength) throw new CastFormatError("truncated varint");
      const byte = body[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return value;
    }
    throw new CastFormatError("varint too long");
  };
  while (at < body.byteLength) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === VARINT) {
      varint();
      continue;
    }
    if (wire !== LENGTH_DELIMITED) throw new CastFormatError(`unexpected wire type ${wire}`);
    const length = varint();
    if (at + length > body.byteLength) throw new CastFormatError("truncated field");
    const value = body.subarray(at, at + length);
    at += length;
    if (field === SOURCE_ID) message.sourceId = decoder.decode(value);
    else if (field === DESTINATION_ID) message.destinationId = decoder.decode(value);
    else if (field === NAMESPACE) message.namespace = decoder.decode(value);
    else if (field === PAYLOAD_UTF8) message.data = decoder.decode(value);
    else if (field === PAYLOAD_BINARY) continue; // Sendspin never needs binary payloads
  }
  return message;
}

/** Splits a byte stream into messages: feed it what arrives, it calls back per message. */
export class CastMessageReader {
  #pending = new Uint8Array(0);

  constructor(readonly onMessage: (message: CastMessage) => void) {}

  push(bytes: Uint8Array): void {
    const joined = concatBytes(this.#pending, bytes);
    let at = 0;
    while (joined.byteLength - at >= 4) {
      const length = new DataView(joined.buffer, at, 4).getUint32(0);
      if (length > MAX_CAST_MESSAGE_BYTES) throw new CastFormatError(`message of ${length} bytes`);
      if (joined.byteLength - at - 4 < length) break;
      this.onMessage(decodeCastMessage(joined.subarray(at + 4, at + 4 + length)));
      at += 4 + length;
    }
    this.#pending = joined.slice(at);
  }
}
