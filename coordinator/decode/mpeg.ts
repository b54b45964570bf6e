/** MPEG audio (MP3, also layers I and II) via the mpg123 wasm decoder, plus frame sniffing. */
import { MPEGDecoder } from "mpg123-decoder";
import { ByteReader } from "./byte_reader.ts";
import type { DecodeOptions, FloatPcmBlock } from "./types.ts";

/** Decodes MPEG audio frames (any ID3v2 tag already removed) into float blocks. */
export async function* decodeMpeg(
  bytes: AsyncIterable<Uint8Array>,
  options: DecodeOptions = {},
): AsyncGenerator<FloatPcmBlock> {
  const reader = ByteReader.from(bytes, options.signal);
  // Gapless: trims the encoder delay and padding named in a LAME/Xing header, as ffmpeg does.
  const decoder = new MPEGDecoder({ enableGapless: true });
  try {
    await decoder.ready;
    for await (const piece of reader) {
      if (options.signal?.aborted) return;
      const { channelData, samplesDecoded, sampleRate } = decoder.decode(piece);
      if (samplesDecoded > 0) yield { kind: "float", sampleRate, channels: channelData };
    }
  } finally {
    decoder.free();
  }
}

const BITRATES_KBPS: Record<string, readonly number[]> = {
  "1-1": [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  "1-2": [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  "1-3": [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  "2-1": [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  "2-2": [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  "2-3": [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Record<number, readonly number[]> = {
  3: [44100, 48000, 32000], // MPEG-1
  2: [22050, 24000, 16000], // MPEG-2
  0: [11025, 12000, 8000], // MPEG-2.5
};

/** Length in bytes of the MPEG audio frame whose header starts at `offset`, or 0 if none. */
export function mpegFrameLength(bytes: Uint8Array, offset: number): number {
  if (offset + 4 > bytes.length || bytes[offset] !== 0xff) return 0;
  const b1 = bytes[offset + 1];
  const b2 = bytes[offset + 2];
  const versionBits = (b1 >> 3) & 3;
  const layer = 4 - ((b1 >> 1) & 3); // 1, 2 or 3; 4 means reserved
  if ((b1 & 0xe0) !== 0xe0 || versionBits === 1 || layer === 4) return 0;
  const bitrate = BITRATES_KBPS[`${versionBits === 3 ? 1 : 2}-${layer}`][b2 >> 4] * 1000;
  const sampleRate = SAMPLE_RATES[versionBits][(b2 >> 2) & 3];
  if (!bitrate || !sampleRate) return 0; // free format, bad bitrate or reserved rate
  const padding = (b2 >> 1) & 1;
  if (layer === 1) return (Math.floor((12 * bitrate) / sampleRate) + padding) * 4;
  const samplesPerByte = layer === 3 && versionBits !== 3 ? 72 : 144;
  return Math.floor((samplesPerByte * bitrate) / sampleRate) + padding;
}

/**
 * Offset of the first MPEG audio frame in `head` that is followed by another frame header
 * (or by the end of the input when `isWholeInput`), or -1. Two frames in a row make random
 * bytes very unlikely to pass.
 */
export function findMpegFrame(head: Uint8Array, isWholeInput: boolean): number {
  for (let offset = 0; offset + 4 <= head.length; offset++) {
    const length = mpegFrameLength(head, offset);
    if (length === 0) continue;
    const next = offset + length;
    if (mpegFrameLength(head, next) > 0) return offset;
    if (isWholeInput && next >= head.length) return offset;
  }
  return -1;
}
