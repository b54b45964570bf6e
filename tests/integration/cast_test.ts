/**
 * `--client cast://`: against a fake Cast device that speaks TLS and the length-prefixed
 * protobuf framing (with a self-signed certificate, as real devices have), the party
 * connects, launches the Sendspin receiver, tells it where to connect, and quits it on
 * shutdown. The fake device then does what the receiver app does: connects back as a
 * listener and plays.
 */
import assert from "node:assert/strict";
import {
  type CastMessage,
  CastMessageReader,
  encodeCastMessage,
} from "../../coordinator/cast/cast_message.ts";
import {
  keepCasting,
  SENDSPIN_APP_ID,
  SENDSPIN_NAMESPACE,
} from "../../coordinator/cast/cast_device.ts";
import { Logger } from "../../protocol/log.ts";
import { assertContiguousAndOnTime } from "../hardening/steady_listener.ts";
import { format, RawClient } from "../support/raw_client.ts";
import { startServer } from "../support/server.ts";
import { until } from "../support/until.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const RECEIVER_NAMESPACE = "urn:x-cast:com.google.cast.receiver";
const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`./fixtures/${name}`, import.meta.url));

interface Received extends CastMessage {
  // deno-lint-ignore no-explicit-any
  json: any;
}

/** A Cast device on loopback: answers like a Chromecast and records what it is sent. */
function fakeCastDevice({ closeAppOnHello = false } = {}) {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: fixture("fake_cast_cert.pem"),
    key: fixture("fake_cast_key.pem"),
  });
  const received: Received[] = [];
  const receivers: RawClient[] = [];
  let running = false;
  const status = (requestId: number) => ({
    type: "RECEIVER_STATUS",
    requestId,
    status: {
      applications: running
        ? [{
          appId: SENDSPIN_APP_ID,
          displayName: "Sendspin",
          sessionId: "session-1",
          transportId: "transport-1",
          namespaces: [{ name: SENDSPIN_NAMESPACE }],
        }]
        : [],
    },
  });
  (async () => {
    for await (const conn of listener) {
      const send = (namespace: string, sourceId: string, json: unknown) =>
        conn.write(encodeCastMessage({
          sourceId,
          destinationId: "sender-0",
          namespace,
          data: JSON.stringify(json),
        })).catch(() => {});
      const reader = new CastMessageReader((message) => {
        const json = JSON.parse(message.data);
        received.push({ ...message, json });
        if (json.type === "PING") send(message.namespace, message.destinationId, { type: "PONG" });
        if (json.type === "LAUNCH") {
          running = true;
          send(message.namespace, "receiver-0", status(json.requestId));
        }
        if (json.type === "STOP") {
          running = false;
          send(message.namespace, "receiver-0", status(json.requestId));
        }
        if (message.namespace === SENDSPIN_NAMESPACE && closeAppOnHello) {
          // Someone at the TV closes the app right away.
          running = false;
          send(RECEIVER_NAMESPACE, "receiver-0", status(0));
        } else if (message.namespace === SENDSPIN_NAMESPACE) {
          // What the receiver app does with the message: connect back as a listener.
          RawClient.connect(json.serverUrl, { formats: [format("flac")], name: json.playerName })
            .then((client) => receivers.push(client));
        }
      });
      (async () => {
        // The device pings too, as real ones do; the sender must answer.
        await send("urn:x-cast:com.google.cast.tp.heartbeat", "receiver-0", { type: "PING" });
        for await (const bytes of conn.readable) reader.push(bytes);
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    received,
    receivers,
    close: () => listener.close(),
  };
}

Deno.test(
  "cast://: the Sendspin receiver is launched, told where the party is, and quit on shutdown",
  opts,
  async () => {
    const device = fakeCastDevice();
    const server = await startServer({ clients: [`cast://127.0.0.1:${device.port}`] });
    let stopped = false;
    try {
      await until("the receiver's audio", () => (device.receivers[0]?.chunks.length ?? 0) > 10, {
        ms: 15_000,
        seen: () =>
          `the device got ${
            JSON.stringify(device.received.map((m) => m.json.type ?? m.namespace))
          }; receivers: ${device.receivers.map((r) => r.describe()).join(" | ") || "none"}`,
      });
      const [connect, ...rest] = device.received;
      assert.equal(connect.namespace, "urn:x-cast:com.google.cast.tp.connection");
      assert.equal(connect.json.type, "CONNECT");
      assert.equal(connect.sourceId, "sender-0");
      assert.equal(connect.destinationId, "receiver-0");
      const launch = rest.find((m) => m.json.type === "LAUNCH")!;
      assert.equal(launch.namespace, "urn:x-cast:com.google.cast.receiver");
      assert.equal(launch.json.appId, "938CBF87");
      assert.equal(typeof launch.json.requestId, "number");
      const appConnect = rest.find((m) => m.json.type === "CONNECT")!;
      assert.equal(appConnect.destinationId, "transport-1", "then a channel to the app itself");
      const hello = rest.find((m) => m.namespace === SENDSPIN_NAMESPACE)!;
      assert.equal(hello.destinationId, "transport-1");
      assert.equal(hello.json.serverUrl, server.url.replace(/\/$/, ""));
      assert.equal(hello.json.playerId, "cast-127-0-0-1");
      assert.equal(typeof hello.json.playerName, "string");
      assert.equal(hello.json.syncDelay, 0);
      assert.deepEqual(hello.json.codecs, ["flac"]);
      const pong = rest.find((m) => m.json.type === "PONG");
      assert.ok(pong, "the device's ping was answered");

      const receiver = device.receivers[0];
      assertContiguousAndOnTime(receiver, 10);
      const status = await (await fetch(new URL("/api/status", server.url))).json();
      assert.equal(status.total_clients, 1, "the Cast receiver plays as a guest");

      await server.stop();
      stopped = true;
      const stop = device.received.find((m) => m.json.type === "STOP");
      assert.ok(stop, "the app was quit on shutdown");
      assert.equal(stop.json.sessionId, "session-1");
      assert.equal(stop.destinationId, "receiver-0");
    } finally {
      if (!stopped) await server.stop();
      for (const receiver of device.receivers) await receiver.close();
      device.close();
    }
  },
);

/** A logger that keeps its lines. */
function recordingLog() {
  const lines: string[] = [];
  const log = new Logger("INFO");
  log.info = (line: string) => lines.push(line);
  log.warn = (line: string) => lines.push(line);
  return { log, lines };
}

Deno.test("cast://: an app closed at the device stays closed", opts, async () => {
  const device = fakeCastDevice({ closeAppOnHello: true });
  const { log, lines } = recordingLog();
  const stop = new AbortController();
  try {
    await keepCasting(new URL(`cast://127.0.0.1:${device.port}`), {
      serverUrl: "http://127.0.0.1:1",
      log,
      signal: stop.signal,
    });
    assert.equal(device.received.filter((m) => m.json.type === "LAUNCH").length, 1);
    assert.match(lines.at(-1)!, /closed on the device; it stays closed/);
  } finally {
    stop.abort();
    device.close();
  }
});

Deno.test(
  "cast://: an unreachable device is one warning, retried until shutdown",
  opts,
  async () => {
    // Something that hangs up on every connection: no TLS, no Cast, each attempt counted.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    let attempts = 0;
    (async () => {
      for await (const conn of listener) {
        attempts++;
        conn.close();
      }
    })().catch(() => {});
    const { log, lines } = recordingLog();
    const stop = new AbortController();
    const url = `cast://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    const casting = keepCasting(new URL(url), {
      serverUrl: "http://127.0.0.1:1",
      log,
      signal: stop.signal,
    });
    // Measured, not waited for: the attempts made in 3.5 s (at 0, 1 and 3 s).
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    stop.abort();
    await casting;
    listener.close();
    assert.ok(attempts >= 2 && attempts <= 3, `${attempts} attempts: retried, not hammered`);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.ok(lines[0].startsWith(`${url} cannot be reached (`), lines[0]);
    assert.ok(lines[0].endsWith("): trying again, up to every 5 min"), lines[0]);
  },
);

Deno.test("cast://: shutdown while the device has not answered drops the attempt at once", async () => {
  // Accepts TCP but never speaks TLS: the sender is stuck connecting when shutdown comes.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  const { log, lines } = recordingLog();
  const stop = new AbortController();
  const casting = keepCasting(new URL(`cast://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`), {
    serverUrl: "http://127.0.0.1:1",
    log,
    signal: stop.signal,
  });
  await until("the sender's connection", () => held.length > 0, {
    ms: 5_000,
    seen: () => `${held.length} connections; log: ${JSON.stringify(lines)}`,
  });
  stop.abort();
  await casting; // with the sanitizers on: no timer or socket may be left behind
  assert.deepEqual(lines, [], "nothing was launched, so nothing is reported quit");
  for (const conn of held) conn.close();
  listener.close();
});
