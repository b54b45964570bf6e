// The artwork@v1 receiver of the encrypted test client (roles/artwork/v1.md): announces,
// parts and cancels on binary types 8-11, reassembled into images, with every breach of the
// spec's rules recorded as a fault.

/** One artwork channel as client/state declares it (sizes are exact). */
export interface ArtworkChannelState {
  source: "album" | "artist" | "none";
  format?: "jpeg" | "png";
  width?: number;
  height?: number;
}

/** A completed transfer: the image (empty: the channel is cleared) and when it is shown. */
export interface ReceivedImage {
  channel: number;
  atUs: number;
  bytes: Uint8Array;
}

const FLAG_CANCEL = 1;
const FLAG_ANNOUNCE = 2;
const MAX_MESSAGE_BYTES = 65_519;

export class ArtworkReceiver {
  readonly images: ReceivedImage[] = [];
  /** An artwork stream/start came and no stream/end since. */
  streaming = false;
  #inFlight?: { channel: number; atUs: number; total: number; parts: Uint8Array[]; got: number };

  constructor(readonly faults: string[]) {}

  onStreamStart(): void {
    this.streaming = true;
  }

  onStreamEnd(): void {
    if (this.#inFlight) this.faults.push("artwork stream/end while a transfer was in flight");
    this.streaming = false;
    this.#inFlight = undefined;
  }

  /** `body` is the message after its type byte. */
  onBinary(type: number, body: Uint8Array): void {
    const channel = type - 8;
    const flags = body[0];
    if (!this.streaming) this.faults.push(`artwork message on channel ${channel} outside a stream`);
    if (body.length + 1 > MAX_MESSAGE_BYTES) this.faults.push(`artwork message over 65,519 bytes`);
    if (flags === undefined || (flags & ~3) || flags === 3) {
      return void this.faults.push(`artwork message with flags ${flags}`);
    }
    if (flags & FLAG_CANCEL) {
      if (body.length !== 1) this.faults.push("artwork cancel longer than 2 bytes");
      this.#inFlight = undefined;
      return;
    }
    if (flags & FLAG_ANNOUNCE) {
      if (body.length !== 13) return void this.faults.push(`announce of ${body.length + 1} bytes`);
      if (this.#inFlight) this.faults.push("announce while a transfer was in flight");
      const view = new DataView(body.buffer, body.byteOffset + 1, 12);
      const atUs = Number(view.getBigInt64(0)), total = view.getUint32(8);
      this.#inFlight = { channel, atUs, total, parts: [], got: 0 };
      return this.#completeIfWhole();
    }
    const transfer = this.#inFlight;
    if (!transfer || transfer.channel !== channel) {
      return void this.faults.push(`artwork part on channel ${channel} with no transfer there`);
    }
    transfer.parts.push(body.slice(1));
    transfer.got += body.length - 1;
    if (transfer.got > transfer.total) this.faults.push("artwork parts beyond total_size");
    this.#completeIfWhole();
  }

  #completeIfWhole(): void {
    const transfer = this.#inFlight!;
    if (transfer.got < transfer.total) return;
    const bytes = new Uint8Array(transfer.got);
    let at = 0;
    for (const part of transfer.parts) {
      bytes.set(part, at);
      at += part.length;
    }
    this.images.push({ channel: transfer.channel, atUs: transfer.atUs, bytes });
    this.#inFlight = undefined;
  }
}
