/**
 * The real published client (`@sendspin/sendspin-js@3.2.1`, SendspinCore) against a real
 * server in this process: handshake, clock sync, stream start, audio, counts, commands.
 */
import assert from "node:assert/strict";
import { hasFfmpeg as checkFfmpeg } from "../../coordinator/sources/ffmpeg.ts";
import { TestClient } from "../support/sendspin_client.ts";
import { startServer } from "../support/server.ts";
import { ignoreUnless } from "../support/skip.ts";
import { untilValue } from "../support/until.ts";
import { testSignal, writeTempWav } from "../support/wav.ts";

const CHUNK_US = 60_000; // 2,880 frames at 48 kHz
const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("a sendspin-js client syncs and plays the demo as 48k/16/2 PCM", opts, async () => {
  const server = await startServer();
  const client = await TestClient.connect(server.url, { name: "Phone A" });
  try {
    await client.waitFor("20 chunks", () => client.chunks.length >= 20);
    const hello = client.messagesOf("server/hello")[0].payload;
    assert.equal(hello.version, 1);
    assert.deepEqual(hello.active_roles, ["player@v1", "controller@v1", "metadata@v1"]);
    const start = client.messagesOf("stream/start")[0].payload.player as Record<string, number>;
    assert.deepEqual(
      { codec: start.codec, rate: start.sample_rate, ch: start.channels, bits: start.bit_depth },
      { codec: "pcm", rate: 48_000, ch: 2, bits: 16 },
    );
    const first = client.messages.findIndex((m) => m.type === "stream/start");
    const group = client.messages.findIndex((m) => m.type === "group/update");
    assert.ok(group >= 0 && first >= 0);
    for (let i = 1; i < client.chunks.length; i++) {
      assert.equal(client.chunks[i].playAtUs - client.chunks[i - 1].playAtUs, CHUNK_US);
      assert.equal(client.chunks[i].payload.byteLength, 2_880 * 4);
    }
    await client.waitFor("clock sync", () => client.core.timeSyncInfo.synced);
    assert.ok(client.core.timeSyncInfo.error < 5_000, "sync error under 5 ms on loopback");
    // Every chunk is still in the future (in server time) when it arrives.
    const nowUs = client.serverNowUs();
    assert.ok(client.chunks.at(-1)!.playAtUs > nowUs);
    await client.waitFor("decoded audio", () => client.decoded.length >= 10);
    const title = () =>
      client.messagesOf("server/state").map((m) => m.payload.metadata as { title?: string })
        .filter(Boolean).at(-1)?.title;
    await client.waitFor("now-playing title", () => title() === "Sendspin Party Demo");
  } finally {
    await client.close();
    await server.stop();
  }
});

Deno.test(
  "PCM a client decodes is bit-identical to a 48k/16/2 WAV source, across its loop",
  opts,
  async () => {
    const frames = 48_000 + 1_237; // not a whole number of chunks: the loop joint falls mid-chunk
    const source = testSignal(frames);
    const path = writeTempWav(source);
    const server = await startServer({ source: { kind: "file", path } });
    const client = await TestClient.connect(server.url);
    try {
      await client.waitFor("decoded 2.5 s", () => client.decoded.length >= 42);
      const received = client.decoded.flatMap((d) => [...d.samples]);
      for (let i = 0; i < received.length; i++) {
        if (received[i] !== source[i % source.length]) {
          assert.fail(
            `sample ${i} differs: got ${received[i]}, source ${source[i % source.length]}`,
          );
        }
      }
      const raw = new Int16Array(client.chunks[0].payload.slice().buffer);
      assert.deepEqual([...raw.subarray(0, 100)], [...source.subarray(0, 100)]);
    } finally {
      await client.close();
      await server.stop();
      await Deno.remove(path);
    }
  },
);

Deno.test("/api/status counts connected clients, with CORS", opts, async () => {
  const server = await startServer();
  const status = async () => {
    const response = await fetch(new URL("/api/status", server.url));
    assert.equal(response.headers.get("access-control-allow-origin"), "*");
    return (await response.json()).total_clients;
  };
  const a = await TestClient.connect(server.url);
  const b = await TestClient.connect(server.url);
  try {
    await a.waitFor("both joined", () => a.chunks.length > 0 && b.chunks.length > 0);
    assert.equal(await status(), 2);
    await b.close();
    const count = await untilValue("/api/status to count 1", status, (n) => n === 1, 5_000);
    assert.equal(count, 1);
  } finally {
    await a.close();
    await server.stop();
  }
});

