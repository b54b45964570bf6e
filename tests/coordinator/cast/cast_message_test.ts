/**
 * CastMessage bytes, checked against the protobuf wire format worked out by hand from
 * cast_channel.proto (field n, wire type w: key byte n << 3 | w), not against our own
 * decoder, so a mistake cannot cancel itself out.
 */
import assert from "node:assert/strict";
import {
  CastFormatError,
  CastMessageReader,
  decodeCastMessage,
  encodeCastMessage,
} from "../../../coordinator/cast/cast_message.ts";

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

Deno.test("a CastMessage is framed and encoded as the protobuf wire format says", () => {
  const bytes = encodeCastMessage({
    sourceId: "sender-0",
    destinationId: "receiver-0",
    namespace: "ns",
    data: "{}",
  });
  const body = [
    0x08,
    0x00, // 1 protocol_version: CASTV2_1_0 (required, so written)
    0x12,
    8,
    ...ascii("sender-0"), // 2 source_id
    0x1a,
    10,
    ...ascii("receiver-0"), // 3 destination_id
    0x22,
    2,
    ...ascii("ns"), // 4 namespace
    0x28,
    0x00, // 5 payload_type: STRING
    0x32,
    2,
    ...ascii("{}"), // 6 payload_utf8
  ];
  assert.deepEqual([...bytes], [0, 0, 0, body.length, ...body]);
});

Deno.test("decoding skips fields it does not need, in any order, and long lengths", () => {
  const data = JSON.stringify({ type: "RECEIVER_STATUS", pad: "x".repeat(300) });
  const body = [
    0x3a,
    3,
    1,
    2,
    3, // 7 payload_binary: ignored
    0x22,
    4,
    ...ascii("recv"), // 4 namespace
    0x28,
    0x00,
    0x32,
    (data.length & 0x7f) | 0x80,
    data.length >> 7,
    ...ascii(data), // two-byte length
    0x1a,
    2,
    ...ascii("me"),
    0x12,
    2,
    ...ascii("it"),
    0x08,
    0x00,
  ];
  assert.deepEqual(decodeCastMessage(new Uint8Array(body)), {
    sourceId: "it",
    destinationId: "me",
    namespace: "recv",
    data,
  });
});

Deno.test("the reader splits a stream into messages however it arrives, and refuses junk", () => {
  const one = encodeCastMessage({ sourceId: "a", destinationId: "b", namespace: "c", data: "1" });
  const two = encodeCastMessage({ sourceId: "a", destinationId: "b", namespace: "c", data: "22" });
  const stream = new Uint8Array([...one, ...two]);
  const seen: string[] = [];
  const reader = new CastMessageReader((message) => seen.push(message.data));
  for (const byte of stream) reader.push(new Uint8Array([byte])); // a byte at a time
  assert.deepEqual(seen, ["1", "22"]);
  assert.throws(() => reader.push(new Uint8Array([0x7f, 0, 0, 0])), CastFormatError);
  assert.throws(() => decodeCastMessage(new Uint8Array([0x12, 9, 1])), CastFormatError);
});
