import assert from "node:assert/strict";
import { Timeline } from "../../coordinator/timeline.ts";
import type { StampedChunk } from "../../coordinator/timeline.ts";
import { s16Block } from "../../protocol/pcm.ts";

/** A clock that only moves when the timeline sleeps: hours pass in milliseconds. */
function fakeTime(startUs = 1_000_000) {
  const clock = { us: startUs, nowUs: () => clock.us };
  const sleep = (ms: number) => {
    clock.us += ms * 1000;
    return Promise.resolve();
  };
  return { clock, sleep };
}

for (const chunkFrames of [2_880, 4_096, 1_001, 441]) {
  Deno.test(`timestamps stay exact over 3 simulated hours with ${chunkFrames}-frame chunks`, async () => {
    const { clock, sleep } = fakeTime();
    const chunks: StampedChunk[] = [];
    const timeline = new Timeline({ clock, sleep, chunkFrames, emit: (c) => chunks.push(c) });
    const totalFrames = 3 * 3600 * 48_000;
    const block = new Int16Array(48_000 * 2); // one second per push: not a multiple of the chunk
    for (let pushed = 0; pushed < totalFrames; pushed += 48_000) {
      await timeline.push(s16Block(block));
    }
    const anchor = chunks[0].playAtUs;
    assert.equal(anchor, 1_000_000 + 250_000, "first chunk 250 ms ahead");
    for (let i = 0; i < chunks.length; i++) {
      assert.equal(chunks[i].segment, chunks[0].segment);
      const exact = anchor + Math.round((i * chunkFrames * 1_000_000) / 48_000);
      if (chunks[i].playAtUs !== exact) {
        assert.fail(`chunk ${i}: ${chunks[i].playAtUs} != ${exact}`);
      }
    }
    const last = chunks.length - 1;
    assert.equal(chunks.length, Math.floor(totalFrames / chunkFrames));
    assert.equal(chunks[last].playAtUs - anchor, Math.round(last * chunkFrames * 1e6 / 48_000));
  });
}

Deno.test("the timeline never runs more than 5 s ahead of real time", async () => {
  const { clock, sleep } = fakeTime();
  let maxLeadUs = 0;
  const timeline = new Timeline({
    clock,
    sleep,
    emit: (c) => maxLeadUs = Math.max(maxLeadUs, c.playAtUs - clock.nowUs()),
  });
  for (let i = 0; i < 600; i++) await timeline.push(s16Block(new Int16Array(9_600)));
  assert.ok(maxLeadUs <= 5_000_000, `lead ${maxLeadUs} µs`);
  assert.ok(maxLeadUs > 4_900_000, `lead ${maxLeadUs} µs: should fill the 5 s`);
});

Deno.test("a source that falls behind starts a new segment 250 ms ahead", async () => {
  const { clock, sleep } = fakeTime();
  const chunks: StampedChunk[] = [];
  const timeline = new Timeline({ clock, sleep, emit: (c) => chunks.push(c) });
  await timeline.push(s16Block(new Int16Array(2_880 * 2 * 3)));
  clock.us += 10_000_000; // the source stalled for 10 s
  await timeline.push(s16Block(new Int16Array(2_880 * 2)));
  assert.deepEqual(chunks.map((c) => c.segment), [1, 1, 1, 2]);
  assert.equal(chunks[3].playAtUs, clock.us + 250_000);
});

Deno.test("PCM passes through the timeline unchanged, split at chunk borders", async () => {
  const { clock, sleep } = fakeTime();
  const chunks: StampedChunk[] = [];
  const timeline = new Timeline({ clock, sleep, chunkFrames: 4, emit: (c) => chunks.push(c) });
  const input = Int16Array.from({ length: 30 }, (_, i) => i - 15);
  await timeline.push(s16Block(input.subarray(0, 7)));
  await timeline.push(s16Block(input.subarray(7)));
  const out = chunks.flatMap((c) => [...new Int16Array(c.pcm.buffer)]);
  assert.deepEqual(out, [...input.subarray(0, 24)]);
});

Deno.test("the timeline tells the play time of a block's first sample, mid-chunk too", async () => {
  const { clock, sleep } = fakeTime();
  const chunks: StampedChunk[] = [];
  const timeline = new Timeline({ clock, sleep, emit: (c) => chunks.push(c) });
  const told: number[] = [];
  timeline.onNextSample((us) => told.push(us));
  await timeline.push(block48(new Int16Array(1_000 * 2))); // less than a chunk: nothing emitted yet
  assert.equal(told.length, 0);
  timeline.onNextSample((us) => told.push(us));
  await timeline.push(block48(new Int16Array(5_000 * 2)));
  const anchor = chunks[0].playAtUs;
  assert.deepEqual(told, [anchor, anchor + Math.round((1_000 * 1e6) / 48_000)]);
});

