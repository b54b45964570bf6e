/**
 * The source's own format through a real server: a listener asking for exactly the source's
 * format gets every bit of it (24-bit FLAC decoded by ffmpeg, not by our encoder; 8 kHz mono
 * PCM as the WAV holds it), stamped at the source's rate.
 */
import assert from "node:assert/strict";
import { hasFfmpeg } from "../../coordinator/sources/ffmpeg.ts";
import { unpackSamples } from "../../protocol/pcm.ts";
import { ffmpeg } from "../coordinator/decode/helpers.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";
import { ignoreUnless } from "../support/skip.ts";
import { testSignal, wavBytes } from "../support/wav.ts";

const noFfmpeg = ignoreUnless(await hasFfmpeg(), "source format tests: ffmpeg is not on PATH");
const opts = { sanitizeOps: false, sanitizeResources: false, ignore: noFfmpeg };

/** `received` must be a run of the (looping) `source`, starting anywhere in it. */
function assertRunOf(received: Int32Array, source: Int32Array, channels: number) {
  const probe = received.subarray(0, 32 * channels);
  let start = -1;
  for (let f = 0; f < source.length / channels && start < 0; f++) {
    if (probe.every((v, i) => source[(f * channels + i) % source.length] === v)) start = f;
  }
  assert.ok(start >= 0, "the first samples received are nowhere in the source");
  for (let i = 0; i < received.length; i++) {
    const want = source[(start * channels + i) % source.length];
    if (received[i] !== want) assert.fail(`sample ${i}: ${received[i]} != ${want}`);
  }
}

/** The chunks' stamps follow the source's rate exactly: each starts where the last ended. */
function assertContiguous(chunks: { playAtUs: number }[], frames: number[], rate: number) {
  let total = 0;
  for (let i = 0; i < chunks.length; i++) {
    const want = chunks[0].playAtUs + Math.round((total * 1e6) / rate);
    assert.ok(
      Math.abs(chunks[i].playAtUs - want) <= 1,
      `chunk ${i}: ${chunks[i].playAtUs} != ${want}`,
    );
    total += frames[i];
  }
}

Deno.test("a 24-bit FLAC source reaches a 24-bit FLAC listener bit for bit", opts, async () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/hires.flac`;
  await ffmpeg([
    ...[
      "-f",
      "lavfi",
      "-i",
      "aevalsrc=0.5*sin(2*PI*997*t)|0.3*sin(2*PI*1234*t)+0.01*random(0):s=44100:d=2",
    ],
    ...["-c:a", "flac", "-sample_fmt", "s32"],
    ...["-bits_per_raw_sample", "24", path],
  ]);
  const source = unpackSamples(
    await ffmpeg(["-i", path, "-f", "s24le", "-c:a", "pcm_s24le", "-"]),
    24,
  );
  const server = await startServer({ source: { kind: "file", path } });
  const wanted = format("flac", 44_100, 2, 24);
  const client = await RawClient.connect(server.url, { formats: [wanted] });
  try {
    await client.waitFor("2.5 s of FLAC", () => client.chunks.length >= 42);
    const start = client.messagesOf("stream/start")[0].payload.player as Record<string, unknown>;
    assert.equal(start.codec, "flac");
    assert.equal(start.sample_rate, 44_100);
    assert.equal(start.bit_depth, 24);
    const chunks = client.chunks.slice(0, 42);
    const header = Uint8Array.from(atob(start.codec_header as string), (c) => c.charCodeAt(0));
    const file = `${dir}/received.flac`;
    const parts = [header, ...chunks.map((c) => c.payload)];
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    parts.reduce((offset, p) => (bytes.set(p, offset), offset + p.byteLength), 0);
    Deno.writeFileSync(file, bytes);
    const received = unpackSamples(
      await ffmpeg(["-i", file, "-f", "s24le", "-c:a", "pcm_s24le", "-"]),
      24,
    );
    assert.equal(received.length, 42 * 2_646 * 2, "60 ms FLAC frames at 44.1 kHz");
    assert.ok(received.some((s) => (s & 0xff) !== 0), "the low 8 bits arrive");
    assertRunOf(received, source, 2);
    assertContiguous(chunks, chunks.map(() => 2_646), 44_100);
  } finally {
    await client.close();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an 8 kHz mono WAV reaches an 8 kHz mono PCM listener bit for bit", opts, async () => {
  const samples = testSignal(8_000 * 2 + 77, 8_000).filter((_, i) => i % 2 === 0);
  const path = Deno.makeTempFileSync({ suffix: ".wav" });
  Deno.writeFileSync(path, wavBytes(samples, 8_000, 1));
  const server = await startServer({ source: { kind: "file", path } });
  // Listed second: the client prefers it only after a format we cannot make.
  const formats = [format("pcm", 12_345, 1, 16), format("pcm", 8_000, 1, 16)];
  const client = await RawClient.connect(server.url, { formats });
  try {
    await client.waitFor("2.5 s of PCM", () => client.chunks.length >= 42);
    const start = client.messagesOf("stream/start")[0].payload.player as Record<string, unknown>;
    assert.deepEqual(
      [start.codec, start.sample_rate, start.channels, start.bit_depth],
      ["pcm", 8_000, 1, 16],
    );
    const chunks = client.chunks.slice(0, 42);
    assert.ok(chunks.every((c) => c.payload.byteLength === 480 * 2), "60 ms at 8 kHz mono");
    const received = Int32Array.from(chunks.flatMap((c) => [...unpackSamples(c.payload, 16)]));
    assertRunOf(received, Int32Array.from(samples), 1);
    assertContiguous(chunks, chunks.map(() => 480), 8_000);
  } finally {
    await client.close();
    await server.stop();
    await Deno.remove(path);
  }
});
