/**
 * The head of one HTTP/1.x request (request line and headers), parsed strictly: anything a
 * browser, a Sendspin client or curl would not send is a 400, so odd inputs never reach
 * the routes. Bodies are never read: every route is GET or HEAD.
 */

/** A longer head is refused (431): browsers send 1-2 KiB. */
export const MAX_HEAD_BYTES = 16 * 1024;
const MAX_HEADERS = 100;

export interface RequestHead {
  method: string;
  /** The request target as sent: "/path?query". */
  target: string;
  /** Minor version: 1.0 or 1.1. */
  minor: 0 | 1;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Map<string, string>;
}

export class BadRequest extends Error {
  constructor(readonly status: 400 | 431 | 505, message: string) {
    super(message);
  }
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Visible ASCII and obs-text, spaces and tabs inside; no control characters.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const TARGET = /^\/[\x21-\x7e]*$/;
const HEAD_END = [13, 10, 13, 10];

/** Where the head ends (the index after its blank line), or -1 if not yet received. */
export function headEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (
      bytes[i] === HEAD_END[0] && bytes[i + 1] === HEAD_END[1] &&
      bytes[i + 2] === HEAD_END[2] && bytes[i + 3] === HEAD_END[3]
    ) return i + 4;
  }
  return -1;
}

/** Parses a complete head, given without its closing blank line. */
export function parseRequestHead(bytes: Uint8Array): RequestHead {
  // One character per byte (ISO-8859-1), so nothing is lost or merged before checking; not
  // TextDecoder("latin1"), which is windows-1252 and maps 0x80-0x9f elsewhere.
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  const lines = text.split("\r\n");
  while (lines.length && lines[lines.length - 1] === "") lines.pop();
  const [method, target, version, ...extra] = (lines.shift() ?? "").split(" ");
  if (extra.length || !method || !TOKEN.test(method) || !target || !version) {
    throw new BadRequest(400, "malformed request line");
  }
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    throw new BadRequest(505, `unsupported ${version.slice(0, 16)}`);
  }
  if (!TARGET.test(target)) throw new BadRequest(400, "the request target must be a path");
  if (lines.length > MAX_HEADERS) throw new BadRequest(431, "too many headers");
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    if (colon <= 0 || !TOKEN.test(name)) throw new BadRequest(400, "malformed header");
    // Optional whitespace is spaces and tabs only: trim() would also drop a bare CR or LF
    // (an end of line to other parsers), other controls and NBSP, unseen.
    let start = colon + 1;
    let end = line.length;
    while (start < end && (line[start] === " " || line[start] === "\t")) start++;
    while (end > start && (line[end - 1] === " " || line[end - 1] === "\t")) end--;
    const value = line.slice(start, end);
    if (!FIELD_VALUE.test(value)) throw new BadRequest(400, "malformed header value");
    const before = headers.get(name);
    headers.set(name, before === undefined ? value : `${before}, ${value}`);
  }
  return { method, target, minor: version === "HTTP/1.1" ? 1 : 0, headers };
}

/** Whether the client sends a body we would have to read (we never do). */
export function hasBody(head: RequestHead): boolean {
  const length = head.headers.get("content-length");
  return head.headers.has("transfer-encoding") || (length !== undefined && length !== "0");
}

/** Whether the client asked to keep the connection open after the response. */
export function wantsKeepAlive(head: RequestHead): boolean {
  const connection = head.headers.get("connection")?.toLowerCase() ?? "";
  const tokens = connection.split(",").map((token) => token.trim());
  if (tokens.includes("close")) return false;
  return head.minor === 1 || tokens.includes("keep-alive");
}
