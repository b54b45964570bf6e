/** Writes 16-bit PCM WAV files for tests, without ffmpeg. */
export function wavBytes(samples: Int16Array, sampleRate: number, channels: number): Uint8Array {
  const data = samples.byteLength;
  const out = new Uint8Array(44 + data);
  const view = new DataView(out.buffer);
  const text = (offset: number, s: string) =>
    [...s].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + data, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * 2, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, data, true);
  out.set(new Uint8Array(samples.buffer, samples.byteOffset, data), 44);
  return out;
}

/** Stereo music-like test signal: two tones per channel plus a little deterministic noise. */
export function testSignal(frames: number, sampleRate = 48_000): Int16Array {
  const out = new Int16Array(frames * 2);
  let seed = 12345;
  for (let i = 0; i < frames; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const noise = (seed / 0x7fffffff - 0.5) * 600;
    const t = i / sampleRate;
    out[2 * i] = Math.round(9000 * Math.sin(2 * Math.PI * 440 * t) + noise);
    out[2 * i + 1] = Math.round(7000 * Math.sin(2 * Math.PI * 660 * t) - noise);
  }
  return out;
}

export function writeTempWav(samples: Int16Array, sampleRate = 48_000, channels = 2): string {
  const path = Deno.makeTempFileSync({ suffix: ".wav" });
  Deno.writeFileSync(path, wavBytes(samples, sampleRate, channels));
  return path;
}
