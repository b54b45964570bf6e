/**
 * The server side of RFC 6455 on a TCP socket, strict about what clients send: a frame's
 * declared length is checked before any of it is buffered, so a client cannot make a worker
 * hold more than one small message. Audio frames are framed once and the same bytes go to
 * every listener of a stream.
 */
import { createHash } from "node:crypto";
import type { Socket } from "node:net";
import { concatBytes } from "../../protocol/concat.ts";

export interface WebSocketHandlers {
  onText(text: string): void;
  /** A whole binary message (the encrypted dialect's transport), at most the size limit. */
  onBinary(bytes: Uint8Array): void;
  /** A message longer than the limit was announced; its payload is never read. */
  onTooBig(): void;
  /** The connection is gone (either side closed it, or the network did). Called once. */
  onClosed(): void;
}

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** After our close frame the client has this long to answer before the socket is cut. */
export const CLOSE_GRACE_MS = 2_000;
/** No client splits a Sendspin message this finely: more fragments count as too big. */
const MAX_FRAGMENTS = 64;
/** Pings are answered only while the client reads: a ping flood cannot fill our memory. */
const PONG_HIGH_WATER_BYTES = 64 * 1024;

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

const CLOSE_PROTOCOL_ERROR = 1002;
const CLOSE_INVALID_DATA = 1007;

/** The Sec-WebSocket-Accept for a client's key, or undefined if the key is not valid. */
export function acceptFor(key: string | undefined): string | undefined {
  if (!key || !/^[A-Za-z0-9+/]{22}==$/.test(key)) return undefined; // 16 bytes in base64
  return createHash("sha1").update(key + GUID).digest("base64");
}

/**
 * One whole unfragmented frame. Servers never mask; a client (our server when it dials a
 * listening client) must mask every frame with a fresh key.
 */
export function encodeFrame(opcode: number, payload: Uint8Array, masked = false): Uint8Array {
  const length = payload.byteLength;
  const lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const headerBytes = 2 + lengthBytes + (masked ? 4 : 0);
  const frame = new Uint8Array(headerBytes + length);
  frame[0] = 0x80 | opcode;
  frame[1] = (masked ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) {
    frame[2] = length >> 8;
    frame[3] = length & 0xff;
  } else if (lengthBytes === 8) {
    new DataView(frame.buffer).setBigUint64(2, BigInt(length));
  }
  frame.set(payload, headerBytes);
  if (masked) {
    const mask = crypto.getRandomValues(new Uint8Array(4));
    frame.set(mask, headerBytes - 4);
    for (let i = 0; i < length; i++) frame[headerBytes + i] ^= mask[i & 3];
  }
  return frame;
}

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
/** Audio payloads are shared by every listener of a stream: frame each one once. */
const framedBinary = new WeakMap<Uint8Array, Uint8Array>();
/**
 * Batches of shared messages (audio) framed and joined once: keyed by the first message, they
 * hold the last one and the bytes; every listener sent the same run gets this same buffer.
 */
const framedBatches = new WeakMap<
  Uint8Array,
  { last: Uint8Array; count: number; bytes: Uint8Array }
>();

function framedShared(data: Uint8Array): Uint8Array {
  let frame = framedBinary.get(data);
  if (!frame) framedBinary.set(data, frame = encodeFrame(OP_BINARY, data));
  return frame;
}

export class WebSocketConnection {
  #pending: Uint8Array = new Uint8Array(0);
  #fragments: Uint8Array[] = [];
  #fragmentBytes = 0;
  /** The message being read is binary (its first frame said so). */
  #binary = false;
  /** Our close frame is sent (or the socket is gone): nothing more goes out. */
  #closing = false;
  /** Nothing more is read: the connection is closing or a handler refused the message. */
  #stopped = false;
  #closed = false;
  #graceTimer?: ReturnType<typeof setTimeout>;
  #handlers?: WebSocketHandlers;

