import assert from "node:assert/strict";
import { FLACDecoder } from "@wasm-audio-decoders/flac";
import type { AudioFormat } from "../../../protocol/messages.ts";
import { CHUNK_FRAMES, SAMPLE_RATE } from "../../../protocol/pcm.ts";
import { Resampler } from "../../../protocol/resample.ts";
import {
  canEncodeFlac,
  FlacEncoder,
  flacUnsupportedReason,
} from "../../../worker/encoders/flac/flac_encoder.ts";
import {
  FrameEncoder,
  INDEPENDENT,
  LEFT_SIDE,
  MID_SIDE,
  RIGHT_SIDE,
} from "../../../worker/encoders/flac/frame.ts";
import { streamHeader } from "../../../worker/encoders/flac/stream_info.ts";
import {
  SUBFRAME_CONSTANT,
  SUBFRAME_FIXED,
  SUBFRAME_LPC,
  SubframeCoder,
} from "../../../worker/encoders/flac/subframe.ts";
import { PcmEncoder } from "../../../worker/encoders/pcm_encoder.ts";
import { ignoreUnless } from "../../support/skip.ts";

// ---------------------------------------------------------------------------------------------
// Signals

/** Deterministic uniform numbers in [-1, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  };
}

function clamp16(value: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(value)));
}

/**
 * Timeline audio (48k stereo interleaved) that exercises the encoder: digital silence, a
 * chord with an envelope and noise, a DC step, full-scale peaks, near-silence, one channel
 * silent, white noise, and a click.
 */
function musicLike(chunks: number, seed = 1): Int16Array {
  const rnd = random(seed);
  const out = new Int16Array(chunks * CHUNK_FRAMES * 2);
  for (let i = 0; i < chunks * CHUNK_FRAMES; i++) {
    const chunk = Math.floor(i / CHUNK_FRAMES) % 10;
    const t = i / SAMPLE_RATE;
    let tones = 0;
    for (const [freq, amp] of [[220, 1], [330, 0.6], [440, 0.4], [554.37, 0.3], [1760, 0.1]]) {
      tones += amp * Math.sin(2 * Math.PI * freq * t + freq);
    }
    const envelope = 0.55 + 0.45 * Math.sin(2 * Math.PI * 1.3 * t);
    let left = 4000 * envelope * tones + 150 * rnd();
    let right = 0.7 * left + 2500 * Math.sin(2 * Math.PI * 97 * t) + 150 * rnd();
    switch (chunk) {
      case 0: // the party starts quietly
        left = right = 0;
        break;
      case 3: // a DC step half-way through the chunk
        if (i % CHUNK_FRAMES >= CHUNK_FRAMES / 2) (left += 9000), (right -= 7000);
        break;
      case 4: // loud and clipped: plenty of exact full-scale samples
        left *= 6;
        right *= 6;
        break;
      case 5: // near-silence: dither
        left = Math.round(rnd());
        right = Math.round(rnd());
        break;
      case 6: // left silent
        left = 0;
        break;
      case 7: // white noise
        left = 32768 * rnd();
        right = 32768 * rnd();
        break;
      case 8: // a click in silence
        left = right = i % CHUNK_FRAMES === 100 ? 32767 : i % CHUNK_FRAMES === 101 ? -32768 : 0;
        break;
    }
    out[2 * i] = clamp16(left);
    out[2 * i + 1] = clamp16(right);
  }
  return out;
}

function chunksOf(samples: Int16Array): Uint8Array[] {
  const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK_FRAMES * 4) {
    chunks.push(bytes.slice(offset, offset + CHUNK_FRAMES * 4));
  }
  return chunks;
}

/** What the listener should hear at 48 kHz, by formula: interleaved output samples. */
function expected48k(input: Int16Array, channels: number, bits: number): Int32Array {
  const frames = input.length / 2;
  const out = new Int32Array(frames * channels);
  const shift = bits - 16;
  for (let f = 0; f < frames; f++) {
    if (channels === 1) out[f] = clamp16((input[2 * f] + input[2 * f + 1]) / 2) << shift;
    else {
      out[2 * f] = input[2 * f] << shift;
      out[2 * f + 1] = input[2 * f + 1] << shift;
    }
  }
  return out;
}

