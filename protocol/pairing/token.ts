// Sendspin pairing tokens (pairing.md "Pairing Token"): "SP:" || version || body, where body is
// the payload in RFC 4648 base32, padding stripped, every "2" written as "9", so a token uses
// only the QR alphanumeric set. The base32 codec is the few lines below: no package needed.

/** Version 0: a pairing PSK with the client's identity. Version 1: a QR-emitted pairing code. */
export type PairingTokenVersion = "0" | "1";

/** A version-0 token: the client's static key and its pairing PSK. */
export interface PairingTokenV0 {
  readonly version: "0";
  /** The raw X25519 public key whose base64url form is the client_id, 32 bytes. */
  readonly clientKey: Uint8Array;
  /** The pairing PSK, 32 bytes. Secret. */
  readonly pairingPsk: Uint8Array;
}

/** A version-1 token: the 24-byte dynamic pairing code in the qr_code format. */
export interface PairingTokenV1 {
  readonly version: "1";
  /** The pairing code, 24 bytes: CPace's PRS. Secret. */
  readonly code: Uint8Array;
}

export type PairingToken = PairingTokenV0 | PairingTokenV1;

/** Operator input that is not a usable pairing token; the message says why, for the operator. */
export class PairingTokenError extends Error {
  override name = "PairingTokenError";
}

const PREFIX = "SP:";
/** Payload bytes each version defines; bytes beyond them are reserved and ignored. */
const PAYLOAD_BYTES: Readonly<Record<PairingTokenVersion, number>> = { "0": 64, "1": 24 };
const WHAT: Readonly<Record<PairingTokenVersion, string>> = {
  "0": "a version-0 token (SP:0..., the device's pairing PSK)",
  "1": "a version-1 token (SP:1..., the pairing code a device shows as a QR code)",
};
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
// Characters after a whole number of bytes: base32 groups of 8 characters carry 5 bytes, so
// only these remainders occur (RFC 4648 §6 padding of 6, 4, 3 or 1 "=").
const TAIL_CHARS_VALID = new Set([0, 2, 4, 5, 7]);

/** The token text of `payload` (at least the bytes `version` defines). */
export function encodePairingToken(version: PairingTokenVersion, payload: Uint8Array): string {
  if (payload.byteLength < PAYLOAD_BYTES[version]) {
    throw new RangeError(
      `Cannot encode a version-${version} pairing token: expected at least ${
        PAYLOAD_BYTES[version]
      } payload bytes, current value is ${payload.byteLength}`,
    );
  }
  return PREFIX + version + encodeBase32(payload).replaceAll("2", "9");
}

/**
 * Decodes operator input leniently (surrounding whitespace, any case, "SP:" optional) and
 * strictly otherwise; with `expectVersion`, a token of the other version is rejected.
 * Throws {@linkcode PairingTokenError}.
 */
export function decodePairingToken(text: string, expectVersion: "0"): PairingTokenV0;
export function decodePairingToken(text: string, expectVersion: "1"): PairingTokenV1;
export function decodePairingToken(
  text: string,
  expectVersion?: PairingTokenVersion,
): PairingToken;
export function decodePairingToken(
  text: string,
  expectVersion?: PairingTokenVersion,
): PairingToken {
  let rest = text.trim().toUpperCase();
  const start = expectVersion === undefined ? `"SP:0" or "SP:1"` : `"SP:${expectVersion}"`;
  if (rest.startsWith(PREFIX)) rest = rest.slice(PREFIX.length);
  if (rest === "") {
    throw new PairingTokenError(`not a pairing token: it is empty, and should start with ${start}`);
  }
  const version = rest[0];
  if (version !== "0" && version !== "1") {
    throw new PairingTokenError(
      `not a pairing token this server knows: it should start with ${start}, ` +
        `and version ${JSON.stringify(version)} is not 0 or 1`,
    );
  }
  if (expectVersion !== undefined && version !== expectVersion) {
    throw new PairingTokenError(
      `wrong kind of pairing token: expected ${WHAT[expectVersion]}, got ${WHAT[version]}`,
    );
  }
  const body = rest.slice(1).replaceAll("9", "2");
  const bad = [...body].find((char) => !ALPHABET.includes(char));
  if (bad !== undefined) {
    throw new PairingTokenError(
      `not a pairing token: it should start with ${start} and go on with only the letters A-Z ` +
        `and digits 3-9, and ${JSON.stringify(bad)} is not one of them`,
    );
  }
  const payload = decodeBase32(body);
  if (payload === undefined) {
    throw new PairingTokenError(
      "not a pairing token: its length or last character is wrong, so part of it is probably " +
        "missing or mistyped",
    );
  }
  const needed = PAYLOAD_BYTES[version];
  if (payload.byteLength < needed) {
    throw new PairingTokenError(
      `pairing token too short: ${WHAT[version]} carries ${needed} bytes, this one ` +
        `${payload.byteLength}; copy the whole token`,
    );
  }
  return version === "0"
    ? { version, clientKey: payload.slice(0, 32), pairingPsk: payload.slice(32, 64) }
    : { version, code: payload.slice(0, 24) };
}

/** RFC 4648 base32 without padding. */
function encodeBase32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xfff; // at most 4 pending bits + 8 new ones
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/**
 * RFC 4648 base32 of unpadded text over the alphabet (the caller checked the characters).
 * Undefined for a length no encoding produces (re-padding it to 8 would need 2, 5 or 7 "="),
 * or non-zero unused trailing bits: each payload has exactly one accepted body.
 */
function decodeBase32(text: string): Uint8Array | undefined {
  if (!TAIL_CHARS_VALID.has(text.length % 8)) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const char of text) {
    value = ((value << 5) | ALPHABET.indexOf(char)) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}
