/**
 * Pictures embedded in audio files, read from the file's head without decoding any audio:
 * ID3v2 APIC (v2.3, v2.4) and PIC (v2.2) frames, FLAC PICTURE blocks, and the Vorbis
 * comment METADATA_BLOCK_PICTURE (a base64 FLAC picture block; Ogg Vorbis, Opus) or the old
 * COVERART (base64 image); MP4's `covr` (mp4_picture.ts). The front cover wins; else the first.
 */
import { Buffer } from "node:buffer";
import { ByteReader } from "../decode/byte_reader.ts";
import { id3Frames, id3v2Length } from "../decode/id3.ts";
import { OggHeaderPackets, readOggPage } from "../decode/ogg_pages.ts";
import { vorbisCommentEntries } from "../decode/tags.ts";
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
  const pictures: Picture[] = [];
  for (const { id, data } of id3Frames(tag, (id) => id === "APIC" || id === "PIC")) {
    const picture = pictureFrame(data, id === "PIC");
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
  const pictures: Picture[] = [];
  for (const entry of vorbisCommentEntries(bytes)) {
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
