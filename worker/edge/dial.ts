/**
 * The client side of the WebSocket handshake, for a server that dials a listening Sendspin
 * client (`--client ws://host:port/path`, or wss:// with a certificate we can verify). Returns the upgraded socket; framing is then
 * `WebSocketConnection` with side "client".
 */
import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { concatBytes } from "../../protocol/concat.ts";
import { headEnd } from "./request_head.ts";
import { acceptFor } from "./websocket.ts";

/** A client that does not answer the handshake within this time is treated as away. */
export const DIAL_TIMEOUT_MS = 5_000;
const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;

export class DialError extends Error {}

/** Connects and upgrades; `already` holds bytes that came right after the 101 response. */
export function dialWebSocket(
  url: URL,
  timeoutMs = DIAL_TIMEOUT_MS,
): Promise<{ socket: Socket; already: Uint8Array }> {
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const expected = acceptFor(key);
  const secure = url.protocol === "wss:";
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || (secure ? 443 : 80));
  return new Promise((resolve, reject) => {
    const socket: Socket = secure
      ? connectTls({ host, port, servername: host })
      : connect({ host, port });
    socket.setNoDelay(true);
    let received: Uint8Array = new Uint8Array(0);
    const fail = (message: string) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new DialError(message));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
    socket.on("error", (error: Error & { code?: string }) => fail(error.code ?? error.message));
    socket.on("close", () => fail("closed the connection during the handshake"));
    socket.on(secure ? "secureConnect" : "connect", () => {
      socket.write(
        `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
          "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    const onData = (bytes: Uint8Array) => {
      received = concatBytes(received, bytes);
      const end = headEnd(received);
      if (end < 0) {
        if (received.byteLength > MAX_RESPONSE_HEAD_BYTES) fail("sent an oversized answer");
        return;
      }
      const head = new TextDecoder("latin1").decode(received.subarray(0, end));
      const status = head.split("\r\n")[0];
      if (!/^HTTP\/1\.1 101 /.test(status)) return fail(`answered "${status.slice(0, 60)}"`);
      const accept = /\r\nsec-websocket-accept:[ \t]*([^\r\n]*)/i.exec(head)?.[1].trim();
      if (accept !== expected) return fail("answered with a wrong Sec-WebSocket-Accept");
      clearTimeout(timer);
      socket.off("data", onData);
      socket.removeAllListeners("error");
      socket.removeAllListeners("close");
      socket.pause();
      resolve({ socket, already: received.slice(end) });
    };
    socket.on("data", onData);
  });
}
