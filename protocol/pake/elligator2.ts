// Curve25519 field arithmetic and the Elligator 2 map onto its u-coordinate, as CPace's
// calculate_generator uses them (draft-irtf-cfrg-cpace-21 §"CPace group objects G_X25519",
// reference code in its appendix; RFC 9380 §6.7.1; RFC 7748 §5 for the byte encodings).
//
// BigInt arithmetic is not constant-time. The map runs once per pairing round on a hash of the
// pairing code and the session id, on the server alone; a timing probe would have to resolve
// one modular exponentiation inside a WebSocket round trip.

/** The field prime of Curve25519, 2^255 - 19. */
export const P = 2n ** 255n - 19n;

/** Curve25519's Montgomery coefficient A (y^2 = x^3 + A x^2 + x). */
const A = 486662n;
/** Elligator 2's non-square Z for this field (the draft's find_z_ell2 gives 2). */
const Z = 2n;
/** Bytes of an encoded u-coordinate. */
export const U_COORDINATE_BYTES = 32;

const mod = (x: bigint): bigint => {
  const r = x % P;
  return r < 0n ? r + P : r;
};

function pow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

/** 1/x in the field (Fermat: x^(p-2)); x must be non-zero. */
const invert = (x: bigint): bigint => pow(x, P - 2n);

/** The Legendre symbol of x as a field element: 1 (square), P-1 (non-square) or 0. */
const legendre = (x: bigint): bigint => pow(x, (P - 1n) / 2n);

/**
 * RFC 7748 decodeUCoordinate for X25519: 32 little-endian bytes with bit 255 cleared. The
 * value is not reduced modulo p (the field operations below reduce it).
 */
export function decodeUCoordinate(bytes: Uint8Array): bigint {
  if (bytes.byteLength !== U_COORDINATE_BYTES) {
    throw new RangeError(
      `Cannot decode a u-coordinate: expected 32 bytes, current value is ${bytes.byteLength}`,
    );
  }
  let u = 0n;
  for (let i = U_COORDINATE_BYTES - 1; i >= 0; i--) {
    u = (u << 8n) | BigInt(i === U_COORDINATE_BYTES - 1 ? bytes[i] & 0x7f : bytes[i]);
  }
  return u;
}

/** RFC 7748 encodeUCoordinate: u reduced modulo p, as 32 little-endian bytes. */
export function encodeUCoordinate(u: bigint): Uint8Array {
  const out = new Uint8Array(U_COORDINATE_BYTES);
  let rest = mod(u);
  for (let i = 0; i < U_COORDINATE_BYTES; i++) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/**
 * map_to_curve_elligator2 for Curve25519, u-coordinate only (CPace discards v):
 * v = -A / (1 + Z r^2); epsilon = Legendre(v^3 + A v^2 + v); u = epsilon v - (1 - epsilon) A/2.
 * 1 + 2 r^2 is never zero (-1/2 is a non-square modulo p), so the division is always defined.
 */
export function mapToCurveElligator2(r: bigint): bigint {
  const v = mod(-A * invert(1n + Z * mod(r * r)));
  const gv = mod(v * v * v + A * v * v + v);
  const symbol = legendre(gv);
  const epsilon = symbol === P - 1n ? -1n : symbol;
  return mod(epsilon * v - (1n - epsilon) * A * invert(2n));
}
