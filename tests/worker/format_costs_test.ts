/**
 * What a client can make a worker spend on formats: Opus bit depths are one format, uncommon
 * formats and encoder starts are capped, and a new encoder's backlog is encoded in slices
 * (the urgent part at once) without reordering anything.
 */
import assert from "node:assert/strict";
import { Group } from "../../worker/group.ts";
import { Logger } from "../../protocol/log.ts";
import type { AudioFormat } from "../../protocol/messages.ts";
import { CHUNK_BYTES, DEMO_FORMAT } from "../../protocol/pcm.ts";
import { OutputStream } from "../../worker/output_stream.ts";
import { createEncoder, formatKey, normalizeFormat } from "../../worker/encoders/negotiate.ts";
import { legacySession, playerHello } from "../support/legacy_session.ts";
import { until } from "../support/until.ts";

const f = (codec: AudioFormat["codec"], sample_rate = 48_000, channels = 2, bit_depth = 16) => ({
  codec,
  sample_rate,
  channels,
  bit_depth,
});

/** Timeline chunk `i` of a backlog: 60 ms each from 100 ms on, silence. */
const chunk = (i: number) => ({
  segment: 1,
  playAtUs: 100_000 + i * 60_000,
  endUs: 160_000 + i * 60_000,
  format: DEMO_FORMAT,
  pcm: new Uint8Array(CHUNK_BYTES),
});

function group() {
  const clock = { us: 1_000_000, nowUs: () => clock.us };
  return {
    clock,
    group: new Group({ serverId: "s", name: "P", clock, log: new Logger("CRITICAL") }),
  };
}

Deno.test("every Opus request is one format, whatever bit depth it names", () => {
  assert.equal(formatKey(normalizeFormat(f("opus", 48_000, 2, 24))), formatKey(f("opus")));
  const { group: g } = group();
  const a = g.pickFormat([f("opus", 48_000, 2, 16)]);
  const b = g.pickFormat([f("opus", 48_000, 2, 17)]);
  assert.deepEqual(a, b);
  assert.equal(g.outputs.size, 1, "one encoder");
  assert.equal(a!.bit_depth, 16);
  for (const output of g.outputs.values()) output.stream.close();
});

Deno.test("encoder starts are rate-limited; common formats keep their room", () => {
  const { group: g, clock } = group();
  const uncommon = [8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 88_200, 96_000, 176_400]
    .map((rate) => f("pcm", rate, 1, 24));
  const started = uncommon.map((format) => g.pickFormat([format])).filter(Boolean);
  assert.equal(started.length, 6, "a burst of six, then no more for now");
  clock.us += 60_000_000; // a minute later the bucket has refilled
  assert.ok(g.pickFormat([uncommon[6]]), "the seventh");
  assert.ok(g.pickFormat([uncommon[7]]), "the eighth uncommon format");
  assert.equal(g.pickFormat([uncommon[8]]), undefined, "a ninth uncommon one is refused");
  assert.ok(g.pickFormat([f("pcm")]), "PCM 48k/16/2 always has room");
  for (const output of g.outputs.values()) output.stream.close();
});

Deno.test("a new encoder's backlog: the urgent part at once, the rest in slices, in order", async () => {
  const clock = { us: 0, nowUs: () => clock.us };
  const got: number[] = [];
  const stream = new OutputStream(f("pcm"), {
    makeEncoder: (format) => createEncoder(format),
    clock,
    onFramed: (c) => got.push(c.playAtUs),
    onError: (error) => assert.fail(String(error)),
  });
  stream.catchUp(Array.from({ length: 80 }, (_, i) => chunk(i)));
  assert.equal(got.length, 4, "what plays within 300 ms is sent at once");
  stream.feed(chunk(80)); // a new chunk arrives while the backlog is being encoded
  await until("the backlog and the new chunk: 81 chunks", () => got.length >= 81, {
    ms: 2_000,
    everyMs: 1,
    seen: () => `${got.length} chunks`,
  });
  assert.deepEqual(got, Array.from({ length: 81 }, (_, i) => 100_000 + i * 60_000));
  stream.close();
});

Deno.test("a starting Opus encoder: the backlog waits for libopus, then goes in slices", async () => {
  const clock = { us: 0, nowUs: () => clock.us };
  /** Which task published each chunk: all framed in one run of the event loop share a number. */
  const tasks: number[] = [];
  let task = 0;
  let inTask = false;
  const stream = new OutputStream(f("opus"), {
    makeEncoder: (format) => createEncoder(format),
    clock,
    onFramed: () => {
      if (!inTask) {
        inTask = true;
        task++;
        queueMicrotask(() => inTask = false);
      }
      tasks.push(task);
    },
    onError: (error) => assert.fail(String(error)),
  });
  stream.catchUp(Array.from({ length: 80 }, (_, i) => chunk(i)));
  await until("80 Opus packets", () => tasks.length >= 80, {
    ms: 10_000,
    seen: () => `${tasks.length} packets`,
  });
  const perTask = new Map<number, number>();
  for (const t of tasks) perTask.set(t, (perTask.get(t) ?? 0) + 1);
  // Before this, the whole backlog went into libopus while it loaded and came out in one task.
  const most = Math.max(...perTask.values());
  assert.ok(most <= 20, `${most} packets encoded in one task (of ${perTask.size} tasks)`);
  assert.equal(perTask.values().next().value, 4, "the urgent part first, on its own");
  stream.close();
});

Deno.test("a listener whose first format cannot start gets the next one it lists", () => {
  const { group: g, clock } = group();
  const uncommon = [8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 88_200, 96_000]
    .map((rate) => f("pcm", rate, 1, 24));
  for (const format of uncommon) {
    clock.us += 60_000_000;
    assert.ok(g.pickFormat([format]), `${format.sample_rate}`);
  }
  const { session, say, sent, closed } = legacySession(g);
  clock.us += 60_000_000;
  say(playerHello([f("pcm", 176_400, 1, 24), f("pcm")]));
  assert.equal(session.stream?.format.sample_rate, 48_000, `${sent.join("\n")} ${closed()}`);
  for (const output of g.outputs.values()) output.stream.close();
});
