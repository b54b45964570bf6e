/**
 * Fuzz: over 10,000 random and mutated protocol messages (wrong types, huge numbers, deep
 * nesting, random bytes, truncated and odd frames) from hundreds of connections. The server
 * never crashes, holds no more than its one real listener afterwards, its memory stays
 * bounded, and that listener, playing beside it all, gets every chunk on time.
 */
import assert from "node:assert/strict";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";
import { untilValue } from "../support/until.ts";
import { frame, OP_BINARY, OP_TEXT, WsClient } from "../support/ws_client.ts";
import { assertContiguousAndOnTime } from "./steady_listener.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const MESSAGES = 10_500;
const PER_CONNECTION = 24;
const CONCURRENT = 20;
const encoder = new TextEncoder();

/** A small seeded PRNG (mulberry32), so a failure can be replayed from its seed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  return { next, int, pick };
}
type Random = ReturnType<typeof random>;

const TYPES = [
  "client/hello",
  "client/time",
  "client/state",
  "client/command",
  "stream/request-format",
  "client/goodbye",
  "server/hello",
  "",
  "client/hello/../x",
];

function oddValue(r: Random, depth = 0): unknown {
  switch (r.int(depth > 2 ? 8 : 11)) {
    case 0:
      return r.pick([1e308, -1e308, 2 ** 53 + 1, -0, 0.1, -1, 65_536, 4_294_967_296]);
    case 1:
      return r.pick(["", "€".repeat(r.int(200)), "\u0000", "\ud800", "x".repeat(r.int(5_000))]);
    case 2:
      return null;
    case 3:
      return r.next() < 0.5;
    case 4:
      return r.int(1_000_000);
    case 5:
      return "pcm";
    case 6:
      return r.pick(["player@v1", "controller@v1", "metadata@v1", "artwork@v1"]);
    case 7:
      return r.pick(["volume", "mute", "play", "next"]);
    case 8:
      return Array.from({ length: r.int(5) }, () => oddValue(r, depth + 1));
    default: {
      const keys = [
        "codec",
        "sample_rate",
        "channels",
        "bit_depth",
        "client_id",
        "version",
        "supported_roles",
        "player@v1_support",
        "supported_formats",
        "buffer_capacity",
        "client_transmitted",
        "player",
        "controller",
        "command",
        "volume",
        "mute",
        "state",
        "reason",
        "__proto__",
        "constructor",
      ];
      const out: Record<string, unknown> = {};
      for (let i = r.int(6); i > 0; i--) out[r.pick(keys)] = oddValue(r, depth + 1);
      return out;
    }
  }
}

const VALID = [
  { type: "client/time", payload: { client_transmitted: 123_456 } },
  {
    type: "client/state",
    payload: { player: { state: "synchronized", volume: 50, muted: false } },
  },
  { type: "client/command", payload: { controller: { command: "volume", volume: 30 } } },
  { type: "stream/request-format", payload: { player: { codec: "pcm", sample_rate: 44_100 } } },
];

/** One hostile frame, as bytes on the wire. */
function hostileFrame(r: Random): Uint8Array {
  switch (r.int(8)) {
    case 0: // a message of a known or odd type with a random payload
      return frame(
        OP_TEXT,
        encoder.encode(JSON.stringify({ type: r.pick(TYPES), payload: oddValue(r) })),
      );
    case 1: { // a valid message, mutated character by character
      const text = [...JSON.stringify(r.pick(VALID))];
      for (let i = r.int(4) + 1; i > 0; i--) {
        text[r.int(text.length)] = r.pick(["{", "}", '"', ",", ":", "9", "e", "-", "\\", "[", " "]);
      }
      return frame(OP_TEXT, encoder.encode(text.join("")));
    }
    case 2: { // a valid message, truncated
      const text = JSON.stringify(r.pick(VALID));
      return frame(OP_TEXT, encoder.encode(text.slice(0, r.int(text.length))));
    }
    case 3: { // deep nesting, inside the size limit
      const depth = 1 + r.int(20_000);
      return frame(OP_TEXT, encoder.encode("[".repeat(depth) + "]".repeat(depth)));
    }
    case 4: // random bytes as a text frame (often not UTF-8)
      return frame(OP_TEXT, crypto.getRandomValues(new Uint8Array(1 + r.int(300))));
    case 5: // a binary frame
      return frame(OP_BINARY, crypto.getRandomValues(new Uint8Array(r.int(100))));
    case 6: // the right shape with huge or wrong numbers
      return frame(
        OP_TEXT,
        encoder.encode(JSON.stringify({
          type: "client/time",
          payload: { client_transmitted: r.pick([1e308, -1, "1", null, [], 2 ** 64]) },
        })),
      );
    default: { // a frame header that promises more than follows, or a reserved opcode
      const bytes = frame(r.pick([OP_TEXT, 3, 7, 11, 15]), encoder.encode("{}"));
      return r.next() < 0.5 ? bytes.subarray(0, 1 + r.int(bytes.length - 1)) : bytes;
    }
  }
}

