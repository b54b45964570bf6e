/**
 * What goes wrong in a party over several machines, with real processes: NATS dies and comes
 * back, the origin dies and comes back. The edge's listener must hear it as a user would want:
 * nothing at all, or a clean new stream.
 */
import assert from "node:assert/strict";
import { TestClient } from "../support/sendspin_client.ts";
import { until } from "../support/until.ts";
import { startDelayRelay } from "../support/delay_relay.ts";
import type { ReceivedChunk } from "../support/sendspin_client.ts";
import { needsNats, startEdge, startNatsServer, startParty } from "./rooms_support.ts";

/** 16-bit stereo PCM at 48 kHz: a chunk's length in µs. */
const pcmDurationUs = (chunk: ReceivedChunk) => (chunk.payload.byteLength / 4) * 1e6 / 48_000;

/** Where one chunk does not start where the one before it ended, in play order. */
function breaks(chunks: readonly ReceivedChunk[]): string[] {
  const sorted = [...chunks].sort((a, b) => a.playAtUs - b.playAtUs);
  const found: string[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const expected = sorted[i - 1].playAtUs + pcmDurationUs(sorted[i - 1]);
    if (Math.abs(sorted[i].playAtUs - expected) > 1) {
      found.push(`${(sorted[i].playAtUs - expected).toFixed(0)} µs at chunk ${i}`);
    }
  }
  return found;
}

Deno.test({
  name: "NATS killed for 3 s, then restarted: the edge's listener hears contiguous audio",
  ...needsNats,
  fn: async () => {
    const nats = await startNatsServer();
    const origin = await startParty(["--demo", "--no-mdns", "--edges", nats.url]);
    const edge = await startEdge(nats.url);
    const listener = await TestClient.connect(edge.url, { name: "edge listener" });
    const reference = await TestClient.connect(origin.url, { name: "origin listener" });
    try {
      await listener.waitFor("the party plays", () => listener.chunks.length >= 20);
      await nats.kill();
      // The origin publishes at most 5 s ahead: audio to be heard later than this was
      // published while NATS was away or after it came back, never before.
      const publishedAfterKillUs = listener.serverNowUs() + 5_500_000;
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await nats.restart();
      await listener.waitFor(
        "audio published after NATS came back",
        () => listener.chunks.some((c) => c.playAtUs > publishedAfterKillUs + 3_500_000),
        15_000,
      );
      assert.deepEqual(breaks(listener.chunks), [], "the audio runs on without a gap");
      // ...and each chunk is the origin's audio for its time, not audio moved earlier.
      const atOrigin = new Map(reference.chunks.map((c) => [c.playAtUs, c.payload]));
      const across = listener.chunks.filter((c) => atOrigin.has(c.playAtUs));
      assert.ok(
        across.some((c) => c.playAtUs > publishedAfterKillUs),
        "compared across the outage",
      );
      for (const chunk of across) {
        assert.deepEqual(chunk.payload, atOrigin.get(chunk.playAtUs), `bytes at ${chunk.playAtUs}`);
      }
      assert.equal(listener.messagesOf("stream/start").length, 1, "one stream throughout");
      assert.match(edge.log(), /Lost NATS/);
      assert.match(origin.log(), /NATS at .* is back/);
    } finally {
      await reference.close();
      await listener.close();
      await edge.stop();
      await origin.stop();
      await nats.stop();
    }
  },
});

Deno.test({
  name: "the origin killed and restarted: the edge's listener gets a clean new stream in time",
  ...needsNats,
  fn: async () => {
    const nats = await startNatsServer();
    const home = Deno.makeTempDirSync(); // the same identity again: the same party
    let origin = await startParty(["--demo", "--no-mdns", "--edges", nats.url], { home });
    const edge = await startEdge(nats.url);
    const listener = await TestClient.connect(edge.url, { name: "edge listener" });
    try {
      await listener.waitFor("the party plays", () => listener.chunks.length >= 20);
      origin.child.kill("SIGKILL");
      await origin.stop();
      const before = listener.chunks.length;
      const lastBefore = Math.max(...listener.chunks.map((c) => c.playAtUs));
      origin = await startParty(["--demo", "--no-mdns", "--edges", nats.url], { home });
      await until("the edge hears the new origin", () => /origin restarted/.test(edge.log()), {
        ms: 15_000,
        seen: () => edge.log(),
      });
      await listener.waitFor("20 chunks of the new stream", () => {
        return listener.chunks.slice(before).filter((c) => c.playAtUs > lastBefore).length >= 20;
      }, 15_000);
      const starts = listener.messagesOf("stream/start").length;
      assert.ok(starts >= 2, `a new stream/start (${starts} in all)`);
      const fresh = listener.chunks.filter((c) => c.playAtUs > lastBefore);
      assert.deepEqual(breaks(fresh), [], "the new stream runs without a gap");
      // The listener's clock sync is untouched: the new audio is ahead of its server time.
      const aheadMs = (Math.max(...fresh.map((c) => c.playAtUs)) - listener.serverNowUs()) / 1000;
      assert.ok(aheadMs > 0 && aheadMs < 6_000, `the newest chunk plays in ${aheadMs} ms`);
    } finally {
      await listener.close();
      await edge.stop();
      await origin.stop();
      await nats.stop();
    }
  },
});

Deno.test({
  name: "an edge whose clock cannot reach its bound says so in one line and plays on",
  ...needsNats,
  fn: async () => {
    const nats = await startNatsServer();
    // 20 ms ± 15 ms each way: no estimate of the origin's clock gets within 1 ms here.
    const relay = startDelayRelay({ host: nats.host, port: nats.port }, {
      delayMs: 20,
      jitterMs: 15,
    });
    const origin = await startParty(["--demo", "--no-mdns", "--edges", nats.url]);
    const edge = await startEdge(relay.url());
    const listener = await TestClient.connect(edge.url, { name: "edge listener" });
    try {
      await until("the edge's clock warning", () => /Clock: /.test(edge.log()), {
        ms: 20_000,
        seen: () => edge.log(),
      });
      const warnings = edge.log().split("\n").filter((line) => /Clock: /.test(line));
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0], /not the 1\.00 ms bound .* playing on/);
      const heard = listener.chunks.length;
      await listener.waitFor("it plays on", () => listener.chunks.length >= heard + 20, 10_000);
    } finally {
      await listener.close();
      await edge.stop();
      await origin.stop();
      await relay.close();
      await nats.stop();
    }
  },
});