Deno.test("a controller's group volume reaches every player", opts, async () => {
  const server = await startServer();
  const a = await TestClient.connect(server.url, { name: "A" });
  const b = await TestClient.connect(server.url, { name: "B" });
  try {
    await a.waitFor("joined", () => a.chunks.length > 0 && b.chunks.length > 0);
    a.core.sendCommand("volume", { volume: 40 });
    const volumeCommand = (c: TestClient) =>
      c.messagesOf("server/command").some((m) =>
        (m.payload.player as { volume?: number }).volume === 40
      );
    await a.waitFor("volume command on both", () => volumeCommand(a) && volumeCommand(b));
    await b.waitFor("client applied it", () => b.core.volume === 40);
    const controller = () =>
      a.messagesOf("server/state").map((m) => m.payload.controller as { volume: number })
        .filter(Boolean).at(-1);
    await a.waitFor("controller state 40", () => controller()?.volume === 40);
  } finally {
    await a.close();
    await b.close();
    await server.stop();
  }
});

Deno.test("stream/request-format switches a listener to 44.1 kHz without a gap", opts, async () => {
  const server = await startServer();
  const client = await TestClient.connect(server.url);
  try {
    await client.waitFor("first chunks", () => client.chunks.length >= 5);
    const before = client.chunks.length;
    client.socket.send(JSON.stringify({
      type: "stream/request-format",
      payload: { player: { sample_rate: 44_100 } },
    }));
    await client.waitFor(
      "a second stream/start",
      () => client.messagesOf("stream/start").length === 2,
    );
    const started = client.messagesOf("stream/start")[1].payload.player as { sample_rate: number };
    assert.equal(started.sample_rate, 44_100);
    await client.waitFor("44.1k chunks", () => client.chunks.length >= before + 90);
    // Until the switch every chunk is 48 kHz; after it, 44.1 kHz, and the timeline has no gap.
    const chunks = client.chunks;
    const switchAt = chunks.findIndex((c, i) => i > 0 && c.payload.byteLength !== 2_880 * 4);
    assert.ok(switchAt > 0, "switched");
    const previousEnd = chunks[switchAt - 1].playAtUs + CHUNK_US;
    assert.ok(Math.abs(chunks[switchAt].playAtUs - previousEnd) <= 1, "no gap, no overlap");
    for (let i = switchAt + 1; i < chunks.length; i++) {
      const frames = chunks[i - 1].payload.byteLength / 4;
      const expected = chunks[i - 1].playAtUs + frames * 1e6 / 44_100;
      assert.ok(Math.abs(chunks[i].playAtUs - expected) <= 1, `chunk ${i} contiguous`);
    }
  } finally {
    await client.close();
    await server.stop();
  }
});

Deno.test("shutdown ends the stream and closes every client", opts, async () => {
  const server = await startServer();
  const client = await TestClient.connect(server.url);
  await client.waitFor("audio", () => client.chunks.length > 0);
  await server.stop();
  await client.waitFor("closed", () => client.closed);
  assert.equal(client.messagesOf("stream/end").length, 1);
});

/** `pgrep -a` lines of the ffmpeg processes reading `path`. */
async function ffmpegFor(path: string): Promise<string[]> {
  const pgrep = new Deno.Command("pgrep", { args: ["-a", "-f", `ffmpeg.*${path}`] });
  return new TextDecoder().decode((await pgrep.output()).stdout).split("\n").filter(Boolean);
}

async function ffmpegRunningFor(path: string): Promise<boolean> {
  return (await ffmpegFor(path)).length > 0;
}

const noFfmpeg = ignoreUnless(
  await checkFfmpeg(),
  "the decode-on-demand test with ffmpeg: ffmpeg is not on PATH",
);

Deno.test({
  name: "decoding runs only while someone listens: ffmpeg stops after the last leaves",
  ignore: noFfmpeg,
  ...opts,
  fn: async () => {
    const path = writeTempWav(testSignal(48_000 * 20));
    const server = await startServer({ source: { kind: "file", path } });
    try {
      await untilValue(
        "ffmpeg gone after the start-up check",
        () => ffmpegFor(path),
        (running) => running.length === 0,
        5_000,
      );
      const first = await TestClient.connect(server.url);
      await first.waitFor("audio", () => first.chunks.length > 0);
      assert.ok(await ffmpegRunningFor(path), "ffmpeg decodes while a listener is there");
      await first.close();
      await untilValue(
        "ffmpeg stopped",
        () => ffmpegFor(path),
        (running) => running.length === 0,
        5_000,
      );
      const second = await TestClient.connect(server.url);
      await second.waitFor("audio again", () => second.chunks.length > 0);
      assert.ok(await ffmpegRunningFor(path), "decoding restarted with the next listener");
      await second.close();
    } finally {
      await server.stop();
      await Deno.remove(path);
    }
  },
});
