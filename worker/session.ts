/**
 * One connected Sendspin client, independent of the runtime and of the wire dialect: the
 * dialect hands it messages stamped on receipt, and it answers through `ClientConnection`.
 * Shared state (audio, volume, metadata) lives in the group, which the session asks and
 * never edits; this file is the protocol with one client.
 */
import { ClientRecord } from "./client_record.ts";
import type { Clock } from "../protocol/clock.ts";
import {
  type AudioFormat,
  type ClientHello,
  type ClientMessage,
  type PlayerStateUpdate,
  truncateUtf8,
} from "../protocol/messages.ts";
import { BURST_MESSAGES, MAX_INVALID_MESSAGES, MESSAGES_PER_SECOND } from "./client_limits.ts";
import type { ClientConnection, SessionInput } from "./dialects/connection.ts";
import { TokenBucket } from "./token_bucket.ts";
import { preferSourceFormat, producibleFormats } from "./encoders/negotiate.ts";
import type { PcmFormat } from "../protocol/pcm.ts";
import type { FramedChunk } from "./future_audio.ts";
import { MIN_USEFUL_LEAD_US } from "./output_stream.ts";
import { BATCH_PERIOD_US, SendQueue } from "./send_queue.ts";
import type { ArtworkRole } from "./artwork/artwork_role.ts";
import { SessionArtwork } from "./artwork/session_artwork.ts";

/** What a session needs from its group. */
export interface GroupPort {
  readonly serverId: string;
  /** Keep a record of every client for `--summary`. */
  readonly recordsClients?: boolean;
  readonly name: string;
  readonly clock: Clock;
  /** The worker's covers, for artwork@v1 clients; without it the role is not offered. */
  readonly artwork?: ArtworkRole;
  /** The format the source plays in now (undefined before any audio). */
  readonly sourceFormat?: PcmFormat;
  /** Whether one more listener may join. */
  hasRoom(): boolean;
  /** Counts a refused client message. */
  rejected(): void;
  join(session: Session): void;
  leave(session: Session): void;
  /**
   * The first of `formats` this worker can stream now (its encoder started if need be), or
   * undefined: asked before the hello is answered, so a client we cannot serve is refused.
   */
  pickFormat(formats: readonly AudioFormat[]): AudioFormat | undefined;
  /** Listens to the first of `formats` that can start; undefined if none can. */
  subscribe(session: Session, formats: readonly AudioFormat[]): AudioFormat | undefined;
  /** Whether this client may play now (an unpaired one may wait for the operator). */
  admits(session: Session): boolean;
  /** A client is connected and waits for the operator's approval (it is not a listener yet). */
  waiting(session: Session): void;
  /** A waiting client is taken for pairing: it waits no more, and has not left. */
  setAside(session: Session): void;
  /** Its buffer holds too little for batches: flush it every chunk, not every batch period. */
  setShortLead(session: Session, short: boolean): void;
  /** It is still filling its buffer: flush it every chunk until it holds HUNGRY_LEAD_US. */
  feedHungry(session: Session): void;
  unsubscribe(session: Session): void;
  controllerCommand(session: Session, command: string, value: number | boolean | undefined): void;
  playerChanged(session: Session): void;
  requestedFormat(session: Session, request: Partial<AudioFormat>): AudioFormat | undefined;
}

/** The stream a session listens to, as the group tells it. */
export interface StreamInfo {
  readonly format: AudioFormat;
  readonly codecHeader?: string;
}

/** Roles we implement, newest first per family. */
const IMPLEMENTED_ROLES = ["player@v1", "controller@v1", "metadata@v1", "artwork@v1"];
export const HELLO_TIMEOUT_MS = 5_000;
/** The reference keeps at most ~5 s ahead of real time. */
export const MAX_LEAD_US = 5_000_000;
const CLOSE_POLICY = 1008;
const CLOSE_NORMAL = 1000;
const CLOSE_TRY_LATER = 1013;
const CLOSE_INTERNAL = 1011;

