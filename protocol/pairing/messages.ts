/**
 * The pairing messages a client sends (Sendspin pairing.md, "Messages"), validated once into
 * typed values. Anything malformed is a `PairingProtocolError`: pairing.md has the detecting
 * side close the connection without a word.
 */
import { isObject, type Json } from "../messages.ts";
import { decodeBase64Url } from "../noise/base64url.ts";

export type PairAbortReason =
  | "attempt_timeout"
  | "concurrent_attempt"
  | "method_not_supported"
  | "pairing_code_mismatch"
  | "user_cancelled";
const ABORT_REASONS: readonly string[] = [
  "attempt_timeout",
  "concurrent_attempt",
  "method_not_supported",
  "pairing_code_mismatch",
  "user_cancelled",
];

/** The longest `client/pair-pending` message shown to the operator. */
export const PENDING_MESSAGE_CHARS = 200;

export type ClientPairingMessage =
  | { type: "client/pair-pending"; pairingIndex: number; message?: string }
  | { type: "client/pair-init"; pairingIndex: number; commitB?: Uint8Array }
  | { type: "client/pair-auth"; share: Uint8Array }
  | { type: "client/pair-retry" }
  | { type: "client/pair-confirm"; tag: Uint8Array; wrappedNonceB?: Uint8Array }
  | { type: "client/pair-finalize"; longTermPsk?: Uint8Array; wrappedPsk?: Uint8Array }
  /** `reason` is undefined for one this server does not know (still an abort). */
  | { type: "pair/abort"; reason?: PairAbortReason };

export class PairingProtocolError extends Error {
  override name = "PairingProtocolError";
}

const PAIRING_TYPES = new Set([
  "client/pair-pending",
  "client/pair-init",
  "client/pair-auth",
  "client/pair-retry",
  "client/pair-confirm",
  "client/pair-finalize",
  "pair/abort",
]);

export function isPairingType(type: string): boolean {
  return PAIRING_TYPES.has(type);
}

/** `payload` of a message whose type `isPairingType`. Throws PairingProtocolError. */
export function parsePairingMessage(type: string, payload: Json): ClientPairingMessage {
  switch (type) {
    case "client/pair-pending": {
      const message = typeof payload.message === "string"
        ? plainText(payload.message).slice(0, PENDING_MESSAGE_CHARS)
        : undefined;
      return { type, pairingIndex: index(payload), ...(message ? { message } : {}) };
    }
    case "client/pair-init": {
      const commitB = payload.commit_B === undefined ? undefined : bytes(payload, "commit_B", 32);
      return { type, pairingIndex: index(payload), ...(commitB ? { commitB } : {}) };
    }
    case "client/pair-auth":
      return { type, share: bytes(payload, "pake_msg_2", 32) };
    case "client/pair-retry":
      return { type };
    case "client/pair-confirm": {
      const wrapped = payload.wrapped_nonce_B === undefined
        ? undefined
        : bytes(payload, "wrapped_nonce_B", 48);
      return {
        type,
        tag: bytes(payload, "client_kc", 64),
        ...(wrapped ? { wrappedNonceB: wrapped } : {}),
      };
    }
    case "client/pair-finalize": {
      const plain = payload.long_term_psk !== undefined;
      const wrapped = payload.wrapped_psk !== undefined;
      if (plain === wrapped) {
        throw new PairingProtocolError(
          "client/pair-finalize needs exactly one of long_term_psk and wrapped_psk",
        );
      }
      return plain
        ? { type, longTermPsk: bytes(payload, "long_term_psk", 32) }
        : { type, wrappedPsk: bytes(payload, "wrapped_psk", 48) };
    }
    case "pair/abort": {
      const reason = ABORT_REASONS.includes(payload.reason as string)
        ? payload.reason as PairAbortReason
        : undefined;
      return { type, ...(reason ? { reason } : {}) };
    }
  }
  throw new PairingProtocolError(`${type} is not a pairing message`);
}

/** Splits a message into its type and payload, as the encrypted dialect receives it. */
export function pairingEnvelope(message: unknown): { type: string; payload: Json } | undefined {
  if (!isObject(message) || typeof message.type !== "string") return undefined;
  if (!isPairingType(message.type)) return undefined;
  return { type: message.type, payload: isObject(message.payload) ? message.payload : {} };
}

function index(payload: Json): number {
  const value = payload.pairing_index;
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new PairingProtocolError("pairing_index must be a whole number of at least 0");
  }
  return value as number;
}

function bytes(payload: Json, field: string, length: number): Uint8Array {
  const value = payload[field];
  try {
    if (typeof value !== "string") throw new TypeError("not a string");
    return decodeBase64Url(value, { byteLength: length });
  } catch {
    throw new PairingProtocolError(`${field} must be ${length} bytes in base64url`);
  }
}

/** The device's words, shown as text: no control characters (a terminal escape is markup too). */
function plainText(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").trim();
}
