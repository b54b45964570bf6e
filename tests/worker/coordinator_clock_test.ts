import assert from "node:assert/strict";
import { localNowUs } from "../../protocol/clock.ts";
import { CLOCK_BURST_PROBES } from "../../protocol/clock_sync.ts";
import { CoordinatorClock } from "../../worker/coordinator_clock.ts";

/** A burst whose probes all took `roundTripUs`, answered as if the offset were `offsetUs`. */
function burst(clock: CoordinatorClock, roundTripUs: number, offsetUs: number) {
  for (let i = 0; i < CLOCK_BURST_PROBES; i++) {
    const now = localNowUs();
    const sentUs = now - roundTripUs;
    clock.onAnswer(sentUs, (sentUs + now) / 2 + offsetUs);
  }
}

Deno.test("a slow first burst is replaced by the next good one, and a slow one never wins", () => {
  const clock = new CoordinatorClock(() => {});
  burst(clock, 6_000, 2_500); // a busy start: every probe slow, the offset 2.5 ms off
  assert.ok(Math.abs(clock.offsetUs - 2_500) < 50);
  burst(clock, 80, 10); // a quiet moment: the true offset
  assert.ok(Math.abs(clock.offsetUs - 10) < 50, `offset ${clock.offsetUs}`);
  burst(clock, 4_000, 3_000); // busy again: not trusted over the good one
  assert.ok(Math.abs(clock.offsetUs - 10) < 50, `offset ${clock.offsetUs}`);
});
