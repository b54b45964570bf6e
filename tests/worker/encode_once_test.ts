import assert from "node:assert/strict";
import { Group, PACE_SLOTS } from "../../worker/group.ts";
import { Logger } from "../../protocol/log.ts";
import { legacySession, playerHello } from "../support/legacy_session.ts";
import { CHUNK_BYTES, DEMO_FORMAT } from "../../protocol/pcm.ts";
import type { AudioFormat } from "../../protocol/messages.ts";
import { until } from "../support/until.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

function party() {
  const clock = { us: 1_000_000, nowUs: () => clock.us };
  const group = new Group({ serverId: "s", name: "Party", clock, log: new Logger("CRITICAL") });
  const join = (format: AudioFormat) => {
    const client = legacySession(group);
    client.say(playerHello([format]));
    return { session: client.session, received: client.audio };
  };
  /** One pace cycle: every listener is sent what is queued for it. */
  const flushAll = () => {
    for (let i = 0; i < PACE_SLOTS; i++) group.flush();
  };
  let playAtUs = 1_250_000;
  const chunk = () => {
    const pcm = new Uint8Array(CHUNK_BYTES).map((_, i) => (i * 7) & 0xff);
    group.onChunk({ segment: 1, playAtUs, format: DEMO_FORMAT, pcm });
    playAtUs += 60_000;
    flushAll();
  };
  return { group, join, chunk, flushAll };
}

const FORMATS: AudioFormat[] = [
  { codec: "pcm", sample_rate: 44_100, channels: 2, bit_depth: 16 },
  { codec: "opus", sample_rate: 48_000, channels: 2, bit_depth: 16 },
  { codec: "flac", sample_rate: 48_000, channels: 2, bit_depth: 16 },
];

for (const format of FORMATS) {
  Deno.test(
    `50 ${format.codec} ${format.sample_rate} listeners cost one encode per chunk, same bytes to all`,
    opts,
    async () => {
      const { group, join, chunk, flushAll } = party();
      const listeners = Array.from({ length: 50 }, () => join(format));
      assert.equal(group.outputs.size, 1, "one encoder for one format");
      const { stream } = [...group.outputs.values()][0];
      if (format.codec === "opus") {
        // libopus instantiates asynchronously: the first chunk waits for it, then goes out
        // (with the next pace cycle, which the poll runs).
        chunk();
        await until("the first Opus chunk out, once libopus is ready", () => {
          flushAll();
          return listeners.every(({ received }) => received.length > 0);
        }, { seen: () => `chunks out per listener: ${listeners.map((l) => l.received.length)}` });
      }
      for (let i = 0; i < 20; i++) chunk();
      const chunksFed = format.codec === "opus" ? 21 : 20;
      assert.equal(stream.encodedChunks, chunksFed, "each chunk went through the encoder once");
      const first = listeners[0].received;
      assert.ok(first.length >= 18, `audio arrived (${first.length} chunks)`);
      for (const { received } of listeners) {
        assert.equal(received.length, first.length);
        received.forEach((bytes, i) => assert.equal(bytes, first[i], "the very same bytes object"));
      }
      for (const { session } of listeners) session.close(1000, "bye");
      assert.equal(group.outputs.size, 0, "the encoder goes with its last listener");
    },
  );
}

Deno.test("an encoder that fails closes its own listeners only; the others play on", opts, () => {
  const { group, join, chunk } = party();
  const healthy = join({ codec: "pcm", sample_rate: 48_000, channels: 2, bit_depth: 16 });
  const doomed = join({ codec: "pcm", sample_rate: 44_100, channels: 2, bit_depth: 16 });
  const broken = [...group.outputs.values()].map((o) => o.stream)
    .find((s) => s.format.sample_rate === 44_100)!;
  broken.feed = () => {
    throw new Error("out of memory in wasm");
  };
  chunk();
  chunk();
  assert.equal(healthy.received.length, 2, "the PCM listener got both chunks");
  assert.equal(group.outputs.size, 1, "the failed encoder is gone");
  assert.ok(!group.sessions.has(doomed.session), "its listener was closed");
  assert.ok(group.sessions.has(healthy.session));
});

Deno.test("a listener with audio ahead is topped up at its pace slot: one slot per tick", () => {
  const { group, join } = party();
  const format: AudioFormat = { codec: "pcm", sample_rate: 48_000, channels: 2, bit_depth: 16 };
  const listeners = Array.from({ length: 2 * PACE_SLOTS }, () => join(format));
  const chunk = (playAtUs: number) =>
    group.onChunk({ segment: 1, playAtUs, format: DEMO_FORMAT, pcm: new Uint8Array(CHUNK_BYTES) });
  chunk(3_000_000); // 2 s ahead: the first chunk of a stream goes to everyone at once
  assert.ok(listeners.every((l) => l.received.length === 1));
  chunk(3_060_000); // no one is hungry: it waits for each listener's slot
  assert.ok(listeners.every((l) => l.received.length === 1));
  const perTick: number[] = [];
  for (let tick = 0; tick < PACE_SLOTS; tick++) {
    const before = listeners.filter((l) => l.received.length === 2).length;
    group.flush();
    perTick.push(listeners.filter((l) => l.received.length === 2).length - before);
  }
  assert.deepEqual(perTick, Array(PACE_SLOTS).fill(2), "an even share per tick");
});

Deno.test("a hungry listener is topped up every chunk period, what came meanwhile in one write", () => {
  const { group } = party();
  const format: AudioFormat = { codec: "pcm", sample_rate: 48_000, channels: 2, bit_depth: 16 };
  const client = legacySession(group);
  client.say(playerHello([format]));
  // A fresh timeline: chunks come faster than real time, 250 ms ahead and more.
  const chunk = (i: number) =>
    group.onChunk({
      segment: 1,
      playAtUs: 1_250_000 + i * 60_000,
      format: DEMO_FORMAT,
      pcm: new Uint8Array(CHUNK_BYTES),
    });
  chunk(0);
  assert.equal(client.audio.length, 1, "the first chunk at once");
  for (let i = 1; i < 4; i++) chunk(i);
  assert.equal(client.audio.length, 1, "the next ones wait for the chunk period");
  // Within one chunk period (6 ticks of 10 ms), not a batch period.
  for (let tick = 0; tick < 6 && client.audio.length < 4; tick++) group.flush();
  assert.equal(client.audio.length, 4, "all four sent within a chunk period");
  assert.equal(client.audioWrites(), 2, "the three that came meanwhile in one write");
});

Deno.test("after stream/clear the next chunk goes at once, not at the listener's pace slot", () => {
  const { group } = party();
  const format: AudioFormat = { codec: "pcm", sample_rate: 48_000, channels: 2, bit_depth: 16 };
  const client = legacySession(group);
  client.say(playerHello([format]));
  const chunk = (playAtUs: number) =>
    group.onChunk({ segment: 1, playAtUs, format: DEMO_FORMAT, pcm: new Uint8Array(CHUNK_BYTES) });
  // 3 s ahead: not hungry, so a second chunk waits for the slot.
  for (let i = 0; i < 50; i++) chunk(1_250_000 + i * 60_000);
  for (let i = 0; i < PACE_SLOTS; i++) group.flush();
  const before = client.audio.length;
  assert.ok(before >= 20, "the listener holds over a second of audio");
  // A skip: the client clears its buffer; the new track starts 250 ms from now.
  group.onCleared();
  assert.equal(client.sent.filter((m) => JSON.parse(m).type === "stream/clear").length, 1);
  chunk(1_250_000);
  assert.equal(client.audio.length, before + 1, "the new track's first chunk, without a flush");
});
