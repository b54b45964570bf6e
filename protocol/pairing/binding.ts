// The values that bind a code-based pairing to its Noise handshake (pairing.md "Dynamic Pairing
// Code Flow", "PAKE", "Wrapping"), and the operator's typed pairing code. Every label is raw
// UTF-8, with no separator or terminator before the bytes that follow it.
import { concatBytes } from "../concat.ts";
import { AeadOpenError, sha256, suiteByName, type SuiteName } from "../noise/suites.ts";

/** The two emission formats of a dynamic pairing code. */
export type PairingCodeFormat = "digits" | "qr_code";

/** Bytes of h, nonce_A, nonce_B, commit_B and a wrapped value's plaintext. */
export const BINDING_VALUE_BYTES = 32;
/** A wrapped value: 32 bytes of ciphertext and the 16-byte AEAD tag. */
export const WRAPPED_BYTES = 48;
/** The qr_code pairing code: the first 24 bytes of the derivation digest. */
export const QR_CODE_BYTES = 24;
const ISK_BYTES = 64;

const utf8 = (text: string) => new TextEncoder().encode(text);
const COMMIT_LABEL = utf8("sendspin-pair-commit-v1");
const DERIVE_LABEL = utf8("sendspin-pairing-code-derive-v1");
const SID_LABEL = utf8("sendspin-pair-pake-v1");
const WRAP_LABELS: Readonly<Record<"psk" | "nonce", Uint8Array>> = {
  psk: utf8("sendspin-pair-psk-wrap-v1"),
  nonce: utf8("sendspin-pair-nonce-wrap-v1"),
};
/** Each K_wrap seals exactly one value, so the all-zero nonce (counter 0) is safe. */
const WRAP_NONCE = 0n;
const NO_AD = new Uint8Array(0);

/** commit_B = SHA-256("sendspin-pair-commit-v1" || nonce_B). */
export function commitB(nonceB: Uint8Array): Uint8Array {
  checkLength("nonce_B", nonceB, BINDING_VALUE_BYTES);
  return sha256(COMMIT_LABEL, nonceB);
}

/**
 * The dynamic pairing code of (h, nonce_A, nonce_B): for `digits` the digest as a big-endian
 * integer modulo 10^6, as 6 ASCII digits with leading zeros; for `qr_code` the digest's first
 * 24 bytes.
 */
export function derivePairingCode(
  h: Uint8Array,
  nonceA: Uint8Array,
  nonceB: Uint8Array,
  format: "digits",
): string;
export function derivePairingCode(
  h: Uint8Array,
  nonceA: Uint8Array,
  nonceB: Uint8Array,
  format: "qr_code",
): Uint8Array;
export function derivePairingCode(
  h: Uint8Array,
  nonceA: Uint8Array,
  nonceB: Uint8Array,
  format: PairingCodeFormat,
): string | Uint8Array;
export function derivePairingCode(
  h: Uint8Array,
  nonceA: Uint8Array,
  nonceB: Uint8Array,
  format: PairingCodeFormat,
): string | Uint8Array {
  checkLength("h", h, BINDING_VALUE_BYTES);
  checkLength("nonce_A", nonceA, BINDING_VALUE_BYTES);
  checkLength("nonce_B", nonceB, BINDING_VALUE_BYTES);
  const digest = sha256(DERIVE_LABEL, h, nonceA, nonceB);
  if (format === "qr_code") return digest.slice(0, QR_CODE_BYTES);
  let value = 0n;
  for (const byte of digest) value = (value << 8n) | BigInt(byte);
  return (value % 1_000_000n).toString().padStart(6, "0");
}

/** CPace's PRS: a digits code (dynamic or static) as its UTF-8 digits, a qr_code as its bytes. */
export function pairingPrs(code: string | Uint8Array): Uint8Array {
  return typeof code === "string" ? utf8(code) : code.slice();
}

/**
 * CPace's sid = "sendspin-pair-pake-v1" || h || uint32be(pairing_index) || uint32be(round):
 * pairing_index counts the pairing server/activate messages since the last handshake, round
 * counts from 1 within the attempt.
 */
