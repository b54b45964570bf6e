/**
 * Encoder cost per codec: CPU per second of audio and bytes per second, for one encoder
 * (the cost a worker pays once per format, whatever the number of listeners). The baseline
 * is a plain copy of the chunk, the least any output can cost. Run: deno task bench.
 */
import { renderDemo } from "../../coordinator/sources/demo.ts";
import type { AudioFormat } from "../../protocol/messages.ts";
import { CHUNK_BYTES, CHUNK_FRAMES } from "../../protocol/pcm.ts";
import { createEncoder } from "../../worker/encoders/negotiate.ts";
import type { Encoder } from "../../worker/encoders/encoder.ts";
import { OpusEncoder } from "../../worker/encoders/opus_encoder.ts";

const SECONDS = 30;
const CHUNKS = Math.round((SECONDS * 48_000) / CHUNK_FRAMES);
const audio = renderDemo(0, CHUNKS * CHUNK_FRAMES);
const chunks = Array.from(
  { length: CHUNKS },
  (_, i) => new Uint8Array(audio.buffer, i * CHUNK_BYTES, CHUNK_BYTES),
);

const f = (codec: AudioFormat["codec"], sample_rate = 48_000): AudioFormat => ({
  codec,
  sample_rate,
  channels: 2,
  bit_depth: 16,
});

interface Row {
  output: string;
  cpuPercentOfCore: number;
  usPerChunk: number;
  kbitPerSecond: number;
}

async function measure(
  name: string,
  make: () => Encoder | { encode: (c: Uint8Array) => { payload: Uint8Array }[] },
) {
  const encoder = make();
  if (encoder instanceof OpusEncoder) await encoder.ready;
  for (const chunk of chunks.slice(0, 20)) encoder.encode(chunk); // warm up the JIT
  let bytes = 0;
  const start = performance.now();
  for (const chunk of chunks) {
    for (const unit of encoder.encode(chunk)) bytes += unit.payload.byteLength;
  }
  const ms = performance.now() - start;
  const row: Row = {
    output: name,
    cpuPercentOfCore: (ms / (SECONDS * 1000)) * 100,
    usPerChunk: (ms * 1000) / CHUNKS,
    kbitPerSecond: (bytes * 8) / SECONDS / 1000,
  };
  return row;
}

const rows: Row[] = [
  await measure(
    "baseline: copy",
    () => ({ encode: (c: Uint8Array) => [{ payload: c.slice(), frames: c.byteLength / 4 }] }),
  ),
  await measure("pcm 48k (as is)", () => createEncoder(f("pcm"))),
  await measure("pcm 44.1k", () => createEncoder(f("pcm", 44_100))),
  await measure("flac 48k", () => createEncoder(f("flac"))),
  await measure("flac 44.1k", () => createEncoder(f("flac", 44_100))),
  await measure("opus 48k 128 kbit/s", () => createEncoder(f("opus"))),
];

console.log(`Encoders, ${SECONDS} s of the demo, one encoder each (${Deno.build.arch}):`);
console.log("| output | CPU % of one core | µs per 60 ms chunk | kbit/s |");
console.log("|---|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.output} | ${r.cpuPercentOfCore.toFixed(3)} | ${r.usPerChunk.toFixed(1)} | ${
      r.kbitPerSecond.toFixed(0)
    } |`,
  );
}
console.log(JSON.stringify({ encoders: rows }));
