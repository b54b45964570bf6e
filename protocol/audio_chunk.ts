/** Binary message types of the Sendspin protocol (first byte of a binary frame). */
export const BINARY_PLAYER_AUDIO = 4;
export const AUDIO_HEADER_BYTES = 9;

/**
 * Frames one encoded audio unit for the wire: type byte, big-endian int64 server time of its
 * first sample, then the payload. Done once per chunk and format; the same bytes go to every
 * listener of that format.
 */
export function frameAudioChunk(playAtUs: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(AUDIO_HEADER_BYTES + payload.byteLength);
  out[0] = BINARY_PLAYER_AUDIO;
  new DataView(out.buffer).setBigInt64(1, BigInt(playAtUs), false);
  out.set(payload, AUDIO_HEADER_BYTES);
  return out;
}

export interface ParsedAudioChunk {
  type: number;
  playAtUs: number;
  payload: Uint8Array;
}

/** Reads a framed chunk back (tests, load generator). Throws RangeError if it is too short. */
export function parseAudioChunk(bytes: Uint8Array): ParsedAudioChunk {
  if (bytes.byteLength < AUDIO_HEADER_BYTES) {
    throw new RangeError(`Cannot parse audio chunk: ${bytes.byteLength} bytes, need at least 9`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    type: bytes[0],
    playAtUs: Number(view.getBigInt64(1, false)),
    payload: bytes.subarray(AUDIO_HEADER_BYTES),
  };
}
