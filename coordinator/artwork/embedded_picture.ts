/**
 * Pictures embedded in audio files, read from the file's head without decoding any audio:
 * ID3v2 APIC (v2.3, v2.4) and PIC (v2.2) frames, FLAC PICTURE blocks, and the Vorbis
 * comment METADATA_BLOCK_PICTURE (a base64 FLAC picture block; Ogg Vorbis, Opus) or the old
 * COVERART (base64 image); MP4's `covr` (mp4_picture.ts). The front cover wins; else the first.
 */
import { Buffer } from "node:buffer";
import { ByteReader } from "../decode/byte_reader.ts";
import { id3v2Length } from "../decode/id3.ts";
import { OggHeaderPackets, readOggPage } from "../decode/ogg_pages.ts";
import { isMp4, mp4Pictures } from "./mp4_picture.ts";

/** A tag or comment block larger than this is not read (a cover is rarely over 5 MB). */
const MAX_TAG_BYTES = 32 * 1024 * 1024;
/** Pages read looking for the comment header: it is the second packet, near the start. */
const MAX_OGG_PAGES = 2_000;
const FRONT_COVER = 3;
const FLAC_PICTURE = 6;

interface Picture {
  type: number;
  data: Uint8Array;
}

/** The embedded cover of the file at `path`, or undefined. Throws only if it cannot be read. */
export async function embeddedPicture(path: string): Promise<Uint8Array | undefined> {
  const file = await Deno.open(path);
  const reader = ByteReader.from(file.readable);
  try {
    const pictures: Picture[] = [];
    const head = await reader.peek(12);
    if (isMp4(head)) return (await mp4Pictures(path))[0];
    const id3 = id3v2Length(head);
    if (id3 !== undefined && id3 <= MAX_TAG_BYTES) {
      pictures.push(...id3Pictures(await reader.read(id3)));
    }
    const magic = String.fromCharCode(...await reader.peek(4));
    if (magic === "fLaC") pictures.push(...await flacPictures(reader));
    else if (magic === "OggS") pictures.push(...await oggPictures(reader));
    return (pictures.find((p) => p.type === FRONT_COVER) ?? pictures[0])?.data;
  } finally {
    try {
      file.close();
    } catch {
      // already closed by the stream's end
    }
  }
}

// --- ID3v2 ---

/** APIC/PIC frames of a whole ID3v2 tag, header included. */
export function id3Pictures(tag: Uint8Array): Picture[] {
  const version = tag[3], flags = tag[5];
  if (version < 2 || version > 4 || tag.length < 10) return [];
  if (version === 2 && flags & 0x40) return []; // v2.2 "compression": never defined
  let body = tag.subarray(10, 10 + syncsafe(tag, 6));
  if (version < 4 && flags & 0x80) body = removeUnsynchronisation(body);
  let offset = 0;
  if (version > 2 && flags & 0x40) {
    offset = version === 3 ? uint32(body, 0) + 4 : syncsafe(body, 0);
  }
  const headerBytes = version === 2 ? 6 : 10;
  const pictures: Picture[] = [];
  while (offset + headerBytes <= body.length && body[offset] !== 0) {
    const id = String.fromCharCode(...body.subarray(offset, offset + (version === 2 ? 3 : 4)));
    const size = version === 2
      ? (body[offset + 3] << 16) | (body[offset + 4] << 8) | body[offset + 5]
      : version === 3
      ? uint32(body, offset + 4)
      : syncsafe(body, offset + 4);
    const frameFlags = version === 2 ? 0 : body[offset + 9];
    const start = offset + headerBytes;
    offset = start + size;
    if ((id !== "APIC" && id !== "PIC") || offset > body.length) continue;
    const data = frameData(body.subarray(start, offset), version, frameFlags);
    const picture = data && pictureFrame(data, id === "PIC");
    if (picture) pictures.push(picture);
  }
  return pictures;
}

/** APIC: encoding, MIME type (PIC: 3-letter format), picture type, description, data. */
function pictureFrame(data: Uint8Array, v22: boolean): Picture | undefined {
  const encoding = data[0];
  let at = 1;
  if (v22) at += 3;
  else {
    while (at < data.length && data[at] !== 0) at++;
    at++; // the MIME type's terminator
  }
  const type = data[at++];
  const wide = encoding === 1 || encoding === 2;
  while (at < data.length && (data[at] !== 0 || (wide && data[at + 1] !== 0))) at += wide ? 2 : 1;
  at += wide ? 2 : 1; // the description's terminator
  return at < data.length ? { type, data: data.slice(at) } : undefined;
}

