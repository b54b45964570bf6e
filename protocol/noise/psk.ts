import { encodeBase64Url } from "./base64url.ts";
import { sha256 } from "./suites.ts";

/** Every Sendspin PSK is 32 bytes (the Noise psk length). */
export const PSK_BYTES = 32;

/** `psk_category` in the message 1 payload: long-term, pairing, Sentinel. */
export type PskCategory = "lt" | "pr" | "sn";
export const PSK_CATEGORIES: readonly PskCategory[] = ["lt", "pr", "sn"];

const utf8 = (text: string) => new TextEncoder().encode(text);
// The labels are raw UTF-8 bytes, no terminator or separator (Sendspin connection.md).
const PSK_ID_LABEL = utf8("sendspin-psk-id-v1");
const SENTINEL_LABEL = utf8("sendspin-sentinel-psk-v1");

/** `psk_id` = base64url(SHA-256("sendspin-psk-id-v1" || psk)), 43 characters. */
export function pskId(psk: Uint8Array): string {
  if (psk.byteLength !== PSK_BYTES) {
    throw new RangeError(
      `Cannot derive a psk_id: expected a 32-byte PSK, current value is ${psk.byteLength} bytes`,
    );
  }
  return encodeBase64Url(sha256(PSK_ID_LABEL, psk));
}

/**
 * The published Sentinel PSK, SHA-256("sendspin-sentinel-psk-v1"): an unpaired session with no
 * authentication of either side. Computed from its label so the test can check it against the
 * published value. Do not write into it.
 */
export const SENTINEL_PSK: Uint8Array = sha256(SENTINEL_LABEL);

/** psk_id of the Sentinel PSK, `GFsV9tLaSQm9HcFWpKsgYQOr7wFTvNUtkmFwuVz3zoo`. */
export const SENTINEL_PSK_ID: string = pskId(SENTINEL_PSK);
