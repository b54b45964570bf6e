/**
 * `--client ws://...`: the party dials a listening Sendspin client (a speaker that waits to
 * be found), which then plays like any guest; when the client restarts, it is dialled again.
 */
import assert from "node:assert/strict";
import { Logger } from "../../protocol/log.ts";
import { keepDialling } from "../../worker/listening_client.ts";
import type { DialectContext } from "../../worker/dialects/accept.ts";
import { assertContiguousAndOnTime } from "../hardening/steady_listener.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";
import { until } from "../support/until.ts";
import { freePort } from "../bench/server_process.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** A listening client on `port`: every connection the server makes gets a RawClient. */
function listeningClient(port: number) {
  const sessions: RawClient[] = [];
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (request) => {
    paths.push(new URL(request.url).pathname);
    const { socket, response } = Deno.upgradeWebSocket(request);
    RawClient.speakOn(socket, { formats: [format("pcm")], name: "Living room" })
      .then((client) => sessions.push(client));
    return response;
  });
  return { sessions, paths, stop: () => server.shutdown() };
}

Deno.test(
  "a dialled listening client gets hello and audio, and is dialled again after a restart",
  opts,
  async () => {
    const port = freePort();
    let speaker = listeningClient(port);
    const server = await startServer({ clients: [`ws://127.0.0.1:${port}/sendspin`] });
    try {
      await until(
        "the first session's audio",
        () => (speaker.sessions[0]?.chunks.length ?? 0) > 20,
        {
          seen: () =>
            `dialled ${JSON.stringify(speaker.paths)}; ${speaker.sessions[0]?.describe()}`,
        },
      );
      const first = speaker.sessions[0];
      assert.equal(speaker.paths[0], "/sendspin");
      assert.equal(first.messages[0].type, "server/hello");
      assert.equal(first.messages[0].payload.connection_reason, "playback");
      assert.ok(first.messages.some((m) => m.type === "stream/start"));
      assertContiguousAndOnTime(first, 20);
      const status = await (await fetch(new URL("/api/status", server.url))).json();
      assert.equal(status.total_clients, 1, "it counts as a guest");

      // The speaker restarts: it goes away and comes back on the same port.
      await speaker.stop();
      await first.waitFor("its close", () => !!first.closed);
      speaker = listeningClient(port);
      await until(
        "the second session's audio",
        () => (speaker.sessions[0]?.chunks.length ?? 0) > 20,
        {
          seen: () =>
            `dialled ${JSON.stringify(speaker.paths)}; ${speaker.sessions[0]?.describe()}`,
        },
      );
      assertContiguousAndOnTime(speaker.sessions[0], 20);
    } finally {
      await server.stop();
      await speaker.stop();
    }
  },
);

Deno.test(
  "a client that cannot be reached is retried with a doubling delay, capped, one line per change",
  opts,
  async () => {
    // A port that accepts and hangs up at once: every dial fails, and each attempt is seen.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const attempts: number[] = [];
    (async () => {
      for await (const conn of listener) {
        attempts.push(performance.now());
        conn.close();
      }
    })();
    const lines: string[] = [];
    const log = new Logger("INFO");
    log.warn = (message: string) => lines.push(message);
    log.info = (message: string) => lines.push(message);
    const stop = new AbortController();
    const url = new URL(`ws://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/sendspin`);
    const dialling = keepDialling(url, {} as DialectContext, log, stop.signal, {
      firstRetryMs: 50,
      maxRetryMs: 400,
    });
    await until("7 attempts", () => attempts.length >= 7, {
      seen: () => `${attempts.length} attempts; log: ${JSON.stringify(lines)}`,
    });
    stop.abort();
    await dialling;
    listener.close();
    const gaps = attempts.slice(1).map((at, i) => at - attempts[i]);
    // 50, 100, 200, then capped at 400 ms: never shorter, and the cap never doubles again.
    for (const [i, expected] of [50, 100, 200, 400, 400, 400].entries()) {
      assert.ok(gaps[i] >= expected - 10, `gap ${i}: ${gaps[i]} ms, expected ${expected}`);
    }
    assert.ok(gaps.slice(4).every((gap) => gap < 800), `capped: ${gaps.join(", ")}`);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /cannot be reached \(closed the connection during the handshake\)/);
  },
);