  /**
   * `side` is which end of the WebSocket we are: "server" for guests who connect to us,
   * "client" when we dialled a listening Sendspin client.
   */
  constructor(
    readonly socket: Socket,
    readonly maxMessageBytes: number,
    readonly side: "server" | "client" = "server",
  ) {
    socket.on("close", () => this.#onSocketClosed());
    socket.on("error", () => socket.destroy());
  }

  /** Starts reading; `already` holds bytes that arrived with the upgrade request. */
  start(handlers: WebSocketHandlers, already: Uint8Array): void {
    this.#handlers = handlers;
    this.socket.on("data", (bytes: Uint8Array) => this.#receive(bytes));
    if (already.byteLength) this.#receive(already);
    this.socket.resume();
  }

  /** Bytes handed to the socket and not yet taken by the kernel. */
  bufferedAmount(): number {
    return this.socket.writableLength;
  }

  send(data: string | Uint8Array): void {
    if (this.#closing) return;
    if (typeof data === "string") {
      this.socket.write(this.#encode(OP_TEXT, encoder.encode(data)));
      return;
    }
    if (this.side === "client") return void this.socket.write(this.#encode(OP_BINARY, data));
    this.socket.write(framedShared(data));
  }

  /**
   * Shared binary messages (the same objects go to many listeners) as one socket write; the
   * framed batch is built once and reused for every listener sent the same run.
   */
  sendBatch(messages: readonly Uint8Array[]): void {
    if (messages.length === 1) return this.send(messages[0]);
    if (this.#closing || messages.length === 0) return;
    if (this.side === "client") return this.sendOwn(messages);
    const first = messages[0], last = messages[messages.length - 1];
    let batch = framedBatches.get(first);
    if (!batch || batch.last !== last || batch.count !== messages.length) {
      batch = { last, count: messages.length, bytes: concatBytes(...messages.map(framedShared)) };
      framedBatches.set(first, batch);
    }
    this.socket.write(batch.bytes);
  }

  /** Binary messages that are this listener's own (sealed for it): framed, never cached. */
  sendOwn(messages: readonly Uint8Array[]): void {
    if (this.#closing) return;
    if (messages.length === 1) return void this.socket.write(this.#encode(OP_BINARY, messages[0]));
    this.socket.write(concatBytes(...messages.map((m) => this.#encode(OP_BINARY, m))));
  }

  /** Sends a close frame and ends the socket; a client that never answers is cut after a grace. */
  close(code: number, reason: string): void {
    this.#stopped = true;
    if (this.#closing) return;
    this.#closing = true;
    const reasonBytes = encoder.encode(reason);
    const payload = new Uint8Array(2 + reasonBytes.byteLength);
    new DataView(payload.buffer).setUint16(0, code);
    payload.set(reasonBytes, 2);
    this.socket.end(this.#encode(OP_CLOSE, payload));
    this.#graceTimer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
  }

  #encode(opcode: number, payload: Uint8Array): Uint8Array {
    return encodeFrame(opcode, payload, this.side === "client");
  }

  #onSocketClosed(): void {
    clearTimeout(this.#graceTimer);
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.#stopped = true;
    this.#handlers?.onClosed();
  }

  #receive(bytes: Uint8Array): void {
    if (this.#stopped) return;
    const buffer = this.#pending.byteLength ? concatBytes(this.#pending, bytes) : bytes;
    let at = 0;
    while (!this.#stopped) {
      const used = this.#frame(buffer, at);
      if (used === 0) break;
      at += used;
    }
    // Copied, so a small leftover does not pin a large read buffer.
    this.#pending = this.#stopped ? new Uint8Array(0) : new Uint8Array(buffer.subarray(at));
  }

  /** Handles the frame at `at`; returns the bytes it used, or 0 if it is not all here yet. */
  #frame(buffer: Uint8Array, at: number): number {
    const available = buffer.byteLength - at;
    if (available < 2) return 0;
    const first = buffer[at];
    const second = buffer[at + 1];
    const fin = (first & 0x80) !== 0;
    const opcode = first & 0x0f;
    if (first & 0x70) return this.#fail(CLOSE_PROTOCOL_ERROR, "reserved bits set");
    const masked = (second & 0x80) !== 0;
    if (masked !== (this.side === "server")) {
      return this.#fail(CLOSE_PROTOCOL_ERROR, "only client frames are masked");
    }
    let length = second & 0x7f;
    let headerBytes = 2;
    if (length === 126) {
      if (available < 4) return 0;
      length = (buffer[at + 2] << 8) | buffer[at + 3];
      headerBytes = 4;
    } else if (length === 127) {
      if (available < 10) return 0;
      const view = new DataView(buffer.buffer, buffer.byteOffset + at + 2, 8);
      // Anything past 4 GiB is as refused as anything past the limit.
      length = view.getUint32(0) ? Infinity : view.getUint32(4);
      headerBytes = 10;
    }
    const control = opcode >= 0x8;
    if (control) {
      if (opcode !== OP_CLOSE && opcode !== OP_PING && opcode !== OP_PONG) {
        return this.#fail(CLOSE_PROTOCOL_ERROR, `reserved opcode ${opcode}`);
      }
      if (!fin || length > 125) return this.#fail(CLOSE_PROTOCOL_ERROR, "bad control frame");
    } else {
      if (opcode > OP_BINARY) return this.#fail(CLOSE_PROTOCOL_ERROR, `reserved opcode ${opcode}`);
      const continuing = this.#fragments.length > 0;
      if ((opcode === OP_CONTINUATION) !== continuing) {
        return this.#fail(CLOSE_PROTOCOL_ERROR, "unexpected continuation frame");
      }
      if (!continuing) this.#binary = opcode === OP_BINARY;
      const tooMany = this.#fragments.length >= MAX_FRAGMENTS; // empty ones cost memory too
      if (tooMany || this.#fragmentBytes + length > this.maxMessageBytes) {
        this.#handlers?.onTooBig();
        return this.#stop();
      }
    }
    const maskBytes = masked ? 4 : 0;
    const total = headerBytes + maskBytes + length;
    if (available < total) return 0;
    // A copy: unmasked in place, and a Node Buffer's slice() would only be a view.
    const payload = new Uint8Array(buffer.subarray(at + headerBytes + maskBytes, at + total));
    if (masked) {
      const mask = buffer.subarray(at + headerBytes, at + headerBytes + 4);
      for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    }
    if (control) this.#control(opcode, payload);
    else this.#data(fin, payload);
    return total;
  }

  #data(fin: boolean, payload: Uint8Array): void {
    this.#fragments.push(payload);
    this.#fragmentBytes += payload.byteLength;
    if (!fin) return;
    const message = this.#fragments.length === 1 ? payload : concatBytes(...this.#fragments);
    this.#fragments = [];
    this.#fragmentBytes = 0;
    if (this.#binary) return this.#handlers?.onBinary(message);
    let text: string;
    try {
      text = strictUtf8.decode(message);
    } catch {
      this.#fail(CLOSE_INVALID_DATA, "text frames must be UTF-8");
      return;
    }
    this.#handlers?.onText(text);
  }

  #control(opcode: number, payload: Uint8Array): void {
    if (opcode === OP_PING) {
      if (this.bufferedAmount() < PONG_HIGH_WATER_BYTES) {
        this.socket.write(this.#encode(OP_PONG, payload));
      }
    } else if (opcode === OP_CLOSE) {
      if (payload.byteLength === 1) return void this.#fail(CLOSE_PROTOCOL_ERROR, "bad close frame");
      const code = payload.byteLength ? (payload[0] << 8) | payload[1] : 1000;
      this.close(validCloseCode(code) ? code : CLOSE_PROTOCOL_ERROR, "");
    }
  }

  /** Closes for a protocol violation; returns 0 so the frame loop stops. */
  #fail(code: number, reason: string): number {
    this.close(code, reason);
    return this.#stop();
  }

  /**
   * A handler refused the message (and closed the connection): read no further. The socket is
   * cut as soon as the close frame is out, so a client still pushing a huge frame costs no
   * more reads (a pause would not stop Deno's socket from reading).
   */
  #stop(): number {
    this.#stopped = true;
    this.#fragments = [];
    if (this.socket.writableFinished) this.socket.destroy();
    else this.socket.once("finish", () => this.socket.destroy());
    return 0;
  }
}

function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}
