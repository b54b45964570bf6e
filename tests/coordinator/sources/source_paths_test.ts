import assert from "node:assert/strict";
import { hasFfmpeg } from "../../../coordinator/sources/ffmpeg.ts";
import { createSource } from "../../../coordinator/sources/source.ts";
import { ignoreUnless } from "../../support/skip.ts";
import { testSignal, wavBytes } from "../../support/wav.ts";
import { ffmpeg } from "../decode/helpers.ts";

const noFfmpeg = ignoreUnless(
  await hasFfmpeg(),
  "the ffmpeg source-path test: ffmpeg is not on PATH",
);

/** Every block's format (once each) and all the PCM bytes. */
async function decodeAll(useFfmpeg: boolean, path: string) {
  const source = createSource({ kind: "file", path }, { useFfmpeg, onTags: () => {} });
  const formats = new Set<string>();
  const parts: Uint8Array[] = [];
  for await (const block of source.decode(new AbortController().signal)) {
    formats.add(JSON.stringify(block.format));
    parts.push(block.pcm);
  }
  const pcm = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    pcm.set(part, offset);
    offset += part.byteLength;
  }
  return { formats: [...formats].map((f) => JSON.parse(f)), pcm };
}

const s16 = (pcm: Uint8Array) => new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2);

Deno.test({
  name: "the ffmpeg and built-in source paths play the same WAV to the same PCM",
  ignore: noFfmpeg,
  fn: async () => {
    const samples = testSignal(48_000 * 2 + 333);
    const path = Deno.makeTempFileSync({ suffix: ".wav" });
    Deno.writeFileSync(path, wavBytes(samples, 48_000, 2));
    try {
      const [viaFfmpeg, builtin] = await Promise.all([
        decodeAll(true, path),
        decodeAll(false, path),
      ]);
      assert.equal(s16(viaFfmpeg.pcm).length, samples.length);
      assert.deepEqual(builtin, viaFfmpeg);
      assert.deepEqual(s16(builtin.pcm), samples);
      assert.deepEqual(builtin.formats, [{ sampleRate: 48_000, bitDepth: 16, channels: 2 }]);
    } finally {
      await Deno.remove(path);
    }
  },
});

Deno.test({
  name: "a 24-bit 44.1 kHz FLAC keeps its rate and all 24 bits on both source paths",
  ignore: noFfmpeg,
  fn: async () => {
    const dir = Deno.makeTempDirSync();
    const path = `${dir}/hires.flac`;
    try {
      await ffmpeg([
        ...[
          "-f",
          "lavfi",
          "-i",
          "aevalsrc=0.5*sin(2*PI*997*t)|0.3*sin(2*PI*1234*t)+0.01*random(0):s=44100:d=2",
        ],
        ...["-c:a", "flac", "-sample_fmt", "s32"],
        ...["-bits_per_raw_sample", "24", path],
      ]);
      const reference = await ffmpeg(["-i", path, "-f", "s24le", "-c:a", "pcm_s24le", "-"]);
      const format = { sampleRate: 44_100, bitDepth: 24, channels: 2 };
      for (const useFfmpeg of [true, false]) {
        const decoded = await decodeAll(useFfmpeg, path);
        assert.deepEqual(decoded.formats, [format], useFfmpeg ? "ffmpeg" : "built-in");
        assert.ok(decoded.pcm.some((b, i) => i % 3 === 0 && b !== 0), "the low byte is used");
        assert.deepEqual(decoded.pcm, reference, useFfmpeg ? "ffmpeg" : "built-in");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "an 8 kHz mono WAV stays 8 kHz mono 16-bit, bit for bit, on both source paths",
  ignore: noFfmpeg,
  fn: async () => {
    const samples = testSignal(8_000 * 2 + 77).filter((_, i) => i % 2 === 0);
    const path = Deno.makeTempFileSync({ suffix: ".wav" });
    Deno.writeFileSync(path, wavBytes(samples, 8_000, 1));
    try {
      for (const useFfmpeg of [true, false]) {
        const decoded = await decodeAll(useFfmpeg, path);
        assert.deepEqual(decoded.formats, [{ sampleRate: 8_000, bitDepth: 16, channels: 1 }]);
        assert.deepEqual(s16(decoded.pcm), samples);
      }
    } finally {
      await Deno.remove(path);
    }
  },
});
