/**
 * Source faults: a stream that stalls or dies mid-stream is retried with backoff and plays
 * on; a crashed ffmpeg is restarted; a file removed while looping is named in one clear
 * line. Listeners keep their audio across every one of them.
 */
import assert from "node:assert/strict";
import type { Source } from "../../coordinator/sources/source.ts";
import { s16Block } from "../../protocol/pcm.ts";
import { hasFfmpeg } from "../../coordinator/sources/ffmpeg.ts";
import { childrenOf } from "../bench/process_tree.ts";
import { testPlayback } from "../support/playback.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";
import { ignoreUnless } from "../support/skip.ts";
import { until } from "../support/until.ts";
import { testSignal, wavBytes, writeTempWav } from "../support/wav.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const needsFfmpeg = {
  ...opts,
  ignore: ignoreUnless(await hasFfmpeg(), "the ffmpeg source-fault tests: ffmpeg is not on PATH"),
};

/** Lines the server logs while `body` runs (the logger writes them with console.error). */
async function capturingLog<T>(body: (lines: string[]) => Promise<T>): Promise<T> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...parts: unknown[]) => lines.push(parts.join(" "));
  try {
    return await body(lines);
  } finally {
    console.error = original;
  }
}

function contiguous(client: RawClient, from = 0): boolean {
  const chunks = client.chunks.slice(from);
  return chunks.every((c, i) => i === 0 || c.playAtUs - chunks[i - 1].playAtUs === 60_000);
}

Deno.test("a source that goes silent is dropped after the stall timeout and retried", async () => {
  let attempts = 0;
  const source: Source = {
    label: "silent stream",
    live: true,
    async *decode(signal) {
      attempts++;
      yield s16Block(new Int16Array(2_880 * 2));
      // Then nothing, like a server that keeps the connection but stops sending.
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    },
  };
  const playback = testPlayback(source, { retryDelaysMs: [10], stallMs: 150 });
  await playback.setWanted(true);
  await until("a third attempt", () => attempts >= 3, {
    ms: 5_000,
    seen: () => `${attempts} attempts`,
  });
  await playback.setWanted(false);
});

Deno.test("a stream that keeps dropping after a moment is retried with growing delays", async () => {
  const attempts: number[] = [];
  const source: Source = {
    label: "dropping stream",
    live: true,
    async *decode() {
      attempts.push(performance.now());
      yield s16Block(new Int16Array(2_880 * 2));
      throw new Error("connection reset");
    },
  };
  const playback = testPlayback(source, { retryDelaysMs: [20, 60, 180] });
  await playback.setWanted(true);
  await until("four attempts", () => attempts.length >= 4, {
    ms: 5_000,
    seen: () => `${attempts.length} attempts`,
  });
  await playback.setWanted(false);
  const gaps = attempts.slice(1, 4).map((t, i) => t - attempts[i]);
  assert.ok(gaps[0] >= 19 && gaps[1] >= 59 && gaps[2] >= 179, `backoff, not a tight loop: ${gaps}`);
});

/**
 * An endless WAV over http that hangs up once, on the first response that reaches
 * `cutAfterBytes` (the server's start-up check reads far less before it lets go).
 */
function flakyRadio(cutAfterBytes: number) {
  const requests: number[] = [];
  let cut = false;
  const audio = testSignal(48_000 * 20);
  const header = wavBytes(new Int16Array(0), 48_000, 2).slice(0, 44);
  new DataView(header.buffer).setUint32(40, 0x7fffffff, true); // "endless" data chunk
  new DataView(header.buffer).setUint32(4, 0x7fffffff, true);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    requests.push(performance.now());
    const pcm = new Uint8Array(audio.buffer);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(header);
      },
      async pull(controller) {
        await sleep(20); // the radio's pace: 40 ms of audio every 20 ms
        const piece = pcm.subarray(sent % pcm.length, (sent % pcm.length) + 7_680); // 40 ms
        sent += piece.length;
        if (!cut && sent > cutAfterBytes) {
          cut = true;
          return controller.error(new Error("cut"));
        }
        controller.enqueue(piece);
      },
    });
    return new Response(body, { headers: { "Content-Type": "audio/wav" } });
  });
  return { url: `http://127.0.0.1:${server.addr.port}/radio.wav`, requests, server };
}

