/** Tag parsing for Vorbis comments (FLAC, Ogg Vorbis, Ogg Opus) and WAV LIST/INFO chunks. */
import type { TrackTags } from "./types.ts";

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const LATIN1 = new TextDecoder("latin1");

/** Several values of one field (e.g. two ARTIST comments) are joined with this. */
export const MULTI_VALUE_SEPARATOR = ", ";

export function hasTags(tags: TrackTags): boolean {
  return tags.title !== undefined || tags.artist !== undefined || tags.album !== undefined;
}

/** Text in an unknown 8-bit encoding: UTF-8 when it is valid UTF-8, else Latin-1. */
export function decodeLooseText(bytes: Uint8Array): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  const trimmed = bytes.subarray(0, end);
  try {
    return UTF8.decode(trimmed);
  } catch {
    // Not UTF-8: old tools wrote Latin-1, which can decode any byte.
    return LATIN1.decode(trimmed);
  }
}

/** Adds the fields of `more` to `tags`, after any value a field already has. */
export function addTags(tags: TrackTags, more: TrackTags): void {
  for (const field of ["title", "artist", "album"] as const) {
    const text = more[field]?.trim();
    if (!text) continue;
    const previous = tags[field];
    tags[field] = previous === undefined ? text : previous + MULTI_VALUE_SEPARATOR + text;
  }
}

const VORBIS_FIELDS: Record<string, keyof TrackTags> = {
  TITLE: "title",
  ARTIST: "artist",
  ALBUM: "album",
};

/**
 * Parses a Vorbis comment block (vendor string, then "KEY=value" entries), without the codec's
 * packet prefix. A truncated block gives the entries that are complete.
 */
export function parseVorbisComment(bytes: Uint8Array): TrackTags {
  const tags: TrackTags = {};
  for (const raw of vorbisCommentEntries(bytes)) {
    const entry = decodeLooseText(raw);
    const equals = entry.indexOf("=");
    const field = VORBIS_FIELDS[entry.slice(0, equals).toUpperCase()];
    if (equals > 0 && field) addTags(tags, { [field]: entry.slice(equals + 1) });
  }
  return tags;
}

/**
 * The raw "KEY=value" entries of a Vorbis comment block (all lengths little-endian uint32),
 * the complete ones of a truncated block.
 */
export function* vorbisCommentEntries(bytes: Uint8Array): Generator<Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) return;
  let offset = 4 + view.getUint32(0, true);
  if (offset + 4 > bytes.length) return;
  const count = view.getUint32(offset, true);
  offset += 4;
  for (let i = 0; i < count && offset + 4 <= bytes.length; i++) {
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > bytes.length) return;
    yield bytes.subarray(offset, offset + length);
    offset += length;
  }
}

const INFO_FIELDS: Record<string, keyof TrackTags> = {
  INAM: "title",
  IART: "artist",
  IPRD: "album",
};

/** Parses the body of a RIFF LIST chunk; only LIST/INFO carries tags. */
export function parseRiffInfo(bytes: Uint8Array): TrackTags {
  const tags: TrackTags = {};
  if (bytes.length < 4 || fourCC(bytes, 0) !== "INFO") return tags;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 4;
  while (offset + 8 <= bytes.length) {
    const id = fourCC(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const start = offset + 8;
    const field = INFO_FIELDS[id];
    if (field && start + size <= bytes.length) {
      addTags(tags, { [field]: decodeLooseText(bytes.subarray(start, start + size)) });
    }
    offset = start + size + (size & 1); // chunks are padded to even sizes
  }
  return tags;
}

export function fourCC(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + 4));
}
