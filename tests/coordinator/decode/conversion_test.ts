import assert from "node:assert/strict";
import { decodeBuiltin } from "../../../coordinator/decode/builtin.ts";
import { floatToInt16, intToInt16 } from "../../../coordinator/decode/pcm_convert.ts";
import { collectPcm, inPieces } from "./helpers.ts";
import { buildWav, int16Bytes } from "./wav_builder.ts";

const ramp = (frames: number, step: number) =>
  Array.from({ length: frames }, (_, i) => (i * step) % 30000);

Deno.test("float samples become 16-bit like ffmpeg: round half to even, then clip", () => {
  assert.equal(floatToInt16(2.5 / 32768), 2);
  assert.equal(floatToInt16(3.5 / 32768), 4);
  assert.equal(floatToInt16(-2.5 / 32768), -2);
  assert.equal(floatToInt16(-3.5 / 32768), -4);
  assert.equal(floatToInt16(0.25 / 32768), 0);
  assert.equal(floatToInt16(1), 32767);
  assert.equal(floatToInt16(-1), -32768);
  assert.equal(floatToInt16(7), 32767);
  assert.equal(floatToInt16(-7), -32768);
});

Deno.test("integer samples become 16-bit by shifting, without rounding", () => {
  assert.equal(intToInt16(-1, 24), -1); // arithmetic shift: rounds toward minus infinity
  assert.equal(intToInt16(0x7fffff, 24), 32767);
  assert.equal(intToInt16(-0x800000, 24), -32768);
  assert.equal(intToInt16(0x12345678, 32), 0x1234);
  assert.equal(intToInt16(-128, 8), -32768);
});

Deno.test("a mono WAV plays the same samples on the left and the right", async () => {
  const samples = ramp(1000, 37);
  const wav = buildWav({
    formatTag: 1,
    channels: 1,
    sampleRate: 48000,
    bitsPerSample: 16,
    data: int16Bytes(samples),
  });
  const pcm = await collectPcm(decodeBuiltin(inPieces(wav, 100)));
  assert.deepEqual(Array.from(pcm), samples.flatMap((sample) => [sample, sample]));
});

Deno.test("an 8-bit WAV is unsigned and scales to full 16-bit range", async () => {
  const wav = buildWav({
    formatTag: 1,
    channels: 2,
    sampleRate: 48000,
    bitsPerSample: 8,
    data: new Uint8Array([0, 255, 128, 129]),
  });
  assert.deepEqual(Array.from(await collectPcm(decodeBuiltin(inPieces(wav)))), [
    -32768,
    32512,
    0,
    256,
  ]);
});

Deno.test("a 5.1 WAV is mixed down to stereo: centre to both sides, LFE dropped, no clipping", async () => {
  const frames = 480;
  const channels = 6; // FL FR FC LFE BL BR
  const samples: number[] = [];
  for (let i = 0; i < frames; i++) samples.push(0, 0, 20000, 30000, 0, 0);
  const wav = buildWav({
    formatTag: 1,
    channels,
    sampleRate: 48000,
    bitsPerSample: 16,
    data: int16Bytes(samples),
    channelMask: 0x3f,
  });
  const pcm = await collectPcm(decodeBuiltin(inPieces(wav)));
  assert.equal(pcm.length, frames * 2);
  // Each side: centre at -3 dB, normalised by that side's weights (1 + 0.707 + 0.707).
  const expected = Math.round((20000 * Math.SQRT1_2) / (1 + 2 * Math.SQRT1_2));
  for (const sample of pcm) assert.ok(Math.abs(sample - expected) <= 1, `${sample} vs ${expected}`);

  const loud: number[] = [];
  for (let i = 0; i < frames; i++) loud.push(32767, 32767, 32767, 32767, 32767, 32767);
  const loudWav = buildWav({
    formatTag: 1,
    channels,
    sampleRate: 48000,
    bitsPerSample: 16,
    data: int16Bytes(loud),
  });
  for (const sample of await collectPcm(decodeBuiltin(inPieces(loudWav)))) {
    assert.ok(sample <= 32767);
  }
});

Deno.test("a 44.1 kHz WAV comes out at 48 kHz with the duration kept", async () => {
  const frames = 44100;
  const samples = Array.from(
    { length: frames * 2 },
    (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * 440 * (i >> 1)) / 44100)),
  );
  const wav = buildWav({
    formatTag: 1,
    channels: 2,
    sampleRate: 44100,
    bitsPerSample: 16,
    data: int16Bytes(samples),
  });
  const pcm = await collectPcm(decodeBuiltin(inPieces(wav, 9000)));
  assert.equal(pcm.length, 48000 * 2);
  const peak = pcm.reduce((max, sample) => Math.max(max, Math.abs(sample)), 0);
  assert.ok(Math.abs(peak - 10000) < 100, `peak ${peak}`);
});
