/**
 * A listener that says hello and then never reads: its socket fills, the server stops
 * sending to it, closes it within seconds, and the listener beside it never misses a chunk.
 */
import assert from "node:assert/strict";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";
import { until } from "../support/until.ts";
import { WsClient } from "../support/ws_client.ts";
import { assertContiguousAndOnTime } from "./steady_listener.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "a listener that never reads is closed; the others keep contiguous audio",
  opts,
  async () => {
    const server = await startServer();
    const steady = await RawClient.connect(server.url, { formats: [format("pcm")] });
    // The largest PCM we make (192 kHz, 32-bit: 1.5 MB/s), so its socket buffers fill fast.
    const stalled = await WsClient.connect(
      `ws://127.0.0.1:${server.port}/sendspin`,
      { onText: () => {}, onBinary: () => {}, onClose: () => {} },
      { read: false },
    );
    const status = async () =>
      (await (await fetch(new URL("/api/status", server.url))).json()).total_clients;
    try {
      stalled.sendText(JSON.stringify({
        type: "client/hello",
        payload: {
          client_id: "stalled",
          name: "never reads",
          version: 1,
          supported_roles: ["player@v1"],
          "player@v1_support": {
            supported_formats: [format("pcm", 192_000, 2, 32)],
            buffer_capacity: 1 << 30,
            supported_commands: [],
          },
        },
      }));
      await steady.waitFor("both listening", () => steady.chunks.length > 0);
      let sawBoth = false;
      const totals: number[] = []; // each change of the count
      await until("the stalled listener counted, then closed", async () => {
        const total = await status();
        if (total !== totals.at(-1)) totals.push(total);
        if (total === 2) sawBoth = true;
        return sawBoth && total === 1;
      }, { ms: 30_000, everyMs: 200, seen: () => `total_clients went ${totals.join(" -> ")}` });
      assert.ok(sawBoth, "the stalled listener had joined");
      assert.equal(await status(), 1, "the stalled listener was closed within 30 s");
      const before = steady.chunks.length;
      await steady.waitFor("more audio", () => steady.chunks.length >= Math.max(before + 11, 50));
      assertContiguousAndOnTime(steady, 50);
    } finally {
      stalled.close();
      await steady.close();
      await server.stop();
    }
  },
);
