import assert from "node:assert/strict";
import { averageVolume, redistributeVolume } from "../../worker/group_volume.ts";

Deno.test("group volume moves every player by the same step when nobody clamps", () => {
  assert.deepEqual(redistributeVolume([20, 40, 60], 50), [30, 50, 70]);
});

Deno.test("group volume shares what a clamped player could not take", () => {
  // +30 each would put 90 at 120; its missing 20 goes to the other two.
  assert.deepEqual(redistributeVolume([90, 10, 20], 70), [100, 50, 60]);
  assert.equal(averageVolume(redistributeVolume([90, 10, 20], 70)), 70);
  assert.deepEqual(redistributeVolume([5, 50, 95], 10), [0, 0, 30]);
});

Deno.test("group volume reaches the ends and clamps the request", () => {
  assert.deepEqual(redistributeVolume([10, 80], 100), [100, 100]);
  assert.deepEqual(redistributeVolume([10, 80], -5), [0, 0]);
  assert.deepEqual(redistributeVolume([], 50), []);
});
