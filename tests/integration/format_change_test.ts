/**
 * A playlist whose tracks differ in format: a listener given the source's own format gets a
 * new stream in the next track's format, from the exact server time of the change, without a
 * gap or an overlap, and the new track's samples bit for bit.
 */
import assert from "node:assert/strict";
import { hasFfmpeg } from "../coordinator/decode/helpers.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";
import { ignoreUnless } from "../support/skip.ts";
import { wavBytes } from "../support/wav.ts";

const ignore = ignoreUnless(hasFfmpeg, "ffmpeg is not on PATH: it decodes the tracks");
const opts = { sanitizeOps: false, sanitizeResources: false, ignore };
const SECONDS = 1.2;

/** Stereo 16-bit noise, not periodic, so any stretch of it is found in one place only. */
function signal(frames: number, seed: number): Int16Array {
  const out = new Int16Array(frames * 2);
  for (let i = 0; i < out.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    out[i] = (seed % 20_000) - 10_000;
  }
  return out;
}

Deno.test(
  "a track of another format starts a new stream at the change, bit for bit",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "sendspin_formats_" });
    const first = signal(48_000 * SECONDS, 1);
    const second = signal(44_100 * SECONDS, 2);
    await Deno.writeFile(`${dir}/1-first.wav`, wavBytes(first, 48_000, 2));
    await Deno.writeFile(`${dir}/2-second.wav`, wavBytes(second, 44_100, 2));
    const server = await startServer({ source: { kind: "folder", path: dir } });
    const client = await RawClient.connect(server.url, {
      formats: [format("pcm", 48_000), format("pcm", 44_100)],
    });
    try {
      const starts = () =>
        client.messages.flatMap((m, i) =>
          m.type === "stream/start" && m.payload.player
            ? [{
              rate: (m.payload.player as { sample_rate: number }).sample_rate,
              at: client.arrivals[i],
            }]
            : []
        );
      await client.waitFor("a 44.1 kHz stream", () => starts().some((s) => s.rate === 44_100));
      const switched = starts().find((s) => s.rate === 44_100)!;
      await client.waitFor(
        "its audio",
        () => client.chunks.filter((c) => c.arrivedUs > switched.at).length >= 15,
      );
      assert.equal(starts()[0].rate, 48_000, "the first track's own format first");

      const rateOf = (c: { arrivedUs: number }) => (c.arrivedUs > switched.at ? 44_100 : 48_000);
      const chunks = client.chunks.filter((c) => c.arrivedUs <= switched.at || rateOf(c) === 44_100)
        .slice(0, client.chunks.findIndex((c) => c.arrivedUs > switched.at) + 15);
      // No gap, no overlap: each chunk starts where the one before ends, in its own rate.
      for (let i = 1; i < chunks.length; i++) {
        const before = chunks[i - 1];
        const endUs = before.playAtUs + (before.payload.byteLength / 4) * 1e6 / rateOf(before);
        assert.ok(
          Math.abs(chunks[i].playAtUs - endUs) <= 1,
          `chunk ${i} at ${chunks[i].playAtUs}, expected ${endUs}`,
        );
      }
      // The new stream starts exactly at the change: the first track's end in server time.
      const changeUs = Math.round(chunks[0].playAtUs + SECONDS * 1e6);
      const firstNew = chunks.find((c) => rateOf(c) === 44_100)!;
      assert.ok(
        Math.abs(firstNew.playAtUs - changeUs) <= 1,
        `new stream at ${firstNew.playAtUs}, change ${changeUs}`,
      );
      // Bit for bit: the first track as it is, then the second as it is.
      const bytes = (rate: number) => {
        const parts = chunks.filter((c) => rateOf(c) === rate).map((c) => c.payload);
        const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
        let at = 0;
        for (const p of parts) out.set(p, at), at += p.byteLength;
        return new Int16Array(out.buffer, 0, out.byteLength / 2);
      };
      assert.deepEqual(bytes(48_000), first.subarray(0, bytes(48_000).length));
      assert.equal(bytes(48_000).length, first.length, "the whole first track, in its format");
      assert.deepEqual(bytes(44_100), second.subarray(0, bytes(44_100).length));
    } finally {
      await client.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
