import assert from "node:assert/strict";
import { estimateOffset, OriginClock } from "../../../coordinator/rooms/origin_clock.ts";
import { localNowUs } from "../../../protocol/clock.ts";
import { sampleFrom } from "../../../protocol/clock_sync.ts";

/** A deterministic pseudo-random stream (so a failure can be replayed). */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

Deno.test("the estimate: the fastest probes' trimmed mean, not the single fastest probe", () => {
  const next = random(7);
  const trueOffsetUs = 123_456;
  // Each way 1-3 ms (netem's 2 ms ± 1 ms), a tenth of the replies 20 ms late (a busy origin).
  const samples = Array.from({ length: 128 }, (_, i) => {
    const up = 1_000 + 2_000 * next();
    const down = 1_000 + 2_000 * next() + (i % 10 === 0 ? 20_000 : 0);
    const sent = i * 100_000;
    return sampleFrom(sent, sent + up + trueOffsetUs, sent + up + down);
  });
  const estimate = estimateOffset(samples);
  assert.ok(
    Math.abs(estimate.offsetUs - trueOffsetUs) < 150,
    `off by ${estimate.offsetUs - trueOffsetUs} µs`,
  );
  assert.ok(estimate.errorUs > 0 && estimate.errorUs < 300, `error ${estimate.errorUs}`);
  const fastest = [...samples].sort((a, b) => a.roundTripUs - b.roundTripUs)[0];
  assert.equal(estimate.roundTripUs, fastest.roundTripUs);
});

Deno.test("bursts against a remote clock find its offset; after the origin restarts, time goes on", async () => {
  const clock = new OriginClock();
  let originOffsetUs = 5_000_000;
  let run = "first";
  const next = random(11);
  const delay = () => new Promise((resolve) => setTimeout(resolve, next() * 2));
  const probe = async () => {
    await delay();
    const answer = { originUs: localNowUs() + originOffsetUs, timeline: run };
    await delay();
    return answer;
  };
  for (let i = 0; i < 3; i++) await clock.burst(probe, "first");
  assert.ok(clock.synced);
  const offOrigin = () => clock.nowUs() - (localNowUs() + originOffsetUs);
  assert.ok(Math.abs(offOrigin()) < 1_000, `${offOrigin()} µs from the origin's clock`);
  assert.ok(Number.isFinite(clock.errorUs));

  // The origin restarts: its clock now reads 4 s less; the party's time here must not jump.
  const before = clock.nowUs();
  originOffsetUs -= 4_000_000;
  run = "second";
  const stale = await clock.burst(probe, "first");
  assert.deepEqual(stale, { timeline: "second", answered: 0 }, "the old run's probes are left out");
  clock.newOrigin();
  assert.equal(clock.synced, false);
  await clock.burst(probe, "second");
  const jumpUs = clock.nowUs() - before;
  assert.ok(jumpUs >= 0 && jumpUs < 500_000, `the party's time moved ${jumpUs} µs`);
  assert.ok(Math.abs(clock.shiftUs - 4_000_000) < 2_000, `shift ${clock.shiftUs}`);
  assert.ok(Math.abs(clock.toParty(1_000) - (1_000 + clock.shiftUs)) < 1);
});