/** PcmEncoder's output for the same format, as interleaved integers. */
function pcmReference(format: AudioFormat, chunks: Uint8Array[]): Int32Array {
  const encoder = new PcmEncoder({ ...format, codec: "pcm" });
  const payloads = chunks.flatMap((chunk) => encoder.encode(chunk).map((u) => u.payload));
  const bytes = concat(payloads);
  const width = format.bit_depth / 8;
  const out = new Int32Array(bytes.length / width);
  for (let i = 0; i < out.length; i++) {
    let value = 0;
    for (let b = width - 1; b >= 0; b--) value = value * 256 + bytes[i * width + b];
    out[i] = value >= 2 ** (8 * width - 1) ? value - 2 ** (8 * width) : value;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoding and decoding

const FORMATS_48K: AudioFormat[] = [
  { codec: "flac", sample_rate: 48_000, channels: 2, bit_depth: 16 },
  { codec: "flac", sample_rate: 48_000, channels: 1, bit_depth: 16 },
  { codec: "flac", sample_rate: 48_000, channels: 2, bit_depth: 24 },
  { codec: "flac", sample_rate: 48_000, channels: 1, bit_depth: 24 },
];

function label(format: AudioFormat): string {
  return `${format.sample_rate}/${format.channels}/${format.bit_depth}`;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

interface Encoded {
  header: Uint8Array;
  payloads: Uint8Array[];
  frames: number[];
}

function encodeAll(format: AudioFormat, chunks: Uint8Array[]): Encoded {
  const encoder = new FlacEncoder(format);
  assert.ok(encoder.codecHeader);
  const units = chunks.flatMap((chunk) => encoder.encode(chunk));
  return {
    header: fromBase64(encoder.codecHeader),
    payloads: units.map((u) => u.payload),
    frames: units.map((u) => u.frames),
  };
}

interface Decoded {
  sampleRate: number;
  bitDepth: number;
  /** Interleaved integers. */
  samples: Int32Array;
}

const decoder = new FLACDecoder();
await decoder.ready;

/** libFLAC (wasm) via @wasm-audio-decoders/flac, floats scaled back to integers. */
async function decodeWasm(file: Uint8Array): Promise<Decoded> {
  const parts = [await decoder.decode(file), await decoder.flush()];
  for (const part of parts) assert.deepEqual(part.errors, [], "the decoder reported errors");
  // A call that decoded nothing may name no channels, rate or depth.
  const { sampleRate, bitDepth, channelData } = parts.find((part) => part.samplesDecoded) ??
    parts[0];
  const channels = channelData.length;
  const scale = 2 ** (bitDepth - 1) - 1;
  const total = parts.reduce((sum, part) => sum + part.samplesDecoded, 0);
  const samples = new Int32Array(total * channels);
  let frame = 0;
  for (const part of parts) {
    for (let i = 0; i < part.samplesDecoded; i++, frame++) {
      for (let c = 0; c < channels; c++) {
        samples[frame * channels + c] = Math.round(part.channelData[c][i] * scale);
      }
    }
  }
  return { sampleRate, bitDepth, samples };
}

const FFMPEG = await (async () => {
  try {
    const { success } = await new Deno.Command("ffmpeg", { args: ["-version"], stdout: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
})();
const NO_FFMPEG = ignoreUnless(
  FFMPEG,
  "ffmpeg is not on PATH: the ffmpeg decoding test, and the ffmpeg cross-checks in the " +
    "late-joiner, 44.1 kHz and LPC tests (those still check with libFLAC)",
);

/** ffmpeg's own FLAC decoder: interleaved integers at `bits`. */
async function decodeFfmpeg(file: Uint8Array, bits: number): Promise<Int32Array> {
  const sampleFormat = bits === 16 ? "s16le" : "s24le";
  const child = new Deno.Command("ffmpeg", {
    args: [
      ...["-hide_banner", "-loglevel", "error", "-f", "flac", "-i", "pipe:0"],
      ...["-c:a", `pcm_${sampleFormat}`, "-f", sampleFormat, "-"],
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  const writer = child.stdin.getWriter();
  await writer.write(file);
  await writer.close();
  const { success, stdout, stderr } = await output;
  const errors = new TextDecoder().decode(stderr);
  assert.ok(success && errors === "", `ffmpeg failed: ${errors}`);
  const width = bits / 8;
  const out = new Int32Array(stdout.length / width);
  for (let i = 0; i < out.length; i++) {
    const o = i * width;
    out[i] = bits === 16
      ? (stdout[o] | (stdout[o + 1] << 24 >> 16))
      : (stdout[o] | (stdout[o + 1] << 8) | (stdout[o + 2] << 24 >> 8));
  }
  return out;
}

function assertSamples(actual: Int32Array, expected: Int32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: sample count`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(`${what}: sample ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

const CHUNKS = 10;
const INPUT = musicLike(CHUNKS);
const INPUT_CHUNKS = chunksOf(INPUT);

// ---------------------------------------------------------------------------------------------
// Lossless round trips

Deno.test("FLAC frames plus codec_header decode bit-identically with an independent decoder", async () => {
  for (const format of FORMATS_48K) {
    const { header, payloads, frames } = encodeAll(format, INPUT_CHUNKS);
    assert.deepEqual(frames, Array(CHUNKS).fill(CHUNK_FRAMES), label(format));
    const decoded = await decodeWasm(concat([header, ...payloads]));
    assert.equal(decoded.sampleRate, 48_000);
    assert.equal(decoded.bitDepth, format.bit_depth);
    const expected = expected48k(INPUT, format.channels, format.bit_depth);
    assertSamples(decoded.samples, expected, `libFLAC, ${label(format)}`);
  }
});

Deno.test({
  name: "FLAC frames plus codec_header decode bit-identically with ffmpeg",
  ignore: NO_FFMPEG,
  async fn() {
    for (const format of FORMATS_48K) {
      const { header, payloads } = encodeAll(format, INPUT_CHUNKS);
      const decoded = await decodeFfmpeg(concat([header, ...payloads]), format.bit_depth);
      const expected = expected48k(INPUT, format.channels, format.bit_depth);
      assertSamples(decoded, expected, `ffmpeg, ${label(format)}`);
    }
  },
});

Deno.test("a late joiner decoding codec_header plus frames k.. gets exactly chunks k..", async () => {
  const format = FORMATS_48K[0];
  const { header, payloads } = encodeAll(format, INPUT_CHUNKS);
  const expected = expected48k(INPUT, 2, 16);
  for (const k of [1, 4, 7]) {
    const tail = concat([header, ...payloads.slice(k)]);
    const from = k * CHUNK_FRAMES * 2;
    assertSamples((await decodeWasm(tail)).samples, expected.subarray(from), `libFLAC from ${k}`);
    if (FFMPEG) assertSamples(await decodeFfmpeg(tail, 16), expected.subarray(from), `ffmpeg ${k}`);
  }
});

Deno.test("codec_header plus any one frame is a whole file (how sendspin-js decodes)", async () => {
  for (const format of [FORMATS_48K[0], FORMATS_48K[3]]) {
    const { header, payloads } = encodeAll(format, INPUT_CHUNKS);
    const expected = expected48k(INPUT, format.channels, format.bit_depth);
    const size = CHUNK_FRAMES * format.channels;
    for (const [k, payload] of payloads.entries()) {
      const decoded = await decodeWasm(concat([header, payload]));
      const what = `${label(format)} frame ${k} alone`;
      assertSamples(decoded.samples, expected.subarray(k * size, (k + 1) * size), what);
    }
  }
});

Deno.test("44.1 kHz output: 2646-frame units that decode to the resampled signal", async () => {
  for (const channels of [2, 1]) {
    const format: AudioFormat = { codec: "flac", sample_rate: 44_100, channels, bit_depth: 16 };
    const { header, payloads, frames } = encodeAll(format, INPUT_CHUNKS);
    // One chunk behind, as PcmEncoder: the filter's look-ahead.
    assert.deepEqual(frames, Array(CHUNKS - 1).fill(2646));
    const pcm = new PcmEncoder({ ...format, codec: "pcm" });
    assert.deepEqual(frames, INPUT_CHUNKS.flatMap((c) => pcm.encode(c).map((u) => u.frames)));
    const decoded = await decodeWasm(concat([header, ...payloads]));
    assert.equal(decoded.sampleRate, 44_100);
    // Exactly what PcmEncoder sends a 44.1 kHz listener: same resampling, cuts and rounding.
    assertSamples(decoded.samples, pcmReference(format, INPUT_CHUNKS), `PCM 44.1k/${channels}`);
    if (channels === 1) continue;
    // And, from the resampler itself, the floats rounded to 16 bits.
    const resampler = new Resampler({ fromRate: 48_000, toRate: 44_100, channels: 2 });
    const floats = resampler.process(Float32Array.from(INPUT, (s) => s / 32768));
    const resampled = Int32Array.from(
      floats.subarray(0, decoded.samples.length),
      (x) => clamp16(x * 32768),
    );
    assertSamples(decoded.samples, resampled, "resampler 44.1k");
    if (FFMPEG) {
      assertSamples(
        await decodeFfmpeg(concat([header, ...payloads]), 16),
        resampled,
        "ffmpeg 44.1k",
      );
    }
  }
});

Deno.test("mono and 24-bit FLAC carry exactly the samples PcmEncoder sends", async () => {
  for (const format of [FORMATS_48K[1], FORMATS_48K[2], FORMATS_48K[3]]) {
    const { header, payloads } = encodeAll(format, INPUT_CHUNKS);
    const decoded = await decodeWasm(concat([header, ...payloads]));
    assertSamples(decoded.samples, pcmReference(format, INPUT_CHUNKS), `PCM ${label(format)}`);
  }
});

Deno.test("uncommon sample rates use explicit header codes and still decode", async () => {
  const chunks = INPUT_CHUNKS.slice(1, 4);
  for (
    const [rate, code] of [
      [8_000, 4],
      [11_025, 13], // 16-bit Hz
      [12_000, 12], // 8-bit kHz
      [22_050, 6],
      [88_200, 1],
      [100_010, 14], // 16-bit tens of Hz
      [100_000, 12],
      [192_000, 3],
    ]
  ) {
    const format: AudioFormat = { codec: "flac", sample_rate: rate, channels: 2, bit_depth: 16 };
    const { header, payloads, frames } = encodeAll(format, chunks);
    const unit = Math.floor((CHUNK_FRAMES * rate) / 48_000);
    assert.deepEqual(frames, [unit, unit], `${rate} Hz units`);
    for (const payload of payloads) assert.equal(parseFrameHeader(payload).rateCode, code);
    const decoded = await decodeWasm(concat([header, ...payloads]));
    assert.equal(decoded.sampleRate, rate);
    assertSamples(decoded.samples, pcmReference(format, chunks), `${rate} Hz`);
  }
});

// ---------------------------------------------------------------------------------------------
// Headers

/** Bit-at-a-time CRCs, independent of the encoder's table-driven ones. */
function crc(bytes: Uint8Array, width: number, polynomial: number): number {
  let value = 0;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const top = ((value >> (width - 1)) & 1) ^ ((byte >> bit) & 1);
      value = ((value << 1) & ((1 << width) - 1)) ^ (top ? polynomial : 0);
    }
  }
  return value;
}

interface FrameHeader {
  blockSize: number;
  rateCode: number;
  rate?: number;
  channelAssignment: number;
  sizeCode: number;
  frameNumber: number;
}

/** Parses and checks a frame header (sync, reserved bits, CRC-8) and the frame's CRC-16. */
function parseFrameHeader(frame: Uint8Array): FrameHeader {
  assert.equal(frame[0], 0xff, "sync");
  assert.equal(frame[1], 0xf8, "sync, reserved bit, fixed-blocksize strategy");
  const blockCode = frame[2] >> 4;
  const rateCode = frame[2] & 0x0f;
  const channelAssignment = frame[3] >> 4;
  const sizeCode = (frame[3] >> 1) & 7;
  assert.equal(frame[3] & 1, 0, "reserved bit");
  let pos = 4;
  // UTF-8 coded frame number.
  let length = 0;
  while (frame[pos] & (0x80 >> length)) length++;
  assert.notEqual(length, 1, "frame number coding");
  let frameNumber = length === 0 ? frame[pos] : frame[pos] & (0x7f >> length);
  for (let i = 1; i < length; i++) {
    assert.equal(frame[pos + i] >> 6, 2, "frame number continuation byte");
    frameNumber = frameNumber * 64 + (frame[pos + i] & 0x3f);
  }
  pos += Math.max(1, length);
  let blockSize: number;
  if (blockCode === 1) blockSize = 192;
  else if (blockCode >= 2 && blockCode <= 5) blockSize = 576 << (blockCode - 2);
  else if (blockCode === 6) blockSize = frame[pos++] + 1;
  else if (blockCode === 7) blockSize = ((frame[pos++] << 8) | frame[pos++]) + 1;
  else if (blockCode >= 8) blockSize = 256 << (blockCode - 8);
  else throw new Error("reserved block size code");
  let rate: number | undefined;
  if (rateCode === 12) rate = frame[pos++] * 1000;
  else if (rateCode === 13) rate = (frame[pos++] << 8) | frame[pos++];
  else if (rateCode === 14) rate = ((frame[pos++] << 8) | frame[pos++]) * 10;
  else assert.notEqual(rateCode, 15, "invalid sample rate code");
  assert.equal(frame[pos], crc(frame.subarray(0, pos), 8, 0x07), "CRC-8");
  const end = frame.length - 2;
  assert.equal(
    (frame[end] << 8) | frame[end + 1],
    crc(frame.subarray(0, end), 16, 0x8005),
    "CRC-16",
  );
  return { blockSize, rateCode, rate, channelAssignment, sizeCode, frameNumber };
}

Deno.test("codec_header is fLaC plus a last STREAMINFO block whose fields parse back", () => {
  for (
    const [rate, channels, bits, blockSize] of [
      [48_000, 2, 16, 2880],
      [44_100, 1, 24, 2646],
      [192_000, 2, 24, 11520],
      [8_000, 1, 16, 480],
    ]
  ) {
    const encoder = new FlacEncoder({
      codec: "flac",
      sample_rate: rate,
      channels,
      bit_depth: bits,
    });
    const header = fromBase64(encoder.codecHeader);
    assert.equal(header.length, 42);
    assert.equal(new TextDecoder().decode(header.subarray(0, 4)), "fLaC");
    assert.equal(header[4], 0x80, "last metadata block, type STREAMINFO");
    assert.equal((header[5] << 16) | (header[6] << 8) | header[7], 34, "block length");
    const info = header.subarray(8);
    const view = new DataView(info.buffer, info.byteOffset);
    assert.equal(view.getUint16(0), blockSize, "minimum block size");
    assert.equal(view.getUint16(2), blockSize, "maximum block size");
    assert.deepEqual([...info.subarray(4, 10)], [0, 0, 0, 0, 0, 0], "frame sizes unknown");
    assert.equal((info[10] << 12) | (info[11] << 4) | (info[12] >> 4), rate, "sample rate");
    assert.equal(((info[12] >> 1) & 7) + 1, channels, "channels");
    assert.equal((((info[12] & 1) << 4) | (info[13] >> 4)) + 1, bits, "bits per sample");
    assert.equal(info[13] & 0x0f, 0, "total samples unknown");
    assert.deepEqual([...info.subarray(14, 18)], [0, 0, 0, 0], "total samples unknown");
    assert.deepEqual([...info.subarray(18)], Array(16).fill(0), "no MD5");
  }
});

Deno.test("each payload is one FLAC frame: sync, header codes, frame number from 0, CRCs", () => {
  for (const format of [...FORMATS_48K, { ...FORMATS_48K[2], sample_rate: 44_100 }]) {
    const { payloads, frames } = encodeAll(format, INPUT_CHUNKS);
    for (const [index, payload] of payloads.entries()) {
      const header = parseFrameHeader(payload);
      assert.equal(header.frameNumber, index);
      assert.equal(header.blockSize, frames[index]);
      assert.equal(header.rateCode, format.sample_rate === 48_000 ? 10 : 9);
      assert.equal(header.sizeCode, format.bit_depth === 16 ? 4 : 6);
      if (format.channels === 1) assert.equal(header.channelAssignment, 0);
      else assert.ok([1, 8, 9, 10].includes(header.channelAssignment));
    }
  }
  // Frame numbers past one byte use the multi-byte coding; a fresh encoder starts at 0 again.
  const encoder = new FlacEncoder(FORMATS_48K[0]);
  const silence = new Uint8Array(CHUNK_FRAMES * 4);
  for (let i = 0; i < 200; i++) {
    assert.equal(parseFrameHeader(encoder.encode(silence)[0].payload).frameNumber, i);
  }
  const fresh = new FlacEncoder(FORMATS_48K[0]);
  assert.equal(parseFrameHeader(fresh.encode(silence)[0].payload).frameNumber, 0);
  // Every length of the UTF-8 coding, up to the largest 31-bit number.
  const frames = new FrameEncoder({ sampleRate: 48_000, channels: 2, bitsPerSample: 16 });
  const zeros = [new Int32Array(CHUNK_FRAMES), new Int32Array(CHUNK_FRAMES)];
  for (
    const number of [0x7f, 0x80, 0x7ff, 0x800, 0xffff, 0x10000, 0x1fffff, 0x200000, 0x3ffffff]
      .concat([0x4000000, 2 ** 31 - 1])
  ) {
    const header = parseFrameHeader(frames.encode(zeros, CHUNK_FRAMES, number));
    assert.equal(header.frameNumber, number);
  }
});

// ---------------------------------------------------------------------------------------------
// Sizes and choices

Deno.test("silence encodes as CONSTANT subframes in a few bytes", async () => {
  for (const format of FORMATS_48K) {
    const encoder = new FlacEncoder(format);
    const silence = new Uint8Array(CHUNK_FRAMES * 4);
    const [{ payload }] = encoder.encode(silence);
    // Header (8 bytes with a 16-bit block size) + per channel 1 + bits/8 bytes + CRC-16.
    assert.equal(payload.length, 8 + format.channels * (1 + format.bit_depth / 8) + 2);
    const decoded = await decodeWasm(concat([fromBase64(encoder.codecHeader), payload]));
    assertSamples(decoded.samples, new Int32Array(CHUNK_FRAMES * format.channels), "silence");
  }
});

Deno.test("white noise never takes more than verbatim size plus the frame header", async () => {
  const rnd = random(7);
  const noise = Int16Array.from({ length: 4 * CHUNK_FRAMES * 2 }, () => clamp16(32768 * rnd()));
  const chunks = chunksOf(noise);
  for (const format of FORMATS_48K) {
    const { header, payloads } = encodeAll(format, chunks);
    // Header at most 16 bytes, per channel a 1-byte subframe header, CRC-16.
    const verbatim = 16 + format.channels * (1 + (CHUNK_FRAMES * 16) / 8) + 2;
    for (const payload of payloads) assert.ok(payload.length <= verbatim, `${payload.length}`);
    const decoded = await decodeWasm(concat([header, ...payloads]));
    assertSamples(decoded.samples, expected48k(noise, format.channels, format.bit_depth), "noise");
  }
});

Deno.test("music-like audio compresses well below PCM size", () => {
  const { payloads } = encodeAll(FORMATS_48K[0], INPUT_CHUNKS);
  // Tones with a noise floor of +-150 (about 8 bits of entropy per sample).
  for (const k of [1, 2, 3, 9]) {
    const ratio = payloads[k].length / (CHUNK_FRAMES * 4);
    assert.ok(ratio < 0.6, `chunk ${k}: ratio ${ratio}`);
  }
  // The chord alone, with +-1 dither.
  const rnd = random(5);
  const clean = Int16Array.from({ length: 4 * CHUNK_FRAMES * 2 }, (_, i) => {
    const t = Math.floor(i / 2) / SAMPLE_RATE;
    const chord = Math.sin(2 * Math.PI * 220 * t) + 0.6 * Math.sin(2 * Math.PI * 330 * t) +
      0.4 * Math.sin(2 * Math.PI * (i % 2 ? 440 : 554.37) * t);
    return clamp16(8000 * chord + rnd());
  });
  const clean48 = encodeAll(FORMATS_48K[0], chunksOf(clean)).payloads;
  for (const k of [1, 2, 3]) {
    const ratio = clean48[k].length / (CHUNK_FRAMES * 4);
    assert.ok(ratio < 0.3, `clean chunk ${k}: ratio ${ratio}`);
  }
});

Deno.test("LPC subframes decode and beat fixed predictors on tonal audio", async () => {
  const n = CHUNK_FRAMES;
  const rnd = random(9);
  const tonal = Int32Array.from(
    { length: n },
    (_, i) => clamp16(6000 * Math.sin(i / 5) + 4000 * Math.sin(i / 1.7 + 1) + 30 * rnd()),
  );
  const lpc = new SubframeCoder();
  lpc.plan(tonal, n, 16);
  const lpcBits = lpc.finish();
  assert.equal(lpc.kind, SUBFRAME_LPC);
  assert.ok(lpc.order >= 1 && lpc.order <= 8);
  const fixed = new SubframeCoder({ maxLpcOrder: 0 });
  fixed.plan(tonal, n, 16);
  const fixedBits = fixed.finish();
  assert.equal(fixed.kind, SUBFRAME_FIXED);
  assert.ok(lpcBits < 0.85 * fixedBits, `LPC ${lpcBits} bits, fixed ${fixedBits} bits`);
  assertSamples((await decodeFrame([tonal], 16)).samples, tonal, "LPC mono");
  const other = tonal.map((v, i) => clamp16(0.5 * v + 3000 * Math.sin(i / 11)));
  const stereo = [tonal.map((v) => v << 8), other.map((v) => v << 8)];
  assertSamples((await decodeFrame(stereo, 24)).samples, interleave(stereo), "LPC 24-bit");
  if (FFMPEG) {
    const frames = new FrameEncoder({ sampleRate: 48_000, channels: 1, bitsPerSample: 16 });
    const header = streamHeader({
      blockSize: n,
      sampleRate: 48_000,
      channels: 1,
      bitsPerSample: 16,
    });
    assertSamples(
      await decodeFfmpeg(concat([header, frames.encode([tonal], n, 0)]), 16),
      tonal,
      "ffmpeg LPC",
    );
  }
});

/** A FrameEncoder frame behind a matching STREAMINFO, decoded. */
function decodeFrame(channels: Int32Array[], bits: number): Promise<Decoded> {
  const frames = new FrameEncoder({
    sampleRate: 48_000,
    channels: channels.length,
    bitsPerSample: bits,
  });
  const n = channels[0].length;
  const payload = frames.encode(channels, n, 0);
  const header = streamHeader({
    blockSize: n,
    sampleRate: 48_000,
    channels: channels.length,
    bitsPerSample: bits,
  });
  return decodeWasm(concat([header, payload]));
}

function interleave(channels: Int32Array[]): Int32Array {
  const out = new Int32Array(channels[0].length * channels.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = channels[i % channels.length][Math.floor(i / channels.length)];
  }
  return out;
}

Deno.test("stereo picks each of independent, left/side, right/side and mid/side where cheapest", async () => {
  const n = CHUNK_FRAMES;
  const rnd = random(3);
  const smooth = Int32Array.from({ length: n }, (_, i) => Math.round(9000 * Math.sin(i / 40)));
  const noise = (amp: number) => Int32Array.from({ length: n }, () => Math.round(amp * rnd()));
  const plus = (a: Int32Array, b: Int32Array) => a.map((v, i) => v + b[i]);
  const minus = (a: Int32Array, b: Int32Array) => a.map((v, i) => v - b[i]);
  const loud = noise(20000);
  const cases: [number, Int32Array[]][] = [
    [INDEPENDENT, [noise(20000), smooth]],
    [LEFT_SIDE, [smooth, plus(smooth, noise(1000))]],
    [RIGHT_SIDE, [plus(smooth, noise(1000)), smooth]],
    [MID_SIDE, [plus(smooth, loud), minus(smooth, loud)]],
  ];
  for (const [assignment, channels] of cases) {
    const frames = new FrameEncoder({ sampleRate: 48_000, channels: 2, bitsPerSample: 16 });
    frames.encode(channels, n, 0);
    assert.equal(frames.channelAssignment, assignment);
    assertSamples((await decodeFrame(channels, 16)).samples, interleave(channels), `${assignment}`);
  }
});

Deno.test("Rice parameters of 15 and more switch to 5-bit parameters and decode", async () => {
  // Quiet first half, full-scale noise second half: partitioned Rice coding beats verbatim,
  // and the loud partitions need parameters of 15 and more.
  const n = CHUNK_FRAMES;
  const rnd = random(11);
  const channel = Int32Array.from(
    { length: n },
    (_, i) => (i < n / 2 ? Math.round(20 * Math.sin(i / 9)) : clamp16(32768 * rnd())),
  );
  const coder = new SubframeCoder();
  coder.plan(channel, n, 16);
  coder.finish();
  assert.equal(coder.kind, SUBFRAME_FIXED);
  assert.ok(coder.rice2, "5-bit Rice parameters");
  assert.ok(coder.partitionOrder > 0);
  assert.ok(coder.bits < 16 * n);
  const frames = new FrameEncoder({ sampleRate: 48_000, channels: 1, bitsPerSample: 16 });
  frames.encode([channel], n, 0);
  assert.ok(frames.subframes[0].rice2);
  assertSamples((await decodeFrame([channel], 16)).samples, channel, "RICE2 mono");
  // The same in a 24-bit side channel (25-bit subframe samples, no wasted bits).
  const left = channel.map((v) => v * 256 + 3);
  const right = channel.map((v) => -v * 255);
  assertSamples(
    (await decodeFrame([left, right], 24)).samples,
    interleave([left, right]),
    "24-bit",
  );
});

Deno.test("wasted low bits are shifted out: 24-bit costs about what 16-bit does", () => {
  const coder = new SubframeCoder();
  const n = CHUNK_FRAMES;
  const channel = Int32Array.from({ length: n }, (_, i) => Math.round(9000 * Math.sin(i / 7)));
  coder.plan(channel, n, 16);
  const bits16 = coder.finish();
  coder.plan(channel.map((v) => v << 8), n, 24);
  assert.equal(coder.wasted, 8);
  assert.equal(coder.finish(), bits16 + 8);
  coder.plan(new Int32Array(n).fill(-5), n, 16);
  assert.equal(coder.kind, SUBFRAME_CONSTANT);
  assert.equal(coder.finish(), 8 + 16);
});

Deno.test("formats FLAC cannot carry are refused", () => {
  for (
    const format of [
      { channels: 3, bit_depth: 16, sample_rate: 48_000 },
      { channels: 2, bit_depth: 32, sample_rate: 48_000 },
      { channels: 2, bit_depth: 16, sample_rate: 96_001 }, // no frame-header code
      { channels: 2, bit_depth: 16, sample_rate: 700_000 },
      { channels: 2, bit_depth: 16, sample_rate: 200 }, // 12-frame blocks
    ]
  ) {
    const flac: AudioFormat = { codec: "flac", ...format };
    assert.equal(canEncodeFlac(flac), false);
    assert.throws(() => new FlacEncoder(flac), RangeError, flacUnsupportedReason(flac));
  }
  for (let rate = 8_000; rate <= 192_000; rate += 50) {
    const format: AudioFormat = { codec: "flac", sample_rate: rate, channels: 2, bit_depth: 16 };
    assert.ok(canEncodeFlac(format), `${rate} Hz`);
  }
});
