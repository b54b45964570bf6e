import assert from "node:assert/strict";
import { UpLink } from "../../worker/up_link.ts";

/** A stream that records each write as it is made. */
function recorder() {
  const writes: string[] = [];
  const decoder = new TextDecoder();
  const output = new WritableStream<Uint8Array>({
    write: (bytes) => void writes.push(decoder.decode(bytes)),
  });
  return { output, writes };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

Deno.test("status messages said close together share one write, in order", async () => {
  const { output, writes } = recorder();
  const up = new UpLink(output);
  up.send({ type: "listeners", worker: 0, count: 1, rejected: 0 });
  up.send({ type: "alive", worker: 0 });
  await settle();
  assert.equal(writes.length, 1);
  assert.deepEqual(writes[0].trim().split("\n").map((l) => JSON.parse(l).type), [
    "listeners",
    "alive",
  ]);
  await up.close();
});

Deno.test("a clock probe leaves at once, after what was said before it", async () => {
  const { output, writes } = recorder();
  const up = new UpLink(output);
  up.send({ type: "alive", worker: 0 });
  up.send({ type: "clock-probe", worker: 0, sentUs: 5 }, { now: true });
  await Promise.resolve(); // the write reaches the sink within the same turn
  await Promise.resolve();
  assert.equal(writes.length, 1, "written without waiting for the batch");
  assert.deepEqual(writes[0].trim().split("\n").map((l) => JSON.parse(l).type), [
    "alive",
    "clock-probe",
  ]);
  await up.close();
});

Deno.test("closing writes what is still queued", async () => {
  const { output, writes } = recorder();
  const up = new UpLink(output);
  up.send({ type: "alive", worker: 0 });
  await up.close();
  assert.equal(writes.length, 1);
});
