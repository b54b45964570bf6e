/**
 * A source format change inside a segment, as an output stream sees it: each output keeps
 * its format, its units of the old run end no later than the change, and the new run starts
 * exactly at it; the source's own format passes bit for bit on both sides of the change.
 */
import assert from "node:assert/strict";
import type { AudioFormat } from "../../protocol/messages.ts";
import { pcmDurationUs, type PcmFormat } from "../../protocol/pcm.ts";
import { createEncoder } from "../../worker/encoders/negotiate.ts";
import type { FramedChunk, PcmChunk } from "../../worker/future_audio.ts";
import { OutputStream } from "../../worker/output_stream.ts";

const A: PcmFormat = { sampleRate: 48_000, bitDepth: 16, channels: 2 };
const B: PcmFormat = { sampleRate: 44_100, bitDepth: 24, channels: 1 };

/** 10 chunks of A (the last shorter), then 10 of B, stamped as the timeline stamps them. */
function timeline(): { chunks: PcmChunk[]; changeUs: number } {
  const chunks: PcmChunk[] = [];
  let atUs = 10_000_000;
  const add = (format: PcmFormat, frames: number) => {
    const bytes = frames * format.channels * format.bitDepth / 8;
    const pcm = Uint8Array.from({ length: bytes }, (_, i) => (i * 31 + frames) & 0xff);
    chunks.push({ segment: 1, playAtUs: atUs, endUs: 0, format, pcm });
    chunks.at(-1)!.endUs = atUs + pcmDurationUs(format, pcm);
    return pcm;
  };
  let frames = 0;
  for (let i = 0; i < 10; i++) {
    atUs = 10_000_000 + Math.round((frames * 1e6) / 48_000);
    const length = i === 9 ? 1_000 : 2_880;
    add(A, length);
    frames += length;
  }
  atUs = 10_000_000 + Math.round((frames * 1e6) / 48_000);
  const changeUs = atUs;
  let framesB = 0;
  for (let i = 0; i < 10; i++) {
    atUs = changeUs + Math.round((framesB * 1e6) / 44_100);
    add(B, 2_646);
    framesB += 2_646;
  }
  return { chunks, changeUs };
}

function run(format: AudioFormat): { framed: FramedChunk[]; changeUs: number; chunks: PcmChunk[] } {
  const { chunks, changeUs } = timeline();
  const framed: FramedChunk[] = [];
  const stream = new OutputStream(format, {
    makeEncoder: (f) => createEncoder(f),
    clock: { nowUs: () => 0 },
    onFramed: (c) => framed.push(c),
    onError: (error) => assert.fail(String(error)),
  });
  for (const chunk of chunks) stream.feed(chunk);
  stream.close();
  return { framed, changeUs, chunks };
}

const fmt = (
  codec: AudioFormat["codec"],
  sample_rate: number,
  channels: number,
  bit_depth: number,
) => ({ codec, sample_rate, channels, bit_depth }) as AudioFormat;

for (
  const format of [fmt("pcm", 48_000, 2, 16), fmt("pcm", 44_100, 1, 24), fmt("flac", 48_000, 2, 24)]
) {
  Deno.test(`a ${format.codec} ${format.sample_rate}/${format.channels}/${format.bit_depth} output re-anchors exactly at a source format change`, () => {
    const { framed, changeUs } = run(format);
    const before = framed.filter((c) => c.playAtUs < changeUs);
    const after = framed.filter((c) => c.playAtUs >= changeUs);
    assert.ok(before.length >= 9 && after.length >= 9, `${before.length} + ${after.length} units`);
    assert.ok(before.every((c) => c.endUs <= changeUs), "the old run ends by the change");
    assert.equal(after[0].playAtUs, changeUs, "the new run starts at the change");
    for (let i = 1; i < framed.length; i++) {
      assert.ok(framed[i].playAtUs >= framed[i - 1].endUs, `unit ${i} overlaps the one before`);
    }
  });
}

Deno.test("each side of a format change passes bit for bit to a PCM output of its own format", () => {
  for (
    const [format, own] of [[fmt("pcm", 48_000, 2, 16), A], [fmt("pcm", 44_100, 1, 24), B]] as const
  ) {
    const { framed, chunks } = run(format);
    const ownChunks = chunks.filter((c) => c.format === own);
    for (const chunk of ownChunks) {
      const unit = framed.find((c) => c.playAtUs === chunk.playAtUs);
      assert.ok(unit, `a unit at ${chunk.playAtUs}`);
      const same = unit.payload.byteLength === chunk.pcm.byteLength &&
        unit.payload.every((b, i) => b === chunk.pcm[i]);
      assert.ok(
        same,
        `${format.sample_rate} Hz: the unit at ${chunk.playAtUs} is the chunk's bytes`,
      );
    }
  }
});
