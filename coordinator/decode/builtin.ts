/**
 * Built-in decoding for when ffmpeg is not installed: sniffs the container from the first
 * bytes, decodes with the matching reader, and converts to the timeline's PCM format.
 */
import { ByteReader } from "./byte_reader.ts";
import { decodeFlac } from "./flac.ts";
import { id3v2Length, parseId3v2 } from "./id3.ts";
import { decodeMpeg, findMpegFrame } from "./mpeg.ts";
import { decodeOgg } from "./ogg.ts";
import { toAudioBlock } from "./pcm_convert.ts";
import type { AudioBlock } from "../../protocol/pcm.ts";
import { fourCC, hasTags } from "./tags.ts";
import { type DecodeOptions, type PcmBlock, UnsupportedFormatError } from "./types.ts";
import { decodeWav } from "./wav.ts";

export type { DecodeOptions, TrackTags } from "./types.ts";
export { UnsupportedFormatError } from "./types.ts";

/** ID3 tags larger than this (cover art) are skipped without reading their text. */
const MAX_ID3_BYTES = 16 << 20;
/** How far into the input we look for MPEG frames, doubling from the first size. */
const FIRST_SNIFF_BYTES = 2048;
const MAX_SNIFF_BYTES = 64 * 1024;

/**
 * Decodes a WAV (PCM 16/24/32-bit int and 32-bit float, also WAVE_FORMAT_EXTENSIBLE), FLAC,
 * MP3, Ogg Vorbis or Ogg Opus byte stream, sniffed from its first bytes, into timeline PCM
 * blocks at the source's own rate (16 or 24 bits, mono or stereo; any block size). Works incrementally on endless
 * streams (internet radio): never buffers the whole input.
 */
export async function* decodeBuiltin(
  bytes: AsyncIterable<Uint8Array>,
  options: DecodeOptions = {},
): AsyncGenerator<AudioBlock> {
  const reader = new ByteReader(bytes, options.signal);
  try {
    const blocks = await openDecoder(reader, options);
    for await (const block of blocks) {
      if (options.signal?.aborted) return;
      const audio = toAudioBlock(block);
      if (audio) yield audio;
    }
  } finally {
    await reader.close();
  }
}

async function openDecoder(
  reader: ByteReader,
  options: DecodeOptions,
): Promise<AsyncGenerator<PcmBlock>> {
  const hadId3 = await readId3Tags(reader, options);
  for (let size = FIRST_SNIFF_BYTES;; size *= 2) {
    const head = await reader.peek(size);
    const isWholeInput = head.length < size;
    if (head.length === 0) {
      throw new UnsupportedFormatError(
        `Cannot decode the source: it is empty${hadId3 ? " after its ID3 tag" : ""}`,
      );
    }
    const magic = fourCC(head, 0);
    if (magic === "RIFF" || magic === "RF64" || magic === "BW64") return decodeWav(reader, options);
    if (magic === "fLaC") return decodeFlac(reader, options);
    if (magic === "OggS") return decodeOgg(reader, options);
    const frame = findMpegFrame(head, isWholeInput);
    if (frame >= 0) {
      await reader.skip(frame); // junk before the first frame (e.g. a radio stream joined mid-frame)
      return decodeMpeg(reader, options);
    }
    if (isWholeInput || size >= MAX_SNIFF_BYTES) {
      throw new UnsupportedFormatError(`Cannot decode the source: ${describeUnknown(head)}`);
    }
  }
}

/** Reads any ID3v2 tags at the start (MP3, sometimes FLAC) and reports their text. */
async function readId3Tags(reader: ByteReader, options: DecodeOptions): Promise<boolean> {
  let found = false;
  for (let length = id3v2Length(await reader.peek(10)); length !== undefined;) {
    found = true;
    if (length > MAX_ID3_BYTES) {
      await reader.skip(length);
    } else {
      const tags = parseId3v2(await reader.read(length));
      if (hasTags(tags)) options.onTags?.(tags);
    }
    length = id3v2Length(await reader.peek(10));
  }
  return found;
}

/** Names what the bytes look like, for a person reading the error. */
function describeUnknown(head: Uint8Array): string {
  const text = new TextDecoder().decode(head.subarray(0, 64)).trimStart();
  if (text.startsWith("<")) return "it looks like a web page or XML, not audio";
  if (text.startsWith("#EXTM3U") || text.toLowerCase().startsWith("[playlist]")) {
    return "it is a playlist, not audio; open one of the addresses in it instead";
  }
  if (fourCC(head, 4) === "ftyp") return "it is MP4/M4A (AAC or ALAC), which needs ffmpeg";
  if (fourCC(head, 0) === "FORM") return "it is AIFF, which needs ffmpeg";
  if (head[0] === 0xff && (head[1] & 0xf6) === 0xf0) return "it is AAC (ADTS), which needs ffmpeg";
  const hex = Array.from(head.subarray(0, 8), (byte) => byte.toString(16).padStart(2, "0"));
  return `its first bytes (${hex.join(" ")}) are not WAV, FLAC, MP3 or Ogg`;
}
