// The client's (responder's) half of a Sendspin KKpsk2 handshake, initial or re-handshake:
// read message 1, pick the PSK its payload names, write message 2 with payload `{}`.
import { utf8 } from "../noise/hex.ts";
import { TestResponder, type TestSuiteName } from "../noise/responder.ts";
import { encodeBase64Url, type PskCategory, pskId, SENTINEL_PSK } from "./ids.ts";

/** Which PSK message 2 was written under; "sentinel-fallback" = a lookup miss (initial only). */
export type MatchedPsk = PskCategory | "sentinel-fallback";

/** The PSKs the client holds for this server. */
export interface HeldPsks {
  longTerm?: Uint8Array;
  pairing?: Uint8Array;
  /**
   * The server_id the long-term PSK was stored with. Default: the server_id in server/init.
   * An lt match under another server_id is a silent failure, never a fallback.
   */
  longTermServerId?: string;
}

/** A handshake failed where the spec says to close silently; the message says why. */
export class HandshakeFailure extends Error {
  override name = "HandshakeFailure";
}

/** The exact client/init text (its bytes are the first half of the prologue). */
export function clientInitText(
  staticPublicKey: Uint8Array,
  suite: string,
  override: Record<string, unknown> = {},
): string {
  const payload = { client_id: encodeBase64Url(staticPublicKey), version: 1, suite, ...override };
  return JSON.stringify({ type: "client/init", payload });
}

export interface AnswerOptions {
  suite: TestSuiteName;
  prologue: Uint8Array;
  staticKey: Uint8Array;
  serverStaticKey: Uint8Array;
  serverId: string;
  psks: HeldPsks;
  /** Initial handshake only: a lookup miss answers under the Sentinel PSK. */
  sentinelFallback: boolean;
  /** Known-answer tests only. Default: a fresh random ephemeral key. */
  ephemeralKey?: Uint8Array;
}

export interface Answer {
  message2: Uint8Array;
  matched: MatchedPsk;
  /** After message 2: receive = c1 (server to client), send = c2. */
  responder: TestResponder;
}

const CATEGORIES: readonly string[] = ["lt", "pr", "sn"];

/** Reads message 1 and writes message 2; throws HandshakeFailure naming what was wrong. */
export function answerMessage1(message1: Uint8Array, options: AnswerOptions): Answer {
  const responder = new TestResponder({
    suite: options.suite,
    prologue: options.prologue,
    staticPrivateKey: options.staticKey,
    remoteStaticPublicKey: options.serverStaticKey,
    ephemeralPrivateKey: options.ephemeralKey,
  });
  if (message1.length < 32 + 16) {
    throw new HandshakeFailure(`message 1 is ${message1.length} bytes, shorter than e and a tag`);
  }
  let payloadBytes: Uint8Array;
  try {
    payloadBytes = responder.readMessage1(message1);
  } catch (cause) {
    throw new HandshakeFailure(
      "message 1 does not decrypt (a different prologue, static key or suite?)",
      { cause },
    );
  }
  const { psk_id: id, psk_category: category } = parsePayload(payloadBytes);
  const { psk, matched } = choosePsk(id, category, options);
  const message2 = responder.writeMessage2(utf8("{}"), psk);
  return { message2, matched, responder };
}

function parsePayload(bytes: Uint8Array): { psk_id: string; psk_category: PskCategory } {
  let text = "";
  let payload: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    payload = JSON.parse(text);
  } catch (cause) {
    throw new HandshakeFailure(`message 1 payload is not UTF-8 JSON: ${text.slice(0, 80)}`, {
      cause,
    });
  }
  const fields = typeof payload === "object" && payload !== null ? payload : {};
  const { psk_id: id, psk_category: category } = fields as Record<string, unknown>;
  const keys = Object.keys(fields).sort().join(",");
  if (
    keys !== "psk_category,psk_id" || typeof id !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(id) ||
    typeof category !== "string" || !CATEGORIES.includes(category)
  ) {
    throw new HandshakeFailure(`message 1 payload is not {psk_id, psk_category}: ${text}`);
  }
  return { psk_id: id, psk_category: category as PskCategory };
}

function choosePsk(id: string, category: PskCategory, options: AnswerOptions) {
  const { psks } = options;
  const held = category === "lt" ? psks.longTerm : category === "pr" ? psks.pairing : SENTINEL_PSK;
  if (held !== undefined && pskId(held) === id) {
    const storedFor = psks.longTermServerId ?? options.serverId;
    if (category === "lt" && storedFor !== options.serverId) {
      throw new HandshakeFailure(
        `the lt PSK ${id} was stored for server ${storedFor}, not ${options.serverId}`,
      );
    }
    return { psk: held, matched: category as MatchedPsk };
  }
  if (!options.sentinelFallback) {
    throw new HandshakeFailure(
      `re-handshake names ${category} PSK ${id}, which the client does not hold ` +
        "(no Sentinel fallback in a re-handshake)",
    );
  }
  return { psk: SENTINEL_PSK, matched: "sentinel-fallback" as MatchedPsk };
}
