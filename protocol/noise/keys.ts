import { Buffer } from "node:buffer";
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";

/** Bytes of a raw X25519 private key, public key and DH output (RFC 7748). */
export const X25519_KEY_BYTES = 32;

// DER wrappers of a raw X25519 key (RFC 8410): node:crypto has no raw import for X25519, but
// these fixed prefixes plus the 32 key bytes are exactly the pkcs8 and spki encodings.
const PKCS8_X25519_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_X25519_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

/** A raw X25519 keypair. `privateKey` is secret: never log or send it. */
export interface X25519KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** A fresh keypair from the CSPRNG (node:crypto / OpenSSL). */
export function generateKeyPair(): X25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  return {
    privateKey: rawTail(privateKey.export({ format: "der", type: "pkcs8" })),
    publicKey: rawTail(publicKey.export({ format: "der", type: "spki" })),
  };
}

/** The public key of a raw private key (X25519 of the base point). */
export function publicKeyFromPrivate(privateKey: Uint8Array): Uint8Array {
  const publicKey = createPublicKey(privateKeyObject(privateKey));
  return rawTail(publicKey.export({ format: "der", type: "spki" }));
}

/** A keypair from a raw private key (a stored identity, or a fixed key in known-answer tests). */
export function keyPairFromPrivate(privateKey: Uint8Array): X25519KeyPair {
  return { privateKey: privateKey.slice(), publicKey: publicKeyFromPrivate(privateKey) };
}

/**
 * X25519(privateKey, publicKey), 32 bytes. Throws RangeError on an all-zero output (a
 * low-order or otherwise invalid public key): Noise rev 34 §12.1 allows signalling an error
 * for it, OpenSSL refuses it anyway, and the check here keeps that rule whatever the backend.
 */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  checkLength("public key", publicKey);
  let shared: Uint8Array;
  try {
    shared = diffieHellman({
      privateKey: privateKeyObject(privateKey),
      publicKey: createPublicKey({
        key: Buffer.concat([SPKI_X25519_PREFIX, publicKey]),
        format: "der",
        type: "spki",
      }),
    });
  } catch (cause) {
    throw new RangeError("Cannot compute X25519: the public key gives no shared secret", {
      cause,
    });
  }
  if (shared.every((byte) => byte === 0)) {
    throw new RangeError("Cannot compute X25519: the output is all zeros (low-order public key)");
  }
  return new Uint8Array(shared);
}

function privateKeyObject(privateKey: Uint8Array): KeyObject {
  checkLength("private key", privateKey);
  return createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, privateKey]),
    format: "der",
    type: "pkcs8",
  });
}

function checkLength(what: string, key: Uint8Array): void {
  if (key.byteLength !== X25519_KEY_BYTES) {
    throw new RangeError(
      `Cannot use X25519 ${what}: expected 32 bytes, current value is ${key.byteLength}`,
    );
  }
}

function rawTail(der: Uint8Array): Uint8Array {
  return new Uint8Array(der.subarray(der.byteLength - X25519_KEY_BYTES));
}
