/**
 * One connected Sendspin client, independent of the runtime: the adapter hands it text
 * frames stamped on receipt, and it answers through `Connection`. Shared state (audio,
 * volume, metadata) lives in the group; this file is the protocol with one client.
 */
import type { Clock } from "../protocol/clock.ts";
import {
  type AudioFormat,
  type ClientHello,
  type ClientMessage,
  InvalidMessageError,
  parseClientMessage,
  serverMessage,
  truncateUtf8,
} from "../protocol/messages.ts";
import {
  BURST_MESSAGES,
  MAX_INVALID_MESSAGES,
  MAX_MESSAGE_BYTES,
  MESSAGES_PER_SECOND,
} from "./client_limits.ts";
import { TokenBucket } from "./token_bucket.ts";
import { producibleFormats } from "./encoders/negotiate.ts";
import { MIN_USEFUL_LEAD_US, type OutputStream, type Subscriber } from "./output_stream.ts";
import { type FramedChunk, SendQueue } from "./send_queue.ts";

export interface Connection {
  send(data: string | Uint8Array): void;
  close(code: number, reason: string): void;
  bufferedAmount(): number;
}

/** What a session needs from its group. */
export interface GroupPort {
  readonly serverId: string;
  readonly name: string;
  readonly clock: Clock;
  /** Whether one more listener may join. */
  hasRoom(): boolean;
  /** Counts a refused client message. */
  rejected(): void;
  join(session: Session): void;
  leave(session: Session): void;
  /** Subscribes to the stream of `format`; undefined if no format can be produced. */
  streamFor(format: AudioFormat): OutputStream | undefined;
  release(session: Session, stream: OutputStream): void;
  controllerCommand(session: Session, command: string, value: number | boolean | undefined): void;
  playerChanged(session: Session): void;
  requestedFormat(session: Session, request: Partial<AudioFormat>): AudioFormat | undefined;
}

/** Roles we implement, newest first per family. */
const IMPLEMENTED_ROLES = ["player@v1", "controller@v1", "metadata@v1"];
export const HELLO_TIMEOUT_MS = 5_000;
/** The reference keeps at most ~5 s ahead of real time. */
export const MAX_LEAD_US = 5_000_000;
const CLOSE_POLICY = 1008;
const CLOSE_UNSUPPORTED = 1003;
const CLOSE_NORMAL = 1000;
const CLOSE_TOO_BIG = 1009;
const CLOSE_TRY_LATER = 1013;

export class Session implements Subscriber {
  hello?: ClientHello;
  roles: string[] = [];
  volume = 100;
  muted = false;
  state = "synchronized";
  rejectedMessages = 0;
  /** Which of the group's pace ticks flushes this listener. */
  paceSlot = 0;
  stream?: OutputStream;
  #streamStarted = false;
  #lastSentEndUs = 0;
  #queue: SendQueue;
  #helloTimer?: ReturnType<typeof setTimeout>;
  #closed = false;
  #budget = new TokenBucket(BURST_MESSAGES, MESSAGES_PER_SECOND);

