/**
 * The worker's HTTP front on real sockets: every connection that does not upgrade is served
 * and closed on a clock (silent, half a request, idle keep-alive), odd requests get one
 * clear status, and the WebSocket handshake follows RFC 6455.
 */
import assert from "node:assert/strict";
import { type Front, listen } from "../../../worker/edge/http_front.ts";
import { MAX_HEAD_BYTES } from "../../../worker/edge/request_head.ts";

const HEAD_TIMEOUT_MS = 300;
const KEEP_ALIVE_TIMEOUT_MS = 200;

async function withFront(test: (front: Front, upgraded: Uint8Array[]) => Promise<void>) {
  const upgraded: Uint8Array[] = [];
  const front = await listen({
    hostname: "127.0.0.1",
    port: 0,
    reusePort: false,
    handler: (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/boom") throw new Error("route failed");
      return new Response(`hello from ${path}`, { headers: { "x-route": "yes" } });
    },
    websocketPath: "/ws",
    onWebSocket: (socket, already) => {
      upgraded.push(already);
      socket.end();
    },
    onError: () => {},
    headTimeoutMs: HEAD_TIMEOUT_MS,
    keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
  });
  try {
    await test(front, upgraded);
  } finally {
    await front.close();
  }
}

/** Sends `request` and reads until the server closes; returns all it sent and how long it took. */
async function exchange(port: number, request: string): Promise<{ text: string; ms: number }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const started = performance.now();
  if (request) await conn.write(new TextEncoder().encode(request));
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(65_536);
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      parts.push(buffer.slice(0, n));
    }
  } catch { /* a reset also ends the exchange */ }
  conn.close();
  const text = new TextDecoder().decode(new Uint8Array(parts.flatMap((p) => [...p])));
  return { text, ms: performance.now() - started };
}

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
const statusOf = (text: string) => Number(text.split(" ")[1]);

Deno.test("a connection that never sends a request is closed after the head timeout", () =>
  withFront(async (front) => {
    const { text, ms } = await exchange(front.port, "");
    assert.equal(text, "", "nothing is answered to silence");
    assert.ok(ms >= HEAD_TIMEOUT_MS - 50, `closed after ${ms} ms`);
  }));

Deno.test("half a request head gets 408 and the connection is closed", () =>
  withFront(async (front) => {
    const { text } = await exchange(front.port, "GET / HTTP/1.1\r\nHost: x\r\n");
    assert.equal(statusOf(text), 408);
    assert.match(text, /connection: close/);
  }));

Deno.test("kept-alive connections serve request after request, then close when idle", () =>
  withFront(async (front) => {
    // Two pipelined requests in one write, answered in order; then the idle timeout.
    const { text } = await exchange(front.port, get("/a") + get("/b"));
    const answers = text.split("HTTP/1.1 ").slice(1);
    assert.equal(answers.length, 2);
    assert.match(answers[0], /^200 OK[\s\S]*connection: keep-alive[\s\S]*hello from \/a$/);
    assert.match(answers[1], /hello from \/b$/);
  }));

Deno.test("Connection: close and HTTP/1.0 get one answer and the connection ends", () =>
  withFront(async (front) => {
    const closed = await exchange(front.port, get("/a", "Connection: close\r\n"));
    assert.match(closed.text, /connection: close[\s\S]*hello from \/a$/);
    assert.ok(closed.ms < HEAD_TIMEOUT_MS, "it did not wait for a timeout");
    const old = await exchange(front.port, "GET /b HTTP/1.0\r\n\r\n");
    assert.match(old.text, /^HTTP\/1.1 200 OK[\s\S]*hello from \/b$/);
  }));

Deno.test("a flood of pipelined requests is cut, after the first answers", () =>
  withFront(async (front) => {
    const { text } = await exchange(front.port, get("/a").repeat(5_000)); // 100 KiB at once
    assert.match(text, /^HTTP\/1.1 200 OK/);
    assert.match(text, /HTTP\/1.1 431 [^\r]*\r\n[\s\S]*Too many queued requests$/);
  }));

Deno.test("HEAD answers carry the length of the body they leave out", () =>
  withFront(async (front) => {
    const { text } = await exchange(front.port, "HEAD /abc HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert.match(text, /content-length: 15\r\n/); // "hello from /abc"
    assert.ok(text.endsWith("\r\n\r\n"), "no body");
  }));

Deno.test("odd requests each get one clear status and the connection closes", () =>
  withFront(async (front) => {
    const cases: [string, number][] = [
      ["POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 405],
      ["DELETE / HTTP/1.1\r\n\r\n", 405],
      ["TRACE / HTTP/1.1\r\n\r\n", 405],
      ["GET / HTTP/2.0\r\n\r\n", 505],
      ["GET http://elsewhere/ HTTP/1.1\r\n\r\n", 400],
      ["GET  / HTTP/1.1\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\n folded: header\r\n\r\n", 400],
      [`GET / HTTP/1.1\r\nX: ${"a".repeat(MAX_HEAD_BYTES)}\r\n\r\n`, 431],
      [`GET / HTTP/1.1\r\nX: ${"a".repeat(MAX_HEAD_BYTES)}`, 431], // no end in sight
      ["GET /boom HTTP/1.1\r\nConnection: close\r\n\r\n", 500],
      // UTF-8 in a header value is opaque bytes to HTTP, not an error ("Zoë’s").
      ["GET /a HTTP/1.1\r\nX-Name: Zo\u00eb\u2019s\r\nConnection: close\r\n\r\n", 200],
      ["\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400], // TLS on the HTTP port
    ];
    for (const [request, status] of cases) {
      const { text } = await exchange(front.port, request);
      assert.equal(statusOf(text), status, JSON.stringify(request.slice(0, 40)));
      if (status === 405) assert.match(text, /allow: GET, HEAD/);
    }
  }));

Deno.test("the WebSocket handshake: RFC 6455's sample key, and refusals", () =>
  withFront(async (front, upgraded) => {
    const upgrade = (key: string, version = "13") =>
      "GET /ws?x=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: ${version}\r\n\r\n`;
    const ok = await exchange(front.port, upgrade("dGhlIHNhbXBsZSBub25jZQ==") + "early");
    assert.equal(statusOf(ok.text), 101);
    assert.match(ok.text, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
    assert.deepEqual(upgraded.map((bytes) => new TextDecoder().decode(bytes)), ["early"]);
    assert.equal(statusOf((await exchange(front.port, upgrade("short"))).text), 400);
    assert.equal(
      statusOf((await exchange(front.port, upgrade("dGhlIHNhbXBsZSBub25jZQ==", "8"))).text),
      400,
    );
    // Another path is not upgraded: the routes answer it.
    const other = await exchange(
      front.port,
      upgrade("dGhlIHNhbXBsZSBub25jZQ==").replace("/ws?x=1", "/page"),
    );
    assert.match(other.text, /^HTTP\/1.1 200 OK[\s\S]*hello from \/page$/);
    assert.equal(upgraded.length, 1);
  }));
