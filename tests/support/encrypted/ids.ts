// Test-side base64url and psk_id (Sendspin connection.md), on @noble and the platform's
// btoa/atob: independent of protocol/noise/, so a mistake there cannot hide here too.
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8 } from "../noise/hex.ts";
import { joinBytes } from "../noise/responder.ts";

export type PskCategory = "lt" | "pr" | "sn";

/** RFC 4648 §5 base64url, no padding (client_id, server_id, psk_id, handshake data). */
export function encodeBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Strict: only the base64url alphabet, no padding, one text per byte string. */
export function decodeBase64Url(text: string, byteLength?: number): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new TypeError(`Cannot decode base64url: ${JSON.stringify(text.slice(0, 60))}`);
  }
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  if (encodeBase64Url(bytes) !== text) {
    throw new TypeError(`Cannot decode base64url: ${JSON.stringify(text)} has stray trailing bits`);
  }
  if (byteLength !== undefined && bytes.length !== byteLength) {
    throw new RangeError(
      `Cannot decode base64url as ${byteLength} bytes: current value is ${bytes.length}`,
    );
  }
  return bytes;
}

/** psk_id = base64url(SHA-256("sendspin-psk-id-v1" || psk)): the label's raw bytes, no separator. */
export const pskId = (psk: Uint8Array): string =>
  encodeBase64Url(sha256(joinBytes(utf8("sendspin-psk-id-v1"), psk)));

/** The published Sentinel PSK, SHA-256("sendspin-sentinel-psk-v1"). */
export const SENTINEL_PSK: Uint8Array = sha256(utf8("sendspin-sentinel-psk-v1"));
export const SENTINEL_PSK_ID: string = pskId(SENTINEL_PSK);
