/** Ogg page framing (RFC 3533): enough to route pages and read a stream's header packets. */
import type { ByteReader } from "./byte_reader.ts";

export interface OggPage {
  /** The whole page, header included, as the wasm decoders want it. */
  bytes: Uint8Array;
  serial: number;
  /** Beginning of a logical stream ("BOS"). */
  isFirst: boolean;
  /** End of a logical stream ("EOS"). */
  isLast: boolean;
  /** Segment sizes of the page body; a size below 255 ends a packet. */
  lacing: Uint8Array;
  body: Uint8Array;
}

const CAPTURE = [0x4f, 0x67, 0x67, 0x53]; // "OggS"
/** Garbage between pages that we skip while looking for the next one, at most. */
const MAX_RESYNC_BYTES = 1 << 20;

/** The next page, or undefined at the end of the input (a truncated last page is dropped). */
export async function readOggPage(reader: ByteReader): Promise<OggPage | undefined> {
  for (let skipped = 0;;) {
    const head = await reader.peek(27);
    if (head.length < 27) return undefined;
    if (startsWithCapture(head, 0)) break;
    // Lost sync (damaged stream): skip to the next capture pattern.
    const window = await reader.peek(1 << 16);
    let next = 1;
    while (next < window.length && !startsWithCapture(window, next)) next++;
    skipped += await reader.skip(next);
    if (skipped > MAX_RESYNC_BYTES) return undefined;
  }
  const segmentCount = (await reader.peek(27))[26];
  const headerLength = 27 + segmentCount;
  const header = await reader.peek(headerLength);
  if (header.length < headerLength) return undefined;
  const lacing = header.slice(27, headerLength);
  const bodyLength = lacing.reduce((sum, size) => sum + size, 0);
  const bytes = await reader.read(headerLength + bodyLength);
  if (bytes.length < headerLength + bodyLength) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    bytes,
    serial: view.getUint32(14, true),
    isFirst: (bytes[5] & 0x02) !== 0,
    isLast: (bytes[5] & 0x04) !== 0,
    lacing,
    body: bytes.subarray(headerLength),
  };
}

function startsWithCapture(bytes: Uint8Array, offset: number): boolean {
  return CAPTURE.every((byte, i) => bytes[offset + i] === byte);
}

/** Reassembles the first `count` packets of one logical stream (its header packets). */
export class OggHeaderPackets {
  readonly packets: Uint8Array[] = [];
  #count: number;
  #maxBytes: number;
  #partial: Uint8Array[] = [];
  #partialBytes = 0;

  /** Packets longer than `maxBytes` are cut there (cover art in comments can be megabytes). */
  constructor(count: number, maxBytes: number) {
    this.#count = count;
    this.#maxBytes = maxBytes;
  }

  get complete(): boolean {
    return this.packets.length >= this.#count;
  }

  push(page: OggPage): void {
    let offset = 0;
    for (const size of page.lacing) {
      if (this.complete) return;
      if (this.#partialBytes < this.#maxBytes) {
        this.#partial.push(page.body.subarray(offset, offset + size));
        this.#partialBytes += size;
      }
      offset += size;
      if (size < 255) this.#finishPacket();
    }
  }

  #finishPacket(): void {
    const packet = new Uint8Array(Math.min(this.#partialBytes, this.#maxBytes));
    let at = 0;
    for (const piece of this.#partial) {
      packet.set(piece.subarray(0, packet.length - at), at);
      at += Math.min(piece.length, packet.length - at);
    }
    this.packets.push(packet);
    this.#partial = [];
    this.#partialBytes = 0;
  }
}
