/** Shared test helpers: ffmpeg for making inputs, byte streams in pieces, PCM collection. */
import { createHash } from "node:crypto";
import { hasFfmpeg as checkFfmpeg } from "../../../coordinator/sources/ffmpeg.ts";
import { floatToInt16 } from "../../../coordinator/decode/pcm_convert.ts";
import { type AudioBlock, type PcmFormat, unpackSamples } from "../../../protocol/pcm.ts";
import { Resampler } from "../../../protocol/resample.ts";

/** Whether ffmpeg can be run; tests that need it are skipped otherwise. */
export const hasFfmpeg: boolean = await checkFfmpeg();
if (!hasFfmpeg) console.log("ffmpeg is not on PATH: tests that need ffmpeg are skipped");

/** Runs ffmpeg quietly and returns its stdout; throws with its stderr on failure. */
export async function ffmpeg(args: string[]): Promise<Uint8Array> {
  const { success, stdout, stderr } = await new Deno.Command("ffmpeg", {
    args: ["-hide_banner", "-nostdin", "-v", "error", "-y", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(`ffmpeg ${args.join(" ")} failed: ${new TextDecoder().decode(stderr)}`);
  }
  return stdout;
}

/** ffmpeg's own decode of `path` to the timeline format, the reference for the built-in path. */
export async function ffmpegPcm(path: string): Promise<Int16Array> {
  const bytes = await ffmpeg(["-i", path, "-f", "s16le", "-ar", "48000", "-ac", "2", "-"]);
  return littleEndianInt16(bytes);
}

export function littleEndianInt16(bytes: Uint8Array): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Int16Array.from({ length: bytes.length >> 1 }, (_, i) => view.getInt16(2 * i, true));
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Yields `bytes` in pieces of random sizes from 1 to `maxPieceBytes`. */
export async function* inPieces(
  bytes: Uint8Array,
  maxPieceBytes = 5000,
  seed = 1,
): AsyncGenerator<Uint8Array> {
  const random = seededRandom(seed);
  for (let offset = 0; offset < bytes.length;) {
    const size = 1 + Math.floor(random() * maxPieceBytes);
    yield bytes.slice(offset, offset + size);
    offset += size;
  }
}

/**
 * The decoder's blocks as 48 kHz stereo s16, converted as ffmpeg would (`-ar 48000 -ac 2
 * -f s16le`), so a built-in decode compares with ffmpegPcm: 24-bit shifted down, mono on both
 * sides, another rate resampled.
 */
export async function collectPcm(blocks: AsyncIterable<AudioBlock>): Promise<Int16Array> {
  const parts: Int16Array[] = [];
  let resampler: Resampler | undefined;
  for await (const block of blocks) parts.push(toTimeline48(block, (r) => resampler ??= r));
  if (resampler) parts.push(floatsToStereo16(resampler.flush(), resampler.channels));
  const out = new Int16Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The blocks' formats, in order, each once per run. */
export async function collectFormats(blocks: AsyncIterable<AudioBlock>): Promise<PcmFormat[]> {
  const formats: PcmFormat[] = [];
  for await (const { format } of blocks) {
    const last = formats.at(-1);
    if (!last || JSON.stringify(last) !== JSON.stringify(format)) formats.push(format);
  }
  return formats;
}

function toTimeline48(block: AudioBlock, keep: (r: Resampler) => Resampler): Int16Array {
  const { sampleRate, bitDepth, channels } = block.format;
  const ints = unpackSamples(block.pcm, bitDepth);
  if (sampleRate === 48_000) {
    const out = new Int16Array((ints.length / channels) * 2);
    for (let f = 0; f < ints.length / channels; f++) {
      const left = ints[f * channels] >> (bitDepth - 16);
      const right = ints[f * channels + channels - 1] >> (bitDepth - 16);
      out[2 * f] = left;
      out[2 * f + 1] = right;
    }
    return out;
  }
  const resampler = keep(new Resampler({ fromRate: sampleRate, toRate: 48_000, channels }));
  const scale = 1 / 2 ** (bitDepth - 1);
  return floatsToStereo16(resampler.process(Float32Array.from(ints, (s) => s * scale)), channels);
}

function floatsToStereo16(samples: Float32Array, channels: number): Int16Array {
  if (channels === 2) return Int16Array.from(samples, floatToInt16);
  const out = new Int16Array(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out[2 * i] = out[2 * i + 1] = floatToInt16(samples[i]);
  return out;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Index of the first differing sample, or -1 (also compares lengths). */
export function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : length;
}

/** A fresh temporary directory, removed by the returned function. */
export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: "decode_test_" });
  return { path, remove: () => Deno.remove(path, { recursive: true }) };
}
