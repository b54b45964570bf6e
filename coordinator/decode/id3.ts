/** ID3v2 (v2.2, v2.3, v2.4) tags: title, artist and album text frames only. */
import { addTags } from "./tags.ts";
import type { TrackTags } from "./types.ts";

const TEXT_FRAMES: Record<string, keyof TrackTags> = {
  TIT2: "title",
  TPE1: "artist",
  TALB: "album",
  TT2: "title",
  TP1: "artist",
  TAL: "album",
};

/** Total length of the ID3v2 tag at the start of `head` (needs 10 bytes), or undefined. */
export function id3v2Length(head: Uint8Array): number | undefined {
  if (head.length < 10 || head[0] !== 0x49 || head[1] !== 0x44 || head[2] !== 0x33) {
    return undefined; // not "ID3"
  }
  if (head[3] === 0xff || head[4] === 0xff || (head[6] | head[7] | head[8] | head[9]) & 0x80) {
    return undefined;
  }
  const hasFooter = head[3] === 4 && (head[5] & 0x10) !== 0;
  return 10 + syncsafe(head, 6) + (hasFooter ? 10 : 0);
}

/** Parses a whole ID3v2 tag, header included. Unknown or damaged frames are skipped. */
export function parseId3v2(tag: Uint8Array): TrackTags {
  const tags: TrackTags = {};
  for (const { id, data } of id3Frames(tag, (id) => id in TEXT_FRAMES)) {
    addTags(tags, { [TEXT_FRAMES[id]]: decodeTextFrame(data) });
  }
  return tags;
}

/**
 * The frames of a whole ID3v2 tag (v2.2-v2.4, header included) whose id `wanted` accepts, with
 * their payload undone from unsynchronisation and the like. Compressed, encrypted, damaged or
 * truncated frames are skipped.
 */
export function* id3Frames(
  tag: Uint8Array,
  wanted: (id: string) => boolean,
): Generator<{ id: string; data: Uint8Array }> {
  const version = tag[3];
  const flags = tag[5];
  if (version < 2 || version > 4 || tag.length < 10) return;
  // v2.2 bit 6 means compression, which no tool ever defined: nothing to read.
  if (version === 2 && flags & 0x40) return;
  let body = tag.subarray(10, 10 + syncsafe(tag, 6));
  if (version < 4 && flags & 0x80) body = removeUnsynchronisation(body);
  let offset = 0;
  if (version > 2 && flags & 0x40) {
    offset = version === 3 ? readUint32(body, 0) + 4 : syncsafe(body, 0);
  }
  const headerBytes = version === 2 ? 6 : 10;
  while (offset + headerBytes <= body.length && body[offset] !== 0) {
    const id = String.fromCharCode(...body.subarray(offset, offset + (version === 2 ? 3 : 4)));
    const size = version === 2
      ? (body[offset + 3] << 16) | (body[offset + 4] << 8) | body[offset + 5]
      : version === 3
      ? readUint32(body, offset + 4)
      : syncsafe(body, offset + 4);
    const formatFlags = version === 2 ? 0 : body[offset + 9];
    const start = offset + headerBytes;
    offset = start + size;
    if (!wanted(id) || offset > body.length) continue;
    const data = frameData(body.subarray(start, offset), version, formatFlags);
    if (data) yield { id, data };
  }
}

/** The frame's payload, or undefined when it is compressed or encrypted. */
function frameData(data: Uint8Array, version: number, flags: number): Uint8Array | undefined {
  if (version === 3) {
    if (flags & 0xc0) return undefined;
    return flags & 0x20 ? data.subarray(1) : data; // grouping identity byte
  }
  if (version === 4) {
    if (flags & 0x0c) return undefined;
    let payload = data.subarray((flags & 0x40 ? 1 : 0) + (flags & 0x01 ? 4 : 0));
    if (flags & 0x02) payload = removeUnsynchronisation(payload);
    return payload;
  }
  return data;
}

/** Text frame: an encoding byte, then one or more terminated strings (joined). */
function decodeTextFrame(data: Uint8Array): string {
  const encoding = data[0];
  const text = data.subarray(1);
  const wide = encoding === 1 || encoding === 2;
  const values: string[] = [];
  let start = 0;
  const step = wide ? 2 : 1;
  for (let i = 0; i <= text.length; i += step) {
    const atEnd = i + step > text.length;
    if (!atEnd && (text[i] !== 0 || (wide && text[i + 1] !== 0))) continue;
    const value = decodeString(text.subarray(start, atEnd ? text.length : i), encoding);
    if (value.trim() !== "") values.push(value);
    start = i + step;
    if (atEnd) break;
  }
  return values.join(", ");
}

function decodeString(bytes: Uint8Array, encoding: number): string {
  switch (encoding) {
    case 1: {
      const bigEndian = bytes[0] === 0xfe && bytes[1] === 0xff;
      return new TextDecoder(bigEndian ? "utf-16be" : "utf-16le").decode(bytes);
    }
    case 2:
      return new TextDecoder("utf-16be").decode(bytes);
    case 3:
      return new TextDecoder("utf-8").decode(bytes);
    default:
      return new TextDecoder("latin1").decode(bytes);
  }
}

/** Undoes the "unsynchronisation" scheme: every 0xFF 0x00 pair was written for a lone 0xFF. */
function removeUnsynchronisation(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    out[length++] = bytes[i];
    if (bytes[i] === 0xff && bytes[i + 1] === 0x00) i++;
  }
  return out.subarray(0, length);
}

function syncsafe(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] & 0x7f) << 21) | ((bytes[offset + 1] & 0x7f) << 14) |
    ((bytes[offset + 2] & 0x7f) << 7) | (bytes[offset + 3] & 0x7f);
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) >>> 0) + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) +
    bytes[offset + 3];
}
