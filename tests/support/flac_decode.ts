/** FLAC chunks decoded by an independent decoder (libFLAC in wasm), for bit-exact checks. */

/** Decodes `payloads` after the stream's `codec_header`; 16-bit stereo, interleaved. */
export async function decodeFlac(header: string, payloads: Uint8Array[]): Promise<Int16Array> {
  const { FLACDecoder } = await import("@wasm-audio-decoders/flac");
  const decoder = new FLACDecoder();
  await decoder.ready;
  const bytes = [Uint8Array.from(atob(header), (c) => c.charCodeAt(0)), ...payloads];
  const left: number[] = [], right: number[] = [];
  for (const piece of bytes) {
    const { channelData } = await decoder.decode(piece);
    if (channelData[0]) {
      left.push(...channelData[0]);
      right.push(...channelData[1]);
    }
  }
  const { channelData } = await decoder.flush();
  if (channelData[0]) {
    left.push(...channelData[0]);
    right.push(...channelData[1]);
  }
  decoder.free();
  const out = new Int16Array(left.length * 2);
  left.forEach((v, i) => {
    out[2 * i] = Math.round(v * 32767);
    out[2 * i + 1] = Math.round(right[i] * 32767);
  });
  return out;
}
