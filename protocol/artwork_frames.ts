/**
 * Artwork binary messages, per dialect. Channel c (0-3) is binary type 8 + c.
 * - Legacy: `[type][int64 timestamp][image]`, the whole image in one message; no image = clear.
 * - Encrypted (roles/artwork/v1.md): an announce `[type][flags 2][int64 timestamp][uint32
 *   total_size]`, then parts `[type][flags 0][data]` of at most 65,519 bytes each (one Noise
 *   message, no fragmentation); total_size 0 = clear. A cancel is `[type][flags 1]`.
 */
export const BINARY_ARTWORK = 8;
export const LEGACY_ARTWORK_HEADER_BYTES = 9;
export const ANNOUNCE_BYTES = 14;
/** The spec's cap on one artwork message: it fits one Noise transport message. */
export const MAX_ARTWORK_MESSAGE_BYTES = 65_519;
export const FLAG_CANCEL = 1;
export const FLAG_ANNOUNCE = 2;

export function legacyArtworkMessage(channel: number, timestampUs: number, image: Uint8Array) {
  const out = new Uint8Array(LEGACY_ARTWORK_HEADER_BYTES + image.byteLength);
  out[0] = BINARY_ARTWORK + channel;
  new DataView(out.buffer).setBigInt64(1, BigInt(Math.round(timestampUs)), false);
  out.set(image, LEGACY_ARTWORK_HEADER_BYTES);
  return out;
}

/**
 * The encrypted dialect's messages for one image, each without its type byte (the transport
 * adds it): the announce, then the parts.
 */
export function encryptedArtworkBodies(timestampUs: number, image: Uint8Array): Uint8Array[] {
  const announce = new Uint8Array(ANNOUNCE_BYTES - 1);
  const view = new DataView(announce.buffer);
  announce[0] = FLAG_ANNOUNCE;
  view.setBigInt64(1, BigInt(Math.round(timestampUs)), false);
  view.setUint32(9, image.byteLength, false);
  const bodies = [announce];
  const partData = MAX_ARTWORK_MESSAGE_BYTES - 2;
  for (let at = 0; at < image.byteLength; at += partData) {
    const data = image.subarray(at, at + partData);
    const part = new Uint8Array(1 + data.byteLength);
    part.set(data, 1); // flags 0: a part
    bodies.push(part);
  }
  return bodies;
}
