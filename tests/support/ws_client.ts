/**
 * A minimal WebSocket client (RFC 6455) over a TCP connection with Nagle's algorithm off, as
 * browsers have it. Deno's own WebSocket client turns TCP_NODELAY off, so a time probe sent
 * right after another message waits for a delayed ACK (40 ms): a client artefact that would
 * hide the server's real answer time. Enough for the load generator: text out, text and
 * binary in, ping answered, close. Hardening tests also use its framing to send what a
 * browser never would.
 */
export const OP_TEXT = 1;
export const OP_BINARY = 2;
const OP_CLOSE = 8;
const OP_PING = 9;
const OP_PONG = 10;

export interface WsHandlers {
  /** Called with the local time (µs) at which the bytes carrying the message were read. */
  onText(text: string, arrivedUs: number): void;
  /** `bytes` is only valid during the call (it views the read buffer). */
  onBinary(bytes: Uint8Array, arrivedUs: number): void;
  onClose(reason: string): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class WsClient {
  #conn: Deno.TcpConn;
  #closed = false;
  #writing = Promise.resolve();

  private constructor(conn: Deno.TcpConn, readonly handlers: WsHandlers) {
    this.#conn = conn;
  }

  /** `read: false` makes a client that never reads a byte (a stalled listener). */
  static async connect(url: string, handlers: WsHandlers, { read = true } = {}): Promise<WsClient> {
    const { hostname, port, pathname } = new URL(url);
    const conn = await Deno.connect({ hostname, port: Number(port) });
    conn.setNoDelay(true);
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await writeAll(
      conn,
      encoder.encode(
        `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const client = new WsClient(conn, handlers);
    if (read) client.#readLoop();
    return client;
  }

  sendText(text: string): void {
    if (this.#closed) return;
    this.#write(frame(OP_TEXT, encoder.encode(text)));
  }

  /** Raw bytes on the wire, frames or garbage (hardening tests). */
  sendRaw(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#write(bytes);
  }

  close(): void {
    if (this.#closed) return;
    this.#write(frame(OP_CLOSE, new Uint8Array([0x03, 0xe8]))); // 1000
    this.#closed = true;
    setTimeout(() => this.#shut(), 100);
  }

  #write(bytes: Uint8Array) {
    // One write at a time, so frames never interleave on the wire.
    this.#writing = this.#writing.then(() => writeAll(this.#conn, bytes))
      .catch(() => this.#end("write failed"));
  }

  #shut() {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  #end(reason: string) {
    if (!this.#closed) this.handlers.onClose(reason);
    this.#closed = true;
    this.#shut();
  }

  async #readLoop() {
    let buffer: Uint8Array = new Uint8Array(0);
    let upgraded = false;
    const chunk = new Uint8Array(256 * 1024);
    try {
      while (true) {
        const n = await this.#conn.read(chunk);
        if (n === null) return this.#end("connection closed by the server");
        const arrivedUs = performance.now() * 1000;
        buffer = concat(buffer, chunk.subarray(0, n));
        if (!upgraded) {
          const end = indexOfHeaderEnd(buffer);
          if (end < 0) continue;
          const head = decoder.decode(buffer.subarray(0, end));
          if (!head.startsWith("HTTP/1.1 101")) return this.#end(head.split("\r\n")[0]);
          upgraded = true;
          buffer = buffer.slice(end + 4);
        }
        buffer = this.#frames(buffer, arrivedUs);
        if (this.#closed) return;
      }
    } catch (error) {
      this.#end(error instanceof Error ? error.message : String(error));
    }
  }

  /** Handles every whole frame in `buffer`; returns the rest. */
  #frames(buffer: Uint8Array, arrivedUs: number): Uint8Array {
    let at = 0;
    while (buffer.length - at >= 2) {
      const opcode = buffer[at] & 0x0f;
      let length = buffer[at + 1] & 0x7f;
      let header = 2;
      if (length === 126) {
        if (buffer.length - at < 4) break;
        length = (buffer[at + 2] << 8) | buffer[at + 3];
        header = 4;
      } else if (length === 127) {
        if (buffer.length - at < 10) break;
        length = Number(new DataView(buffer.buffer, buffer.byteOffset + at + 2, 8).getBigUint64(0));
        header = 10;
      }
      if (buffer.length - at < header + length) break;
      const payload = buffer.subarray(at + header, at + header + length);
      at += header + length;
      if (opcode === OP_TEXT) this.handlers.onText(decoder.decode(payload), arrivedUs);
      else if (opcode === OP_BINARY) this.handlers.onBinary(payload, arrivedUs);
      else if (opcode === OP_PING) this.#write(frame(OP_PONG, payload.slice()));
      else if (opcode === OP_CLOSE) {
        const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
        this.#end(`closed ${code} ${decoder.decode(payload.subarray(2))}`.trim());
        return new Uint8Array(0);
      }
    }
    return buffer.subarray(at);
  }
}

/** A client frame: FIN set, masked as RFC 6455 requires. */
export function frame(opcode: number, payload: Uint8Array): Uint8Array {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const out = new Uint8Array(header + 4 + length);
  out[0] = 0x80 | opcode;
  if (header === 2) out[1] = 0x80 | length;
  else if (header === 4) {
    out[1] = 0x80 | 126;
    out[2] = length >> 8;
    out[3] = length & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(length));
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, header);
  for (let i = 0; i < length; i++) out[header + 4 + i] = payload[i] ^ mask[i & 3];
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOfHeaderEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array) {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}
