/** Builds small WAV files by hand, for cases ffmpeg would not write (or to avoid needing it). */

export interface WavSpec {
  /** 1 = PCM, 3 = float, others to test refusals. */
  formatTag: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  data: Uint8Array;
  /** Writes WAVE_FORMAT_EXTENSIBLE with this channel mask. */
  channelMask?: number;
  /** Size written in the data chunk header; default the real size. */
  dataSize?: number;
}

export function buildWav(spec: WavSpec): Uint8Array {
  const extensible = spec.channelMask !== undefined;
  const fmtSize = extensible ? 40 : 16;
  const bytes = new Uint8Array(12 + 8 + fmtSize + 8 + spec.data.length);
  const view = new DataView(bytes.buffer);
  const text = (offset: number, value: string) =>
    [...value].forEach((char, i) => view.setUint8(offset + i, char.charCodeAt(0)));
  const blockAlign = spec.channels * (spec.bitsPerSample / 8);
  text(0, "RIFF");
  view.setUint32(4, bytes.length - 8, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, fmtSize, true);
  view.setUint16(20, extensible ? 0xfffe : spec.formatTag, true);
  view.setUint16(22, spec.channels, true);
  view.setUint32(24, spec.sampleRate, true);
  view.setUint32(28, spec.sampleRate * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, spec.bitsPerSample, true);
  if (extensible) {
    view.setUint16(36, 22, true);
    view.setUint16(38, spec.bitsPerSample, true);
    view.setUint32(40, spec.channelMask!, true);
    view.setUint16(44, spec.formatTag, true); // the GUID's first two bytes name the format
  }
  const dataAt = 20 + fmtSize;
  text(dataAt, "data");
  view.setUint32(dataAt + 4, spec.dataSize ?? spec.data.length, true);
  bytes.set(spec.data, dataAt + 8);
  return bytes;
}

/** Little-endian 16-bit interleaved samples as bytes. */
export function int16Bytes(samples: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(2 * i, samples[i], true);
  return bytes;
}
