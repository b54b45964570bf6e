/**
 * Limits on what one client may send: message size, message rate, invalid messages, and
 * the number of listeners. Each closes or refuses only the offender; a listener beside it
 * plays on, and refusals are counted in /api/status.
 */
import assert from "node:assert/strict";
import {
  BURST_MESSAGES,
  MAX_INVALID_MESSAGES,
  MAX_MESSAGE_BYTES,
  MESSAGES_PER_SECOND,
} from "../../worker/client_limits.ts";
import { TokenBucket } from "../../worker/token_bucket.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer, type TestServer } from "../support/server.ts";
import { until, untilValue } from "../support/until.ts";
import { assertContiguousAndOnTime } from "./steady_listener.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const status = async (server: TestServer) =>
  await (await fetch(new URL("/api/status", server.url))).json();

Deno.test("the message budget allows a burst, then its steady rate", () => {
  const budget = new TokenBucket(BURST_MESSAGES, MESSAGES_PER_SECOND);
  for (let i = 0; i < BURST_MESSAGES; i++) assert.ok(budget.take(0), `message ${i}`);
  assert.equal(budget.take(0), false, "the burst is spent");
  assert.ok(budget.take(100_000), "0.1 s later, two more are allowed");
  assert.ok(budget.take(100_000));
  assert.equal(budget.take(100_000), false);
});

/** Runs `act` with a steady listener and one offender; checks who was closed and how. */
async function offender(
  act: (client: RawClient) => void | Promise<void>,
  expectedCode: number,
  expectedReason: RegExp,
) {
  const server = await startServer();
  const steady = await RawClient.connect(server.url, { formats: [format("pcm")] });
  const rude = await RawClient.connect(server.url, { formats: [format("pcm")] });
  try {
    await rude.waitFor("audio", () => rude.chunks.length > 0);
    await act(rude);
    await rude.waitFor("the offender closed", () => !!rude.closed);
    // A client still sending when the server closes may get a TCP reset, which drops the close
    // frame it had not read yet (code 0 or 1006); the server's side is checked below either way.
    if (![0, 1006].includes(rude.closed!.code)) {
      assert.equal(rude.closed!.code, expectedCode, `closed: ${JSON.stringify(rude.closed)}`);
      assert.match(rude.closed!.reason, expectedReason);
    }
    const before = steady.chunks.length;
    await steady.waitFor("more audio", () => steady.chunks.length > before + 20);
    assertContiguousAndOnTime(steady, 20);
    const counts = await status(server);
    assert.equal(counts.total_clients, 1, "only the offender left");
    return counts;
  } finally {
    await steady.close();
    await rude.close();
    await server.stop();
  }
}

Deno.test("a message over 64 KiB closes its sender (1009) and no one else", opts, async () => {
  const counts = await offender(
    (c) => c.send("client/state", { player: { state: "x".repeat(MAX_MESSAGE_BYTES) } }),
    1009,
    /over 64 KiB/,
  );
  assert.ok(counts.rejected_messages >= 1);
});

Deno.test("a flood of messages closes its sender and no one else", opts, async () => {
  const counts = await offender(
    async (c) => {
      // Fast, but stopping once closed: bytes sent to a closed socket make the kernel reset
      // the connection, and the client would miss the close frame's code.
      for (let i = 0; i < BURST_MESSAGES * 3 && !c.closed; i++) {
        c.send("client/time", { client_transmitted: i });
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1));
      }
    },
    1008,
    /too many messages/,
  );
  assert.ok(counts.rejected_messages >= 1, "the flood was refused and counted");
});

Deno.test("invalid messages are refused and counted; too many close the client", opts, async () => {
  const counts = await offender(
    (c) => {
      for (let i = 0; i <= MAX_INVALID_MESSAGES; i++) c.socket.send(`{"type":"nope/${i}"}`);
    },
    1008,
    /invalid messages/,
  );
  assert.ok(counts.rejected_messages > MAX_INVALID_MESSAGES, JSON.stringify(counts));
});

Deno.test("--max-clients: the next listener is told the party is full (1013)", opts, async () => {
  const server = await startServer({ maxClients: 2 });
  const first = await RawClient.connect(server.url, { formats: [format("pcm")] });
  const second = await RawClient.connect(server.url, { formats: [format("pcm")] });
  try {
    await second.waitFor("audio", () => second.chunks.length > 0);
    const third = await RawClient.connect(server.url, { formats: [format("pcm")] });
    await third.waitFor("refused", () => !!third.closed);
    assert.equal(third.closed!.code, 1013);
    assert.match(third.closed!.reason, /party is full/);
    await first.close();
    await untilValue("the count to drop to 1", () => status(server), (s) => s.total_clients === 1);
    // A listener still refused tries again, as the page does.
    let fourth: RawClient | undefined;
    const refusals: unknown[] = [];
    await until("a listener let in", async () => {
      fourth = await RawClient.connect(server.url, { formats: [format("pcm")] });
      await fourth.waitFor("audio or refusal", () => fourth!.chunks.length > 0 || !!fourth!.closed);
      if (!fourth.chunks.length) refusals.push(fourth.closed);
      return fourth.chunks.length > 0;
    }, {
      ms: 5_000,
      seen: () => `${refusals.length} refused, the last: ${JSON.stringify(refusals.at(-1))}`,
    });
    assert.ok(fourth?.chunks.length, "a place freed up: the next listener plays");
    await fourth.close();
  } finally {
    await first.close();
    await second.close();
    await server.stop();
  }
});
