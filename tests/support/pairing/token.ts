// Test-side Sendspin pairing tokens (pairing.md "Pairing Token"): "SP:" || version || body, the
// body RFC 4648 base32 without padding with every "2" written as "9"; decoding is lenient.
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Payload bytes each version defines: 0 = client_key || pairing_psk, 1 = a 24-byte QR code. */
export const TOKEN_PAYLOAD_BYTES: Record<string, number> = { "0": 64, "1": 24 };

export function base32(bytes: Uint8Array): string {
  let out = "", bits = 0, value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1; // keep only the bits not yet written
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Strict RFC 4648 base32 of a padded text; throws on a stray character or bad padding. */
function unbase32(padded: string): Uint8Array {
  if (padded.length % 8 !== 0) throw new TypeError("base32 text is not padded to 8 characters");
  const text = padded.replace(/=+$/, "");
  const padding = padded.length - text.length;
  if (![0, 1, 3, 4, 6].includes(padding)) throw new TypeError(`bad base32 padding (${padding})`);
  const out: number[] = [];
  let bits = 0, value = 0;
  for (const char of text) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) throw new TypeError(`${JSON.stringify(char)} is not a base32 character`);
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
      value &= (1 << bits) - 1;
    }
  }
  return Uint8Array.from(out);
}

export function encodeToken(version: string, payload: Uint8Array): string {
  return `SP:${version}${base32(payload).replaceAll("2", "9")}`;
}

/**
 * Lenient decode: trims and upper-cases, strips an optional "SP:", checks the version (and the
 * one `expected`, if given), maps 9 back to 2, re-pads and decodes. Returns the payload the
 * version defines; bytes past it are reserved and ignored. Throws naming what is wrong.
 */
export function decodeToken(
  input: string,
  expected?: string,
): { version: string; payload: Uint8Array } {
  let text = input.trim().toUpperCase();
  if (text.startsWith("SP:")) text = text.slice(3);
  const version = text.charAt(0);
  const length = TOKEN_PAYLOAD_BYTES[version];
  if (length === undefined) {
    throw new TypeError(`pairing token version ${JSON.stringify(version)} is unknown`);
  }
  if (expected !== undefined && version !== expected) {
    throw new TypeError(`pairing token version ${version}, expected ${expected}`);
  }
  const body = text.slice(1).replaceAll("9", "2");
  const padded = body.padEnd(Math.ceil(body.length / 8) * 8, "=");
  const payload = unbase32(padded);
  if (payload.length < length) {
    throw new RangeError(
      `pairing token v${version} carries ${payload.length} bytes, under ${length}`,
    );
  }
  return { version, payload: payload.slice(0, length) };
}
