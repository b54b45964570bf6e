import assert from "node:assert/strict";
import type { Source } from "../../coordinator/sources/source.ts";
import { s16Block } from "../../protocol/pcm.ts";
import { testPlayback } from "../support/playback.ts";
import { until } from "../support/until.ts";

Deno.test("playback retries a failing source with growing delays, then plays", async () => {
  const attempts: number[] = [];
  const source: Source = {
    label: "flaky",
    live: true,
    async *decode() {
      attempts.push(performance.now());
      if (attempts.length <= 3) throw new Error("connection refused");
      yield s16Block(new Int16Array(2_880 * 2));
    },
  };
  let chunks = 0;
  const playback = testPlayback(source, { onChunk: () => chunks++, retryDelaysMs: [20, 40, 80] });
  await playback.setWanted(true);
  await until("a chunk, after three failed attempts", () => chunks > 0, {
    seen: () => `${attempts.length} attempts, no chunk`,
  });
  await playback.setWanted(false);
  const gaps = attempts.slice(1, 4).map((t, i) => t - attempts[i]);
  assert.ok(gaps[0] >= 19 && gaps[1] >= 39 && gaps[2] >= 79, `delays ${gaps}`);
  assert.ok(gaps[1] > gaps[0] && gaps[2] > gaps[1]);
});

Deno.test("playback stops decoding when nobody listens, and tells the workers", async () => {
  let open = 0;
  let stopped = 0;
  const source: Source = {
    label: "endless",
    live: false,
    async *decode(signal) {
      open++;
      try {
        while (!signal.aborted) yield s16Block(new Int16Array(2_880 * 2));
      } finally {
        open--;
      }
    },
  };
  const playback = testPlayback(source, { onStopped: () => stopped++ });
  await playback.setWanted(true);
  await until("the decoder open", () => open > 0, { seen: () => `${open} decoders open` });
  assert.equal(open, 1);
  await playback.setWanted(false);
  assert.equal(open, 0, "the decoder was closed");
  assert.equal(stopped, 1);
  assert.equal(playback.active, false);
});

Deno.test("a source that played a while and then failed retries after the first delay again", async () => {
  const attempts: number[] = [];
  const source: Source = {
    label: "radio",
    live: true,
    async *decode() {
      attempts.push(performance.now());
      if (attempts.length <= 2) throw new Error("connection refused"); // two quick failures
      yield s16Block(new Int16Array(2_880 * 2));
      await new Promise((r) => setTimeout(r, 60)); // then it plays "a while"
      throw new Error("connection reset");
    },
  };
  const playback = testPlayback(source, { retryDelaysMs: [20, 200, 400], healthyAfterMs: 50 });
  await playback.setWanted(true);
  await until("four attempts", () => attempts.length >= 4, {
    everyMs: 5,
    seen: () => `${attempts.length} attempts`,
  });
  await playback.setWanted(false);
  const afterHealthy = attempts[3] - attempts[2];
  assert.ok(afterHealthy < 60 + 200, `back to the first delay, not the third: ${afterHealthy} ms`);
});
