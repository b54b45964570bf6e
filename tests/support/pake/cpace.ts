// Test-side CPACE-X25519-SHA512 (draft-irtf-cfrg-cpace-21), initiator-responder mode with the
// explicit key confirmation of its section "Key confirmation", written from the draft on @noble
// primitives: independent of the server's node:crypto implementation. Sendspin pairing.md makes
// the server party A (initiator) and the client party B (responder).
import { _map_to_curve_elligator2_curve25519, x25519 } from "@noble/curves/ed25519.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha512 } from "@noble/hashes/sha2.js";

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  parts.reduce((at, part) => (out.set(part, at), at + part.length), 0);
  return out;
};

/** G_X25519.DSI. */
export const DSI: Uint8Array = utf8("CPace255");
/** SHA-512's input block size (H.s_in_bytes). */
const S_IN_BYTES = 128;
const FIELD_BYTES = 32;
const P = 2n ** 255n - 19n;

/** A CPace abort: a share or secret point equal to the neutral element G.I (all zero). */
export class CPaceAbort extends Error {
  override name = "CPaceAbort";
}

/** The length as LEB128, then the bytes. */
export function prependLen(data: Uint8Array): Uint8Array {
  const length: number[] = [];
  let n = data.length;
  do {
    length.push(n < 128 ? n : (n & 0x7f) | 0x80);
    n >>>= 7;
  } while (n > 0);
  return concat(Uint8Array.from(length), data);
}

export const lvCat = (...parts: Uint8Array[]): Uint8Array => concat(...parts.map(prependLen));

/** lv_cat(DSI, PRS, zero padding filling the first hash block, CI, sid). */
export function generatorString(
  dsi: Uint8Array,
  prs: Uint8Array,
  ci: Uint8Array,
  sid: Uint8Array,
  sInBytes = S_IN_BYTES,
): Uint8Array {
  const zpad = Math.max(0, sInBytes - 1 - prependLen(prs).length - prependLen(dsi).length);
  return lvCat(dsi, prs, new Uint8Array(zpad), ci, sid);
}

const littleEndian = (bytes: Uint8Array): bigint =>
  bytes.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n);

function encodeU(u: bigint): Uint8Array {
  const out = new Uint8Array(FIELD_BYTES);
  for (let i = 0; i < FIELD_BYTES; i++) out[i] = Number((u >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** Field inverse by Fermat (test code: clarity over speed). */
function invert(a: bigint): bigint {
  let result = 1n, base = ((a % P) + P) % P, exponent = P - 2n;
  while (exponent > 0n) {
    if (exponent & 1n) result = (result * base) % P;
    base = (base * base) % P;
    exponent >>= 1n;
  }
  return result;
}

/**
 * G.calculate_generator: SHA-512 of the generator string cut to 32 bytes, decoded as an RFC 7748
 * u-coordinate (bit 255 cleared), mapped with RFC 9380 Elligator 2; the u-coordinate xMn / xMd.
 */
export function calculateGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const hashed = sha512(generatorString(DSI, prs, ci, sid)).slice(0, FIELD_BYTES);
  hashed[FIELD_BYTES - 1] &= 0x7f;
  const { xMn, xMd } = _map_to_curve_elligator2_curve25519(littleEndian(hashed) % P);
  return encodeU((xMn * invert(xMd)) % P);
}

/** G.scalar_mult_vfy: X25519(y, g), or G.I (32 zero bytes) for a low-order g. */
export function scalarMultVfy(scalar: Uint8Array, point: Uint8Array): Uint8Array {
  try {
    return x25519.scalarMult(scalar, point);
  } catch {
    return new Uint8Array(FIELD_BYTES); // noble refuses low-order inputs before the ladder
  }
}

const isNeutral = (point: Uint8Array) => point.every((byte) => byte === 0);

export interface CPaceInputs {
  prs: Uint8Array;
  sid: Uint8Array;
  ci?: Uint8Array;
  /** ADa and ADb: party A's and party B's associated data. */
  ada: Uint8Array;
  adb: Uint8Array;
}

export interface CPaceKeys {
  isk: Uint8Array;
  /** MCF tags: Ta = HMAC(mac_key, lv_cat(Ya, ADa)), Tb = HMAC(mac_key, lv_cat(Yb, ADb)). */
  ta: Uint8Array;
  tb: Uint8Array;
}

/** A fresh scalar and its public share Y = X25519(y, g). */
export function cpaceShare(
  inputs: CPaceInputs,
  scalar: Uint8Array = crypto.getRandomValues(new Uint8Array(FIELD_BYTES)),
): { scalar: Uint8Array; share: Uint8Array } {
  const g = calculateGenerator(inputs.prs, inputs.ci ?? new Uint8Array(0), inputs.sid);
  return { scalar, share: scalarMultVfy(scalar, g) };
}

/** ISK and the two MCF tags from K; aborts when K is the neutral element. */
export function cpaceKeys(
  inputs: CPaceInputs,
  k: Uint8Array,
  ya: Uint8Array,
  yb: Uint8Array,
): CPaceKeys {
  if (isNeutral(k)) throw new CPaceAbort("CPace abort: the peer's share is a low-order point");
  const transcript = concat(lvCat(ya, inputs.ada), lvCat(yb, inputs.adb));
  const isk = sha512(concat(lvCat(concat(DSI, utf8("_ISK")), inputs.sid, k), transcript));
  const macKey = sha512(concat(utf8("CPaceMac"), inputs.sid, isk));
  return {
    isk,
    ta: hmac(sha512, macKey, lvCat(ya, inputs.ada)),
    tb: hmac(sha512, macKey, lvCat(yb, inputs.adb)),
  };
}

/** Party B's whole run on receipt of Ya: its share Yb and the keys. */
export function respond(
  inputs: CPaceInputs,
  ya: Uint8Array,
  scalar?: Uint8Array,
): { yb: Uint8Array } & CPaceKeys {
  if (ya.length !== FIELD_BYTES) throw new CPaceAbort(`CPace share of ${ya.length} bytes, not 32`);
  const { scalar: y, share: yb } = cpaceShare(inputs, scalar);
  return { yb, ...cpaceKeys(inputs, scalarMultVfy(y, ya), ya, yb) };
}

/** Party A's finish on receipt of Yb (the stand-in servers of the tests). */
export function finishInitiator(
  inputs: CPaceInputs,
  scalar: Uint8Array,
  ya: Uint8Array,
  yb: Uint8Array,
): CPaceKeys {
  if (yb.length !== FIELD_BYTES) throw new CPaceAbort(`CPace share of ${yb.length} bytes, not 32`);
  return cpaceKeys(inputs, scalarMultVfy(scalar, yb), ya, yb);
}

/** Constant-time equality of two tags. */
export function tagsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
