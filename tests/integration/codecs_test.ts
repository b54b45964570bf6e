/** Every codec through a real server: timing of late joiners, Opus against PCM in time. */
import assert from "node:assert/strict";
import { OpusDecoder } from "opus-decoder";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";
import { until } from "../support/until.ts";
import { decodeFlac } from "../support/flac_decode.ts";
import { testSignal, writeTempWav } from "../support/wav.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const CHUNK_US = 60_000;
/** This process's clock, which is server time with an in-process server. */
const localUs = () => performance.now() * 1000;

for (const codec of ["pcm", "flac", "opus"] as const) {
  Deno.test(
    `a late ${codec} joiner gets only future chunks, the first within 0.5 s`,
    opts,
    async () => {
      const server = await startServer();
      const early = await RawClient.connect(server.url, { formats: [format("pcm")] });
      try {
        await early.waitFor("playback running", () => early.chunks.length > 10);
        // Joining late: the party's first chunk has played (in-process server: our clock).
        await until(
          "the first chunk played",
          () => localUs() >= early.chunks[0].playAtUs + CHUNK_US,
          {
            seen: () => `now ${localUs()} µs, first chunk at ${early.chunks[0].playAtUs} µs`,
          },
        );
        const late = await RawClient.connect(server.url, { formats: [format(codec)] });
        await late.waitFor("first chunk", () => late.chunks.length > 0, 2_000);
        const waitedMs = (late.chunks[0].arrivedUs - late.helloSentUs) / 1000;
        assert.ok(waitedMs < 500, `first chunk after ${waitedMs.toFixed(0)} ms`);
        console.log(`late ${codec} joiner: first chunk ${waitedMs.toFixed(1)} ms after hello`);
        const start = late.messagesOf("stream/start")[0].payload.player as { codec: string };
        assert.equal(start.codec, codec);
        // In-process server: this process's clock is server time.
        const nowUs = performance.now() * 1000;
        const first = late.chunks[0];
        assert.ok(
          first.playAtUs > first.arrivedUs,
          `${first.playAtUs} is past at ${first.arrivedUs}`,
        );
        assert.ok(late.chunks.every((c) => c.playAtUs > nowUs - 10_000_000));
        await late.close();
      } finally {
        await early.close();
        await server.stop();
      }
    },
  );
}

/** Places decoded samples of each chunk on one sample grid of server time. */
function onGrid(chunks: { playAtUs: number; samples: Float32Array }[], baseUs: number) {
  const grid = new Map<number, number>();
  for (const { playAtUs, samples } of chunks) {
    const start = Math.round(((playAtUs - baseUs) * 48_000) / 1e6);
    samples.forEach((value, i) => grid.set(start + i, value));
  }
  return grid;
}

Deno.test("an Opus listener hears each sample within 1 ms of a PCM listener", opts, async () => {
  const path = writeTempWav(testSignal(48_000 * 4));
  const server = await startServer({ source: { kind: "file", path } });
  const pcm = await RawClient.connect(server.url, { formats: [format("pcm")] });
  const opus = await RawClient.connect(server.url, { formats: [format("opus")] });
  try {
    await pcm.waitFor("3 s of PCM", () => pcm.chunks.length >= 50);
    await opus.waitFor("3 s of Opus", () => opus.chunks.length >= 50);
    const decoder = new OpusDecoder({ channels: 2, preSkip: 0 });
    await decoder.ready;
    const decoded = opus.chunks.map((c) => ({
      playAtUs: c.playAtUs,
      samples: decoder.decodeFrame(c.payload).channelData[0],
    }));
    decoder.free();
    const left = pcm.chunks.map((c) => {
      const s16 = new Int16Array(c.payload.slice().buffer);
      return {
        playAtUs: c.playAtUs,
        samples: Float32Array.from(s16.filter((_, i) => i % 2 === 0), (v) => v / 32768),
      };
    });
    const base = pcm.chunks[0].playAtUs;
    const a = onGrid(left, base);
    const b = onGrid(decoded.slice(2), base); // skip the encoder's warm-up
    const correlation = (lag: number) => {
      let sum = 0;
      for (let n = 24_000; n < 120_000; n++) sum += (a.get(n) ?? 0) * (b.get(n + lag) ?? 0);
      return sum;
    };
    let best = { lag: 0, value: -Infinity };
    for (let lag = -480; lag <= 480; lag++) {
      const value = correlation(lag);
      if (value > best.value) best = { lag, value };
    }
    assert.ok(Math.abs(best.lag) <= 48, `Opus is ${best.lag} samples off PCM (limit 48 = 1 ms)`);
    console.log(`Opus vs PCM in server time: ${best.lag} samples`);
  } finally {
    await pcm.close();
    await opus.close();
    await server.stop();
    await Deno.remove(path);
  }
});

Deno.test(
  "FLAC listeners, from the start and joining mid-stream, get the source bit for bit",
  opts,
  async () => {
    const source = testSignal(48_000 * 3 + 77);
    const path = writeTempWav(source);
    const server = await startServer({ source: { kind: "file", path } });
    const early = await RawClient.connect(server.url, { formats: [format("flac")] });
    try {
      await early.waitFor("FLAC chunks", () => early.chunks.length >= 40);
      // Joining mid-stream: the first chunks have played (in-process server: our clock).
      await until("five chunks played", () => localUs() >= early.chunks[4].playAtUs + CHUNK_US, {
        seen: () => `now ${localUs()} µs, fifth chunk at ${early.chunks[4].playAtUs} µs`,
      });
      const late = await RawClient.connect(server.url, { formats: [format("flac")] });
      await late.waitFor("FLAC for the late joiner", () => late.chunks.length >= 20);
      const anchorUs = early.chunks[0].playAtUs;
      for (const client of [early, late]) {
        const start = client.messagesOf("stream/start")[0].payload.player as {
          codec_header: string;
        };
        // Both clients are still connected: chunks keep arriving while we decode, so compare
        // against the chunks that went into the decoder, not the live list.
        const chunks = client.chunks.slice();
        const decoded = await decodeFlac(start.codec_header, chunks.map((c) => c.payload));
        const offset = Math.round(((chunks[0].playAtUs - anchorUs) * 48_000) / 1e6);
        assert.equal(decoded.length, chunks.length * 2_880 * 2);
        for (let i = 0; i < decoded.length; i++) {
          const want = source[(offset * 2 + i) % source.length];
          if (decoded[i] !== want) {
            assert.fail(
              `sample ${i} (offset ${offset}): ${decoded[i]} != ${want}`,
            );
          }
        }
      }
      assert.ok(
        late.chunks[0].playAtUs > early.chunks[0].playAtUs,
        "the late joiner started mid-stream",
      );
      await late.close();
    } finally {
      await early.close();
      await server.stop();
      await Deno.remove(path);
    }
  },
);
