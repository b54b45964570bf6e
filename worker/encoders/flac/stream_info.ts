/**
 * The stream-level header ("fLaC" + STREAMINFO) and the frame-header codes for block size,
 * sample rate and sample size.
 */

export const MIN_FLAC_BLOCK_SIZE = 16;
export const MAX_FLAC_BLOCK_SIZE = 65_535;

export interface StreamInfo {
  /** Every frame's block size (fixed-blocksize stream). */
  blockSize: number;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

/** "fLaC" and the STREAMINFO block, flagged as the last metadata block: 42 bytes. */
export function streamHeader(info: StreamInfo): Uint8Array {
  const out = new Uint8Array(42);
  out.set([0x66, 0x4c, 0x61, 0x43]); // "fLaC"
  out[4] = 0x80; // last-metadata-block flag, block type 0 (STREAMINFO)
  out[7] = 34; // block length
  const body = 8;
  out[body + 0] = info.blockSize >> 8; // minimum block size
  out[body + 1] = info.blockSize & 0xff;
  out[body + 2] = info.blockSize >> 8; // maximum block size
  out[body + 3] = info.blockSize & 0xff;
  // Bytes 4..9: minimum and maximum frame size, 0 = unknown.
  // 20 bits sample rate, 3 bits channels - 1, 5 bits bits per sample - 1, 36 bits total samples
  // (0 = unknown: it is a stream), 128 bits MD5 (0 = unknown).
  const rate = info.sampleRate;
  const bits = info.bitsPerSample - 1;
  out[body + 10] = rate >> 12;
  out[body + 11] = (rate >> 4) & 0xff;
  out[body + 12] = ((rate & 0x0f) << 4) | ((info.channels - 1) << 1) | (bits >> 4);
  out[body + 13] = (bits & 0x0f) << 4;
  return out;
}

/** Frame-header block size code and the explicit value (blocksize - 1) and its width. */
export function blockSizeCode(
  blockSize: number,
): { code: number; extra: number; extraBits: number } {
  if (blockSize === 192) return { code: 1, extra: 0, extraBits: 0 };
  for (let code = 2; code <= 5; code++) {
    if (blockSize === 576 << (code - 2)) return { code, extra: 0, extraBits: 0 };
  }
  for (let code = 8; code <= 15; code++) {
    if (blockSize === 256 << (code - 8)) return { code, extra: 0, extraBits: 0 };
  }
  return blockSize <= 256
    ? { code: 6, extra: blockSize - 1, extraBits: 8 }
    : { code: 7, extra: blockSize - 1, extraBits: 16 };
}

const STANDARD_RATES: Record<number, number> = {
  88_200: 1,
  176_400: 2,
  192_000: 3,
  8_000: 4,
  16_000: 5,
  22_050: 6,
  24_000: 7,
  32_000: 8,
  44_100: 9,
  48_000: 10,
  96_000: 11,
};

/** Frame-header sample rate code and the explicit value and its width (code 0: see STREAMINFO). */
export function sampleRateCode(rate: number): { code: number; extra: number; extraBits: number } {
  const standard = STANDARD_RATES[rate];
  if (standard !== undefined) return { code: standard, extra: 0, extraBits: 0 };
  if (rate % 1000 === 0 && rate / 1000 <= 255) {
    return { code: 12, extra: rate / 1000, extraBits: 8 };
  }
  if (rate <= 65_535) return { code: 13, extra: rate, extraBits: 16 };
  if (rate % 10 === 0 && rate / 10 <= 65_535) return { code: 14, extra: rate / 10, extraBits: 16 };
  return { code: 0, extra: 0, extraBits: 0 };
}

/** Frame-header sample size code. */
export function sampleSizeCode(bitsPerSample: number): number {
  switch (bitsPerSample) {
    case 8:
      return 1;
    case 12:
      return 2;
    case 16:
      return 4;
    case 20:
      return 5;
    case 24:
      return 6;
    case 32:
      return 7;
    default:
      return 0; // from STREAMINFO
  }
}
