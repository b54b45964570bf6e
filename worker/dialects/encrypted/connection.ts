/**
 * A listener on the encrypted dialect, after its handshake: every message is one Noise
 * transport message in a WebSocket binary frame, `[type][body]` (0: JSON, 4: audio). Each
 * listener gets its own ciphertext, so audio is framed once per format as for everyone and
 * sealed here, per listener, with `send_ahead` stamped just before sealing. The server may
 * re-handshake at any time (new keys, another PSK); the first message under the new keys is
 * `server/activate`. Pairing messages go to the pairing attempt, when one runs (pairing.ts).
 */
import type { Clock } from "../../../protocol/clock.ts";
import { readEncryptedMessage } from "../../../protocol/encrypted_messages.ts";
import { InvalidMessageError, type Json, serverMessage } from "../../../protocol/messages.ts";
import { pairingEnvelope } from "../../../protocol/pairing/messages.ts";
import type { CodeFormat, PairMethod } from "../../../protocol/pairing/methods.ts";
import type { SuiteName } from "../../../protocol/noise/suites.ts";
import { encodeBase64Url } from "../../../protocol/noise/base64url.ts";
import { Kkpsk2Initiator } from "../../../protocol/noise/kkpsk2.ts";
import { pskId } from "../../../protocol/noise/psk.ts";
import {
  TransportCloseError,
  TransportReceiver,
  TransportSender,
  TYPE_JSON,
} from "../../../protocol/noise/transport.ts";
import { BINARY_PLAYER_AUDIO } from "../../../protocol/audio_chunk.ts";
import { BINARY_ARTWORK, encryptedArtworkBodies } from "../../../protocol/artwork_frames.ts";
import type { WebSocketConnection } from "../../edge/websocket.ts";
import type { FramedChunk } from "../../future_audio.ts";
import type { ClientConnection, SessionInput, Trust, Welcome } from "../connection.ts";
import { HANDSHAKE_STEP_TIMEOUT_MS, handshakeData, type Handshaken } from "./handshake.ts";
import type { PskChoice, ServerIdentity } from "./identity.ts";

/** `send_ahead` saturates here: ~71.6 minutes, or "no measurement". */
const MAX_SEND_AHEAD_US = 0xffff_ffff;
/** Messages that carry the time they were sent, stamped as they are sealed. */
const STAMPED = new Set(["stream/start", "stream/clear"]);

/** What a pairing `server/activate` admits: the method, and the dynamic code's format. */
export interface PairingActivation {
  method: PairMethod;
  format?: CodeFormat;
}

/** Receives the client's pairing messages while a pairing attempt runs. */
export type PairingInbox = (type: string, payload: Json) => void;

interface Rekey {
  initiator: Kkpsk2Initiator;
  choice: PskChoice;
  /** Sends the first message under the new keys (a `server/activate`); default the last one. */
  then?: () => void;
  /** Sends held back until the new keys are in place (the spec's quiet period). */
  held: (() => void)[];
  timer: ReturnType<typeof setTimeout>;
}

export class EncryptedConnection implements ClientConnection {
  readonly streamsAfterState = true;
  readonly clientId: string;
  trust: Trust;
  #sender: TransportSender;
  #receiver: TransportReceiver;
  #handshakeHash: Uint8Array;
  #matched: PskChoice;
  #session?: SessionInput;
  #rekey?: Rekey;
  #closed = false;
  #lastWelcome: Welcome = { serverId: "", name: "", activeRoles: [], playback: false };
  /** Pairing `server/activate`s since the last Noise handshake: the `pairing_index`. */
  #pairingIndex = 0;
  /** Where pairing messages go; unset, they are leftovers (dropped) or out of place (closed). */
  pairingInbox?: PairingInbox;

  constructor(
    readonly socket: WebSocketConnection,
    readonly handshake: Handshaken,
    readonly options: { identity: ServerIdentity; clock: Clock; name: string; dialled: boolean },
  ) {
    this.clientId = handshake.init.clientId;
    this.#sender = new TransportSender(handshake.send);
    this.#receiver = new TransportReceiver(handshake.receive);
    this.#handshakeHash = handshake.handshakeHash;
    this.#matched = handshake.matched;
    this.trust = trustOf(handshake.matched, options.dialled);
  }

