/**
 * Connections that are not listeners, against the real server: ones that never send (or
 * never finish) a request are closed on the front's clock, and a client announcing a huge
 * message is cut before it is read. A listener beside them plays on, contiguous and on time.
 */
import assert from "node:assert/strict";
import { HEAD_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS } from "../../worker/edge/http_front.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";
import { assertContiguousAndOnTime } from "./steady_listener.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const encode = (text: string) => new TextEncoder().encode(text);

/** Reads until the server closes; returns the time that took and the first line it sent. */
async function whenClosed(conn: Deno.TcpConn, since: number) {
  const buffer = new Uint8Array(65_536);
  let first = "";
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      first ||= new TextDecoder().decode(buffer.subarray(0, n)).split("\r\n")[0];
    }
  } catch { /* a reset ends it too */ }
  conn.close();
  return { ms: performance.now() - since, first };
}

Deno.test("connections that never make a request are closed on a clock", opts, async () => {
  const server = await startServer();
  const steady = await RawClient.connect(server.url, { formats: [format("pcm")] });
  try {
    await steady.waitFor("audio", () => steady.chunks.length > 0);
    const connect = () => Deno.connect({ hostname: "127.0.0.1", port: server.port });
    const started = performance.now();
    const silent = await Promise.all(Array.from({ length: 20 }, connect));
    const half = await Promise.all(Array.from({ length: 20 }, async () => {
      const conn = await connect();
      await conn.write(encode("GET / HTTP/1.1\r\nHost: party\r\nUser-Agent: slo"));
      return conn;
    }));
    const idle = await connect();
    await idle.write(encode("GET /api/status HTTP/1.1\r\nHost: party\r\n\r\n"));
    const [silentEnds, halfEnds, idleEnd] = await Promise.all([
      Promise.all(silent.map((conn) => whenClosed(conn, started))),
      Promise.all(half.map((conn) => whenClosed(conn, started))),
      whenClosed(idle, started),
    ]);
    for (const end of [...silentEnds, ...halfEnds]) {
      assert.ok(end.ms >= HEAD_TIMEOUT_MS - 100 && end.ms < HEAD_TIMEOUT_MS + 5_000, `${end.ms}`);
    }
    assert.ok(silentEnds.every((end) => end.first === ""), "silence gets no answer");
    assert.ok(halfEnds.every((end) => end.first === "HTTP/1.1 408 Request Timeout"));
    assert.equal(idleEnd.first, "HTTP/1.1 200 OK");
    assert.ok(idleEnd.ms < KEEP_ALIVE_TIMEOUT_MS + 5_000, `idle closed after ${idleEnd.ms} ms`);
    assertContiguousAndOnTime(steady, 20);
  } finally {
    await steady.close();
    await server.stop();
  }
});

Deno.test("a client announcing a 60 MiB message is cut before it is read", opts, async () => {
  const server = await startServer();
  const steady = await RawClient.connect(server.url, { formats: [format("pcm")] });
  try {
    await steady.waitFor("audio", () => steady.chunks.length > 0);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await conn.write(encode(
      "GET /sendspin HTTP/1.1\r\nHost: party\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ));
    const announced = 60 << 20;
    const header = new Uint8Array(14);
    header[0] = 0x81; // FIN, text
    header[1] = 0x80 | 127; // masked, 64-bit length
    new DataView(header.buffer).setBigUint64(2, BigInt(announced));
    const closed = whenClosed(conn, performance.now());
    let sent = 0;
    try {
      await conn.write(header);
      const slice = new Uint8Array(1 << 20);
      while (sent < announced) sent += await conn.write(slice);
    } catch { /* cut */ }
    await closed;
    assert.ok(sent < announced / 2, `cut after ${sent >> 20} MiB of ${announced >> 20}`);
    const counts = await (await fetch(new URL("/api/status", server.url))).json();
    assert.ok(counts.rejected_messages >= 1, "refused and counted");
    const before = steady.chunks.length;
    await steady.waitFor("more audio", () => steady.chunks.length >= Math.max(before + 11, 20));
    assertContiguousAndOnTime(steady, 20);
  } finally {
    await steady.close();
    await server.stop();
  }
});
