/**
 * The lead relies on this: for 48 kHz lossless sources the built-in path gives exactly the
 * bytes of `ffmpeg -i X -f s16le -ar 48000 -ac 2 -`.
 */
import assert from "node:assert/strict";
import { decodeBuiltin } from "../../../coordinator/decode/builtin.ts";
import {
  collectPcm,
  ffmpeg,
  ffmpegPcm,
  firstDifference,
  hasFfmpeg,
  inPieces,
  tempDir,
} from "./helpers.ts";

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
    const expected = await ffmpegPcm(path);
    const actual = await collectPcm(decodeBuiltin(inPieces(await Deno.readFile(path), 7000)));
    assert.equal(expected.length, 2 * 48000 * 2, "ffmpeg's reference has the whole 2 s");
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