Deno.test(
  "an http source that dies mid-stream is retried and playback goes on",
  needsFfmpeg,
  async () => {
    const radio = flakyRadio(192_000 * 2); // two seconds of audio, then the connection drops
    await capturingLog(async (log) => {
      const server = await startServer({
        source: { kind: "url", url: radio.url },
        logLevel: "INFO",
      });
      const client = await RawClient.connect(server.url, { formats: [format("pcm")] });
      try {
        // The cut is noticed and said, then the stream is dialled again (each attempt may
        // open it twice: ffprobe reads its format first).
        await until("the drop to be noticed", () => log.some((l) => /retrying in 2 s/.test(l)), {
          ms: 15_000,
          seen: () => `${radio.requests.length} requests; log:\n${log.join("\n")}`,
        });
        const before = radio.requests.length;
        await until("the stream to be dialled again", () => radio.requests.length > before, {
          ms: 15_000,
          seen: () => `${radio.requests.length} requests; log:\n${log.join("\n")}`,
        });
        const afterRetry = client.chunks.length;
        await client.waitFor(
          "audio after the retry",
          () => client.chunks.length > afterRetry + 30,
          {
            ms: 15_000,
            seen: () =>
              `${client.chunks.length - afterRetry} chunks since; log:\n${log.join("\n")}`,
          },
        );
        assert.ok(log.some((l) => /retrying in 2 s/.test(l)), `it says so:\n${log.join("\n")}`);
        assert.ok(client.chunks.every((c) => c.playAtUs > c.arrivedUs), "no chunk arrived late");
      } finally {
        await client.close();
        await server.stop();
        await radio.server.shutdown();
      }
    });
  },
);

/** Pids of ffmpeg processes started by this test process. */
function ffmpegChildren(): number[] {
  return childrenOf(Deno.pid).filter((pid) => {
    try {
      return Deno.readTextFileSync(`/proc/${pid}/comm`).trim() === "ffmpeg";
    } catch {
      return false; // it just exited
    }
  });
}

Deno.test(
  "a crashed ffmpeg is restarted and listeners keep contiguous audio",
  needsFfmpeg,
  async () => {
    const file = writeTempWav(testSignal(48_000 * 30));
    await capturingLog(async (log) => {
      const server = await startServer({ source: { kind: "file", path: file }, logLevel: "INFO" });
      const client = await RawClient.connect(server.url, { formats: [format("pcm")] });
      try {
        // Killed once the timeline is seconds ahead, as in a party under way: the retry's 2 s
        // then fall inside the audio already sent, and the timestamps run on.
        await client.waitFor("4 s of audio ahead", () => client.chunks.length >= 70, 15_000);
        const ffmpegs = { seen: () => `ffmpeg pids ${JSON.stringify(ffmpegChildren())}` };
        await until("ffmpeg running", () => ffmpegChildren().length === 1, {
          ms: 15_000,
          ...ffmpegs,
        });
        const [first] = ffmpegChildren();
        Deno.kill(first, "SIGKILL");
        await until("a new ffmpeg", () => ffmpegChildren().some((pid) => pid !== first), {
          ms: 15_000,
          ...ffmpegs,
        });
        const played = client.chunks.length;
        await client.waitFor(
          "audio from the new ffmpeg",
          () => client.chunks.length > played + 60,
          {
            ms: 20_000,
            seen: () => `${client.chunks.length - played} chunks since; log:\n${log.join("\n")}`,
          },
        );
        assert.ok(contiguous(client), "timestamps run on without a gap or overlap");
        assert.ok(log.some((l) => /ffmpeg was stopped \(SIGKILL\)/.test(l)), log.join("\n"));
      } finally {
        await client.close();
        await server.stop();
        Deno.removeSync(file);
      }
    });
  },
);

Deno.test("a file removed while looping is named in one clear line", opts, async () => {
  const file = writeTempWav(testSignal(48_000 / 2)); // half a second: it loops at once
  await capturingLog(async (log) => {
    const server = await startServer({ source: { kind: "file", path: file }, logLevel: "INFO" });
    const client = await RawClient.connect(server.url, { formats: [format("pcm")] });
    try {
      await client.waitFor("audio", () => client.chunks.length > 0, 15_000);
      Deno.removeSync(file);
      await until("the message", () => log.some((l) => l.includes("is gone")), {
        ms: 20_000,
        seen: () => `log:\n${log.join("\n")}`,
      });
      const line = log.find((l) => l.includes("is gone"))!;
      assert.match(line, /is gone \(deleted or moved\?\): put it back/);
      assert.ok(line.includes(file), line);
      assert.ok(!/\n\s+at /.test(log.join("\n")), "no stack trace");
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
