/** Native FLAC streams via the libFLAC wasm decoder, with the exact integer samples restored. */
import { FLACDecoder } from "@wasm-audio-decoders/flac";
import { ByteReader, concatBytes } from "./byte_reader.ts";
import { defaultSpeakers } from "./downmix.ts";
import { fourCC, hasTags, parseVorbisComment } from "./tags.ts";
import { type DecodeOptions, type IntPcmBlock, UnsupportedFormatError } from "./types.ts";

const STREAMINFO = 0;
const VORBIS_COMMENT = 4;

interface StreamInfo {
  sampleRate: number;
  bitDepth: number;
}

/**
 * Decodes a FLAC byte stream into integer samples at its native rate and bit depth. Samples
 * are exact up to 24 bits; 32-bit FLAC loses its low bits (the wasm decoder hands out float32).
 */
export async function* decodeFlac(
  bytes: AsyncIterable<Uint8Array>,
  options: DecodeOptions = {},
): AsyncGenerator<IntPcmBlock> {
  const reader = ByteReader.from(bytes, options.signal);
  const magic = await reader.read(4);
  if (magic.length < 4 || fourCC(magic, 0) !== "fLaC") {
    throw new UnsupportedFormatError(
      'Cannot decode the FLAC source: it does not start with "fLaC"',
    );
  }
  const decoder = new FLACDecoder();
  try {
    await decoder.ready;
    const { metadata, info } = await readMetadata(reader, options);
    yield* toIntBlocks(await decoder.decode(concatBytes([magic, ...metadata])), info);
    for await (const piece of reader) {
      if (options.signal?.aborted) return;
      yield* toIntBlocks(await decoder.decode(piece), info);
    }
    if (options.signal?.aborted) return;
    yield* toIntBlocks(await decoder.flush(), info);
  } finally {
    decoder.free();
  }
}

/** Reads the metadata blocks (raw, for the decoder) and reports the Vorbis comment's tags. */
async function readMetadata(
  reader: ByteReader,
  options: DecodeOptions,
): Promise<{ metadata: Uint8Array[]; info?: StreamInfo }> {
  const metadata: Uint8Array[] = [];
  let info: StreamInfo | undefined;
  for (let last = false; !last;) {
    const header = await reader.read(4);
    if (header.length < 4) break;
    last = (header[0] & 0x80) !== 0;
    const type = header[0] & 0x7f;
    const body = await reader.read((header[1] << 16) | (header[2] << 8) | header[3]);
    metadata.push(header, body);
    if (type === STREAMINFO && body.length >= 18) {
      info = {
        sampleRate: (body[10] << 12) | (body[11] << 4) | (body[12] >> 4),
        bitDepth: (((body[12] & 0x01) << 4) | (body[13] >> 4)) + 1,
      };
    } else if (type === VORBIS_COMMENT) {
      const tags = parseVorbisComment(body);
      if (hasTags(tags)) options.onTags?.(tags);
    }
  }
  return { metadata, info };
}

interface DecodedFlac {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  bitDepth: number;
}

function* toIntBlocks(decoded: DecodedFlac, info?: StreamInfo): Generator<IntPcmBlock> {
  const { channelData, samplesDecoded } = decoded;
  if (samplesDecoded === 0) return;
  const bitDepth = decoded.bitDepth || info?.bitDepth;
  const sampleRate = decoded.sampleRate || info?.sampleRate;
  if (!bitDepth || !sampleRate) {
    throw new UnsupportedFormatError(
      "Cannot decode the FLAC source: it names no sample rate or bit depth",
    );
  }
  const channels = channelData.map((channel) => toInts(channel, bitDepth));
  yield {
    kind: "int",
    sampleRate,
    bitDepth,
    channels,
    speakers: channels.length > 2 ? defaultSpeakers(channels.length, "wav") : undefined,
  };
}

/** The wasm decoder divides by 2^(bits-1) - 1 (checked over every 16- and 24-bit value). */
function toInts(channel: Float32Array, bitDepth: number): Int32Array {
  const scale = 2 ** (bitDepth - 1) - 1;
  const min = -(2 ** (bitDepth - 1));
  const out = new Int32Array(channel.length);
  for (let i = 0; i < channel.length; i++) {
    const value = Math.round(channel[i] * scale);
    out[i] = value < min ? min : value > scale ? scale : value;
  }
  return out;
}
