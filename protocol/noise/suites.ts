import { Buffer } from "node:buffer";
import {
  type CipherGCMTypes,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
} from "node:crypto";

/** The two Sendspin suites: servers MUST support both, the client picks one. */
export type SuiteName = "25519_ChaChaPoly_SHA256" | "25519_AESGCM_SHA256";
export const SUITE_NAMES: readonly SuiteName[] = ["25519_ChaChaPoly_SHA256", "25519_AESGCM_SHA256"];

export const AEAD_KEY_BYTES = 32;
export const AEAD_TAG_BYTES = 16;
export const HASH_BYTES = 32; // SHA-256: Noise HASHLEN

/** An AEAD open failed: wrong key, wrong nonce, tampered or truncated ciphertext. */
export class AeadOpenError extends Error {
  override name = "AeadOpenError";
}

/** Plaintext as one array, or as parts that are encrypted as their concatenation. */
export type Plaintext = Uint8Array | readonly Uint8Array[];

/** The AEAD of one suite, with Noise's 64-bit counter nonce. */
export interface Suite {
  readonly name: SuiteName;
  /** ENCRYPT(k, n, ad, plaintext): ciphertext followed by the 16-byte tag. */
  seal(key: Uint8Array, nonce: bigint, ad: Uint8Array, plaintext: Plaintext): Uint8Array;
  /** DECRYPT(k, n, ad, ciphertext): the plaintext, or throws {@linkcode AeadOpenError}. */
  open(key: Uint8Array, nonce: bigint, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}

// One scratch IV for all calls: each seal/open is synchronous and done with its cipher object
// before it returns, so no call can see another call's nonce.
const iv = Buffer.alloc(12);
const ivView = new DataView(iv.buffer, iv.byteOffset, 12);

function aeadSuite(
  name: SuiteName,
  algorithm: "chacha20-poly1305" | CipherGCMTypes,
  littleEndianNonce: boolean,
): Suite {
  // Noise rev 34 §12.3/§12.4: 32 zero bits, then the counter (ChaChaPoly little-endian,
  // AESGCM big-endian). Bytes 0..3 of the scratch IV are never written.
  const setNonce = (nonce: bigint) => ivView.setBigUint64(4, nonce, littleEndianNonce);
  return {
    name,
    seal(key, nonce, ad, plaintext) {
      setNonce(nonce);
      const cipher = createCipheriv(algorithm as "chacha20-poly1305", key, iv, {
        authTagLength: AEAD_TAG_BYTES,
      });
      const parts = plaintext instanceof Uint8Array ? [plaintext] : plaintext;
      if (ad.byteLength > 0) {
        let plaintextLength = 0;
        for (const part of parts) plaintextLength += part.byteLength;
        cipher.setAAD(ad, { plaintextLength });
      }
      const out: Uint8Array[] = [];
      let total = AEAD_TAG_BYTES;
      for (const part of parts) {
        const encrypted = cipher.update(part);
        out.push(encrypted);
        total += encrypted.byteLength;
      }
      const last = cipher.final();
      if (last.byteLength > 0) out.push(last);
      total += last.byteLength;
      out.push(cipher.getAuthTag());
      return plain(Buffer.concat(out, total));
    },
    open(key, nonce, ad, ciphertext) {
      if (ciphertext.byteLength < AEAD_TAG_BYTES) {
        throw new AeadOpenError(
          `Cannot open AEAD ciphertext: ${ciphertext.byteLength} bytes is shorter than its tag`,
        );
      }
      setNonce(nonce);
      const bodyBytes = ciphertext.byteLength - AEAD_TAG_BYTES;
      const decipher = createDecipheriv(algorithm as "chacha20-poly1305", key, iv, {
        authTagLength: AEAD_TAG_BYTES,
      });
      decipher.setAuthTag(ciphertext.subarray(bodyBytes));
      if (ad.byteLength > 0) decipher.setAAD(ad, { plaintextLength: bodyBytes });
      const plaintext = decipher.update(ciphertext.subarray(0, bodyBytes));
      let last: Uint8Array;
      try {
        last = decipher.final();
      } catch (cause) {
        throw new AeadOpenError(`Cannot open ${name} ciphertext: authentication failed`, { cause });
      }
      return plain(last.byteLength === 0 ? plaintext : Buffer.concat([plaintext, last]));
    },
  };
}

/**
 * The same bytes as a plain Uint8Array, no copy. Node Buffers differ where it bites: their
 * slice() is a view, so a caller's "copy" would alias the message.
 */
export function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const SUITES: Readonly<Record<SuiteName, Suite>> = {
  "25519_ChaChaPoly_SHA256": aeadSuite("25519_ChaChaPoly_SHA256", "chacha20-poly1305", true),
  "25519_AESGCM_SHA256": aeadSuite("25519_AESGCM_SHA256", "aes-256-gcm", false),
};

/** The suite named `name` (as in `client/init.suite`), or undefined for any other text. */
export function suiteByName(name: string): Suite | undefined {
  return Object.hasOwn(SUITES, name) ? SUITES[name as SuiteName] : undefined;
}

/** SHA-256 of the concatenated parts (Noise HASH). */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** HMAC-SHA-256(key, concatenated parts) (Noise HMAC-HASH). */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const hmac = createHmac("sha256", key);
  for (const part of parts) hmac.update(part);
  return new Uint8Array(hmac.digest());
}

const BYTE_1 = Uint8Array.of(1);
const BYTE_2 = Uint8Array.of(2);
const BYTE_3 = Uint8Array.of(3);

/** Noise rev 34 §4.3 HKDF(chaining_key, input_key_material, 2): two 32-byte outputs. */
export function hkdf2(
  chainingKey: Uint8Array,
  inputKeyMaterial: Uint8Array,
): [Uint8Array, Uint8Array] {
  const tempKey = hmacSha256(chainingKey, inputKeyMaterial);
  const output1 = hmacSha256(tempKey, BYTE_1);
  return [output1, hmacSha256(tempKey, output1, BYTE_2)];
}

/** Noise rev 34 §4.3 HKDF(chaining_key, input_key_material, 3): three 32-byte outputs. */
export function hkdf3(
  chainingKey: Uint8Array,
  inputKeyMaterial: Uint8Array,
): [Uint8Array, Uint8Array, Uint8Array] {
  const tempKey = hmacSha256(chainingKey, inputKeyMaterial);
  const output1 = hmacSha256(tempKey, BYTE_1);
  const output2 = hmacSha256(tempKey, output1, BYTE_2);
  return [output1, output2, hmacSha256(tempKey, output2, BYTE_3)];
}
