/**
 * A minimal Sendspin client speaking the wire protocol directly, for what sendspin-js cannot
 * do under Deno (it lists Opus only where WebCodecs exists) and for timing measurements.
 */
import { parseAudioChunk } from "../../protocol/audio_chunk.ts";
import type { AudioFormat } from "../../protocol/messages.ts";
import type { ReceivedChunk } from "./sendspin_client.ts";
import { until, type UntilOptions } from "./until.ts";

export interface RawClientOptions {
  formats: AudioFormat[];
  roles?: string[];
  bufferCapacity?: number;
  name?: string;
  /** More client/hello fields, e.g. `artwork@v1_support`. Default none. */
  hello?: Record<string, unknown>;
}

/** A legacy artwork message: binary type 8 + channel, its timestamp, the image (may be empty). */
export interface ReceivedArtwork {
  channel: number;
  atUs: number;
  image: Uint8Array;
}

export class RawClient {
  readonly chunks: ReceivedChunk[] = [];
  readonly artwork: ReceivedArtwork[] = [];
  /** When each of `messages` arrived (µs, performance.now), by index. */
  readonly arrivals: number[] = [];
  readonly messages: { type: string; payload: Record<string, unknown> }[] = [];
  helloSentUs = 0;
  closed?: { code: number; reason: string };
  #waiters: {
    type: string;
    resolve: (m: { payload: Record<string, unknown>; arrivedUs: number }) => void;
  }[] = [];

  private constructor(readonly socket: WebSocket) {}

  static connect(baseUrl: string, options: RawClientOptions): Promise<RawClient> {
    const url = new URL("/sendspin", baseUrl).href.replace(/^http/, "ws");
    return RawClient.speakOn(new WebSocket(url), options);
  }

  /**
   * Speaks as a client on `socket`, which may also be a server-side socket: a listening
   * client that the party server dialled (the client says hello first either way).
   */
  static async speakOn(socket: WebSocket, options: RawClientOptions): Promise<RawClient> {
    socket.binaryType = "arraybuffer";
    const client = new RawClient(socket);
    socket.onmessage = (event) => {
      if (typeof event.data === "string") {
        const arrivedUs = performance.now() * 1000;
        const message = JSON.parse(event.data);
        client.messages.push(message);
        client.arrivals.push(arrivedUs);
        const waiter = client.#waiters.findIndex((w) => w.type === message.type);
        if (waiter >= 0) client.#waiters.splice(waiter, 1)[0].resolve({ ...message, arrivedUs });
      } else {
        const { type, playAtUs, payload } = parseAudioChunk(new Uint8Array(event.data));
        if (type >= 8 && type <= 11) {
          client.artwork.push({ channel: type - 8, atUs: playAtUs, image: payload });
        } else client.chunks.push({ playAtUs, payload, arrivedUs: performance.now() * 1000 });
      }
    };
    socket.onclose = (event) => client.closed = { code: event.code, reason: event.reason };
    if (socket.readyState !== WebSocket.OPEN) {
      await new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = reject;
      });
    }
    client.helloSentUs = performance.now() * 1000;
    client.send("client/hello", {
      client_id: `raw-${crypto.randomUUID().slice(0, 8)}`,
      name: options.name ?? "raw test client",
      version: 1,
      supported_roles: options.roles ?? ["player@v1"],
      "player@v1_support": {
        supported_formats: options.formats,
        buffer_capacity: options.bufferCapacity ?? 5 * 1024 * 1024,
        supported_commands: ["volume", "mute"],
      },
      ...options.hello,
    });
    return client;
  }

  send(type: string, payload: Record<string, unknown>): void {
    this.socket.send(JSON.stringify({ type, payload }));
  }

  /** The next message of `type`, with the local time it arrived (µs, performance.now). */
  next(type: string): Promise<{ payload: Record<string, unknown>; arrivedUs: number }> {
    return new Promise((resolve) => this.#waiters.push({ type, resolve }));
  }

  messagesOf(type: string) {
    return this.messages.filter((m) => m.type === type);
  }

  /**
   * Polls `predicate` (every 5 ms); on timeout the error shows `options.seen`, or else what
   * this client has received so far (see `describe`).
   */
  waitFor(
    what: string,
    predicate: () => boolean,
    options: number | UntilOptions = 10_000,
  ): Promise<void> {
    const base = typeof options === "number" ? { ms: options } : options;
    return until(what, predicate, { everyMs: 5, seen: () => this.describe(), ...base });
  }

  /** What this client has received so far, for a test's failure message. */
  describe(): string {
    const types = new Map<string, number>();
    for (const { type } of this.messages) types.set(type, (types.get(type) ?? 0) + 1);
    const messages = [...types].map(([type, n]) => `${type} x${n}`).join(", ") || "none";
    const closed = this.closed ? `closed ${this.closed.code} "${this.closed.reason}"` : "open";
    return `${this.chunks.length} audio chunks; messages: ${messages}; ${closed}`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const done = new Promise((r) => this.socket.addEventListener("close", r, { once: true }));
    this.socket.close();
    await Promise.race([done, new Promise((r) => setTimeout(r, 1_000))]);
  }
}

export const format = (
  codec: AudioFormat["codec"],
  sample_rate = 48_000,
  channels = 2,
  bit_depth = 16,
): AudioFormat => ({ codec, sample_rate, channels, bit_depth });
