import assert from "node:assert/strict";
import { decodeFlac } from "../../../coordinator/decode/flac.ts";
import { inPieces, sha256Hex } from "./helpers.ts";

/** The Sendspin conformance suite's audio fixture: source, licence and values in its README. */
const FIXTURE = new URL("../../fixtures/almost_silent.flac", import.meta.url);
const FIXTURE_SHA256 = "8fdda8244e318c63cd8b699fe461cd7cdddbb729327a0ba00d1bfdbe2192fe17";
const CLIP_FRAMES = 40_000;

/** sha256 over little-endian float32 of each sample / 2^(bits-1), as the fixture README defines. */
function canonicalHash(samples: Int32Array, bitDepth: number): string {
  const bytes = new Uint8Array(samples.length * 4);
  const view = new DataView(bytes.buffer);
  samples.forEach((sample, i) => view.setFloat32(4 * i, sample / 2 ** (bitDepth - 1), true));
  return sha256Hex(bytes);
}

Deno.test("built-in FLAC decoder matches the published reference values", async () => {
  const bytes = await Deno.readFile(FIXTURE);
  assert.equal(sha256Hex(bytes), FIXTURE_SHA256, "the fixture is the published file, unchanged");
  const clip = new Int32Array(CLIP_FRAMES);
  let frames = 0;
  for await (const block of decodeFlac(inPieces(bytes, 4096))) {
    assert.equal(block.sampleRate, 8000);
    assert.equal(block.bitDepth, 24);
    assert.equal(block.channels.length, 1);
    const samples = block.channels[0];
    if (frames < CLIP_FRAMES) clip.set(samples.subarray(0, CLIP_FRAMES - frames), frames);
    frames += samples.length;
  }
  assert.equal(frames, 496_384);

  const s16 = clip.map((sample) => sample >> 8);
  const s16Bytes = new Uint8Array(CLIP_FRAMES * 2);
  const view = new DataView(s16Bytes.buffer);
  s16.forEach((sample, i) => view.setInt16(2 * i, sample, true));
  assert.equal(
    sha256Hex(s16Bytes),
    "b3481a3f75dea856a961e7842d12f8344c7147b3925f9f0b67c5445700bd4cf2",
  );
  assert.equal(
    canonicalHash(clip, 24),
    "f9ae8fe5e6c34fc6baa67cbb4a97224d777a0bfacf6d996449be1054824f66bf",
  );
  assert.equal(
    canonicalHash(s16, 16),
    "9d447b5b270bc99b45bb9a616937e436c941ca56c477f9cbe16a93275a6b059e",
  );
});
