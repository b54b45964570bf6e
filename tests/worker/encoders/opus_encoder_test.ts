import assert from "node:assert/strict";
import { OpusDecoder } from "opus-decoder";
import { OPUS_LOOKAHEAD_FRAMES, OpusEncoder } from "../../../worker/encoders/opus_encoder.ts";
import { CHUNK_FRAMES } from "../../../protocol/pcm.ts";

/** Tonal stereo material: a chord on the left, another on the right, slowly swelling. */
function tonal(frames: number): Int16Array {
  const out = new Int16Array(frames * 2);
  for (let i = 0; i < frames; i++) {
    const t = i / 48_000;
    const swell = 0.6 + 0.4 * Math.sin(2 * Math.PI * 0.5 * t);
    const left = Math.sin(2 * Math.PI * 220 * t) + 0.5 * Math.sin(2 * Math.PI * 330 * t);
    const right = Math.sin(2 * Math.PI * 277 * t) + 0.5 * Math.sin(2 * Math.PI * 415 * t);
    out[2 * i] = Math.round(9_000 * swell * left);
    out[2 * i + 1] = Math.round(9_000 * swell * right);
  }
  return out;
}

async function roundTrip(source: Int16Array, channels: number) {
  const encoder = new OpusEncoder({ codec: "opus", sample_rate: 48_000, channels, bit_depth: 16 });
  await encoder.ready;
  const decoder = new OpusDecoder({ channels, preSkip: 0 });
  await decoder.ready;
  const decoded: Float32Array[] = Array.from({ length: channels }, () => new Float32Array(0));
  const packetBytes: number[] = [];
  for (let offset = 0; offset + CHUNK_FRAMES * 2 <= source.length; offset += CHUNK_FRAMES * 2) {
    const chunk = source.slice(offset, offset + CHUNK_FRAMES * 2);
    const units = encoder.encode(new Uint8Array(chunk.buffer));
    assert.equal(units.length, 1, "one packet per chunk");
    assert.equal(units[0].frames, CHUNK_FRAMES);
    packetBytes.push(units[0].payload.byteLength);
    const { channelData } = decoder.decodeFrame(units[0].payload);
    for (let c = 0; c < channels; c++) {
      const joined = new Float32Array(decoded[c].length + channelData[c].length);
      joined.set(decoded[c]);
      joined.set(channelData[c], decoded[c].length);
      decoded[c] = joined;
    }
  }
  encoder.close();
  decoder.free();
  return { decoded, packetBytes };
}

/** SNR in dB of `decoded` (delayed by `lag`) against channel `c` of the source. */
function snrDb(source: Int16Array, decoded: Float32Array, c: number, lag: number, skip = 4_800) {
  let signal = 0, noise = 0;
  for (let n = skip; n + lag < decoded.length; n++) {
    const want = source[2 * n + c] / 32768;
    signal += want * want;
    noise += (decoded[n + lag] - want) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

Deno.test("Opus packets decode (independent decoder) to the source with SNR above 20 dB", async () => {
  const source = tonal(48_000 * 3);
  const { decoded, packetBytes } = await roundTrip(source, 2);
  for (const c of [0, 1]) {
    const snr = snrDb(source, decoded[c], c, OPUS_LOOKAHEAD_FRAMES);
    assert.ok(snr >= 20, `channel ${c}: SNR ${snr.toFixed(1)} dB`);
    console.log(`Opus SNR channel ${c}: ${snr.toFixed(1)} dB`);
  }
  const kbps = (packetBytes.reduce((a, b) => a + b, 0) * 8) / 3 / 1000;
  assert.ok(kbps > 90 && kbps < 170, `about 128 kbit/s by default, got ${kbps.toFixed(0)}`);
});

Deno.test("the Opus look-ahead is what the timestamps compensate: the best lag is 312 frames", async () => {
  const source = tonal(48_000 * 2);
  const { decoded } = await roundTrip(source, 2);
  let best = { lag: -1, snr: -Infinity };
  for (let lag = 250; lag <= 380; lag++) {
    const snr = snrDb(source, decoded[0], 0, lag);
    if (snr > best.snr) best = { lag, snr };
  }
  assert.ok(Math.abs(best.lag - OPUS_LOOKAHEAD_FRAMES) <= 1, `best lag ${best.lag}`);
});

Deno.test("mono Opus carries the average of left and right", async () => {
  const source = tonal(48_000 * 2);
  const { decoded } = await roundTrip(source, 1);
  const mono = new Int16Array(source.length);
  for (let i = 0; i < source.length / 2; i++) {
    mono[2 * i] = Math.round((source[2 * i] + source[2 * i + 1]) / 2);
  }
  assert.ok(snrDb(mono, decoded[0], 0, OPUS_LOOKAHEAD_FRAMES) >= 20);
});
