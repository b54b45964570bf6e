/**
 * WAV (RIFF/RF64 WAVE) reader: PCM 8/16/24/32-bit integer and 32/64-bit float, plain or
 * WAVE_FORMAT_EXTENSIBLE. Streams the data chunk; a data size of 0 or 0xFFFFFFFF (written by
 * piping encoders and RF64) means "until the end of the input".
 */
import { ByteReader } from "./byte_reader.ts";
import { defaultSpeakers, speakersFromMask } from "./downmix.ts";
import { fourCC, hasTags, parseRiffInfo } from "./tags.ts";
import {
  type DecodeOptions,
  type PcmBlock,
  type Speaker,
  UnsupportedFormatError,
} from "./types.ts";

const FORMAT_PCM = 0x0001;
const FORMAT_FLOAT = 0x0003;
const FORMAT_EXTENSIBLE = 0xfffe;
const FORMAT_NAMES: Record<number, string> = {
  0x0002: "MS ADPCM",
  0x0006: "A-law",
  0x0007: "µ-law",
  0x0011: "IMA ADPCM",
  0x0055: "MP3",
};
/** Real fmt chunks are 16 to 40 bytes; a huge one is damage, not something to buffer. */
const MAX_FORMAT_BYTES = 1024;
/** LIST chunks larger than this are skipped unread (tags are tiny; this is not a tag). */
const MAX_LIST_BYTES = 1 << 20;
/** Bytes handed to the converter at a time, so that huge reads don't become huge blocks. */
const MAX_PIECE_BYTES = 1 << 16;

interface WavFormat {
  float: boolean;
  channelCount: number;
  sampleRate: number;
  bitsPerSample: number;
  speakers?: Speaker[];
}

/** Decodes a WAV byte stream into native-rate blocks (integer or float as stored). */
export async function* decodeWav(
  bytes: AsyncIterable<Uint8Array>,
  options: DecodeOptions = {},
): AsyncGenerator<PcmBlock> {
  const reader = ByteReader.from(bytes, options.signal);
  const header = await reader.read(12);
  if (header.length < 12 || !/^(RIFF|RF64|BW64)$/.test(fourCC(header, 0))) {
    throw new UnsupportedFormatError("Cannot decode the WAV source: it has no RIFF header");
  }
  if (fourCC(header, 8) !== "WAVE") {
    throw new UnsupportedFormatError(
      `Cannot decode the source: it is a RIFF "${fourCC(header, 8)}" file, not WAVE audio`,
    );
  }
  let format: WavFormat | undefined;
  while (!options.signal?.aborted) {
    const chunkHeader = await reader.read(8);
    if (chunkHeader.length < 8) return;
    const id = fourCC(chunkHeader, 0);
    const size = new DataView(chunkHeader.buffer).getUint32(4, true);
    const paddedSize = size + (size & 1); // chunks are padded to even sizes
    if (id === "fmt ") {
      if (size > MAX_FORMAT_BYTES) {
        throw new UnsupportedFormatError(
          `Cannot decode the WAV source: its fmt chunk is ${size} bytes long`,
        );
      }
      format = parseFormat(await reader.read(paddedSize));
    } else if (id === "LIST" && size <= MAX_LIST_BYTES) {
      const tags = parseRiffInfo(await reader.read(paddedSize));
      if (hasTags(tags)) options.onTags?.(tags);
    } else if (id === "data") {
      if (!format) {
        throw new UnsupportedFormatError(
          "Cannot decode the WAV source: its data chunk comes before the fmt chunk",
        );
      }
      const untilEnd = size === 0 || size === 0xffffffff;
      yield* readSamples(reader, format, untilEnd ? Infinity : size, options.signal);
      if (untilEnd) return;
      await reader.skip(size & 1);
    } else {
      await reader.skip(paddedSize);
    }
  }
}

