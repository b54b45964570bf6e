import assert from "node:assert/strict";
import { decodeBuiltin } from "../../../coordinator/decode/builtin.ts";
import { collectPcm, ffmpeg, hasFfmpeg, inPieces, tempDir } from "./helpers.ts";

const SECONDS = 2;
const AMPLITUDE = 0.5;
const LEFT_HZ = 1000;
const RIGHT_HZ = 1500;

/**
 * Fits a * sin + b * cos + c at `frequency` to one channel (least squares over the middle, away
 * from codec start-up and end) and returns the fitted amplitude and the SNR in dB.
 */
function fitSine(pcm: Int16Array, channel: number, frequency: number) {
  const frames = pcm.length / 2;
  const from = Math.floor(frames * 0.15);
  const to = Math.floor(frames * 0.85);
  // Normal equations of [sin, cos, 1].
  const m = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  const v = [0, 0, 0];
  for (let i = from; i < to; i++) {
    const phase = (2 * Math.PI * frequency * i) / 48000;
    const basis = [Math.sin(phase), Math.cos(phase), 1];
    const y = pcm[2 * i + channel] / 32768;
    for (let r = 0; r < 3; r++) {
      v[r] += basis[r] * y;
      for (let c = 0; c < 3; c++) m[r][c] += basis[r] * basis[c];
    }
  }
  const [a, b, c] = solve3(m, v);
  let signal = 0;
  let noise = 0;
  for (let i = from; i < to; i++) {
    const phase = (2 * Math.PI * frequency * i) / 48000;
    const fitted = a * Math.sin(phase) + b * Math.cos(phase) + c;
    signal += fitted * fitted;
    noise += (pcm[2 * i + channel] / 32768 - fitted) ** 2;
  }
  return { amplitude: Math.hypot(a, b), snrDb: 10 * Math.log10(signal / noise) };
}

function solve3(m: number[][], v: number[]): number[] {
  const det = (x: number[][]) =>
    x[0][0] * (x[1][1] * x[2][2] - x[1][2] * x[2][1]) -
    x[0][1] * (x[1][0] * x[2][2] - x[1][2] * x[2][0]) +
    x[0][2] * (x[1][0] * x[2][1] - x[1][1] * x[2][0]);
  const d = det(m);
  return [0, 1, 2].map((column) =>
    det(m.map((row, r) => row.map((x, c) => (c === column ? v[r] : x)))) / d
  );
}

const cases: [name: string, file: string, sourceRate: number, codecArgs: string[]][] = [
  ["MP3 (44.1 kHz, resampled)", "sine.mp3", 44100, ["-c:a", "libmp3lame", "-b:a", "192k"]],
  ["Ogg Vorbis (44.1 kHz, resampled)", "sine.ogg", 44100, ["-c:a", "libvorbis", "-q:a", "6"]],
  ["Ogg Opus", "sine.opus", 48000, ["-c:a", "libopus", "-b:a", "128k"]],
];

for (const [name, file, sourceRate, codecArgs] of cases) {
  Deno.test({
    name: `built-in decoder plays a ${name} sine at the right length, pitch and level in stereo`,
    ignore: !hasFfmpeg,
    async fn() {
      const dir = await tempDir();
      try {
        const path = `${dir.path}/${file}`;
        const expression =
          `${AMPLITUDE}*sin(2*PI*${LEFT_HZ}*t)|${AMPLITUDE}*sin(2*PI*${RIGHT_HZ}*t)`;
        await ffmpeg([
          "-f",
          "lavfi",
          "-i",
          `aevalsrc=exprs=${expression}:s=${sourceRate}:d=${SECONDS}`,
          ...codecArgs,
          path,
        ]);
        const pcm = await collectPcm(decodeBuiltin(inPieces(await Deno.readFile(path), 3000)));
        const frames = pcm.length / 2;
        assert.ok(Math.abs(frames - SECONDS * 48000) <= 0.05 * 48000, `${frames} frames`);
        for (const [channel, frequency] of [[0, LEFT_HZ], [1, RIGHT_HZ]]) {
          const { amplitude, snrDb } = fitSine(pcm, channel, frequency);
          assert.ok(
            snrDb > 20,
            `channel ${channel}: SNR ${snrDb.toFixed(1)} dB at ${frequency} Hz`,
          );
          const levelDb = 20 * Math.log10(amplitude / AMPLITUDE);
          assert.ok(
            Math.abs(levelDb) < 1,
            `channel ${channel}: level off by ${levelDb.toFixed(2)} dB`,
          );
        }
      } finally {
        await dir.remove();
      }
    },
  });
}
