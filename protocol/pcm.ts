/**
 * The PCM that flows from the coordinator's timeline to every worker: the source's own
 * format, reduced only where the protocol has no room for it (depth 16 or 24, mono or
 * stereo). Workers convert from it per output format; an output format equal to it gets the
 * bits unchanged.
 */

/** The timeline's PCM: interleaved, signed, little-endian, packed (3 bytes a 24-bit sample). */
export interface PcmFormat {
  sampleRate: number;
  bitDepth: 16 | 24;
  channels: 1 | 2;
}

/** Decoded audio on its way from a source to the timeline (any whole number of frames). */
export interface AudioBlock {
  format: PcmFormat;
  /** Interleaved little-endian samples in `format`. */
  pcm: Uint8Array;
}

/** The demo's format, and the reference rate for chunk lengths. */
export const SAMPLE_RATE = 48_000;
export const CHANNELS = 2;
export const BIT_DEPTH = 16;
export const DEMO_FORMAT: PcmFormat = { sampleRate: SAMPLE_RATE, bitDepth: 16, channels: 2 };

/** 60 ms per chunk at 48 kHz: the longest single Opus frame, so one chunk becomes one packet. */
export const CHUNK_FRAMES = 2_880;

/** Bytes of one 60 ms chunk of the demo's format (48k/16/2). */
export const CHUNK_BYTES = CHUNK_FRAMES * 4;

/** Frames per timeline chunk at `sampleRate`: 60 ms, rounded down (2646 at 44.1 kHz, 480 at 8 kHz). */
export function chunkFramesAt(sampleRate: number): number {
  return Math.floor((CHUNK_FRAMES * sampleRate) / SAMPLE_RATE);
}

export function bytesPerFrame(format: PcmFormat): number {
  return format.channels * (format.bitDepth / 8);
}

export function samePcmFormat(a: PcmFormat, b: PcmFormat): boolean {
  return a.sampleRate === b.sampleRate && a.bitDepth === b.bitDepth && a.channels === b.channels;
}

export function describePcm(format: PcmFormat): string {
  const channels = format.channels === 1 ? "mono" : "stereo";
  return `${format.sampleRate} Hz / ${format.bitDepth}-bit / ${channels}`;
}

/** Why `format` cannot be carried by the timeline, or undefined when it can. */
export function pcmFormatProblem(format: PcmFormat): string | undefined {
  const { sampleRate, bitDepth, channels } = format;
  if (!Number.isInteger(sampleRate) || sampleRate < 1_000 || sampleRate > 768_000) {
    return `sample rate ${sampleRate} Hz (1000 to 768000 Hz are carried)`;
  }
  if (bitDepth !== 16 && bitDepth !== 24) return `${bitDepth}-bit samples (16 or 24 are carried)`;
  if (channels !== 1 && channels !== 2) return `${channels} channels (1 or 2 are carried)`;
  return undefined;
}

/** The carried depth for a source depth: 8 and below become 16, above 16 become 24. */
export function carriedBitDepth(sourceBits: number): 16 | 24 {
  return sourceBits <= 16 ? 16 : 24;
}

/** Reads sample `index` of packed little-endian `pcm` as a signed integer at `bitDepth`. */
export function readSample(pcm: Uint8Array, index: number, bitDepth: 16 | 24): number {
  if (bitDepth === 16) {
    const o = index * 2;
    return ((pcm[o] | (pcm[o + 1] << 8)) << 16) >> 16;
  }
  const o = index * 3;
  return ((pcm[o] | (pcm[o + 1] << 8) | (pcm[o + 2] << 16)) << 8) >> 8;
}

/** Unpacks interleaved samples to integers at their own depth. */
export function unpackSamples(pcm: Uint8Array, bitDepth: 16 | 24): Int32Array {
  const count = pcm.byteLength / (bitDepth / 8);
  const out = new Int32Array(count);
  if (bitDepth === 16) {
    for (let i = 0, o = 0; i < count; i++, o += 2) {
      out[i] = ((pcm[o] | (pcm[o + 1] << 8)) << 16) >> 16;
    }
  } else {
    for (let i = 0, o = 0; i < count; i++, o += 3) {
      out[i] = ((pcm[o] | (pcm[o + 1] << 8) | (pcm[o + 2] << 16)) << 8) >> 8;
    }
  }
  return out;
}

/** Packs integer samples (already at `bitDepth`) to little-endian bytes. */
export function packSamples(samples: ArrayLike<number>, bitDepth: 16 | 24 | 32): Uint8Array {
  if (bitDepth === 16) {
    // Little-endian platforms (all we run on): a typed-array conversion is the packing.
    const out = new Int16Array(samples.length);
    out.set(samples);
    return new Uint8Array(out.buffer);
  }
  const bytes = bitDepth / 8;
  const out = new Uint8Array(samples.length * bytes);
  for (let i = 0, o = 0; i < samples.length; i++, o += bytes) {
    const s = samples[i];
    out[o] = s & 0xff;
    out[o + 1] = (s >> 8) & 0xff;
    if (bytes >= 3) out[o + 2] = (s >> 16) & 0xff;
    if (bytes === 4) out[o + 3] = (s >> 24) & 0xff;
  }
  return out;
}

/** A block of 16-bit interleaved samples (the demo's, or a test's). */
export function s16Block(samples: Int16Array, format: PcmFormat = DEMO_FORMAT): AudioBlock {
  return { format, pcm: new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength) };
}

/** Frames in `pcm` bytes of `format`. */
export function framesIn(format: PcmFormat, pcm: Uint8Array): number {
  return pcm.byteLength / bytesPerFrame(format);
}

/** How long `pcm` plays, rounded to µs: for expiry and lateness, never for stamping. */
export function pcmDurationUs(format: PcmFormat, pcm: Uint8Array): number {
  return Math.round((framesIn(format, pcm) * 1_000_000) / format.sampleRate);
}