const HELLO = JSON.stringify({
  type: "client/hello",
  payload: {
    client_id: "fuzz",
    name: "fuzz",
    version: 1,
    supported_roles: ["player@v1", "controller@v1", "metadata@v1"],
    "player@v1_support": {
      supported_formats: [format("pcm")],
      buffer_capacity: 1_000_000,
      supported_commands: ["volume", "mute"],
    },
  },
});

Deno.test(
  "fuzz: 10,000+ hostile messages never crash the server or disturb a listener",
  opts,
  async () => {
    const seed = Number(Deno.env.get("FUZZ_SEED") ?? Date.now() % 1_000_000);
    console.log(`fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);
    const r = random(seed);
    const server = await startServer();
    const steady = await RawClient.connect(server.url, { formats: [format("pcm")] });
    const url = `ws://127.0.0.1:${server.port}/sendspin`;
    try {
      await steady.waitFor("audio", () => steady.chunks.length > 0);
      const rssBefore = Deno.memoryUsage().rss;
      let sent = 0;
      let connections = 0;
      const oneConnection = async () => {
        const client = await WsClient.connect(url, {
          onText: () => {},
          onBinary: () => {},
          onClose: () => {},
        });
        connections++;
        if (r.next() < 0.8) client.sendText(HELLO); // most get past the handshake first
        for (let i = 0; i < PER_CONNECTION; i++) {
          client.sendRaw(hostileFrame(r));
          sent++;
          if (i % 6 === 5) await new Promise((resolve) => setTimeout(resolve, 1));
        }
        await new Promise((resolve) => setTimeout(resolve, 20)); // part of the client's abuse
        client.close();
      };
      while (sent < MESSAGES) {
        await Promise.all(Array.from({ length: CONCURRENT }, oneConnection));
      }
      console.log(`${sent} hostile messages over ${connections} connections`);

      const status = async () => await (await fetch(new URL("/api/status", server.url))).json();
      const counts = await untilValue(
        "the hostile clients gone",
        status,
        (counts) => counts.total_clients === 1,
        { ms: 10_000, everyMs: 100 },
      );
      assert.equal(counts.total_clients, 1, "only the steady listener is left");
      // Frames that are not even WebSocket (bad UTF-8, reserved opcodes) end their connection
      // below the protocol; the rest are refused and counted.
      console.log(`${counts.rejected_messages} messages refused by the protocol layer`);
      assert.ok(counts.rejected_messages > 100, `refusals counted: ${counts.rejected_messages}`);
      const grownMiB = (Deno.memoryUsage().rss - rssBefore) / 2 ** 20;
      assert.ok(grownMiB < 150, `memory stays bounded (grew ${grownMiB.toFixed(0)} MiB)`);
      const before = steady.chunks.length;
      await steady.waitFor("more audio", () => steady.chunks.length > before + 5);
      assertContiguousAndOnTime(steady, 50);
    } finally {
      await steady.close();
      await server.stop();
    }
  },
);