/** The frame's payload, or undefined when it is compressed or encrypted. */
function frameData(data: Uint8Array, version: number, flags: number): Uint8Array | undefined {
  if (version === 3) {
    if (flags & 0xc0) return undefined;
    return flags & 0x20 ? data.subarray(1) : data;
  }
  if (version === 4) {
    if (flags & 0x0c) return undefined;
    const payload = data.subarray((flags & 0x40 ? 1 : 0) + (flags & 0x01 ? 4 : 0));
    return flags & 0x02 ? removeUnsynchronisation(payload) : payload;
  }
  return data;
}

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

function uint32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0);
}

// --- FLAC ---

/** PICTURE blocks among the metadata blocks after "fLaC". */
async function flacPictures(reader: ByteReader): Promise<Picture[]> {
  await reader.read(4);
  const pictures: Picture[] = [];
  for (let last = false; !last;) {
    const header = await reader.read(4);
    if (header.length < 4) break;
    last = (header[0] & 0x80) !== 0;
    const length = (header[1] << 16) | (header[2] << 8) | header[3];
    if ((header[0] & 0x7f) !== FLAC_PICTURE || length > MAX_TAG_BYTES) {
      if (await reader.skip(length) < length) break;
      continue;
    }
    const picture = pictureBlock(await reader.read(length));
    if (picture) pictures.push(picture);
  }
  return pictures;
}

/**
 * A FLAC picture block (also what METADATA_BLOCK_PICTURE holds): type, MIME type, description,
 * width, height, depth, colours, then the data, every number a big-endian uint32.
 */
export function pictureBlock(block: Uint8Array): Picture | undefined {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const field = (at: number) => at + 4 <= block.length ? view.getUint32(at) : undefined;
  const type = field(0);
  const mimeLength = field(4);
  if (type === undefined || mimeLength === undefined) return undefined;
  const descriptionAt = 8 + mimeLength;
  const description = field(descriptionAt);
  if (description === undefined) return undefined;
  const lengthAt = descriptionAt + 4 + description + 16;
  const length = field(lengthAt);
  if (length === undefined || lengthAt + 4 + length > block.length) return undefined;
  return { type, data: block.slice(lengthAt + 4, lengthAt + 4 + length) };
}

// --- Ogg ---

const COMMENT_PREFIXES = ["\x03vorbis", "OpusTags"];

/** Pictures in the comment header of the first Vorbis or Opus stream. */
async function oggPictures(reader: ByteReader): Promise<Picture[]> {
  let serial: number | undefined;
  const headers = new OggHeaderPackets(2, MAX_TAG_BYTES);
  for (let pages = 0; pages < MAX_OGG_PAGES && !headers.complete; pages++) {
    const page = await readOggPage(reader);
    if (!page) break;
    if (serial === undefined && page.isFirst) {
      const start = String.fromCharCode(...page.body.subarray(0, 8));
      if (start.startsWith("\x01vorbis") || start === "OpusHead") serial = page.serial;
    }
    if (page.serial === serial) headers.push(page);
  }
  const packet = headers.packets[1];
  const prefix = COMMENT_PREFIXES.find((p) =>
    String.fromCharCode(...packet?.subarray(0, p.length) ?? []) === p
  );
  return packet && prefix ? commentPictures(packet.subarray(prefix.length)) : [];
}

/** METADATA_BLOCK_PICTURE and COVERART entries of a Vorbis comment block. */
function commentPictures(bytes: Uint8Array): Picture[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pictures: Picture[] = [];
  if (bytes.length < 8) return pictures;
  let offset = 4 + view.getUint32(0, true);
  if (offset + 4 > bytes.length) return pictures;
  const count = view.getUint32(offset, true);
  offset += 4;
  for (let i = 0; i < count && offset + 4 <= bytes.length; i++) {
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > bytes.length) break;
    const entry = bytes.subarray(offset, offset + length);
    offset += length;
    const equals = entry.indexOf(0x3d); // "="
    if (equals < 0) continue;
    const key = String.fromCharCode(...entry.subarray(0, equals)).toUpperCase();
    if (key !== "METADATA_BLOCK_PICTURE" && key !== "COVERART") continue;
    const decoded = new Uint8Array(
      Buffer.from(new TextDecoder().decode(entry.subarray(equals + 1)), "base64"),
    );
    const picture = key === "COVERART"
      ? { type: FRONT_COVER, data: decoded }
      : pictureBlock(decoded);
    if (picture) pictures.push(picture);
  }
  return pictures;
}
