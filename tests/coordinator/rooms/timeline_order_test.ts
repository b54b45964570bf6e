import assert from "node:assert/strict";
import { TimelineOrder } from "../../../coordinator/rooms/timeline_order.ts";

Deno.test("an edge takes each timeline message once, in order; a gap, or another run, is seen", () => {
  const order = new TimelineOrder();
  order.reset("run-1");
  assert.equal(order.judge("run-1", 40), "take", "the first heard, whatever its number");
  order.took(40);
  assert.equal(order.judge("run-1", 41), "take");
  order.took(41);
  assert.equal(order.judge("run-1", 41), "seen", "a re-publish of what was taken");
  assert.equal(order.judge("run-1", 12), "seen");
  assert.equal(order.judge("run-1", 44), "gap", "42 and 43 are missing");
  assert.equal(order.judge("run-2", 1), "new-timeline", "the origin restarted");
  order.reset("run-2");
  assert.equal(order.judge("run-2", 1), "take");
  assert.equal(order.judge("run-1", 45), "new-timeline", "the old run is not this one");
});
