import assert from "node:assert/strict";
import { Timeline } from "../../coordinator/timeline.ts";
import type { StampedChunk } from "../../coordinator/timeline.ts";

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
    for (let pushed = 0; pushed < totalFrames; pushed += 48_000) await timeline.push(block);
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
  for (let i = 0; i < 600; i++) await timeline.push(new Int16Array(9_600));
  assert.ok(maxLeadUs <= 5_000_000, `lead ${maxLeadUs} µs`);
  assert.ok(maxLeadUs > 4_900_000, `lead ${maxLeadUs} µs: should fill the 5 s`);
});

Deno.test("a source that falls behind starts a new segment 250 ms ahead", async () => {
  const { clock, sleep } = fakeTime();
  const chunks: StampedChunk[] = [];
  const timeline = new Timeline({ clock, sleep, emit: (c) => chunks.push(c) });
  await timeline.push(new Int16Array(2_880 * 2 * 3));
  clock.us += 10_000_000; // the source stalled for 10 s
  await timeline.push(new Int16Array(2_880 * 2));
  assert.deepEqual(chunks.map((c) => c.segment), [1, 1, 1, 2]);
  assert.equal(chunks[3].playAtUs, clock.us + 250_000);
});

Deno.test("PCM passes through the timeline unchanged, split at chunk borders", async () => {
  const { clock, sleep } = fakeTime();
  const chunks: StampedChunk[] = [];
  const timeline = new Timeline({ clock, sleep, chunkFrames: 4, emit: (c) => chunks.push(c) });
  const input = Int16Array.from({ length: 30 }, (_, i) => i - 15);
  await timeline.push(input.subarray(0, 7));
  await timeline.push(input.subarray(7));
  const out = chunks.flatMap((c) => [...new Int16Array(c.pcm.buffer)]);
  assert.deepEqual(out, [...input.subarray(0, 24)]);
});

Deno.test("the timeline tells the play time of a block's first sample, mid-chunk too", async () => {
  const { clock, sleep } = fakeTime();
  const chunks: StampedChunk[] = [];
  const timeline = new Timeline({ clock, sleep, emit: (c) => chunks.push(c) });
  const told: number[] = [];
  timeline.onNextSample((us) => told.push(us));
  await timeline.push(new Int16Array(1_000 * 2)); // less than a chunk: nothing emitted yet
  assert.equal(told.length, 0);
  timeline.onNextSample((us) => told.push(us));
  await timeline.push(new Int16Array(5_000 * 2));
  const anchor = chunks[0].playAtUs;
  assert.deepEqual(told, [anchor, anchor + Math.round((1_000 * 1e6) / 48_000)]);
});

Deno.test("flush emits the last partial chunk padded with silence and says when it is heard", async () => {
  const { clock, sleep } = fakeTime();
  const chunks: StampedChunk[] = [];
  const timeline = new Timeline({ clock, sleep, emit: (c) => chunks.push(c) });
  await timeline.push(new Int16Array(4_000 * 2).fill(7));
  const endUs = await timeline.flush();
  assert.equal(chunks.length, 2);
  const last = new Int16Array(chunks[1].pcm.buffer);
  assert.equal(last[(4_000 - 2_880) * 2 - 1], 7);
  assert.equal(last[(4_000 - 2_880) * 2], 0, "padded with silence");
  assert.equal(endUs, chunks[0].playAtUs + Math.round((2 * 2_880 * 1e6) / 48_000));
});
