/**
 * The load generator's encrypted-dialect transport: the generator's own WebSocket client
 * (Nagle off, as browsers) carrying the test-side Noise of tests/support: `clientInitText`
 * and `answerMessage1` for the KKpsk2 handshake (the client is the responder, an unpaired
 * client answering under the Sentinel PSK), `sealMessage` and `TestReceiver` for the
 * transport framing. It keeps none of SecureChannel's records and conformance checks (those
 * are for the end-to-end tests), only what a listener needs: JSON in and out, and every
 * binary message decrypted. Crypto is pure JS (@noble): its CPU is the generator's, measured
 * apart from the server's.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { answerMessage1, clientInitText } from "../support/encrypted/handshake.ts";
import { decodeBase64Url, encodeBase64Url } from "../support/encrypted/ids.ts";
import { sealMessage, TestReceiver } from "../support/noise/framing.ts";
import { utf8 } from "../support/noise/hex.ts";
import { joinBytes, type TestCipher, type TestSuiteName } from "../support/noise/responder.ts";
import { frame, OP_BINARY, WsClient } from "../support/ws_client.ts";

export type { TestSuiteName } from "../support/noise/responder.ts";
export const SUITES: readonly TestSuiteName[] = ["25519_ChaChaPoly_SHA256", "25519_AESGCM_SHA256"];

/** A client's long-term identity: its X25519 key pair (made before joining, as a phone has it). */
export interface Identity {
  staticKey: Uint8Array;
  staticPublicKey: Uint8Array;
}

export function newIdentity(): Identity {
  const staticKey = x25519.utils.randomSecretKey();
  return { staticKey, staticPublicKey: x25519.getPublicKey(staticKey) };
}

export interface LinkHandlers {
  /** A decrypted JSON message (type 0). */
  onJson(message: { type: string; payload: Record<string, unknown> }, arrivedUs: number): void;
  /** A decrypted, reassembled message of another type: its type byte and the bytes after it. */
  onBinary(type: number, body: Uint8Array, arrivedUs: number): void;
  /** The connection is gone (or the link gave up on it), `reason` says why. */
  onClose(reason: string): void;
}

const decoder = new TextDecoder();

export class EncryptedLink {
  #phase: "init" | "message1" | "transport" | "closed" = "init";
  #socket?: WsClient;
  #initText: string;
  #serverInitText = "";
  #serverKey: Uint8Array = new Uint8Array(0);
  #send?: TestCipher;
  #receiver?: TestReceiver;
  /** server/init's server_id: the server's identity (one for all its workers). */
  serverId = "";

  private constructor(
    readonly identity: Identity,
    readonly suite: TestSuiteName,
    readonly handlers: LinkHandlers,
  ) {
    this.#initText = clientInitText(identity.staticPublicKey, suite);
  }

  /** Connects and sends client/init; the handshake then runs as the server's messages come. */
  static async connect(
    url: string,
    identity: Identity,
    suite: TestSuiteName,
    handlers: LinkHandlers,
  ): Promise<EncryptedLink> {
    const link = new EncryptedLink(identity, suite, handlers);
    link.#socket = await WsClient.connect(url, {
      onText: (text) => link.#onText(text),
      onBinary: (bytes, arrivedUs) => link.#onTransport(bytes, arrivedUs),
      onClose: (reason) => link.#closed(reason),
    });
    link.#socket.sendText(link.#initText);
    return link;
  }

  /** Encrypted JSON (type 0), one Noise transport message per WebSocket binary message. */
  sendJson(type: string, payload: unknown): void {
    if (this.#phase !== "transport") return;
    const body = utf8(JSON.stringify({ type, payload }));
    for (const message of sealMessage(this.#send!, 0, body)) {
      this.#socket!.sendRaw(frame(OP_BINARY, message));
    }
  }

  close(): void {
    this.#phase = "closed";
    this.#socket?.close();
  }

  #fail(reason: string) {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    this.handlers.onClose(reason);
    this.#socket?.close();
  }

  #closed(reason: string) {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    this.handlers.onClose(reason);
  }

  #onText(text: string) {
    if (this.#phase === "transport") return this.#fail("cleartext after the handshake");
    let message: { type?: string; payload?: Record<string, unknown> };
    try {
      message = JSON.parse(text);
    } catch {
      return this.#fail(`not JSON during the handshake: ${text.slice(0, 80)}`);
    }
    const payload = message.payload ?? {};
    if (message.type === "server/error") return this.#fail(`server/error ${payload.reason}`);
    if (this.#phase === "init") {
      if (message.type !== "server/init") return this.#fail(`${message.type}, not server/init`);
      this.serverId = String(payload.server_id);
      this.#serverKey = decodeBase64Url(this.serverId, 32);
      this.#serverInitText = text; // the exact text: the prologue's second half
      this.#phase = "message1";
      return;
    }
    if (message.type !== "noise/handshake") return this.#fail(`${message.type}, not message 1`);
    try {
      const answer = answerMessage1(decodeBase64Url(String(payload.data)), {
        suite: this.suite,
        prologue: joinBytes(utf8(this.#initText), utf8(this.#serverInitText)),
        staticKey: this.identity.staticKey,
        serverStaticKey: this.#serverKey,
        serverId: this.serverId,
        psks: {}, // unpaired: only the Sentinel
        sentinelFallback: true,
      });
      this.#socket!.sendText(JSON.stringify({
        type: "noise/handshake",
        payload: { data: encodeBase64Url(answer.message2) },
      }));
      this.#send = answer.responder.send!;
      this.#receiver = new TestReceiver(answer.responder.receive!);
      this.#phase = "transport";
    } catch (error) {
      this.#fail(`handshake: ${error instanceof Error ? error.message : error}`);
    }
  }

  #onTransport(bytes: Uint8Array, arrivedUs: number) {
    if (this.#phase !== "transport") {
      if (this.#phase !== "closed") this.#fail("a binary message during the handshake");
      return;
    }
    let opened: { type: number; body: Uint8Array } | undefined;
    try {
      opened = this.#receiver!.open(bytes);
    } catch (error) {
      return this.#fail(`transport message refused: ${(error as Error).message}`);
    }
    if (!opened) return; // a fragment so far
    if (opened.type !== 0) return this.handlers.onBinary(opened.type, opened.body, arrivedUs);
    const message = JSON.parse(decoder.decode(opened.body));
    // The benchmark never pairs, so the server has no reason to re-handshake: if it does, this
    // listener would be measured on something else, so it stops and says so.
    if (message.type === "noise/handshake") return this.#fail("server re-handshake");
    this.handlers.onJson(message, arrivedUs);
  }
}
