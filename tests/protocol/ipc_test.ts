import assert from "node:assert/strict";
import {
  type DownMessage,
  encodeDown,
  encodeUp,
  MalformedFrameError,
  readDown,
  readUp,
  type UpMessage,
} from "../../protocol/ipc.ts";

function streamOf(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(pieces);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const DOWN: DownMessage[] = [
  { type: "chunk", segment: 7, playAtUs: 123_456_789_012, pcm: new Uint8Array([1, 2, 3, 4]) },
  { type: "metadata", tags: { title: "Song", artist: "Band" } },
  { type: "stopped" },
  { type: "totals", total: 3, perWorker: [1, 2], rejected: 7 },
  { type: "shutdown" },
];

Deno.test("every downward message survives a round trip, even split into single bytes", async () => {
  const bytes = DOWN.map(encodeDown);
  assert.deepEqual(await collect(readDown(streamOf(bytes))), DOWN);
  const all = new Uint8Array(bytes.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const b of bytes) {
    all.set(b, offset);
    offset += b.byteLength;
  }
  const singles = [...all].map((b) => new Uint8Array([b]));
  assert.deepEqual(await collect(readDown(streamOf(singles))), DOWN);
});

Deno.test("a truncated or oversized downward frame is an error, not a guess", async () => {
  const frame = encodeDown(DOWN[0]);
  await assert.rejects(collect(readDown(streamOf([frame.subarray(0, 10)]))), MalformedFrameError);
  const huge = new Uint8Array([0xff, 0xff, 0xff, 0xff, 1]);
  await assert.rejects(collect(readDown(streamOf([huge]))), MalformedFrameError);
  const badKind = new Uint8Array([0, 0, 0, 1, 99]);
  await assert.rejects(collect(readDown(streamOf([badKind]))), MalformedFrameError);
});

Deno.test("every upward message survives a round trip; junk lines are reported", async () => {
  const up: UpMessage[] = [
    { type: "listening", worker: 0, port: 8927 },
    { type: "failed", worker: 1, reason: "port 8928 is in use" },
    { type: "client-joined", worker: 0, clientId: "a", name: "Phone" },
    { type: "client-left", worker: 0, clientId: "a", name: "Phone" },
    { type: "listeners", worker: 0, count: 2, rejected: 5 },
    { type: "error", worker: 1, message: "boom" },
  ];
  const junk: string[] = [];
  const text = new TextEncoder().encode("not json\n");
  const messages = await collect(
    readUp(streamOf([...up.map(encodeUp), text]), (line) => junk.push(line)),
  );
  assert.deepEqual(messages, up);
  assert.deepEqual(junk, ["not json"]);
});
