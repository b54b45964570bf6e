// The Noise layer of a test client: client/init, server/init, the KKpsk2 handshake as the
// responder, then one Noise transport message per WebSocket binary message, and the
// server-initiated re-handshake. It knows nothing of Sendspin roles; client.ts does.
import { utf8 } from "../noise/hex.ts";
import { sealMessage, TestReceiver } from "../noise/framing.ts";
import { joinBytes, TestCipher, type TestSuiteName } from "../noise/responder.ts";
import {
  type Answer,
  answerMessage1,
  clientInitText,
  HandshakeFailure,
  type HeldPsks,
  type MatchedPsk,
} from "./handshake.ts";
import { decodeBase64Url, encodeBase64Url } from "./ids.ts";

export interface JsonMessage {
  type: string;
  payload: Record<string, unknown>;
}

export interface ChannelOptions {
  suite: TestSuiteName;
  staticKey: Uint8Array;
  staticPublicKey: Uint8Array;
  psks: HeldPsks;
  /** Fields that replace or extend the client/init payload (hostile tests). */
  initOverride?: Record<string, unknown>;
}

export interface ChannelEvents {
  /** Every JSON message received: the cleartext ones, then the decrypted type-0 ones. */
  json(message: JsonMessage, arrivedUs: number, encrypted: boolean): void;
  /** A decrypted, reassembled message of any other type. */
  binary(type: number, body: Uint8Array, arrivedUs: number): void;
  /** What the server did wrong (or a handshake failure), as seen; the channel decides on closing. */
  fault(what: string): void;
  closed(code: number, reason: string): void;
}

