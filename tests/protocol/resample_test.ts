import assert from "node:assert/strict";
import { Resampler } from "../../protocol/resample.ts";
import { seededRandom } from "../coordinator/decode/helpers.ts";

function sine(frames: number, channels: number, rate: number, frequency: number): Float32Array {
  const out = new Float32Array(frames * channels);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      // Each channel gets its own phase so that a channel mix-up would show.
      out[i * channels + c] = 0.5 * Math.sin((2 * Math.PI * frequency * i) / rate + c);
    }
  }
  return out;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function resampleAtOnce(input: Float32Array, fromRate: number, toRate: number, channels: number) {
  const resampler = new Resampler({ fromRate, toRate, channels });
  return concat([resampler.process(input), resampler.flush()]);
}

Deno.test("resampler output is the same whether input comes in random pieces or at once", () => {
  const random = seededRandom(7);
  const ratios: [number, number, number][] = [
    [44100, 48000, 2],
    [48000, 44100, 2],
    [22050, 48000, 1],
    [96000, 48000, 3],
    [47999, 48000, 2], // 48000 phases: coefficients interpolated between table rows
  ];
  for (const [fromRate, toRate, channels] of ratios) {
    const frames = 20_000;
    const input = Float32Array.from({ length: frames * channels }, () => random() * 2 - 1);
    const expected = resampleAtOnce(input, fromRate, toRate, channels);
    const resampler = new Resampler({ fromRate, toRate, channels });
    const parts: Float32Array[] = [];
    for (let frame = 0; frame < frames;) {
      const size = Math.floor(random() * 700); // includes empty pieces
      parts.push(resampler.process(input.subarray(frame * channels, (frame + size) * channels)));
      frame += size;
    }
    parts.push(resampler.flush());
    const actual = concat(parts);
    const label = `${fromRate} -> ${toRate}, ${channels} channels`;
    assert.equal(actual.length, Math.ceil((frames * toRate) / fromRate) * channels, label);
    assert.deepEqual(actual, expected, label);
  }
});

function snrDb(output: Float32Array, channels: number, rate: number, frequency: number): number {
  const frames = output.length / channels;
  let signal = 0;
  let noise = 0;
  // Skip 50 ms at each end, where the stream's silent surroundings enter the filter.
  for (let i = Math.floor(rate * 0.05); i < frames - rate * 0.05; i++) {
    for (let c = 0; c < channels; c++) {
      const ideal = 0.5 * Math.sin((2 * Math.PI * frequency * i) / rate + c);
      signal += ideal * ideal;
      noise += (output[i * channels + c] - ideal) ** 2;
    }
  }
  return 10 * Math.log10(signal / noise);
}

Deno.test("resampler keeps a 1 kHz sine clean from 44.1 kHz to 48 kHz and back", () => {
  for (const [fromRate, toRate] of [[44100, 48000], [48000, 44100]]) {
    const output = resampleAtOnce(sine(fromRate, 2, fromRate, 1000), fromRate, toRate, 2);
    const snr = snrDb(output, 2, toRate, 1000);
    assert.ok(snr > 60, `${fromRate} -> ${toRate}: SNR ${snr.toFixed(1)} dB`);
  }
});

Deno.test("resampler from 48 kHz to 48 kHz is the identity", () => {
  const input = sine(4800, 2, 48000, 1000);
  const resampler = new Resampler({ fromRate: 48000, toRate: 48000, channels: 2 });
  assert.deepEqual(resampler.process(input), input);
  assert.equal(resampler.flush().length, 0);
});

Deno.test("resampler rejects rates and channel counts that are not positive integers", () => {
  assert.throws(() => new Resampler({ fromRate: 0, toRate: 48000, channels: 2 }), RangeError);
  assert.throws(() => new Resampler({ fromRate: 44100.5, toRate: 48000, channels: 2 }), RangeError);
  const resampler = new Resampler({ fromRate: 44100, toRate: 48000, channels: 2 });
  assert.throws(() => resampler.process(new Float32Array(3)), /whole number of 2-channel frames/);
});

Deno.test("resampler filters out tones above the output's Nyquist frequency instead of aliasing", () => {
  // 23 kHz fits at 48 kHz but not at 44.1 kHz, where it would alias to 21.1 kHz.
  const output = resampleAtOnce(sine(48000, 1, 48000, 23_000), 48000, 44100, 1);
  let energy = 0;
  const from = 4410;
  const to = output.length - 4410;
  for (let i = from; i < to; i++) energy += output[i] * output[i];
  const levelDb = 10 * Math.log10(energy / (to - from) / (0.5 * 0.5 / 2));
  assert.ok(levelDb < -60, `a 23 kHz tone comes out at ${levelDb.toFixed(1)} dB`);
});
