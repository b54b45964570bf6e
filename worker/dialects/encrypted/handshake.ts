/**
 * The encrypted dialect's handshake, server side (connection.md): `client/init` →
 * `server/init` → Noise message 1 at once → message 2, all WebSocket text frames. The server
 * is the Noise initiator (KKpsk2) and the prologue is the exact bytes of the two init
 * messages. A bad `client/init` is answered with `server/error`; every other failure (a
 * tampered or late message 2, the wrong PSK, a stray frame) closes the connection silently.
 */
import {
  type ClientInit,
  ClientInitError,
  ENCRYPTED_VERSION,
  parseClientInit,
} from "../../../protocol/encrypted_messages.ts";
import { isObject, serverMessage } from "../../../protocol/messages.ts";
import { decodeBase64Url, encodeBase64Url } from "../../../protocol/noise/base64url.ts";
import { type HandshakeResult, Kkpsk2Initiator } from "../../../protocol/noise/kkpsk2.ts";
import { pskId, SENTINEL_PSK } from "../../../protocol/noise/psk.ts";
import type { WebSocketConnection } from "../../edge/websocket.ts";
import type { PskChoice, ServerIdentity } from "./identity.ts";

/** How long each step waits for the client's next message (the spec suggests at most ~30 s). */
export const HANDSHAKE_STEP_TIMEOUT_MS = 10_000;
/** Message 2's payload, exactly these two bytes. */
const EMPTY_JSON = "{}";

/** What the handshake ends with: the client, and the keys of its transport. */
export interface Handshaken extends HandshakeResult {
  init: ClientInit;
  /** The PSK that message 2 proved: the one referenced, or the Sentinel after a miss. */
  matched: PskChoice;
  /** The client answered a non-Sentinel PSK with the Sentinel: it lost that credential. */
  credentialMismatch: boolean;
}

export interface HandshakeOptions {
  identity: ServerIdentity;
  /** The PSK to reference for this client (its pairing, else the Sentinel). */
  pskFor: (clientId: string) => PskChoice;
  onDone: (result: Handshaken) => void;
}

const encoder = new TextEncoder();

export class EncryptedHandshake {
  #timer?: ReturnType<typeof setTimeout>;
  #state?: { init: ClientInit; initiator: Kkpsk2Initiator; choice: PskChoice };
  #over = false;

  constructor(readonly socket: WebSocketConnection, readonly options: HandshakeOptions) {}

  /** `text` is the connection's first message, a `client/init`. */
  start(text: string): void {
    let init: ClientInit;
    try {
      init = parseClientInit(text);
    } catch (error) {
      if (!(error instanceof ClientInitError)) throw error;
      this.#over = true;
      this.socket.send(serverMessage("server/error", { reason: error.reason }));
      return this.socket.close(1008, error.reason);
    }
    const { identity } = this.options;
    const choice = this.options.pskFor(init.clientId);
    const serverInit = serverMessage("server/init", {
      server_id: identity.serverId,
      version: ENCRYPTED_VERSION,
    });
    let initiator: Kkpsk2Initiator;
    let message1: Uint8Array;
    try {
      initiator = new Kkpsk2Initiator({
        suite: init.suite,
        prologue: encoder.encode(text + serverInit),
        localStatic: identity.keyPair,
        remoteStaticPublicKey: init.clientKey,
      });
      message1 = initiator.writeMessage1(encoder.encode(JSON.stringify({
        psk_id: pskId(choice.psk),
        psk_category: choice.category,
      })));
    } catch {
      // A client key no handshake can use (a low-order point) is a malformed client/init.
      this.#over = true;
      this.socket.send(serverMessage("server/error", { reason: "malformed" }));
      return this.socket.close(1008, "malformed");
    }
    this.#state = { init, initiator, choice };
    this.socket.send(serverInit);
    this.socket.send(serverMessage("noise/handshake", { data: encodeBase64Url(message1) }));
    this.#timer = setTimeout(() => this.fail(), HANDSHAKE_STEP_TIMEOUT_MS);
  }

  /** The client's next text frame: message 2, or a reason to close. */
  onText(text: string): void {
    if (this.#over || !this.#state) return;
    clearTimeout(this.#timer);
    this.#over = true;
    const { init, initiator, choice } = this.#state;
    const message2 = handshakeData(text);
    if (!message2) return this.fail();
    let result: HandshakeResult | undefined;
    let matched = choice;
    try {
      result = initiator.readMessage2(message2, choice.psk);
    } catch {
      if (choice.category !== "sn") {
        // The Sentinel fallback: a client without the referenced PSK answers with the Sentinel.
        try {
          result = initiator.readMessage2(message2, SENTINEL_PSK);
          matched = { psk: SENTINEL_PSK, category: "sn" };
        } catch {
          // neither: below
        }
      }
    }
    if (!result || new TextDecoder().decode(result.payload) !== EMPTY_JSON) return this.fail();
    this.options.onDone({ ...result, init, matched, credentialMismatch: matched !== choice });
  }

  /** Anything but the expected message, or a timeout: close without a word. */
  fail(): void {
    this.#over = true;
    clearTimeout(this.#timer);
    this.socket.close(1008, "");
  }

  /** The connection went away mid-handshake. */
  dispose(): void {
    this.#over = true;
    clearTimeout(this.#timer);
  }
}

/** The Noise bytes of a `noise/handshake` text, or undefined if it is anything else. */
export function handshakeData(text: string): Uint8Array | undefined {
  try {
    const message = JSON.parse(text);
    if (!isObject(message) || message.type !== "noise/handshake") return undefined;
    const payload = message.payload;
    if (!isObject(payload) || typeof payload.data !== "string") return undefined;
    return decodeBase64Url(payload.data);
  } catch {
    return undefined;
  }
}
