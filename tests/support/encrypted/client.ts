/**
 * A Sendspin client speaking the encrypted dialect, written from the spec for end-to-end
 * tests of the server: the Noise layer is channel.ts (test-side crypto only, never the
 * server's protocol/noise/); this file is the client's Sendspin behaviour and what it records.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { until } from "../until.ts";
import { type JsonMessage, SecureChannel } from "./channel.ts";
import type { HeldPsks, MatchedPsk } from "./handshake.ts";
import { encodeBase64Url } from "./ids.ts";
import {
  applyPlayerCommand,
  clientHello,
  parseAudioChunk,
  readActivation,
  type ReceivedChunk,
} from "./behaviour.ts";
import {
  DEFAULT_ROLES,
  type EncryptedClientOptions,
  type GoodbyeReason,
  type PlayerState,
} from "./options.ts";
import { deadline, Waiters, within } from "./waiters.ts";
import { type ArtworkChannelState, ArtworkReceiver } from "./artwork.ts";
import { type PairAbortReason, PairingBehaviour, type PairingRecord } from "./pairing.ts";

const DEFAULT_ARTWORK: ArtworkChannelState[] = [
  { source: "album", format: "jpeg", width: 300, height: 300 },
];

export type { ReceivedChunk } from "./behaviour.ts";
export type { MatchedPsk } from "./handshake.ts";
export type {
  AudioFormat,
  EncryptedClientOptions,
  GoodbyeReason,
  PairingOptions,
  PairingTamper,
  PlayerState,
} from "./options.ts";
export type { PairAbortReason, PairingRecord } from "./pairing.ts";

export interface ReceivedMessage extends JsonMessage {
  arrivedUs: number;
}

const nowUs = () => performance.now() * 1000;
const AUDIO_CHUNK = 4; // binary type: [4][int64 BE timestamp][uint32 BE send_ahead][frame]

export class EncryptedClient {
  /** Every JSON message received, from server/init on, with its local arrival time (µs). */
  readonly messages: ReceivedMessage[] = [];
  /** server/activate payloads, in order. */
  readonly activations: Record<string, unknown>[] = [];
  readonly chunks: ReceivedChunk[] = [];
  /** artwork@v1: the images received (completed transfers), in order. */
  readonly artwork: ArtworkReceiver;
  /** What client/state declares for artwork@v1 (change it, then sendState). */
  artworkChannels: ArtworkChannelState[];
  /** What the server did against the spec, each naming what was seen: empty for a good one. */
  readonly faults: string[] = [];
  /** The socket's close; `afterUs` counts from `connect`/`speakOn`. */
  closed?: { code: number; reason: string; afterUs: number };
  /** What client/state reports (sendState and server/command change it). */
  readonly player: PlayerState;
  available = true;
  /** After the latest server/activate; active_roles persists when an activation omits it. */
  activeRoles: string[] = [];
  readonly clientId: string;
  /** The version-0 pairing token (SP:0...) of the static public key and the pairing PSK. */
  readonly pairingToken: string;
  /** The PSKs held: psks.pairing always; pairing sets longTerm and longTermServerId. */
  readonly psks: HeldPsks;
  readonly #channel: SecureChannel;
  readonly #pairing: PairingBehaviour;
  readonly #options: EncryptedClientOptions;
  readonly #roles: string[];
  readonly #startedUs = nowUs();
  readonly #ready = Promise.withResolvers<void>();
  readonly #waiters = new Waiters<ReceivedMessage>();
  #helloSent = false;
  #activated = false;
  #stateSent = false;
  #streaming = false;
  #queue: JsonMessage[] = [];

  private constructor(socket: WebSocket, options: EncryptedClientOptions) {
    this.#options = options;
    this.#roles = options.roles ?? DEFAULT_ROLES;
    this.artwork = new ArtworkReceiver(this.faults);
    this.artworkChannels = options.artworkChannels ?? DEFAULT_ARTWORK;
    this.player = {
      volume: 100,
      muted: false,
      output_delay_ms: options.outputDelayMs ?? 0,
      supported_commands: ["volume", "mute"],
    };
    const staticKey = options.staticKey ?? x25519.utils.randomSecretKey();
    const staticPublicKey = x25519.getPublicKey(staticKey);
    this.clientId = encodeBase64Url(staticPublicKey);
    const suite = options.suite ?? "25519_ChaChaPoly_SHA256";
    const pairingPsk = options.pairing?.pairingPsk ?? options.psks?.pairing ??
      crypto.getRandomValues(new Uint8Array(32));
    this.psks = { ...options.psks, pairing: pairingPsk };
    this.#pairing = new PairingBehaviour(
      {
        send: (type, payload) => this.send(type, payload),
        closeSilently: () => this.#channel.socket.close(),
        faults: this.faults,
        suite,
        psks: this.psks,
        unpairedAccess: options.unpairedAccess ?? true,
        matchedPsk: () => this.matchedPsk,
        handshakeHash: () => this.handshakeHash,
        rehandshakes: () => this.rehandshakes,
        serverId: () => this.serverId,
      },
      options.pairing ?? {},
      pairingPsk,
      staticPublicKey,
    );
    this.pairingToken = this.#pairing.token;
    this.#channel = new SecureChannel(socket, {
      suite,
      staticKey,
      staticPublicKey,
      psks: this.psks,
      initOverride: options.initOverride,
    }, {
      json: (message, arrivedUs, encrypted) => this.#onJson(message, arrivedUs, encrypted),
      binary: (type, body, arrivedUs) => this.#onBinary(type, body, arrivedUs),
      fault: (what) => this.faults.push(what),
      closed: (code, reason) => this.#onClose(code, reason),
    });
    this.#channel.handshaken.catch((error) => this.#ready.reject(error));
  }

  /** Dials `url` (`http(s)://host:port/`, or the `ws(s)://…/sendspin` address itself). */
  static connect(url: string, options: EncryptedClientOptions = {}): Promise<EncryptedClient> {
    const target = /^https?:/.test(url) ? new URL("/sendspin", url) : new URL(url);
    target.protocol = target.protocol.replace(/^http/, "ws");
    return EncryptedClient.speakOn(new WebSocket(target), options);
  }

  /**
   * Speaks as the client on `socket`, also a server-side socket (a server that dialled us):
   * client/init goes first either way. Resolves once server/hello is answered by client/hello.
   */
  static async speakOn(
    socket: WebSocket,
    options: EncryptedClientOptions = {},
  ): Promise<EncryptedClient> {
    const client = new EncryptedClient(socket, options);
    const timeoutMs = options.handshakeTimeoutMs ?? 10_000;
    try {
      await deadline(client.#ready.promise, timeoutMs, () => `waiting for ${client.#waitingFor()}`);
    } catch (error) {
      socket.close();
      throw new Error(`Cannot connect as an encrypted client: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return client;
  }

  get serverId(): string {
    return this.#channel.serverId;
  }
  /** h of the latest handshake (the initial one, or the latest re-handshake). */
  get handshakeHash(): Uint8Array {
    return this.#channel.handshakeHash;
  }
  /** The PSK of the latest handshake; "sentinel-fallback" = the initial lookup missed. */
  get matchedPsk(): MatchedPsk | undefined {
    return this.#channel.matchedPsk;
  }
  get rehandshakes(): number {
    return this.#channel.rehandshakes;
  }
  /** Dynamic pairing codes emitted, in order ("123456" or "SP:1..."; again each round). */
  get pairingCodes(): readonly string[] {
    return this.#pairing.codes;
  }
  /** Completed pairings (server/pair-finalize received), in order. */
  get pairings(): readonly PairingRecord[] {
    return this.#pairing.records;
  }
  /** Reasons of the server's pair/abort messages, in order. */
  get pairAbortsReceived(): readonly string[] {
    return this.#pairing.abortsReceived;
  }
  /** Reasons of the client's own pair/abort messages, in order. */
  get pairAbortsSent(): readonly string[] {
    return this.#pairing.abortsSent;
  }
  /** The next emitted pairing code not yet taken by this method (already emitted, or awaited). */
  nextPairingCode(timeoutMs = 10_000): Promise<string> {
    return this.#pairing.nextCode(timeoutMs, () => this.closed !== undefined);
  }
  /** pair/abort from the client (an operator cancel, or the attempt timeout). */
  abortPairing(reason: PairAbortReason): void {
    this.#pairing.abort(reason);
  }
  /** Ends `pairing.holdBack` (and the round limit): client/pair-init follows the pair-pending. */
  releasePending(): void {
    this.#pairing.releasePending();
  }
  /** server/error's reason, when the server refused client/init. */
  get serverError(): string | undefined {
    return this.#channel.serverError;
  }
  /** The exact client/init text sent (the prologue's first half). */
  get initText(): string {
    return this.#channel.initText;
  }

  /**
   * Encrypted JSON (type 0). Until the first server/activate, and from re-handshake message 1
   * to its server/activate, messages wait in order and go out after it (the spec lets a
   * client send nothing then but client/goodbye); `early` sends at once (hostile tests).
   */
  send(type: string, payload: Record<string, unknown>, options: { early?: boolean } = {}): void {
    if (this.closed) {
      throw new Error(`Cannot send ${type}: the connection is closed (${this.describe()})`);
    }
    const held = !this.#activated || this.#channel.quiet;
    if (held && !options.early && type !== "client/goodbye") this.#queue.push({ type, payload });
    else this.#channel.sendJson(type, payload);
  }

  /** client/state with `available` and the whole player object (after applying `player`). */
  sendState(player: Partial<PlayerState> = {}, available = true): void {
    Object.assign(this.player, player);
    this.available = available;
    const payload: Record<string, unknown> = { available };
    if (this.#roles.includes("player@v1")) payload.player = structuredClone(this.player);
    if (this.#roles.includes("artwork@v1")) {
      payload.artwork = { channels: structuredClone(this.artworkChannels) };
    }
    this.#stateSent = true;
    this.send("client/state", payload);
  }

  /** The next message of `type` (arriving after this call) for which `where` holds. */
  next(
    type: string,
    timeoutMs = 10_000,
    where: (payload: Record<string, unknown>) => boolean = () => true,
  ): Promise<ReceivedMessage> {
    if (this.closed) {
      return Promise.reject(new Error(`Cannot wait for ${type}: ${this.describe()}`));
    }
    return this.#waiters.add(
      (message) => message.type === type && where(message.payload),
      timeoutMs,
      (why) => new Error(`${why} waiting for the next ${type}; saw: ${this.describe()}`),
    );
  }

  /** Polls `predicate`; on timeout the error names `what` and what this client saw. */
  waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    return until(what, predicate, { ms: timeoutMs, everyMs: 5, seen: () => this.describe() });
  }

  /** n sequential client/time probes; the one with the shortest round trip. */
  async timeProbes(n = 8, timeoutMs = 5_000): Promise<{ offsetUs: number; rttUs: number }> {
    await this.waitFor("the first server/activate", () => this.#activated, timeoutMs);
    let best: { offsetUs: number; rttUs: number } | undefined;
    for (let i = 0; i < n; i++) {
      const t1 = Math.round(nowUs());
      const reply = this.next("server/time", timeoutMs, (p) => p.client_transmitted === t1);
      this.send("client/time", { client_transmitted: t1 });
      const { payload, arrivedUs: t4 } = await reply;
      const t2 = payload.server_received as number, t3 = payload.server_transmitted as number;
      if (!Number.isInteger(t2) || !Number.isInteger(t3)) {
        this.faults.push(`server/time without integer times: ${JSON.stringify(payload)}`);
      }
      const rttUs = (t4 - t1) - (t3 - t2);
      if (!best || rttUs < best.rttUs) best = { offsetUs: ((t2 - t1) + (t3 - t4)) / 2, rttUs };
    }
    return best!;
  }

  /** Closes (with an encrypted client/goodbye first if `goodbye` is given, then waits). */
  async close(goodbye?: GoodbyeReason): Promise<void> {
    if (this.closed) return;
    const socket = this.#channel.socket;
    const done = new Promise<void>((resolve) => {
      socket.addEventListener("close", () => resolve(), { once: true });
    });
    if (goodbye && this.#channel.open && this.#helloSent) {
      this.send("client/goodbye", { reason: goodbye });
      await within(done, 1_000); // the server SHOULD close first
    }
    if (!this.closed) socket.close(1000);
    await within(done, 1_000);
  }

  sendRawText(text: string): void {
    this.#channel.sendWire(text);
  }
  sendRawBinary(bytes: Uint8Array): void {
    this.#channel.sendWire(bytes);
  }
  /** The last WebSocket message sent, again, byte for byte (a replayed Noise message). */
  replayLastSent(): void {
    this.#channel.replayLastSent();
  }

  messagesOf(type: string): ReceivedMessage[] {
    return this.messages.filter((message) => message.type === type);
  }

  /** What this client has seen so far, for a test's failure message. */
  describe(): string {
    const counts = new Map<string, number>();
    for (const { type } of this.messages) counts.set(type, (counts.get(type) ?? 0) + 1);
    const seen = [...counts].map(([type, n]) => `${type} x${n}`).join(", ") || "none";
    const closed = this.closed ? `closed ${this.closed.code} "${this.closed.reason}"` : "open";
    const faults = this.faults.length ? `; faults: ${this.faults.join(" | ")}` : "";
    return `messages: ${seen}; ${this.chunks.length} audio chunks; psk ${this.matchedPsk}, ` +
      `${this.rehandshakes} re-handshakes; ${this.#pairing.describe()}; ${closed}${faults}`;
  }

  #waitingFor(): string {
    return this.#channel.transport ? "server/hello" : this.#channel.waitingFor;
  }

  #onClose(code: number, reason: string) {
    this.closed = { code, reason, afterUs: nowUs() - this.#startedUs };
    this.#ready.reject(new Error(`closed ${code} "${reason}" before server/hello was answered`));
    this.#waiters.rejectAll(`closed ${code} "${reason}"`);
  }

  #onJson(message: JsonMessage, arrivedUs: number, encrypted: boolean) {
    this.messages.push({ ...message, arrivedUs });
    this.#waiters.offer({ ...message, arrivedUs });
    if (!encrypted) return;
    const { type, payload } = message;
    if (!this.#helloSent && type !== "server/hello") {
      this.faults.push(`${type} before server/hello`);
    } else if (!this.#activated && !["server/hello", "server/activate"].includes(type)) {
      if (type !== "noise/handshake") this.faults.push(`${type} before the first server/activate`);
    }
    if (this.#pairing.onMessage(type, payload)) return;
    if (type === "server/hello") this.#onHello();
    else if (type === "server/activate") this.#onActivate(payload);
    else if (type === "server/command") this.#onCommand(payload);
    else if (type === "stream/start") {
      if (payload.player) this.#streaming = true;
      if (payload.artwork) this.artwork.onStreamStart();
    } else if (type === "stream/end") {
      const roles = payload.roles;
      if (!Array.isArray(roles) || roles.includes("player")) this.#streaming = false;
      if (!Array.isArray(roles) || roles.includes("artwork")) this.artwork.onStreamEnd();
    } // any other type: recorded, else ignored (connection.md: unknown types are ignored)
  }

  #onHello() {
    if (this.#helloSent) return void this.faults.push("server/hello again");
    this.#channel.sendJson("client/hello", clientHello(this.#options, this.#roles));
    this.#helloSent = true;
    this.#ready.resolve();
  }

  #onActivate(payload: Record<string, unknown>) {
    this.activations.push(payload);
    const activation = readActivation(payload, this.activeRoles, !this.#activated, this.#roles);
    this.faults.push(...activation.faults);
    this.activeRoles = activation.roles;
    this.#activated = true;
    const due = !this.#stateSent || activation.gained;
    if ((this.#options.state ?? "send") === "send" && activation.opens && due) this.sendState();
    for (const queued of this.#queue.splice(0)) this.send(queued.type, queued.payload);
    this.#pairing.onActivate(payload, this.activeRoles); // after the queue: its replies go last
  }

  #onCommand(payload: Record<string, unknown>) {
    const command = payload.player;
    if (typeof command !== "object" || command === null) return;
    if (!this.#stateSent) this.faults.push("server/command player before the initial client/state");
    const result = applyPlayerCommand(this.player, command as Record<string, unknown>);
    if (result === "malformed") this.faults.push(`server/command ${JSON.stringify(payload)}`);
    if (result === "applied") this.sendState();
  }

  #onBinary(type: number, body: Uint8Array, arrivedUs: number) {
    if (type >= 8 && type <= 11) return this.artwork.onBinary(type, body);
    if (type !== AUDIO_CHUNK) return; // connection.md: binary ids not implemented are ignored
    const chunk = parseAudioChunk(body, arrivedUs);
    if (!chunk) return void this.faults.push(`audio chunk of ${body.length + 1} bytes, under 13`);
    if (!this.#stateSent) this.faults.push("audio chunk before the initial client/state");
    else if (!this.#streaming) this.faults.push("audio chunk outside a player stream");
    this.chunks.push(chunk);
  }
}
