/**
 * The server side of RFC 6455 on real sockets, against a client that sends exactly the bytes
 * each case needs: fragments are joined, protocol violations close with the right code, an
 * oversized message is refused from its header alone, pings are answered, closes echoed.
 */
import assert from "node:assert/strict";
import { listen } from "../../../worker/edge/http_front.ts";
import { CLOSE_GRACE_MS, WebSocketConnection } from "../../../worker/edge/websocket.ts";
import { until } from "../../support/until.ts";
import { frame, OP_BINARY, OP_TEXT } from "../../support/ws_client.ts";

const LIMIT = 1024;
const encode = (text: string) => new TextEncoder().encode(text);

interface Seen {
  texts: string[];
  events: string[];
  connections: WebSocketConnection[];
}

/** A front whose WebSocket handlers record what they get and close as the session does. */
async function withServer(test: (port: number, seen: Seen) => Promise<void>) {
  const seen: Seen = { texts: [], events: [], connections: [] };
  const front = await listen({
    hostname: "127.0.0.1",
    port: 0,
    reusePort: false,
    handler: () => new Response("no"),
    websocketPath: "/ws",
    onWebSocket: (socket, already) => {
      const connection = new WebSocketConnection(socket, LIMIT);
      seen.connections.push(connection);
      connection.start({
        onText: (text) => {
          seen.texts.push(text);
          connection.send(`echo ${text.length}`);
        },
        onBinary: () => {
          seen.events.push("binary");
          connection.close(1003, "no binary");
        },
        onTooBig: () => {
          seen.events.push("too big");
          connection.close(1009, "too big");
        },
        onClosed: () => seen.events.push("closed"),
      }, already);
    },
    onError: () => {},
  });
  try {
    await test(front.port, seen);
  } finally {
    await front.close();
  }
}

interface ServerFrame {
  opcode: number;
  payload: Uint8Array;
}

/** Upgrades, sends `bytes`, and collects the server's frames until it closes the socket. */
async function session(port: number, ...sends: Uint8Array[]): Promise<ServerFrame[]> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encode(
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  ));
  for (const bytes of sends) await conn.write(bytes);
  let received = new Uint8Array(0);
  const buffer = new Uint8Array(65_536);
  const timeout = setTimeout(() => conn.close(), 5_000);
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      const next = new Uint8Array(received.length + n);
      next.set(received);
      next.set(buffer.subarray(0, n), received.length);
      received = next;
    }
  } catch { /* closed by the timeout */ }
  clearTimeout(timeout);
  try {
    conn.close();
  } catch { /* already */ }
  let at = new TextDecoder().decode(received).indexOf("\r\n\r\n") + 4;
  const frames: ServerFrame[] = [];
  while (at + 2 <= received.length) {
    const opcode = received[at] & 0x0f;
    let length = received[at + 1] & 0x7f;
    let header = 2;
    if (length === 126) [length, header] = [(received[at + 2] << 8) | received[at + 3], 4];
    frames.push({ opcode, payload: received.slice(at + header, at + header + length) });
    at += header + length;
  }
  return frames;
}

const closeCode = (frames: ServerFrame[]) => {
  const close = frames.find((f) => f.opcode === 8);
  return close ? (close.payload[0] << 8) | close.payload[1] : undefined;
};
const clientClose = (code: number) => frame(8, new Uint8Array([code >> 8, code & 0xff]));

/** A masked frame with any first byte (FIN, RSV bits and opcode) and a declared length. */
function rawFrame(first: number, payload: Uint8Array, declared = payload.length): Uint8Array {
  const masked = frame(OP_TEXT, payload);
  if (declared === payload.length) {
    masked[0] = first;
    return masked;
  }
  const header = new Uint8Array(14);
  header[0] = first;
  header[1] = 0x80 | 127;
  new DataView(header.buffer).setBigUint64(2, BigInt(declared));
  return header;
}

Deno.test("a text message sent in three fragments arrives whole, and is answered", () =>
  withServer(async (port, seen) => {
    const frames = await session(
      port,
      rawFrame(OP_TEXT, encode("hel")), // FIN off
      frame(9, encode("are you there")), // a ping between fragments is allowed
      rawFrame(0x00, encode("lo ")),
      rawFrame(0x80, encode("wörld")),
      clientClose(1000),
    );
    assert.deepEqual(seen.texts, ["hello wörld"]);
    const pong = frames.find((f) => f.opcode === 10);
    assert.equal(new TextDecoder().decode(pong?.payload), "are you there");
    assert.equal(new TextDecoder().decode(frames.find((f) => f.opcode === 1)?.payload), "echo 11");
    assert.equal(closeCode(frames), 1000, "the client's close is echoed");
    await until("the close event", () => seen.events.length > 0, {
      ms: 5_000,
      seen: () => `events ${JSON.stringify(seen.events)}`,
    });
    assert.deepEqual(seen.events, ["closed"]);
  }));