Deno.test("flush emits the last partial chunk padded with silence and says when it is heard", async () => {
  const { clock, sleep } = fakeTime();
  const chunks: StampedChunk[] = [];
  const timeline = new Timeline({ clock, sleep, emit: (c) => chunks.push(c) });
  await timeline.push(block48(new Int16Array(4_000 * 2).fill(7)));
  const endUs = await timeline.flush();
  assert.equal(chunks.length, 2);
  const last = new Int16Array(chunks[1].pcm.slice().buffer);
  assert.equal(last[(4_000 - 2_880) * 2 - 1], 7);
  assert.equal(last[(4_000 - 2_880) * 2], 0, "padded with silence");
  assert.equal(endUs, chunks[0].playAtUs + Math.round((2 * 2_880 * 1e6) / 48_000));
});

Deno.test("44.1 kHz timestamps stay exact over 3 simulated hours", async () => {
  const { clock, sleep } = fakeTime();
  const format = { sampleRate: 44_100, bitDepth: 24, channels: 2 } as const;
  const chunks: StampedChunk[] = [];
  const timeline = new Timeline({ clock, sleep, emit: (c) => chunks.push(c) });
  const block = { format, pcm: new Uint8Array(44_100 * 6) }; // one second of 24-bit stereo
  for (let second = 0; second < 3 * 3600; second++) await timeline.push(block);
  assert.equal(chunks[0].pcm.byteLength, 2_646 * 6, "60 ms at 44.1 kHz");
  let frames = 0;
  for (const chunk of chunks) {
    const exact = chunks[0].playAtUs + Math.round((frames * 1_000_000) / 44_100);
    if (chunk.playAtUs !== exact) {
      assert.fail(`after ${frames} frames: ${chunk.playAtUs} != ${exact}`);
    }
    assert.deepEqual(chunk.format, format);
    frames += chunk.pcm.byteLength / 6;
  }
  assert.equal(frames, Math.floor((3 * 3600 * 44_100) / 2_646) * 2_646);
});

Deno.test("a new format starts exactly where the previous format's samples end", async () => {
  const { clock, sleep } = fakeTime();
  const chunks: StampedChunk[] = [];
  const timeline = new Timeline({ clock, sleep, emit: (c) => chunks.push(c) });
  const first = { sampleRate: 48_000, bitDepth: 16, channels: 2 } as const;
  const second = { sampleRate: 44_100, bitDepth: 24, channels: 1 } as const;
  // 1.01 s at 48 kHz (not a whole number of chunks), then 8 kHz-ish odd lengths at 44.1 kHz.
  const a = Uint8Array.from({ length: 48_480 * 4 }, (_, i) => i % 251);
  const b = Uint8Array.from({ length: 44_101 * 3 }, (_, i) => i % 241);
  await timeline.push({ format: first, pcm: a });
  await timeline.push({ format: second, pcm: b });
  await timeline.push({ format: second, pcm: b });
  const firstChunks = chunks.filter((c) => c.format.sampleRate === 48_000);
  const secondChunks = chunks.filter((c) => c.format.sampleRate === 44_100);
  assert.deepEqual(chunks, [...firstChunks, ...secondChunks], "the formats do not interleave");
  assert.ok(chunks.every((c) => c.segment === chunks[0].segment), "one segment: no re-anchoring");
  // Every sample of the first format goes out, the last chunk shorter.
  const sent = concatAll(firstChunks.map((c) => c.pcm));
  assert.deepEqual(sent, a);
  assert.equal(firstChunks.at(-1)!.pcm.byteLength, (48_480 % 2_880) * 4);
  const anchor = chunks[0].playAtUs;
  const changeUs = anchor + Math.round((48_480 * 1_000_000) / 48_000);
  assert.equal(secondChunks[0].playAtUs, changeUs, "stamped at the first format's end");
  let frames = 0;
  for (const chunk of secondChunks) {
    assert.equal(chunk.playAtUs, changeUs + Math.round((frames * 1_000_000) / 44_100));
    frames += chunk.pcm.byteLength / 3;
  }
  assert.deepEqual(
    concatAll(secondChunks.map((c) => c.pcm)),
    concatAll([b, b]).subarray(0, frames * 3),
  );
});

function concatAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) out.set(part, offset), offset += part.byteLength;
  return out;
}

const F48 = { sampleRate: 48_000, bitDepth: 16, channels: 2 } as const;
const block48 = (samples: Int16Array) => ({ format: F48, pcm: new Uint8Array(samples.buffer) });