function parseFormat(chunk: Uint8Array): WavFormat {
  if (chunk.length < 16) {
    throw new UnsupportedFormatError("Cannot decode the WAV source: its fmt chunk is truncated");
  }
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  let tag = view.getUint16(0, true);
  const channelCount = view.getUint16(2, true);
  const sampleRate = view.getUint32(4, true);
  const bitsPerSample = view.getUint16(14, true);
  let mask: number | undefined;
  if (tag === FORMAT_EXTENSIBLE && chunk.length >= 26) {
    mask = view.getUint32(20, true);
    tag = view.getUint16(24, true); // first two bytes of the sub-format GUID
  }
  const float = tag === FORMAT_FLOAT;
  const supportedBits = float ? [32, 64] : [8, 16, 24, 32];
  if ((tag !== FORMAT_PCM && !float) || !supportedBits.includes(bitsPerSample)) {
    const name = FORMAT_NAMES[tag] ?? `format 0x${tag.toString(16).padStart(4, "0")}`;
    throw new UnsupportedFormatError(
      `Cannot decode the WAV source: ${name} at ${bitsPerSample} bits is not supported ` +
        "(only 8/16/24/32-bit integer PCM and 32/64-bit float)",
    );
  }
  if (channelCount === 0 || sampleRate === 0) {
    throw new UnsupportedFormatError(
      `Cannot decode the WAV source: it claims ${channelCount} channels at ${sampleRate} Hz`,
    );
  }
  const speakers = channelCount <= 2
    ? undefined
    : mask
    ? speakersFromMask(mask, channelCount)
    : defaultSpeakers(channelCount, "wav");
  return { float, channelCount, sampleRate, bitsPerSample, speakers };
}

/** Streams `byteCount` bytes of samples; a partial frame at a piece boundary waits for the next. */
async function* readSamples(
  reader: ByteReader,
  format: WavFormat,
  byteCount: number,
  signal?: AbortSignal,
): AsyncGenerator<PcmBlock> {
  const frameBytes = format.channelCount * (format.bitsPerSample / 8);
  let remaining = byteCount;
  let carry = new Uint8Array(0);
  while (remaining > 0 && !signal?.aborted) {
    const piece = await reader.readChunk(Math.min(remaining, MAX_PIECE_BYTES));
    if (piece === undefined) return; // truncated: the partial frame in `carry` is dropped
    remaining -= piece.length;
    let data = piece;
    if (carry.length > 0) {
      data = new Uint8Array(carry.length + piece.length);
      data.set(carry);
      data.set(piece, carry.length);
    }
    const frames = Math.floor(data.length / frameBytes);
    carry = data.slice(frames * frameBytes);
    if (frames > 0) yield toBlock(data.subarray(0, frames * frameBytes), frames, format);
  }
}

function toBlock(data: Uint8Array, frames: number, format: WavFormat): PcmBlock {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const { channelCount, bitsPerSample, sampleRate, speakers } = format;
  const bytes = bitsPerSample / 8;
  const stride = channelCount * bytes;
  if (format.float) {
    const channels = Array.from({ length: channelCount }, () => new Float32Array(frames));
    channels.forEach((channel, c) => {
      for (let i = 0, at = c * bytes; i < frames; i++, at += stride) {
        channel[i] = bytes === 4 ? view.getFloat32(at, true) : view.getFloat64(at, true);
      }
    });
    return { kind: "float", sampleRate, channels, speakers };
  }
  const channels = Array.from({ length: channelCount }, () => new Int32Array(frames));
  channels.forEach((channel, c) => {
    for (let i = 0, at = c * bytes; i < frames; i++, at += stride) {
      channel[i] = readInt(data, view, at, bitsPerSample);
    }
  });
  return { kind: "int", sampleRate, bitDepth: bitsPerSample, channels, speakers };
}

function readInt(data: Uint8Array, view: DataView, at: number, bits: number): number {
  switch (bits) {
    case 8:
      return data[at] - 128; // 8-bit WAV is unsigned
    case 16:
      return view.getInt16(at, true);
    case 24:
      return ((data[at] | (data[at + 1] << 8) | (data[at + 2] << 16)) << 8) >> 8;
    default:
      return view.getInt32(at, true);
  }
}
