import assert from "node:assert/strict";
import { Playback } from "../../coordinator/playback.ts";
import type { Source } from "../../coordinator/sources/source.ts";
import { Timeline } from "../../coordinator/timeline.ts";
import { Logger } from "../../protocol/log.ts";
import { systemClock } from "../../protocol/clock.ts";

const quiet = new Logger("CRITICAL");

Deno.test("playback retries a failing source with growing delays, then plays", async () => {
  const attempts: number[] = [];
  const source: Source = {
    label: "flaky",
    live: true,
    async *decode() {
      attempts.push(performance.now());
      if (attempts.length <= 3) throw new Error("connection refused");
      yield new Int16Array(2_880 * 2);
    },
  };
  let chunks = 0;
  const timeline = new Timeline({ clock: systemClock, emit: () => chunks++ });
  const playback = new Playback({
    source,
    timeline,
    log: quiet,
    onStopped: () => {},
    retryDelaysMs: [20, 40, 80],
  });
  await playback.setWanted(true);
  while (chunks === 0) await new Promise((r) => setTimeout(r, 10));
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
        while (!signal.aborted) yield new Int16Array(2_880 * 2);
      } finally {
        open--;
      }
    },
  };
  const timeline = new Timeline({ clock: systemClock, emit: () => {} });
  const playback = new Playback({ source, timeline, log: quiet, onStopped: () => stopped++ });
  await playback.setWanted(true);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(open, 1);
  await playback.setWanted(false);
  assert.equal(open, 0, "the decoder was closed");
  assert.equal(stopped, 1);
  assert.equal(playback.active, false);
});