  constructor(readonly connection: Connection, readonly group: GroupPort) {
    this.#queue = new SendQueue(
      { send: (d) => connection.send(d), bufferedAmount: () => connection.bufferedAmount() },
      group.clock,
      MAX_LEAD_US,
    );
    this.#helloTimer = setTimeout(
      () => this.close(CLOSE_POLICY, "no client/hello within 5 s"),
      HELLO_TIMEOUT_MS,
    );
  }

  get clientId(): string {
    return this.hello?.client_id ?? "";
  }

  get displayName(): string {
    return this.hello?.name || this.clientId || "unnamed client";
  }

  hasRole(family: string): boolean {
    return this.roles.some((role) => role.startsWith(`${family}@`));
  }

  onText(text: string, receivedUs: number): void {
    if (this.#closed) return;
    if (!this.#budget.take(receivedUs)) {
      this.group.rejected();
      return this.close(CLOSE_POLICY, "too many messages: slow down");
    }
    let message: ClientMessage;
    try {
      message = parseClientMessage(text);
    } catch (error) {
      if (!(error instanceof InvalidMessageError)) throw error;
      this.#reject();
      if (!this.hello) this.close(CLOSE_POLICY, `expected client/hello: ${error.message}`);
      return;
    }
    if (!this.hello && message.type !== "client/hello") {
      this.#reject();
      this.close(CLOSE_POLICY, `expected client/hello first, got ${message.type}`);
      return;
    }
    this.#handle(message, receivedUs);
  }

  #reject(): void {
    this.rejectedMessages++;
    this.group.rejected();
    if (this.rejectedMessages > MAX_INVALID_MESSAGES) {
      this.close(CLOSE_POLICY, `more than ${MAX_INVALID_MESSAGES} invalid messages`);
    }
  }

  onBinary(): void {
    this.group.rejected();
    this.close(CLOSE_UNSUPPORTED, "clients may not send binary frames");
  }

  /** The client announced a message over the limit (the connection never reads it). */
  onTooBig(): void {
    this.group.rejected();
    this.close(CLOSE_TOO_BIG, `message over ${MAX_MESSAGE_BYTES / 1024} KiB`);
  }

  #handle(message: ClientMessage, receivedUs: number): void {
    switch (message.type) {
      case "client/hello":
        return this.#onHello(message.hello);
      case "client/time":
        // Sent at once, ahead of any queued audio: a delayed answer widens the client's error.
        return this.connection.send(serverMessage("server/time", {
          client_transmitted: message.clientTransmittedUs,
          server_received: receivedUs,
          server_transmitted: this.group.clock.nowUs(),
        }));
      case "client/state": {
        const { volume, muted } = this;
        Object.assign(this, message.player);
        // Clients report every 5 s; only a change concerns the controllers.
        if (this.volume !== volume || this.muted !== muted) this.group.playerChanged(this);
        return;
      }
      case "client/command": {
        const value = message.command === "mute" ? message.mute : message.volume;
        return this.group.controllerCommand(this, message.command, value);
      }
      case "stream/request-format": {
        if (!this.stream) return this.#reject(); // only a playing player has a format to change
        const format = this.group.requestedFormat(this, message.request);
        if (format) this.#switchTo(format);
        return;
      }
      case "client/goodbye":
        return this.close(CLOSE_NORMAL, `goodbye: ${message.reason}`);
    }
  }

  #onHello(hello: ClientHello): void {
    if (this.hello) return this.#reject();
    clearTimeout(this.#helloTimer);
    if (hello.version !== 1) {
      return this.close(CLOSE_POLICY, `unsupported protocol version ${hello.version}, need 1`);
    }
    if (!this.group.hasRoom()) return this.close(CLOSE_TRY_LATER, "the party is full: try later");
    this.hello = hello;
    this.roles = activeRoles(hello.supported_roles);
    let format: AudioFormat | undefined;
    if (this.hasRole("player")) {
      const support = hello.player_support;
      const candidates = producibleFormats(support?.supported_formats ?? []);
      if (candidates.length === 0) {
        const listed = support?.supported_formats.map(describe).join(", ") || "none";
        return this.close(CLOSE_POLICY, `no audio format we can produce (client lists ${listed})`);
      }
      // The client's favourite, or the next it lists if this worker cannot start that encoder.
      format = candidates.find((candidate) => this.group.streamFor(candidate));
      if (!format) {
        return this.close(CLOSE_TRY_LATER, "no encoder free for your formats: try later");
      }
      this.#queue.maxLeadUs = leadFor(format, support?.buffer_capacity ?? Infinity);
    }
    this.connection.send(serverMessage("server/hello", {
      server_id: this.group.serverId,
      name: this.group.name,
      version: 1,
      active_roles: this.roles,
      connection_reason: "playback",
    }));
    this.group.join(this);
    if (format) this.#switchTo(format);
  }

  #switchTo(format: AudioFormat): void {
    const stream = this.group.streamFor(format);
    if (!stream && !this.stream) return this.close(1011, `cannot encode ${describe(format)}`);
    if (!stream || stream === this.stream) return;
    if (this.stream) {
      this.stream.subscribers.delete(this);
      this.group.release(this, this.stream);
    }
    this.stream = stream;
    this.#streamStarted = false;
    // Audio still queued is in the old format: drop it and continue from what was sent.
    this.#queue.clear();
    this.#lastSentEndUs = this.#queue.lastSentEndUs;
    stream.subscribers.add(this);
    const nowUs = this.group.clock.nowUs();
    for (const chunk of stream.future(nowUs)) {
      if (chunk.playAtUs >= nowUs + MIN_USEFUL_LEAD_US) this.deliver(chunk);
    }
    this.#queue.flush(); // a joining listener hears audio at once, not at its pace slot
  }

  /** Called by the stream for every new framed chunk of this listener's format. */
  deliver(chunk: FramedChunk): void {
    // After a format switch, continue where the previous format stopped: no overlap.
    if (chunk.playAtUs < this.#lastSentEndUs) return;
    this.#lastSentEndUs = chunk.endUs;
    this.#queue.push(chunk);
    if (!this.#streamStarted) {
      this.#streamStarted = true;
      const stream = this.stream!;
      this.connection.send(serverMessage("stream/start", {
        player: { ...stream.format, codec_header: stream.codecHeader },
      }));
      this.#queue.flush(); // the first chunk at once; later ones go at this listener's pace slot
    }
  }

  /** The timeline stopped: tell the client, drop what it has not been sent. */
  endStream(): void {
    this.#queue.clear();
    if (this.#streamStarted) {
      this.#streamStarted = false;
      this.connection.send(serverMessage("stream/end", { roles: ["player"] }));
    }
    this.#lastSentEndUs = 0;
  }

  /** Paced by the group: sends queued chunks; closes a listener whose socket stopped draining. */
  flush(nowUs?: number): void {
    if (!this.#queue.flush(nowUs)) this.close(CLOSE_POLICY, "not reading: socket stalled for 5 s");
  }

  send(type: string, payload: Record<string, unknown>): void {
    if (!this.#closed) this.connection.send(serverMessage(type, payload));
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#helloTimer);
    try {
      this.connection.close(code, truncateUtf8(reason, 120));
    } finally {
      this.onClosed();
    }
  }

  /** The connection is gone, by our close or the client's. Idempotent. */
  onClosed(): void {
    this.#closed = true;
    clearTimeout(this.#helloTimer);
    if (this.stream) {
      this.stream.subscribers.delete(this);
      this.group.release(this, this.stream);
      this.stream = undefined;
    }
    if (this.hello) this.group.leave(this);
  }
}

export function activeRoles(supported: readonly string[]): string[] {
  const active: string[] = [];
  for (const role of supported) {
    const family = role.split("@")[0];
    if (active.some((r) => r.startsWith(`${family}@`))) continue;
    if (IMPLEMENTED_ROLES.includes(role)) active.push(role);
  }
  return active;
}

function describe(f: AudioFormat): string {
  return `${f.codec} ${f.sample_rate}/${f.bit_depth}/${f.channels}`;
}

/** Lead a client can hold: its buffer capacity in this format's bytes, at most 5 s. */
function leadFor(format: AudioFormat, capacityBytes: number): number {
  const bytesPerSecond = format.sample_rate * format.channels * (format.bit_depth / 8);
  const capacityUs = (capacityBytes / bytesPerSecond) * 1_000_000;
  return Math.max(200_000, Math.min(MAX_LEAD_US, capacityUs * 0.9));
}
