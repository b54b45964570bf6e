import { Buffer } from "node:buffer";

// RFC 4648 §5 alphabet only: no padding, no standard-alphabet `+` `/`, no whitespace.
const BASE64URL_TEXT = /^[A-Za-z0-9_-]*$/;

/** Options of {@linkcode decodeBase64Url}. */
export interface DecodeBase64UrlOptions {
  /** The exact number of bytes the text must decode to. Default: any length. */
  byteLength?: number;
}

/** RFC 4648 base64url without padding (Sendspin ids, psk_ids and handshake data). */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/**
 * Strict base64url decode: rejects padding, any character outside the base64url alphabet, a
 * length no encoding produces, non-zero unused trailing bits (so each byte string has exactly
 * one accepted text), and with `byteLength` any other decoded length. Node's own decoder skips
 * bad characters silently, which is why the text is checked first.
 */
export function decodeBase64Url(text: string, options: DecodeBase64UrlOptions = {}): Uint8Array {
  if (!BASE64URL_TEXT.test(text)) {
    throw new TypeError(
      `Cannot decode base64url: ${
        JSON.stringify(clip(text))
      } has padding or a character outside A-Z a-z 0-9 - _`,
    );
  }
  if (text.length % 4 === 1) {
    throw new RangeError(
      `Cannot decode base64url: a length of ${text.length} characters is never produced`,
    );
  }
  const bytes = new Uint8Array(Buffer.from(text, "base64url"));
  if (encodeBase64Url(bytes) !== text) {
    throw new TypeError(
      `Cannot decode base64url: ${JSON.stringify(clip(text))} has non-zero unused trailing bits`,
    );
  }
  if (options.byteLength !== undefined && bytes.byteLength !== options.byteLength) {
    throw new RangeError(
      `Cannot decode base64url as ${options.byteLength} bytes: current value is ${bytes.byteLength}`,
    );
  }
  return bytes;
}

function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}