Deno.test("a message over the limit is refused from its header, before its payload", () =>
  withServer(async (port, seen) => {
    // 60 MiB announced; not one byte of it is sent, so the close proves nothing was awaited.
    const frames = await session(port, rawFrame(0x80 | OP_TEXT, new Uint8Array(0), 60 << 20));
    assert.equal(closeCode(frames), 1009);
    await until("the close event", () => seen.events.length > 1, {
      ms: 5_000,
      seen: () => `events ${JSON.stringify(seen.events)}`,
    });
    assert.deepEqual(seen.events, ["too big", "closed"]);
    // Fragments count together.
    const seen2 = await session(
      port,
      rawFrame(OP_TEXT, new Uint8Array(LIMIT - 10)),
      rawFrame(0x80, new Uint8Array(11)),
    );
    assert.equal(closeCode(seen2), 1009);
    // So do fragments that carry nothing: an endless run of them is refused, not stored.
    const empties = Array.from(
      { length: 200 },
      (_, i) => rawFrame(i === 0 ? OP_TEXT : 0x00, new Uint8Array(0)),
    );
    assert.equal(
      closeCode(await session(port, new Uint8Array(empties.flatMap((f) => [...f])))),
      1009,
    );
    // Exactly the limit is fine.
    const fits = await session(port, frame(OP_TEXT, new Uint8Array(LIMIT)), clientClose(1000));
    assert.equal(closeCode(fits), 1000);
    assert.equal(seen.texts.at(-1)?.length, LIMIT);
  }));

Deno.test("protocol violations close with 1002, bad UTF-8 with 1007, binary goes to its handler", () =>
  withServer(async (port, seen) => {
    const unmasked = new Uint8Array([0x81, 0x02, 0x68, 0x69]);
    const cases: [string, Uint8Array, number][] = [
      ["unmasked", unmasked, 1002],
      ["reserved bit", rawFrame(0xc1, encode("hi")), 1002],
      ["reserved data opcode", rawFrame(0x83, encode("hi")), 1002],
      ["reserved control opcode", rawFrame(0x8b, encode("hi")), 1002],
      ["continuation first", rawFrame(0x80, encode("hi")), 1002],
      ["fragmented ping", rawFrame(0x09, encode("hi")), 1002],
      ["long ping", frame(9, new Uint8Array(126)), 1002],
      ["one-byte close", frame(8, new Uint8Array(1)), 1002],
      ["invalid close code", clientClose(1005), 1002],
      ["invalid UTF-8", frame(OP_TEXT, new Uint8Array([0xc3, 0x28])), 1007],
      ["binary", frame(OP_BINARY, encode("data")), 1003],
    ];
    for (const [name, bytes, code] of cases) {
      assert.equal(closeCode(await session(port, bytes)), code, name);
    }
    assert.deepEqual(seen.texts, []);
    assert.equal(seen.events.filter((e) => e === "binary").length, 1);
    await until(
      "every close event",
      () => seen.events.filter((e) => e === "closed").length === cases.length,
      { ms: 5_000, seen: () => `events ${JSON.stringify(seen.events)}` },
    );
  }));

Deno.test("a client that never answers our close is cut after the grace", () =>
  withServer(async (port, seen) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(encode(
      "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ));
    await until("the upgrade", () => seen.connections.length > 0, {
      ms: 5_000,
      seen: () => `${seen.connections.length} connections; events ${JSON.stringify(seen.events)}`,
    });
    const started = performance.now();
    seen.connections[0].close(1001, "bye"); // this client reads nothing and answers nothing
    await until("the cut", () => seen.events.includes("closed"), {
      ms: 5_000,
      seen: () => `events ${JSON.stringify(seen.events)}`,
    });
    const ms = performance.now() - started;
    assert.ok(ms >= CLOSE_GRACE_MS - 100 && ms < CLOSE_GRACE_MS + 2_000, `cut after ${ms} ms`);
    conn.close();
  }));