const nowUs = () => performance.now() * 1000;
const clip = (text: string) => text.length > 120 ? `${text.slice(0, 120)}...` : text;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export class SecureChannel {
  serverId = "";
  serverError?: string;
  handshakeHash: Uint8Array = new Uint8Array(0);
  matchedPsk?: MatchedPsk;
  rehandshakes = 0;
  /** From re-handshake message 1 until the server/activate under the new keys. */
  quiet = false;
  /** Resolves once message 2 is sent (transport mode); rejects naming what went wrong. */
  readonly handshaken: Promise<void>;
  readonly initText: string;
  #phase: "opening" | "init" | "message1" | "transport" | "closed" = "opening";
  #settle = Promise.withResolvers<void>();
  #serverInitText = "";
  #serverKey: Uint8Array = new Uint8Array(0);
  #send?: TestCipher;
  #receiver?: TestReceiver;
  #oldReceive?: TestCipher;
  #firstUnderNewKeys = false;
  #lastSent?: string | Uint8Array;

  constructor(
    readonly socket: WebSocket,
    readonly options: ChannelOptions,
    readonly events: ChannelEvents,
  ) {
    this.handshaken = this.#settle.promise;
    this.initText = clientInitText(options.staticPublicKey, options.suite, options.initOverride);
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", (event) => this.#onMessage(event.data, nowUs()));
    socket.addEventListener("close", (event) => this.#onClose(event.code, event.reason));
    if (socket.readyState === WebSocket.OPEN) this.#start();
    else socket.addEventListener("open", () => this.#start(), { once: true });
  }

  get waitingFor(): string {
    return {
      opening: "the WebSocket to open",
      init: "server/init",
      message1: "noise/handshake message 1",
      transport: "nothing (transport mode)",
      closed: "nothing (closed)",
    }[this.#phase];
  }

  /** The handshake is done: one Noise transport message per binary WebSocket message. */
  get transport(): boolean {
    return this.#phase === "transport";
  }

  get open(): boolean {
    return this.#phase !== "closed" && this.socket.readyState === WebSocket.OPEN;
  }

  /** One logical message, fragmented if it does not fit one Noise message. */
  sendBody(type: number, body: Uint8Array): void {
    if (this.#phase === "closed") return; // closing: nothing more goes out
    if (this.#phase !== "transport" || !this.#send) {
      throw new Error(`Cannot send type ${type}: waiting for ${this.waitingFor}`);
    }
    for (const message of sealMessage(this.#send, type, body)) this.sendWire(message);
  }

  sendJson(type: string, payload: Record<string, unknown>): void {
    this.sendBody(0, utf8(JSON.stringify({ type, payload })));
  }

  /** Exact bytes or text on the socket, outside the Noise layer (hostile tests). */
  sendWire(data: string | Uint8Array): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(data);
    this.#lastSent = data;
  }

  replayLastSent(): void {
    if (this.#lastSent === undefined) throw new Error("Cannot replay: nothing was sent yet");
    this.sendWire(this.#lastSent);
  }

  /** Closes silently (the spec defines no close codes): the failure is in `fault`. */
  #fail(what: string, fault = true): void {
    if (fault) this.events.fault(what);
    this.#settle.reject(new Error(what));
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    this.socket.close();
  }

  #start() {
    this.#phase = "init";
    this.sendWire(this.initText);
  }

  #onClose(code: number, reason: string) {
    const was = this.waitingFor;
    const inHandshake = this.#phase !== "transport" && this.#phase !== "closed";
    this.#phase = "closed";
    if (inHandshake) {
      this.#settle.reject(new Error(`closed ${code} "${reason}" while waiting for ${was}`));
    }
    this.events.closed(code, reason);
  }

  #onMessage(data: unknown, arrivedUs: number) {
    if (this.#phase === "closed") return;
    if (typeof data === "string") return this.#onText(data, arrivedUs);
    const bytes = new Uint8Array(data as ArrayBuffer);
    if (this.#phase !== "transport") {
      return this.#fail(
        `a binary message (${bytes.length} bytes) while waiting for ${this.waitingFor}`,
      );
    }
    this.#onTransport(bytes, arrivedUs);
  }

  #onText(text: string, arrivedUs: number) {
    if (this.#phase === "transport") {
      return this.#fail(`a cleartext text frame after the handshake: ${clip(text)}`);
    }
    const message = parseEnvelope(text);
    if (!message) return this.#fail(`not a {type, payload} JSON message: ${clip(text)}`);
    this.events.json(message, arrivedUs, false);
    if (this.#phase === "init") this.#onServerInit(message, text);
    else this.#onMessage1(message);
  }

  #onServerInit({ type, payload }: JsonMessage, text: string) {
    if (type === "server/error") {
      this.serverError = String(payload.reason);
      return this.#fail(
        `server/error ${JSON.stringify(payload.reason)} instead of server/init`,
        false,
      );
    }
    if (type !== "server/init") return this.#fail(`${type} instead of server/init`);
    if (payload.version !== 1) {
      return this.#fail(`server/init version ${JSON.stringify(payload.version)}, expected 1`);
    }
    try {
      this.#serverKey = decodeBase64Url(String(payload.server_id), 32);
    } catch {
      return this.#fail(`server/init server_id is not a 32-byte key: ${payload.server_id}`);
    }
    this.serverId = String(payload.server_id);
    this.#serverInitText = text; // the exact text as received: the prologue's second half
    this.#phase = "message1";
  }

  #onMessage1(message: JsonMessage) {
    if (message.type !== "noise/handshake") {
      return this.#fail(`${message.type} instead of noise/handshake message 1`);
    }
    const prologue = joinBytes(utf8(this.initText), utf8(this.#serverInitText));
    const answer = this.#answer(message.payload, prologue, true);
    if (!answer) return;
    this.sendWire(JSON.stringify(handshakeMessage(answer.message2)));
    this.#install(answer);
    this.#phase = "transport";
    this.#settle.resolve();
  }

  #answer(payload: Record<string, unknown>, prologue: Uint8Array, sentinelFallback: boolean) {
    try {
      const message1 = decodeBase64Url(String(payload.data));
      return answerMessage1(message1, {
        ...this.options,
        prologue,
        serverStaticKey: this.#serverKey,
        serverId: this.serverId,
        sentinelFallback,
      });
    } catch (error) {
      const what = error instanceof HandshakeFailure ? error.message : `bad data: ${error}`;
      this.#fail(`${sentinelFallback ? "handshake" : "re-handshake"}: ${what}`);
    }
  }

  #install({ responder, matched }: Answer) {
    this.#send = responder.send!;
    this.#receiver = new TestReceiver(responder.receive!);
    this.handshakeHash = responder.handshakeHash;
    this.matchedPsk = matched;
  }

  #onTransport(bytes: Uint8Array, arrivedUs: number) {
    let opened: { type: number; body: Uint8Array } | undefined;
    try {
      opened = this.#receiver!.open(bytes);
    } catch (error) {
      const why = (error as Error).message;
      const old = this.#underOldKeys(bytes) ? " (under the keys before the re-handshake)" : "";
      return this.#fail(`transport message of ${bytes.length} bytes refused: ${why}${old}`);
    }
    if (!opened) return; // a fragment so far
    const firstUnderNewKeys = this.#firstUnderNewKeys;
    this.#firstUnderNewKeys = false;
    if (opened.type !== 0) {
      if (firstUnderNewKeys) this.events.fault(`binary type ${opened.type} before server/activate`);
      return this.events.binary(opened.type, opened.body, arrivedUs);
    }
    const message = parseEnvelope(opened.body);
    if (!message) return this.#fail(`type-0 body is not a {type, payload} JSON message`);
    if (firstUnderNewKeys && message.type !== "server/activate") {
      this.events.fault(
        `${message.type} was the first message under the new keys, not server/activate`,
      );
    }
    if (message.type === "server/activate") this.quiet = false;
    this.events.json(message, arrivedUs, true);
    if (message.type === "noise/handshake") this.#rehandshake(message.payload);
  }

  #rehandshake(payload: Record<string, unknown>) {
    if (this.quiet) return this.#fail("re-handshake message 1 again before its server/activate");
    const answer = this.#answer(payload, this.handshakeHash, false);
    if (!answer) return;
    this.sendJson("noise/handshake", handshakeMessage(answer.message2).payload); // old keys
    this.#oldReceive = this.#receiver!.cipher;
    this.#install(answer);
    this.rehandshakes++;
    this.quiet = true;
    this.#firstUnderNewKeys = true;
  }

  #underOldKeys(bytes: Uint8Array): boolean {
    if (!this.#oldReceive || !this.quiet) return false;
    const probe = new TestCipher(this.options.suite, this.#oldReceive.key);
    probe.n = this.#oldReceive.n;
    try {
      probe.decrypt(bytes);
      return true;
    } catch {
      return false;
    }
  }
}

function handshakeMessage(message2: Uint8Array) {
  return { type: "noise/handshake", payload: { data: encodeBase64Url(message2) } };
}

/** `{type: string, payload: object}` from text or strict UTF-8 bytes, or undefined. */
export function parseEnvelope(text: string | Uint8Array): JsonMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(typeof text === "string" ? text : strictUtf8.decode(text));
  } catch {
    return undefined; // not UTF-8, or not JSON: the caller names what it was waiting for
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { type, payload } = value as Record<string, unknown>;
  if (typeof type !== "string") return undefined;
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return undefined;
  return { type, payload: payload as Record<string, unknown> };
}