export class Session implements SessionInput {
  hello?: ClientHello;
  roles: string[] = [];
  volume = 100;
  muted = false;
  state = "synchronized";
  rejectedMessages = 0;
  /** Which of the group's pace ticks flushes this listener. */
  paceSlot = 0;
  /** What this listener is sent, once it listens. */
  stream?: StreamInfo;
  /** It may play (legacy, paired, approved, or all guests are welcome). */
  admitted = false;
  /** A pairing attempt has the connection: it neither plays nor waits for approval. */
  pairing = false;
  /** Encrypted dialect: another system has the player; no audio until it rejoins. */
  available = true;
  outputDelayMs = 0;
  minBufferMs = 0;
  /** The player's own format preference (encrypted `client/state`). */
  preferredFormat?: AudioFormat;
  #stateSeen = false;
  /** Formats to start with once the first `client/state` has come (encrypted dialect). */
  #pendingFormats?: AudioFormat[];
  #streamStarted = false;
  #lastSentEndUs = 0;
  #queue: SendQueue;
  #helloTimer?: ReturnType<typeof setTimeout>;
  #closed = false;
  #gone: (() => void)[] = [];
  #helloCallbacks: (() => void)[] = [];
  #budget = new TokenBucket(BURST_MESSAGES, MESSAGES_PER_SECOND);
  #artwork: SessionArtwork;
  /** It asked for a format itself: it keeps that one when the source's format changes. */
  #askedFormat = false;
  /** What this client said and was sent, when the party keeps a summary (`--summary`). */
  readonly record?: ClientRecord;
  /** Where the client reached this worker (`http://host:port`), for URLs it may fetch. */
  origin?: string;

  constructor(readonly connection: ClientConnection, readonly group: GroupPort) {
    this.record = group.recordsClients ? new ClientRecord() : undefined;
    const sink = this.record ? this.record.recording(connection) : connection;
    this.#queue = new SendQueue(sink, group.clock, MAX_LEAD_US);
    this.#artwork = new SessionArtwork(group.artwork, {
      send: (type, payload) => this.send(type, payload),
      sendArtwork: (channel, atUs, image) => {
        if (!this.#closed) connection.sendArtwork(channel, atUs, image);
      },
    }, connection.streamsAfterState);
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

  // --- from the dialect ---

  receive(message: ClientMessage, receivedUs: number): void {
    if (this.#closed || !this.#withinBudget(receivedUs)) return;
    if (!this.hello && message.type !== "client/hello") {
      this.#countRejected();
      this.close(CLOSE_POLICY, `expected client/hello first, got ${message.type}`);
      return;
    }
    this.#handle(message, receivedUs);
  }

  refuse(reason: string, receivedUs: number): void {
    if (this.#closed || !this.#withinBudget(receivedUs)) return;
    this.#countRejected();
    if (!this.hello) this.close(CLOSE_POLICY, `expected client/hello: ${reason}`);
  }

  violate(code: number, reason: string): void {
    this.group.rejected();
    this.close(code, reason);
  }

  #withinBudget(receivedUs: number): boolean {
    if (this.#budget.take(receivedUs)) return true;
    this.group.rejected();
    this.close(CLOSE_POLICY, "too many messages: slow down");
    return false;
  }

  #countRejected(): void {
    this.rejectedMessages++;
    this.group.rejected();
    if (this.rejectedMessages > MAX_INVALID_MESSAGES) {
      this.close(CLOSE_POLICY, `more than ${MAX_INVALID_MESSAGES} invalid messages`);
    }
  }

  #handle(message: ClientMessage, receivedUs: number): void {
    switch (message.type) {
      case "client/hello":
        return this.#onHello(message.hello);
      case "client/time":
        // Sent at once, ahead of any queued audio: a delayed answer widens the client's error.
        return this.connection.send("server/time", {
          client_transmitted: message.clientTransmittedUs,
          server_received: receivedUs,
          server_transmitted: this.group.clock.nowUs(),
        });
      case "client/state":
        this.#onState(message.player, message.available);
        return this.#artwork.onState(message.artwork, this.hasRole("artwork") && this.available);
      case "client/leave":
        return this.#becameUnavailable();
      case "client/command": {
        const { type: _, ...command } = message;
        this.record?.commands.push(command);
        const value = message.command === "mute" ? message.mute : message.volume;
        return this.group.controllerCommand(this, message.command, value);
      }
      case "stream/request-format": {
        if (message.artwork) this.#artwork.onChange(message.artwork);
        if (message.artwork && Object.keys(message.request).length === 0) return;
        if (!this.stream) return this.#countRejected(); // only a playing player has a format
        const format = this.group.requestedFormat(this, message.request);
        if (format) this.group.subscribe(this, [format]);
        this.#askedFormat = true;
        return;
      }
      case "client/goodbye":
        return this.close(CLOSE_NORMAL, `goodbye: ${message.reason}`);
    }
  }