export function pakeSid(h: Uint8Array, pairingIndex: number, round: number): Uint8Array {
  checkLength("h", h, BINDING_VALUE_BYTES);
  const counters = new Uint8Array(8);
  const view = new DataView(counters.buffer);
  view.setUint32(0, checkUint32("pairing_index", pairingIndex));
  view.setUint32(4, checkUint32("round", round));
  return concatBytes(SID_LABEL, h, counters);
}

/** K_wrap = SHA-256(label || sid || ISK), one key per wrapped field (psk or nonce_B). */
export function wrapKey(label: "psk" | "nonce", sid: Uint8Array, isk: Uint8Array): Uint8Array {
  checkLength("ISK", isk, ISK_BYTES);
  return sha256(WRAP_LABELS[label], sid, isk);
}

/** Seals a 32-byte value under K_wrap with the suite's AEAD, zero nonce, empty AD: 48 bytes. */
export function wrap(suiteName: SuiteName, key: Uint8Array, value: Uint8Array): Uint8Array {
  checkLength("wrapped value", value, BINDING_VALUE_BYTES);
  return suite(suiteName).seal(key, WRAP_NONCE, NO_AD, value);
}

/**
 * The 32-byte value inside `wrapped`, or undefined when it is not 48 bytes or fails to
 * authenticate (wrong key, tampered): for Sendspin a protocol error.
 */
export function unwrap(
  suiteName: SuiteName,
  key: Uint8Array,
  wrapped: Uint8Array,
): Uint8Array | undefined {
  if (wrapped.byteLength !== WRAPPED_BYTES) return undefined;
  try {
    // A copy: the AEAD's output may be a view into a shared Buffer pool, and this is a secret.
    return suite(suiteName).open(key, WRAP_NONCE, NO_AD, wrapped).slice();
  } catch (error) {
    if (error instanceof AeadOpenError) return undefined;
    throw error;
  }
}

/** The kind of typed pairing code: 6 digits (dynamic, digits format) or 8 digits (static). */
export type CodeInputKind = "dynamic" | "static";

/** A typed pairing code that cannot be used; the message says why, for the operator. */
export class PairingCodeError extends Error {
  override name = "PairingCodeError";
}

const CODE_DIGITS: Readonly<Record<CodeInputKind, number>> = { dynamic: 6, static: 8 };
const CODE_EXAMPLE: Readonly<Record<CodeInputKind, string>> = {
  dynamic: "the 6 digits the device shows or speaks, like 123-456",
  static: "the device's 8-digit pairing code, like 1234-5678",
};
// Spaces, hyphens and the dashes a pasted code may bring: separators are presentation only.
const SEPARATORS = /[\s\-\u2010-\u2015\u2212]/g;

/** Operator input without its separators ("123-456" and "123 456" become "123456"). */
export function normalizeCodeInput(text: string): string {
  return text.replace(SEPARATORS, "");
}

/** The digits of a typed pairing code of `kind`; throws {@linkcode PairingCodeError}. */
export function parseCodeInput(text: string, kind: CodeInputKind): string {
  const digits = normalizeCodeInput(text);
  const expected = CODE_DIGITS[kind];
  const bad = [...digits].find((char) => char < "0" || char > "9");
  if (bad !== undefined) {
    throw new PairingCodeError(
      `Cannot use this pairing code: enter ${CODE_EXAMPLE[kind]} (${
        JSON.stringify(bad)
      } is not a digit)`,
    );
  }
  if (digits.length !== expected) {
    throw new PairingCodeError(
      `Cannot use this pairing code: enter ${CODE_EXAMPLE[kind]} (got ${digits.length} digits)`,
    );
  }
  return digits;
}

function suite(name: SuiteName) {
  const found = suiteByName(name);
  if (found === undefined) {
    throw new RangeError(`Cannot wrap with suite ${JSON.stringify(name)}: not a Sendspin suite`);
  }
  return found;
}

function checkLength(what: string, bytes: Uint8Array, expected: number): void {
  if (bytes.byteLength !== expected) {
    throw new RangeError(
      `Cannot use ${what}: expected ${expected} bytes, current value is ${bytes.byteLength}`,
    );
  }
}

function checkUint32(what: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(`Cannot encode ${what}: expected a uint32, current value is ${value}`);
  }
  return value;
}
