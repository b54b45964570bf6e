// CPACE-X25519-SHA512 (draft-irtf-cfrg-cpace-21) in initiator-responder mode with explicit key
// confirmation, the PAKE of Sendspin's code-based pairing. The server is party A, the initiator.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { concatBytes } from "../concat.ts";
import { dh, X25519_KEY_BYTES } from "../noise/keys.ts";
import { decodeUCoordinate, encodeUCoordinate, mapToCurveElligator2 } from "./elligator2.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

/** G_X25519.DSI. */
export const CPACE_DSI = utf8("CPace255");
const ISK_DSI = utf8("CPace255_ISK");
const MAC_LABEL = utf8("CPaceMac");
/** H.s_in_bytes of SHA-512: the generator string's zero padding fills this first block. */
export const SHA512_BLOCK_BYTES = 128;
/** ISK, Ta and Tb are SHA-512 / HMAC-SHA-512 outputs. */
export const CPACE_ISK_BYTES = 64;
export const CPACE_TAG_BYTES = 64;

/** LEB128 length of `data`, then `data` (the draft's prepend_len). */
export function prependLen(data: Uint8Array): Uint8Array {
  const length: number[] = [];
  let rest = data.byteLength;
  do {
    length.push(rest < 128 ? rest : (rest & 0x7f) | 0x80);
    rest >>>= 7;
  } while (rest > 0);
  return concatBytes(Uint8Array.from(length), data);
}

/** prepend_len of each part, concatenated (the draft's lv_cat). */
export function lvCat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(...parts.map(prependLen));
}

/** transcript_ir(Ya, ADa, Yb, ADb) = lv_cat(Ya, ADa) || lv_cat(Yb, ADb). */
export function transcriptIr(
  ya: Uint8Array,
  ada: Uint8Array,
  yb: Uint8Array,
  adb: Uint8Array,
): Uint8Array {
  return concatBytes(lvCat(ya, ada), lvCat(yb, adb));
}

/** lv_cat(DSI, PRS, zero_bytes(len_zpad), CI, sid), padded so DSI and PRS fill a hash block. */
export function generatorString(
  dsi: Uint8Array,
  prs: Uint8Array,
  ci: Uint8Array,
  sid: Uint8Array,
  sInBytes = SHA512_BLOCK_BYTES,
): Uint8Array {
  const zeroPadBytes = Math.max(
    0,
    sInBytes - 1 - prependLen(prs).byteLength - prependLen(dsi).byteLength,
  );
  return lvCat(dsi, prs, new Uint8Array(zeroPadBytes), ci, sid);
}

/**
 * G_X25519.calculate_generator: the first 32 bytes of SHA-512 of the generator string, decoded
 * as a u-coordinate and mapped onto the curve with Elligator 2; the encoded u of g.
 */
export function calculateGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const hash = sha512(generatorString(CPACE_DSI, prs, ci, sid)).subarray(0, X25519_KEY_BYTES);
  return encodeUCoordinate(mapToCurveElligator2(decodeUCoordinate(hash)));
}

/**
 * G_X25519.scalar_mult_vfy: X25519(scalar, u), or undefined where the draft returns the neutral
 * element G.I (the caller aborts): an all-zero result, a u that node:crypto refuses (it refuses
 * every low-order point itself), or a u that is not 32 bytes. Throws RangeError for a scalar
 * that is not 32 bytes (a programming error, not peer input).
 */
export function scalarMultVfy(scalar: Uint8Array, u: Uint8Array): Uint8Array | undefined {
  if (scalar.byteLength !== X25519_KEY_BYTES) {
    throw new RangeError(
      `Cannot use a CPace scalar: expected 32 bytes, current value is ${scalar.byteLength}`,
    );
  }
  if (u.byteLength !== X25519_KEY_BYTES) return undefined;
  try {
    // dh throws RangeError on an all-zero output or a point the backend refuses.
    return dh(scalar, u);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/** Options of {@linkcode CpaceInitiator}. */
export interface CpaceInitiatorOptions {
  /** The password-related string: the pairing code's bytes. */
  prs: Uint8Array;
  /** The session id both parties agreed on. */
  sid: Uint8Array;
  /** The channel identifier. Default: empty (Sendspin's choice). */
  ci?: Uint8Array;
  /** ADa, the initiator's associated data. */
  ad: Uint8Array;
  /** The scalar ya, for known-answer tests only. Default: 32 random bytes from the CSPRNG. */
  scalar?: Uint8Array;
}

/** What party A holds after the responder's message: the key and both confirmation tags. */
export interface CpaceResult {
  /** ISK, 64 bytes: the intermediate session key. Secret. */
  readonly isk: Uint8Array;
  /** Ta, 64 bytes: A's tag, to send. */
  readonly ownTag: Uint8Array;
  /** Tb as expected, 64 bytes: compare the peer's tag with {@linkcode tagsEqual}. */
  readonly peerTag: Uint8Array;
}

/**
 * Party A of one CPace run (one Sendspin pairing round: a fresh instance, so a fresh scalar,
 * per round). `share` is Ya, sent first; `finish` takes B's Yb and ADb.
 */
export class CpaceInitiator {
  /** Ya = X25519(ya, g), 32 bytes. */
  readonly share: Uint8Array;
  readonly #scalar: Uint8Array;
  readonly #sid: Uint8Array;
  readonly #ad: Uint8Array;

  constructor(options: CpaceInitiatorOptions) {
    this.#scalar = options.scalar?.slice() ?? new Uint8Array(randomBytes(X25519_KEY_BYTES));
    this.#sid = options.sid.slice();
    this.#ad = options.ad.slice();
    const generator = calculateGenerator(options.prs, options.ci ?? new Uint8Array(0), this.#sid);
    const share = scalarMultVfy(this.#scalar, generator);
    // Elligator 2 never maps a hash onto a low-order point in practice (8 of ~2^255 values).
    if (share === undefined) {
      throw new RangeError("Cannot start CPace: the generator is degenerate");
    }
    this.share = share;
  }

  /**
   * K = X25519(ya, Yb), ISK and the tags; undefined when Yb is not 32 bytes or K is the
   * neutral element (a low-order share): for Sendspin a protocol error.
   */
  finish(peerShare: Uint8Array, peerAd: Uint8Array): CpaceResult | undefined {
    const k = scalarMultVfy(this.#scalar, peerShare);
    if (k === undefined) return undefined;
    const isk = sha512(
      lvCat(ISK_DSI, this.#sid, k),
      transcriptIr(this.share, this.#ad, peerShare, peerAd),
    );
    // The draft's key confirmation: mac_key = H(b"CPaceMac" || sid || ISK), raw concatenation;
    // each tag covers the message its party sent.
    const macKey = sha512(MAC_LABEL, this.#sid, isk);
    return {
      isk,
      ownTag: hmacSha512(macKey, lvCat(this.share, this.#ad)),
      peerTag: hmacSha512(macKey, lvCat(peerShare, peerAd)),
    };
  }
}

/** Whether two tags are equal, in time independent of where they differ; false on lengths. */
export function tagsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

function sha512(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash("sha512");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

function hmacSha512(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha512", key).update(data).digest());
}