  #onHello(hello: ClientHello): void {
    if (this.hello) return this.#countRejected();
    clearTimeout(this.#helloTimer);
    if (hello.version !== 1) {
      return this.close(CLOSE_POLICY, `unsupported protocol version ${hello.version}, need 1`);
    }
    if (!this.group.hasRoom()) return this.close(CLOSE_TRY_LATER, "the party is full: try later");
    this.hello = hello;
    for (const said of this.#helloCallbacks.splice(0)) said();
    if (this.record) this.record.hello = { ...hello };
    const support = hello.player_support;
    const roles = this.#artwork.roles(activeRoles(hello.supported_roles), hello);
    const candidates = this.#candidates();
    if (roles.some((r) => r.startsWith("player@")) && candidates.length === 0) {
      const listed = support?.supported_formats.map(describe).join(", ") || "none";
      return this.close(CLOSE_POLICY, `no audio format we can produce (client lists ${listed})`);
    }
    this.admitted = this.group.admits(this);
    this.roles = this.admitted ? roles : [];
    let format: AudioFormat | undefined;
    if (this.hasRole("player")) {
      // The client's favourite, or the next it lists if this worker cannot start that encoder.
      format = this.group.pickFormat(candidates);
      if (!format) {
        return this.close(CLOSE_TRY_LATER, "no encoder free for your formats: try later");
      }
    }
    this.connection.welcome(this.#welcome());
    if (!this.admitted) return this.group.waiting(this);
    this.group.join(this);
    this.#artwork.activated(hello, this.roles);
    if (format) this.#listen([format, ...candidates]);
  }

  /** The operator approved this waiting client: it gets its roles and plays. */
  admit(): void {
    if (this.admitted || !this.hello) return;
    this.admitted = true;
    this.roles = this.#artwork.roles(activeRoles(this.hello.supported_roles), this.hello);
    this.connection.activate(this.#welcome());
    this.group.join(this); // a listener now: its group, controller and metadata state
    this.#artwork.activated(this.hello, this.roles);
    if (this.hasRole("player")) this.#listen(this.#candidates());
  }

  /**
   * The source's format changed (a playlist's next track): a listener that was given the
   * source's own format moves to the new one if it lists it (a new stream, from where its
   * old one was sent to), unless it chose its format itself.
   */
  followSource(): void {
    if (this.#askedFormat || this.preferredFormat || !this.stream) return;
    this.group.subscribe(this, this.#candidates());
  }

  /** The client's formats we can produce, the source's own first where it lists it. */
  #candidates(): AudioFormat[] {
    const listed = producibleFormats(this.hello?.player_support?.supported_formats ?? []);
    return preferSourceFormat(listed, this.group.sourceFormat);
  }

  /** Its approval was revoked: its stream ends and it waits, connected, with nothing active. */
  unadmit(): void {
    if (!this.admitted) return;
    this.#quiesce();
    this.connection.activate(this.#welcome());
    this.group.waiting(this);
  }

  /**
   * A pairing attempt takes the connection (pairing.md "Entering and leaving pairing"): its
   * streams end and its state roles are cleared, it stops being a listener or a waiting
   * client; `activate` then sends the pairing activation. Group membership is the client's
   * to keep: it comes back to the same party.
   */
  enterPairing(activate: () => void): void {
    this.pairing = true;
    const stateRoles = this.roles.filter((r) => /^(metadata|controller)@/.test(r));
    if (this.admitted) {
      this.group.leave(this);
      this.#quiesce();
      if (stateRoles.length) {
        const cleared = Object.fromEntries(stateRoles.map((r) => [r.split("@")[0], null]));
        this.send("server/state", cleared);
      }
    } else this.group.setAside(this);
    activate();
  }

  /** The attempt is over: it plays if it may (now paired, perhaps), else it waits again. */
  leavePairing(): void {
    if (!this.pairing) return;
    this.pairing = false;
    this.settle();
  }

  /**
   * Sends the activation for what it may do now (after pairing, or new keys): it plays if
   * it may, else it waits with nothing active.
   */
  settle(): void {
    if (this.#closed || this.pairing) return;
    if (this.admitted) return this.connection.activate(this.#welcome());
    if (this.group.admits(this)) return this.admit();
    this.connection.activate(this.#welcome());
    this.group.waiting(this);
  }

  /** Calls `callback` once the client said hello (its id is known then). */
  onHello(callback: () => void): void {
    if (this.hello) callback();
    else this.#helloCallbacks.push(callback);
  }

  /** Calls `callback` once the connection is gone. */
  onGone(callback: () => void): void {
    if (this.#closed) callback();
    else this.#gone.push(callback);
  }

  #quiesce(): void {
    this.admitted = false;
    this.endStream();
    this.#artwork.end();
    this.group.unsubscribe(this);
    this.stream = undefined;
    this.roles = [];
  }

  #welcome() {
    return {
      serverId: this.group.serverId,
      name: this.group.name,
      activeRoles: this.roles,
      playback: this.admitted,
    };
  }

  /**
   * Starts the player's stream, in its preferred format if it named one. The encrypted
   * dialect sends no audio before the client's first `client/state`, nor while unavailable.
   */
  #listen(formats: AudioFormat[]): void {
    if (this.connection.streamsAfterState && !this.#stateSeen) {
      this.#pendingFormats = formats;
      return;
    }
    if (!this.available) return;
    const preferred = this.preferredFormat ? producibleFormats([this.preferredFormat]) : [];
    if (!this.group.subscribe(this, [...preferred, ...formats])) {
      this.close(CLOSE_INTERNAL, `cannot encode ${formats.map(describe).join(", ")}`);
    }
  }

  #onState(player: PlayerStateUpdate, available: boolean | undefined): void {
    const { volume, muted } = this;
    if (player.volume !== undefined) this.volume = player.volume;
    if (player.muted !== undefined) this.muted = player.muted;
    if (player.state !== undefined) this.state = player.state;
    if (player.output_delay_ms !== undefined) this.outputDelayMs = player.output_delay_ms;
    if (player.min_buffer_ms !== undefined) this.minBufferMs = player.min_buffer_ms;
    // Clients report every 5 s; only a change concerns the controllers.
    if (this.volume !== volume || this.muted !== muted) this.group.playerChanged(this);
    if (available === false) return this.#becameUnavailable();
    const formatChanged = player.format !== undefined &&
      (!this.preferredFormat || describe(player.format) !== describe(this.preferredFormat));
    if (player.format !== undefined) this.preferredFormat = player.format;
    if (!this.#stateSeen) {
      this.#stateSeen = true;
      if (this.#pendingFormats) this.#listen(this.#pendingFormats);
      this.#pendingFormats = undefined;
    } else if (formatChanged && this.stream) {
      const format = this.group.requestedFormat(this, this.preferredFormat!);
      if (format) this.group.subscribe(this, [format]);
    }
  }

  /**
   * Another system has the player (or it left the group): its stream ends, and the spec
   * has it stay stopped until it asks to rejoin, even once it is available again.
   */
  #becameUnavailable(): void {
    this.available = false;
    this.#pendingFormats = undefined;
    this.endStream();
    this.#artwork.end();
    this.group.unsubscribe(this);
    this.stream = undefined;
  }

  // --- from the group ---

  /** This listener now gets `stream`, starting from the chunks of it already encoded. */
  startStream(stream: StreamInfo, encoded: readonly FramedChunk[]): void {
    // The old stream first gets what it may hold now, as if it were its slot: the new one
    // then starts where the client's buffer ends, not where the last batch happened to stop.
    if (this.#streamStarted) this.#queue.flush();
    this.stream = stream;
    this.#streamStarted = false;
    const capacity = this.hello?.player_support?.buffer_capacity ?? Infinity;
    this.#queue.maxLeadUs = leadFor(stream.format, capacity);
    this.group.setShortLead(this, this.#queue.maxLeadUs < 2 * BATCH_PERIOD_US);
    // Audio still queued is in the old format: drop it and continue from what was sent.
    this.#queue.clear();
    this.#lastSentEndUs = this.#queue.lastSentEndUs;
    // A stream that starts from empty begins at least the player's own buffer and output
    // delay ahead, so its first chunk is not late for it.
    const startLeadUs = this.#lastSentEndUs
      ? MIN_USEFUL_LEAD_US
      : Math.max(MIN_USEFUL_LEAD_US, (this.minBufferMs + this.outputDelayMs) * 1000);
    const nowUs = this.group.clock.nowUs();
    for (const chunk of encoded) {
      if (chunk.playAtUs >= nowUs + startLeadUs) this.#enqueue(chunk);
    }
    // A joining listener hears audio at once, all that is encoded in one write.
    this.#queue.flush(nowUs);
    if (this.#streamStarted && this.#queue.hungry(nowUs)) this.group.feedHungry(this);
  }

  /** Every new framed chunk of this listener's format. */
  deliver(chunk: FramedChunk): void {
    const started = this.#streamStarted;
    if (!this.#enqueue(chunk)) return;
    // The first chunk at once (of a stream, or after the client cleared its buffer); later
    // ones at this listener's pace slot, or every chunk while it fills its buffer.
    if (!started || this.#queue.lastSentEndUs === 0) this.#queue.flush();
    else if (this.#queue.hungry()) this.group.feedHungry(this);
  }

  /** Queues `chunk`, after `stream/start` if it is the stream's first; false if sent already. */
  #enqueue(chunk: FramedChunk): boolean {
    // After a format switch, continue where the previous format stopped: no overlap.
    if (chunk.playAtUs < this.#lastSentEndUs) return false;
    this.#lastSentEndUs = chunk.endUs;
    this.#queue.push(chunk);
    if (!this.#streamStarted && this.stream) {
      this.#streamStarted = true;
      this.send("stream/start", {
        player: { ...this.stream.format, codec_header: this.stream.codecHeader },
      });
    }
    return true;
  }

  /** The timeline stopped: tell the client, drop what it has not been sent. */
  endStream(): void {
    this.#queue.clear(true);
    if (this.#streamStarted) {
      this.#streamStarted = false;
      this.connection.send("stream/end", { roles: ["player"] });
    }
    this.#lastSentEndUs = 0;
  }

  /** The audio ahead was dropped: the client clears its buffer, the stream goes on. */
  clearStream(): void {
    this.#queue.clear(true);
    if (this.#streamStarted) this.connection.send("stream/clear", { roles: ["player"] });
    this.#lastSentEndUs = 0;
  }

  /** Holds less than HUNGRY_LEAD_US of audio ahead (send_queue.ts). */
  hungry(nowUs?: number): boolean {
    return this.#queue.hungry(nowUs);
  }

  /** Paced by the group: sends queued chunks; closes a listener whose socket stopped draining. */
  flush(nowUs?: number): void {
    if (!this.#queue.flush(nowUs)) this.close(CLOSE_POLICY, "not reading: socket stalled for 5 s");
  }

  /** Group volume reached this player. */
  setVolume(volume: number): void {
    this.volume = volume;
    this.send("server/command", { player: { command: "volume", volume } });
  }

  setMuted(mute: boolean): void {
    this.muted = mute;
    this.send("server/command", { player: { command: "mute", mute } });
  }

  send(type: string, payload: Record<string, unknown>): void {
    if (this.#closed) return;
    this.connection.send(type, payload);
    this.record?.sent(type, payload);
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
    for (const gone of this.#gone.splice(0)) queueMicrotask(gone);
    this.#closed = true;
    clearTimeout(this.#helloTimer);
    this.#artwork.stop();
    this.group.unsubscribe(this);
    this.stream = undefined;
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
