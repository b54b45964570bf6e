/**
 * The lead relies on this: for lossless sources the built-in path gives exactly the bytes
 * ffmpeg gives at the same carried format (`ffmpeg -i X -f s16le|s24le -`, the source's rate
 * and channels), so the two source paths sound the same.
 */
import assert from "node:assert/strict";
import { decodeBuiltin } from "../../../coordinator/decode/builtin.ts";
import { ffmpeg, firstDifference, hasFfmpeg, inPieces, tempDir } from "./helpers.ts";

/** Loud stereo with noise, so every low-order bit pattern occurs. */
const NOISY_STEREO = "0.9*sin(2*PI*440*t)+0.08*(random(0)-0.5)|0.6*sin(2*PI*661*t)+0.01*random(1)";
/** Left clips (±1.3); right is exact 24-bit values, so many floats sit halfway between s16 steps. */
const FLOAT_EDGES = "1.3*sin(2*PI*440*t)|floor(0.5*sin(2*PI*330*t)*8388608)/8388608";

async function assertSameAsFfmpeg(
  fileName: string,
  makeArgs: (path: string) => string[],
): Promise<void> {
  const dir = await tempDir();
  try {
    const path = `${dir.path}/${fileName}`;
    await ffmpeg(makeArgs(path));
    const blocks = [];
    for await (const block of decodeBuiltin(inPieces(await Deno.readFile(path), 7000))) {
      blocks.push(block);
    }
    const format = blocks[0].format;
    assert.ok(blocks.every((b) => JSON.stringify(b.format) === JSON.stringify(format)));
    const sampleFormat = format.bitDepth === 24 ? "s24le" : "s16le";
    const expected = await ffmpeg(["-i", path, "-f", sampleFormat, "-"]);
    const actual = new Uint8Array(blocks.reduce((n, b) => n + b.pcm.byteLength, 0));
    blocks.reduce((offset, b) => (actual.set(b.pcm, offset), offset + b.pcm.byteLength), 0);
    const bytesPerSample = format.bitDepth / 8;
    assert.equal(expected.length, 2 * 48000 * 2 * bytesPerSample, "ffmpeg's reference has 2 s");
    const at = firstDifference(actual, expected);
    assert.equal(
      at,
      -1,
      `sample ${at} differs: built-in ${actual[at]}, ffmpeg ${expected[at]} ` +
        `(lengths ${actual.length} and ${expected.length})`,
    );
  } finally {
    await dir.remove();
  }
}

function generate(expression: string, codecArgs: string[]): (path: string) => string[] {
  return (
    path,
  ) => ["-f", "lavfi", "-i", `aevalsrc=exprs=${expression}:s=48000:d=2`, ...codecArgs, path];
}

const cases: [name: string, file: string, codecArgs: string[], expression?: string][] = [
  ["16-bit WAV", "s16.wav", ["-c:a", "pcm_s16le"]],
  ["24-bit WAV (extensible)", "s24.wav", ["-c:a", "pcm_s24le"]],
  ["32-bit integer WAV", "s32.wav", ["-c:a", "pcm_s32le"]],
  ["32-bit float WAV", "f32.wav", ["-c:a", "pcm_f32le"], FLOAT_EDGES],
  ["16-bit FLAC", "s16.flac", ["-c:a", "flac", "-sample_fmt", "s16"]],
  ["24-bit FLAC", "s24.flac", ["-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24"]],
];

for (const [name, file, codecArgs, expression] of cases) {
  Deno.test({
    name: `built-in decoder output of a 48 kHz ${name} is bit-identical to ffmpeg's`,
    ignore: !hasFfmpeg,
    fn: () => assertSameAsFfmpeg(file, generate(expression ?? NOISY_STEREO, codecArgs)),
  });
}