  /** It answered a referenced pairing with the Sentinel PSK: it lost its record of us. */
  get credentialMismatch(): boolean {
    return this.handshake.credentialMismatch;
  }

  get suite(): SuiteName {
    return this.handshake.init.suite;
  }

  /** The PSK the keys rest on now. */
  get matched(): PskChoice {
    return this.#matched;
  }

  get handshakeHash(): Uint8Array {
    return this.#handshakeHash;
  }

  /** Starts the session's side: the server speaks first after the handshake. */
  start(session: SessionInput): void {
    this.#session = session;
    this.send("server/hello", { name: this.options.name });
  }

  welcome(welcome: Welcome): void {
    this.#activate(welcome);
    // "After the first server/activate the server MUST promptly send group/update": the
    // group sends it when the session joins, right after this.
  }

  activate(welcome: Welcome): void {
    this.#activate(welcome);
  }

  #activate(welcome: Welcome): void {
    this.#lastWelcome = welcome;
    const { activeRoles, playback } = welcome;
    this.send("server/activate", {
      activities: playback ? ["playback"] : [],
      active_roles: playback ? activeRoles : [],
    });
  }

  /**
   * Moves the connection into pairing: `activities: ["pairing"]` with no roles (the caller
   * ended the streams first). Returns its `pairing_index`.
   */
  activatePairing(pairing: PairingActivation): number {
    this.#pairingIndex++;
    this.send("server/activate", { activities: ["pairing"], active_roles: [], pairing });
    return this.#pairingIndex;
  }

  send(type: string, payload: Record<string, unknown>): void {
    this.#whenKeyed(() => {
      const body = STAMPED.has(type)
        ? { ...payload, server_transmitted: this.options.clock.nowUs() }
        : payload;
      this.#write(this.#sender.sealJson(serverMessage(type, body)));
    });
  }

  sendAudio(chunks: readonly FramedChunk[]): void {
    this.#whenKeyed(() => {
      // Each chunk sealed on its own, `send_ahead` stamped just before; one socket write.
      const messages: Uint8Array[] = [];
      for (const chunk of chunks) {
        // [timestamp int64][send_ahead uint32] after the type byte; sealed with the payload.
        const header = new Uint8Array(12);
        const view = new DataView(header.buffer);
        view.setBigInt64(0, BigInt(chunk.playAtUs), false);
        const aheadUs = chunk.playAtUs - this.options.clock.nowUs();
        view.setUint32(8, Math.max(0, Math.min(MAX_SEND_AHEAD_US, Math.round(aheadUs))), false);
        messages.push(...this.#sender.seal(BINARY_PLAYER_AUDIO, [header, chunk.payload]));
      }
      this.#write(messages);
    });
  }

  /**
   * An announce and its parts back to back: one transfer is whole before any other can start,
   * so none is ever in flight across calls and no cancel is needed. A 300 px cover is one part.
   */
  sendArtwork(channel: number, timestampUs: number, image: Uint8Array): void {
    this.#whenKeyed(() => {
      for (const body of encryptedArtworkBodies(timestampUs, image)) {
        this.#write(this.#sender.seal(BINARY_ARTWORK + channel, body));
      }
    });
  }

  bufferedAmount(): number {
    return this.socket.bufferedAmount();
  }

  close(code: number, reason: string): void {
    this.#closed = true;
    if (this.#rekey) clearTimeout(this.#rekey.timer);
    this.socket.close(code, reason);
  }

  /**
   * A new handshake under the current keys, with prologue = the last handshake hash; `choice`
   * picks the PSK (e.g. a new pairing); no Sentinel fallback here. The first message under the
   * new keys is `server/activate`: what `then` sends, by default the last activation again;
   * streams go on.
   */
  rehandshake(choice: PskChoice = this.#matched, then?: () => void): void {
    if (this.#rekey || this.#closed) return;
    const initiator = new Kkpsk2Initiator({
      suite: this.handshake.init.suite,
      prologue: this.#handshakeHash,
      localStatic: this.options.identity.keyPair,
      remoteStaticPublicKey: this.handshake.init.clientKey,
    });
    const message1 = initiator.writeMessage1(new TextEncoder().encode(JSON.stringify({
      psk_id: pskId(choice.psk),
      psk_category: choice.category,
    })));
    this.#write(this.#sender.sealJson(serverMessage("noise/handshake", {
      data: encodeBase64Url(message1),
    })));
    this.#rekey = {
      initiator,
      choice,
      then,
      held: [],
      timer: setTimeout(() => this.closeSilently(), HANDSHAKE_STEP_TIMEOUT_MS),
    };
  }

  // --- from the WebSocket ---

  onBinary(bytes: Uint8Array, receivedUs: number): void {
    if (this.#closed) return;
    let message;
    try {
      message = this.#receiver.open(bytes);
    } catch (error) {
      if (!(error instanceof TransportCloseError)) throw error;
      return this.closeSilently(); // tampered, replayed, reordered or badly fragmented
    }
    if (!message || message.type !== TYPE_JSON) return; // binary ids we do not implement
    const text = new TextDecoder().decode(message.body);
    if (this.#rekey) return this.#onRekeyMessage(text);
    let json: unknown;
    let parsed;
    try {
      json = JSON.parse(text);
      const pairing = pairingEnvelope(json);
      if (pairing) return this.#onPairingMessage(pairing.type, pairing.payload);
      parsed = readEncryptedMessage(json, this.clientId);
    } catch (error) {
      if (error instanceof SyntaxError) {
        return this.#session?.refuse("message is not JSON", receivedUs);
      }
      if (!(error instanceof InvalidMessageError)) throw error;
      return this.#session?.refuse(error.message, receivedUs);
    }
    if (parsed) this.#session?.receive(parsed, receivedUs);
  }

  /**
   * Pairing messages go to the attempt that runs. Without one they are leftovers of an attempt
   * that ended (pairing.md: silently discarded), or, on a connection that was never in
   * pairing, out of sequence: a protocol error.
   */
  #onPairingMessage(type: string, payload: Json): void {
    if (this.pairingInbox) return this.pairingInbox(type, payload);
    if (this.#pairingIndex === 0) this.closeSilently();
  }

  /** Cleartext after the handshake breaks the protocol: silent close. */
  onText(): void {
    this.closeSilently();
  }

  #onRekeyMessage(text: string): void {
    const rekey = this.#rekey!;
    const message2 = handshakeData(text);
    if (!message2) return; // old-key application messages sent before msg 1 arrived: dropped
    clearTimeout(rekey.timer);
    let result;
    try {
      result = rekey.initiator.readMessage2(message2, rekey.choice.psk);
    } catch {
      return this.closeSilently();
    }
    if (new TextDecoder().decode(result.payload) !== "{}") return this.closeSilently();
    this.#sender = new TransportSender(result.send);
    this.#receiver = new TransportReceiver(result.receive);
    this.#handshakeHash = result.handshakeHash;
    this.#matched = rekey.choice;
    this.trust = trustOf(rekey.choice, this.options.dialled);
    this.#rekey = undefined;
    this.#pairingIndex = 0; // counted per Noise handshake
    // The first message under the new keys.
    if (rekey.then) rekey.then();
    else this.#activate(this.#lastWelcome);
    for (const send of rekey.held) send();
  }

  /** During a re-handshake only its own messages go out; the rest waits for the new keys. */
  #whenKeyed(send: () => void): void {
    if (this.#rekey) this.#rekey.held.push(send);
    else send();
  }

  #write(messages: Uint8Array[]): void {
    this.socket.sendOwn(messages);
  }

  /** A broken rule of the protocol: close without a word (connection.md, pairing.md). */
  closeSilently(): void {
    if (this.#closed) return;
    this.close(1008, "");
  }
}

function trustOf(choice: PskChoice, dialled: boolean): Trust {
  if (choice.category === "lt") return "paired";
  return dialled ? "dialled" : "unpaired";
}
